using System.Data.Common;

namespace Cairn.Storage.Relational;

/// <summary>The storage type of a column in a bulk insert.</summary>
internal enum ColumnType
{
    Text,
    Int64,
    Double,
    Boolean,
    NullableInt64,
    NullableDouble,
}

/// <summary>Rows to insert, held column by column (one typed array per column), plus columns with one value for every row.</summary>
internal sealed class ColumnBatch(string table, int rowCount)
{
    private readonly List<(string Name, ColumnType Type, object Value)> _constants = [];
    private readonly List<(string Name, ColumnType Type, Array Values)> _columns = [];

    public string Table { get; } = table;

    public int RowCount { get; } = rowCount;

    public IReadOnlyList<(string Name, ColumnType Type, object Value)> Constants => _constants;

    public IReadOnlyList<(string Name, ColumnType Type, Array Values)> Columns => _columns;

    public ColumnBatch Constant(string name, string value)
    {
        _constants.Add((name, ColumnType.Text, value));
        return this;
    }

    public ColumnBatch Constant(string name, long value)
    {
        _constants.Add((name, ColumnType.Int64, value));
        return this;
    }

    public ColumnBatch Column(string name, string?[] values) => Add(name, ColumnType.Text, values);

    public ColumnBatch Column(string name, long[] values) => Add(name, ColumnType.Int64, values);

    public ColumnBatch Column(string name, double[] values) => Add(name, ColumnType.Double, values);

    public ColumnBatch Column(string name, bool[] values) => Add(name, ColumnType.Boolean, values);

    public ColumnBatch Column(string name, long?[] values) => Add(name, ColumnType.NullableInt64, values);

    public ColumnBatch Column(string name, double?[] values) => Add(name, ColumnType.NullableDouble, values);

    private ColumnBatch Add(string name, ColumnType type, Array values)
    {
        if (values.Length != RowCount)
        {
            throw new ArgumentException($"Column {name} has {values.Length} values, expected {RowCount}.", nameof(values));
        }

        _columns.Add((name, type, values));
        return this;
    }
}

/// <summary>What differs between the SQL databases Cairn runs on.</summary>
internal abstract class SqlDialect : IAsyncDisposable
{
    /// <summary><c>sqlite</c> or <c>postgresql</c>.</summary>
    public abstract string Kind { get; }

    /// <summary>The ordered schema migrations of this database kind.</summary>
    public abstract IReadOnlyList<Migration> Migrations { get; }

    /// <summary>Appended to text expressions in ORDER BY so both databases sort by code point.</summary>
    public abstract string OrderCollation { get; }

    /// <summary>Appended to a SELECT that must lock the rows it reads until the transaction ends.</summary>
    public abstract string ForUpdate { get; }

    /// <summary>Appended to a SELECT that must keep the rows it reads from changing (but not from being read or shared-locked) until the transaction ends.</summary>
    public abstract string ForShare { get; }

    /// <summary>Like <see cref="ForUpdate"/>, but locking only the rows of the table aliased <paramref name="alias"/> in a join.</summary>
    public abstract string ForUpdateOf(string alias);

    /// <summary>Prepares the database file or server (journal mode and the like); called once before migrations.</summary>
    public abstract Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Opens a connection for reads; no transaction, no writer gate.</summary>
    public abstract Task<DbConnection> OpenReadConnectionAsync(CancellationToken cancellationToken);

    /// <summary>Opens a connection and begins a write transaction (taking the writer gate where the database needs one).</summary>
    public abstract Task<WriteSession> BeginWriteAsync(CancellationToken cancellationToken);

    /// <summary>Takes the cross-process lock that serializes migrations; runs inside <paramref name="session"/>.</summary>
    public abstract Task LockForMigrationAsync(WriteSession session, CancellationToken cancellationToken);

    /// <summary>A case-sensitive SQL LIKE of <paramref name="column"/> against the pattern parameter.</summary>
    public abstract string Like(string column, string parameter);

    /// <summary>A case-insensitive SQL LIKE.</summary>
    public abstract string ILike(string column, string parameter);

    /// <summary>The value to bind for a LIKE pattern built by <see cref="Like"/>.</summary>
    public abstract string LikePatternValue(string pattern);

    /// <summary>The text of the top-level field named by <paramref name="keyParameter"/> in the JSON object stored in <paramref name="column"/> (null when absent).</summary>
    public abstract string JsonField(string column, string keyParameter);

    /// <summary>A membership test of <paramref name="column"/> in an array parameter.</summary>
    public abstract string InArray(string column, string parameter, bool negate = false);

    /// <summary>Adds an array parameter of strings usable with <see cref="InArray"/>.</summary>
    public abstract void AddArray(DbCommand command, string name, IReadOnlyCollection<string> values);

    /// <summary>Adds an array parameter of integers usable with <see cref="InArray"/>.</summary>
    public abstract void AddArray(DbCommand command, string name, IReadOnlyCollection<long> values);

    /// <summary>Inserts every row of <paramref name="batch"/>; <paramref name="suffix"/> is an ON CONFLICT clause or empty.</summary>
    /// <remarks>With <paramref name="deferred"/>, the insert may be queued on the session and run at its next flush or commit.</remarks>
    public abstract Task InsertAsync(WriteSession session, ColumnBatch batch, string suffix, CancellationToken cancellationToken, bool deferred = false);

    /// <summary>Creates a provider parameter for a queued statement.</summary>
    public abstract DbParameter Parameter(string name, object? value);

    /// <summary>Whether <paramref name="exception"/> is a unique or primary key violation.</summary>
    public abstract bool IsUniqueViolation(Exception exception);

    /// <inheritdoc />
    public abstract ValueTask DisposeAsync();
}

/// <summary>A connection with an open write transaction; disposing it without <see cref="CommitAsync"/> rolls back.</summary>
/// <remarks>
/// Statements that need no result can be queued (<see cref="QueueAsync"/>): where the provider supports batching
/// (PostgreSQL) they travel together in one round trip before the commit; elsewhere they run at once.
/// </remarks>
internal sealed class WriteSession : IAsyncDisposable
{
    private readonly Action? _release;
    private readonly bool _ownsConnection;
    private DbBatch? _pending;

    public WriteSession(DbConnection connection, DbTransaction transaction, bool ownsConnection, Action? release)
    {
        Connection = connection;
        Transaction = transaction;
        _ownsConnection = ownsConnection;
        _release = release;
    }

    public DbConnection Connection { get; }

    public DbTransaction Transaction { get; }

    /// <summary>Creates a command enlisted in the transaction; queued statements must have been flushed first.</summary>
    public DbCommand Command(string sql)
    {
        if (_pending is not null)
        {
            throw new InvalidOperationException("Flush queued statements before running a command that reads their effects.");
        }

        var command = Connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = Transaction;
        return command;
    }

    /// <summary>Queues a statement that returns nothing (or runs it now where batching is unavailable).</summary>
    public async Task QueueAsync(string sql, IReadOnlyList<DbParameter> parameters, CancellationToken cancellationToken)
    {
        if (Connection.CanCreateBatch)
        {
            _pending ??= Connection.CreateBatch();
            _pending.Transaction = Transaction;
            var command = _pending.CreateBatchCommand();
            command.CommandText = sql;
            foreach (var parameter in parameters)
            {
                command.Parameters.Add(parameter);
            }

            _pending.BatchCommands.Add(command);
            return;
        }

        var immediate = Command(sql);
        await using (immediate.ConfigureAwait(false))
        {
            foreach (var parameter in parameters)
            {
                immediate.Parameters.Add(parameter);
            }

            await immediate.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Runs the queued statements.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_pending is null)
        {
            return;
        }

        var batch = _pending;
        _pending = null;
        await using (batch.ConfigureAwait(false))
        {
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Flushes and commits; deliberately not cancellable so a request aborted at the last moment cannot leave the outcome unknown.</summary>
    public async Task CommitAsync()
    {
        await FlushAsync(CancellationToken.None).ConfigureAwait(false);
        await Transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_pending is not null)
            {
                await _pending.DisposeAsync().ConfigureAwait(false);
                _pending = null;
            }

            await Transaction.DisposeAsync().ConfigureAwait(false);
            if (_ownsConnection)
            {
                await Connection.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _release?.Invoke();
        }
    }
}

/// <summary>One numbered schema migration.</summary>
internal sealed record Migration(int Version, string Name, string Sql);
