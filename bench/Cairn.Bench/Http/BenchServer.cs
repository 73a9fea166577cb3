using Cairn.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Cairn.Bench.Http;

/// <summary>A real Cairn server started in-process on a loopback socket, with its own data folder (and, for PostgreSQL, its own database).</summary>
internal sealed class BenchServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _dataDirectory;
    private readonly string? _adminConnectionString;
    private readonly string? _databaseName;
    private readonly bool _keepData;

    private BenchServer(WebApplication app, string dataDirectory, string? adminConnectionString, string? databaseName, string backendDescription, bool keepData)
    {
        _keepData = keepData;
        _app = app;
        _dataDirectory = dataDirectory;
        _adminConnectionString = adminConnectionString;
        _databaseName = databaseName;
        BackendDescription = backendDescription;
        BaseAddress = app.GetListeningAddresses()[0];
    }

    public Uri BaseAddress { get; }

    /// <summary>The server's services (for harnesses that read its state, such as a writer's backlog).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Counts the rows of <paramref name="table"/> in the benchmark database (SQLite file or PostgreSQL database).</summary>
    public async Task<long> CountRowsAsync(string table, CancellationToken cancellationToken)
    {
        if (_adminConnectionString is not null && _databaseName is not null)
        {
            var builder = new NpgsqlConnectionStringBuilder(_adminConnectionString) { Database = _databaseName };
            await using var pg = new NpgsqlConnection(builder.ConnectionString);
            await pg.OpenAsync(cancellationToken);
            await using var pgCount = new NpgsqlCommand($"SELECT COUNT(*) FROM {table}", pg);
            return Convert.ToInt64(await pgCount.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        }

        await using var sqlite = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_dataDirectory, "cairn.db")};Mode=ReadOnly");
        await sqlite.OpenAsync(cancellationToken);
        await using var count = sqlite.CreateCommand();
        count.CommandText = $"SELECT COUNT(*) FROM {table}";
        return Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    public BenchBackend Backend => _adminConnectionString is null ? BenchBackend.Sqlite : BenchBackend.Postgres;

    public string BackendDescription { get; }

    public static async Task<BenchServer> StartAsync(HttpBenchOptions options, CancellationToken cancellationToken)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "cairn-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDirectory);

        string? adminConnectionString = null;
        string? databaseName = null;
        string? backendStoreUri = null;
        var description = $"SQLite (default: {Path.Combine(dataDirectory, "cairn.db")})";
        if (options.Backend == BenchBackend.Postgres)
        {
            var server = PostgresServer.Parse(options.PostgresUri);
            adminConnectionString = server.AdminConnectionString;
            databaseName = "cairn_bench_" + Guid.NewGuid().ToString("N")[..12];
            await using (var connection = new NpgsqlConnection(adminConnectionString))
            {
                await connection.OpenAsync(cancellationToken);
                await using var command = new NpgsqlCommand($"CREATE DATABASE \"{databaseName}\"", connection);
                await command.ExecuteNonQueryAsync(cancellationToken);
                await using var version = new NpgsqlCommand("SHOW server_version", connection);
                description = $"PostgreSQL {await version.ExecuteScalarAsync(cancellationToken)} ({server.Host}:{server.Port}, database {databaseName})";
            }

            backendStoreUri = server.UriFor(databaseName);
        }

        try
        {
            var app = await CairnApp.CreateAsync(
                [],
                cairn =>
                {
                    cairn.Port = 0;
                    cairn.DataDirectory = dataDirectory;
                    cairn.BackendStoreUri = backendStoreUri;
                },
                builder => builder.Logging.SetMinimumLevel(LogLevel.Warning),
                cancellationToken);
            await app.StartAsync(cancellationToken);
            return new BenchServer(app, dataDirectory, adminConnectionString, databaseName, description, options.KeepData);
        }
        catch
        {
            await DropDatabaseAsync(adminConnectionString, databaseName);
            TryDeleteDirectory(dataDirectory);
            throw;
        }
    }

    /// <summary>On PostgreSQL, runs <c>VACUUM ANALYZE</c> on the benchmark database (what autovacuum does some time after bulk inserts) and returns true; false on SQLite.</summary>
    public async Task<bool> VacuumAnalyzeAsync(CancellationToken cancellationToken)
    {
        if (_adminConnectionString is null || _databaseName is null)
        {
            return false;
        }

        var builder = new NpgsqlConnectionStringBuilder(_adminConnectionString) { Database = _databaseName };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("VACUUM ANALYZE", connection) { CommandTimeout = 600 };
        await command.ExecuteNonQueryAsync(cancellationToken);
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync();
        }
        finally
        {
            await _app.DisposeAsync();
            if (_keepData)
            {
                await Console.Error.WriteLineAsync($"kept the data folder {_dataDirectory}" + (_databaseName is null ? string.Empty : $" and database {_databaseName}"));
            }
            else
            {
                await DropDatabaseAsync(_adminConnectionString, _databaseName);
                TryDeleteDirectory(_dataDirectory);
            }
        }
    }

    private static async Task DropDatabaseAsync(string? adminConnectionString, string? databaseName)
    {
        if (adminConnectionString is null || databaseName is null)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(adminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{databaseName}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
        catch (UnauthorizedAccessException)
        {
            // Same.
        }
    }

    /// <summary>A PostgreSQL server named by a <c>postgresql://user:password@host:port/db</c> URI.</summary>
    private sealed record PostgresServer(string Host, int Port, string Username, string Password, string AdminDatabase)
    {
        public string AdminConnectionString => new NpgsqlConnectionStringBuilder
        {
            Host = Host,
            Port = Port,
            Username = Username,
            Password = Password,
            Database = AdminDatabase,
            Pooling = false,
        }.ConnectionString;

        public static PostgresServer Parse(string uriText)
        {
            var schemeEnd = uriText.IndexOf("://", StringComparison.Ordinal);
            if (schemeEnd < 0 || !Uri.TryCreate("postgresql" + uriText[schemeEnd..], UriKind.Absolute, out var uri))
            {
                throw new ArgumentException($"Invalid PostgreSQL URI '{uriText}': expected postgresql://user:password@host:port/db.", nameof(uriText));
            }

            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            var user = Uri.UnescapeDataString(colon >= 0 ? uri.UserInfo[..colon] : uri.UserInfo);
            var password = colon >= 0 ? Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]) : string.Empty;
            var database = Uri.UnescapeDataString(uri.AbsolutePath.Trim('/'));
            return new PostgresServer(
                uri.Host.Length > 0 ? uri.Host : "127.0.0.1",
                uri.Port > 0 ? uri.Port : 5432,
                user.Length > 0 ? user : "postgres",
                password,
                database.Length > 0 ? database : "postgres");
        }

        public string UriFor(string database) =>
            $"postgresql://{Uri.EscapeDataString(Username)}:{Uri.EscapeDataString(Password)}@{Host}:{Port}/{database}";
    }
}
