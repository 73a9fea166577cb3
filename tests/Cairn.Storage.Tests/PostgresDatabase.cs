using System.Globalization;
using Npgsql;

namespace Cairn.Storage.Tests;

/// <summary>Creates and drops throwaway databases on the PostgreSQL server the tests run against.</summary>
/// <remarks>
/// The admin connection comes from the <c>CAIRN_TEST_POSTGRES</c> environment variable (a <c>postgresql://</c> URI or an
/// Npgsql connection string) and defaults to <c>Host=127.0.0.1;Port=5432;Username=postgres;Password=postgres;Database=postgres</c>.
/// An unreachable server fails the test with instructions; it is never skipped.
/// </remarks>
public static class PostgresDatabase
{
    /// <summary>The environment variable naming the admin connection.</summary>
    public const string EnvironmentVariable = "CAIRN_TEST_POSTGRES";

    /// <summary>The admin connection used when the environment variable is unset.</summary>
    public const string DefaultAdminConnectionString = "Host=127.0.0.1;Port=5432;Username=postgres;Password=postgres;Database=postgres";

    /// <summary>The Npgsql connection string of the admin connection.</summary>
    public static string AdminConnectionString
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
            return Cairn.Storage.Relational.BackendStore.ToNpgsqlConnectionString(string.IsNullOrWhiteSpace(configured) ? DefaultAdminConnectionString : configured);
        }
    }

    /// <summary>Creates an empty database named <c>cairn_test_&lt;guid&gt;</c> and returns its <c>postgresql://</c> backend store URI.</summary>
    public static async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken = default)
    {
        var admin = new NpgsqlConnectionStringBuilder(AdminConnectionString);
        var name = "cairn_test_" + Guid.NewGuid().ToString("N");
        await using (var connection = await OpenAdminAsync(admin, cancellationToken))
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        var user = Uri.EscapeDataString(admin.Username ?? "postgres");
        var password = admin.Password is null ? string.Empty : ":" + Uri.EscapeDataString(admin.Password);
        var host = admin.Host ?? "127.0.0.1";
        return string.Create(CultureInfo.InvariantCulture, $"postgresql://{user}{password}@{host}:{admin.Port}/{name}");
    }

    /// <summary>Drops a database made by <see cref="CreateDatabaseAsync"/>, disconnecting whoever is still on it.</summary>
    public static async Task DropDatabaseAsync(string backendStoreUri, CancellationToken cancellationToken = default)
    {
        var name = new NpgsqlConnectionStringBuilder(Cairn.Storage.Relational.BackendStore.ToNpgsqlConnectionString(backendStoreUri)).Database;
        if (string.IsNullOrEmpty(name) || !name.StartsWith("cairn_test_", StringComparison.Ordinal))
        {
            throw new ArgumentException($"Refusing to drop '{name}': only databases made by CreateDatabaseAsync are dropped.", nameof(backendStoreUri));
        }

        await using var connection = await OpenAdminAsync(new NpgsqlConnectionStringBuilder(AdminConnectionString), cancellationToken);
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<NpgsqlConnection> OpenAdminAsync(NpgsqlConnectionStringBuilder admin, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(admin.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            await connection.DisposeAsync();
            throw new InvalidOperationException(
                $"PostgreSQL is not reachable at {admin.Host}:{admin.Port} as '{admin.Username}' ({e.Message}). " +
                $"The storage tests need a real server: run scripts/test.sh (it installs and starts PostgreSQL), " +
                $"or set {EnvironmentVariable} to an admin connection (postgresql://user:password@host:port/postgres).",
                e);
        }
    }
}
