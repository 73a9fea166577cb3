using System.Diagnostics;
using System.Globalization;
using System.Text;
using Cairn.Bench.Http;

namespace Cairn.Bench.Prompts;

/// <summary>
/// <c>Cairn.Bench prompts [--backend sqlite|postgres] [--prompts n]</c>: fetching a prompt by label through the REST API,
/// from Cairn's prompt cache (the same prompt again) and cold (each prompt's first fetch), beside <c>GET /health</c> on
/// the same connection as the floor of an HTTP round trip.
/// </summary>
internal static class PromptsBench
{
    private const double CachedTargetMs = 1;
    private const double ColdTargetMs = 5;

    public static async Task<int> RunAsync(string[] args)
    {
        var backend = args.Contains("postgres") ? BenchBackend.Postgres : BenchBackend.Sqlite;
        var index = Array.IndexOf(args, "--prompts");
        var count = index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : 300;
        Log($"machine: {Environment.ProcessorCount} CPUs, .NET {Environment.Version}, load average {File.ReadAllText("/proc/loadavg").Trim()}");
        await using var server = await BenchServer.StartAsync(new HttpBenchOptions { Backend = backend }, CancellationToken.None);
        Log($"backend {server.BackendDescription}; seeding {count} prompts × 3 versions, label production on version 2...");
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1, UseProxy = false }) { BaseAddress = server.BaseAddress };
        var template = string.Concat(Enumerable.Repeat("You are the support assistant of {{company}}. Answer {{customer}} about {{topic}}. ", 20));
        for (var p = 0; p < count; p++)
        {
            for (var v = 1; v <= 3; v++)
            {
                var labels = v == 2 ? "[\"production\"]" : "[]";
                using var content = new StringContent(
                    $"{{\"name\":\"team-{p % 10}/prompt-{p}\",\"template\":\"{template} v{v}\",\"model_config\":{{\"model_name\":\"fast\",\"temperature\":0.2}},\"labels\":{labels}}}",
                    Encoding.UTF8,
                    "application/json");
                using var response = await client.PostAsync(new Uri("/api/cairn/prompts", UriKind.Relative), content);
                response.EnsureSuccessStatusCode();
            }
        }

        var health = await TimeAsync(client, Enumerable.Repeat("/health", 2_000));
        // Cold: each prompt's first fetch by label (nothing cached for it yet).
        var cold = await TimeAsync(client, Enumerable.Range(0, count).Select(p => $"/api/cairn/prompts/team-{p % 10}/prompt-{p}?label=production"));
        // Cached: the same prompt again and again (within the cache's 5 s lifetime).
        var cached = await TimeAsync(client, Enumerable.Repeat("/api/cairn/prompts/team-3/prompt-3?label=production", 2_000));
        var coldAdded = Percentile(cold, 50) - Percentile(health, 50);
        var cachedAdded = Percentile(cached, 50) - Percentile(health, 50);
        Console.WriteLine("| Request (one connection, sequential) | Count | p50 | p95 | p50 minus GET /health | Goal (server time) | Result |");
        Console.WriteLine("|---|---:|---:|---:|---:|---|---|");
        Console.WriteLine($"| GET /health (HTTP floor) | {health.Count:N0} | {Percentile(health, 50):F3} ms | {Percentile(health, 95):F3} ms | – | – | – |");
        Console.WriteLine($"| GET prompt by label, cached | {cached.Count:N0} | {Percentile(cached, 50):F3} ms | {Percentile(cached, 95):F3} ms | {cachedAdded:F3} ms | < {CachedTargetMs} ms | {(Percentile(cached, 95) < CachedTargetMs ? "**pass**" : "**FAIL**")} |");
        Console.WriteLine($"| GET prompt by label, cold (first fetch of each of {count} prompts) | {cold.Count:N0} | {Percentile(cold, 50):F3} ms | {Percentile(cold, 95):F3} ms | {coldAdded:F3} ms | < {ColdTargetMs} ms | {(Percentile(cold, 95) < ColdTargetMs ? "**pass**" : "**FAIL**")} |");
        return 0;
    }

    private static async Task<List<double>> TimeAsync(HttpClient client, IEnumerable<string> paths)
    {
        var times = new List<double>();
        foreach (var path in paths)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
            response.EnsureSuccessStatusCode();
            await response.Content.ReadAsByteArrayAsync();
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        return times;
    }

    private static double Percentile(List<double> values, double percentile)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(percentile / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    private static void Log(string message) => Console.Error.WriteLine($"[{DateTime.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture)}] {message}");
}
