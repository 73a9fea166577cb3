using Cairn.Core.Tracking;

namespace Cairn.Storage.Relational;

/// <summary>Brings a database's schema up to date: each pending migration runs in its own transaction and is recorded in <c>schema_migrations</c>.</summary>
internal static class MigrationRunner
{
    public static async Task MigrateAsync(SqlDialect dialect, int? targetVersion, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        await dialect.InitializeAsync(cancellationToken).ConfigureAwait(false);
        {
            var session = await dialect.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
            await using var sessionScope = session.ConfigureAwait(false);
            await dialect.LockForMigrationAsync(session, cancellationToken).ConfigureAwait(false);
            var create = session.Command(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)");
            await using var createScope = create.ConfigureAwait(false);
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            await session.CommitAsync().ConfigureAwait(false);
        }

        var applied = await GetAppliedVersionsAsync(dialect, cancellationToken).ConfigureAwait(false);
        var known = dialect.Migrations;
        var newest = known.Count == 0 ? 0 : known[^1].Version;
        if (applied.Count > 0 && applied.Max() > newest)
        {
            throw new TrackingException(
                TrackingErrorCode.InternalError,
                $"The database schema is at version {applied.Max()}, newer than this Cairn build knows ({newest}). Upgrade Cairn.");
        }

        foreach (var migration in known)
        {
            if (targetVersion is not null && migration.Version > targetVersion)
            {
                break;
            }

            if (applied.Contains(migration.Version))
            {
                continue;
            }

            var session = await dialect.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
            await using var sessionScope = session.ConfigureAwait(false);
            await dialect.LockForMigrationAsync(session, cancellationToken).ConfigureAwait(false);

            // Another process may have applied it while we waited for the lock.
            {
                var check = session.Command("SELECT COUNT(*) FROM schema_migrations WHERE version = @v");
                await using var checkScope = check.ConfigureAwait(false);
                check.Add("@v", (long)migration.Version);
                if (Convert.ToInt64(await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture) > 0)
                {
                    continue;
                }
            }

            {
                var script = session.Command(migration.Sql);
                await using var scriptScope = script.ConfigureAwait(false);
                await script.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            {
                var record = session.Command("INSERT INTO schema_migrations (version, applied_at) VALUES (@v, @t)");
                await using var recordScope = record.ConfigureAwait(false);
                record.Add("@v", (long)migration.Version);
                record.Add("@t", timeProvider.GetUtcNow().ToUnixTimeMilliseconds());
                await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await session.CommitAsync().ConfigureAwait(false);
        }
    }

    public static async Task<HashSet<int>> GetAppliedVersionsAsync(SqlDialect dialect, CancellationToken cancellationToken)
    {
        var versions = new HashSet<int>();
        var connection = await dialect.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var command = connection.Command("SELECT version FROM schema_migrations");
        await using var commandScope = command.ConfigureAwait(false);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            versions.Add(checked((int)reader.GetInt64(0)));
        }

        return versions;
    }
}
