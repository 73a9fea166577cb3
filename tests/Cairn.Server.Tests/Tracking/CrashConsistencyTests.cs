using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Cairn.Server.Tests.Tracking;

/// <summary>Killing the server while it writes leaves a consistent database in which every batch is whole or absent (issue #2).</summary>
public sealed class CrashConsistencyTests
{
    [Fact]
    public async Task KillDuringLogBatch_DatabaseIsConsistentAndBatchesAreAtomic()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "cairn-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDirectory);
        var port = FreePort();
        using var process = Process.Start(new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "cairn.dll"), "server", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--data-dir", dataDirectory])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await WaitForHealthAsync(client, process);

        var runJson = await (await client.PostAsync("/api/2.0/mlflow/runs/create", Json("""{"experiment_id":"0"}"""))).Content.ReadAsStringAsync();
        var runId = System.Text.Json.JsonDocument.Parse(runJson).RootElement.GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;

        using var stop = new CancellationTokenSource();
        var acknowledged = new System.Collections.Concurrent.ConcurrentBag<int>();
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var batch = w * 10000; !stop.IsCancellationRequested; batch++)
            {
                var metrics = string.Join(",", Enumerable.Range(0, 500).Select(i => $$"""{"key":"b{{batch}}","value":{{i}},"timestamp":1,"step":{{i}}}"""));
                try
                {
                    using var response = await client.PostAsync("/api/2.0/mlflow/runs/log-batch", Json($$"""{"run_id":"{{runId}}","metrics":[{{metrics}}],"params":[{"key":"p{{batch}}","value":"v"}]}"""));
                    if (response.IsSuccessStatusCode)
                    {
                        acknowledged.Add(batch);
                    }
                }
                catch (HttpRequestException)
                {
                    return;
                }
            }
        })).ToArray();

        await Task.Delay(1500);
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        await stop.CancelAsync();
        await Task.WhenAll(writers);
        Assert.NotEmpty(acknowledged);

        var connectionString = new SqliteConnectionStringBuilder { DataSource = Path.Combine(dataDirectory, "cairn.db"), Pooling = false }.ToString();
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        Assert.Equal("ok", await ScalarAsync(connection, "PRAGMA integrity_check"));

        var counts = new Dictionary<string, long>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT key, COUNT(*) FROM metrics GROUP BY key";
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                counts[reader.GetString(0)] = reader.GetInt64(1);
            }
        }

        Assert.All(counts, kv => Assert.Equal(500, kv.Value));
        foreach (var batch in acknowledged)
        {
            Assert.True(counts.ContainsKey($"b{batch}"), $"Acknowledged batch {batch} is missing after the crash.");
        }

        var paramCount = long.Parse(await ScalarAsync(connection, "SELECT COUNT(*) FROM params"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(counts.Count, paramCount);
        SqliteConnection.ClearAllPools();
        Directory.Delete(dataDirectory, recursive: true);
    }

    private static async Task<string> ScalarAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture)!;
    }

    private static async Task WaitForHealthAsync(HttpClient client, Process process)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(process.HasExited, "The server exited before it became healthy.");
            try
            {
                using var response = await client.GetAsync("/health");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        Assert.Fail("The server did not become healthy within 60 seconds.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
