using System.Data.Common;
using Npgsql;
using NpgsqlTypes;

namespace Cairn.Storage.Relational;

/// <summary>PostgreSQL through a pooled <see cref="NpgsqlDataSource"/>; row locks serialize writers per entity.</summary>
internal sealed class PostgresDialect : SqlDialect
{
    // Arbitrary constant identifying Cairn's migration advisory lock.
    private const long MigrationLockKey = 0x4361_6972_6E4D_6967;

    private readonly NpgsqlDataSource _dataSource;

    public PostgresDialect(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            builder.ApplicationName = "cairn";
        }

        _dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
    }

    public override string Kind => "postgresql";

    public override IReadOnlyList<Migration> Migrations => PostgresMigrations.All;

    public override string OrderCollation => " COLLATE \"C\"";

    public override string ForShare => " FOR SHARE";

    public override string ForUpdate => " FOR UPDATE";

    public override string ForUpdateOf(string alias) => $" FOR UPDATE OF {alias}";

    public override Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override async Task<DbConnection> OpenReadConnectionAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

    public override async Task<WriteSession> BeginWriteAsync(CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            return new WriteSession(connection, transaction, ownsConnection: true, release: null);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public override async Task LockForMigrationAsync(WriteSession session, CancellationToken cancellationToken)
    {
        var command = session.Command("SELECT pg_advisory_xact_lock(@key)");
        await using var commandScope = command.ConfigureAwait(false);
        command.Add("@key", MigrationLockKey);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public override string Like(string column, string parameter) => $"{column} LIKE {parameter}";

    public override string ILike(string column, string parameter) => $"{column} ILIKE {parameter}";

    public override string LikePatternValue(string pattern) => pattern;

    public override string JsonField(string column, string keyParameter) => $"({column}::jsonb ->> {keyParameter})";

    public override string InArray(string column, string parameter, bool negate = false) =>
        negate ? $"NOT ({column} = ANY({parameter}))" : $"{column} = ANY({parameter})";

    public override void AddArray(DbCommand command, string name, IReadOnlyCollection<string> values) =>
        command.Parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = values.ToArray() });

    public override void AddArray(DbCommand command, string name, IReadOnlyCollection<long> values) =>
        command.Parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = values.ToArray() });

    public override async Task InsertAsync(WriteSession session, ColumnBatch batch, string suffix, CancellationToken cancellationToken, bool deferred = false)
    {
        if (batch.RowCount == 0)
        {
            return;
        }

        var names = new List<string>();
        var selects = new List<string>();
        var arrays = new List<string>();
        var parameters = new List<DbParameter>();
        for (var i = 0; i < batch.Constants.Count; i++)
        {
            var (name, type, value) = batch.Constants[i];
            names.Add(name);
            selects.Add($"@k{i}");
            parameters.Add(new NpgsqlParameter($"@k{i}", ToDbType(type)) { Value = value });
        }

        for (var i = 0; i < batch.Columns.Count; i++)
        {
            var (name, type, values) = batch.Columns[i];
            names.Add(name);
            selects.Add($"u.c{i}");
            arrays.Add($"@c{i}");
            parameters.Add(new NpgsqlParameter($"@c{i}", NpgsqlDbType.Array | ToDbType(type)) { Value = values });
        }

        // One statement for the whole batch: the arrays travel in binary and unnest turns them back into rows.
        var columnAliases = string.Join(", ", Enumerable.Range(0, batch.Columns.Count).Select(i => $"c{i}"));
        var sql =
            $"INSERT INTO {batch.Table} ({string.Join(", ", names)}) " +
            $"SELECT {string.Join(", ", selects)} FROM unnest({string.Join(", ", arrays)}) AS u({columnAliases}) {suffix}";
        if (deferred)
        {
            await session.QueueAsync(sql, parameters, cancellationToken).ConfigureAwait(false);
            return;
        }

        var command = session.Command(sql);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddRange(parameters.ToArray());
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public override DbParameter Parameter(string name, object? value) => new NpgsqlParameter(name, value ?? DBNull.Value);

    public override bool IsUniqueViolation(Exception exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    private static NpgsqlDbType ToDbType(ColumnType type) => type switch
    {
        ColumnType.Text => NpgsqlDbType.Text,
        ColumnType.Int64 or ColumnType.NullableInt64 => NpgsqlDbType.Bigint,
        ColumnType.Double or ColumnType.NullableDouble => NpgsqlDbType.Double,
        _ => NpgsqlDbType.Boolean,
    };
}
