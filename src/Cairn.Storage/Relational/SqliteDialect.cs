using System.Buffers;
using System.Collections.Concurrent;
using System.Data.Common;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Cairn.Storage.Relational;

/// <summary>The embedded SQLite database: WAL journal, one in-process writer at a time, readers in parallel.</summary>
internal sealed class SqliteDialect : SqlDialect
{
    // One gate per database file, shared by every storage opened on it in this process, so writers queue
    // in-process instead of spinning on SQLITE_BUSY.
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> s_writerGates = new(StringComparer.Ordinal);

    private readonly string _readConnectionString;
    private readonly string _writeConnectionString;
    private readonly SemaphoreSlim _writerGate;

    public SqliteDialect(string path)
    {
        Path = path;
        _readConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ConnectionString;
        _writeConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
            ForeignKeys = true,
        }.ConnectionString;
        _writerGate = s_writerGates.GetOrAdd(path, static _ => new SemaphoreSlim(1, 1));
    }

    public string Path { get; }

    public override string Kind => "sqlite";

    public override IReadOnlyList<Migration> Migrations => SqliteMigrations.All;

    public override string OrderCollation => string.Empty;

    public override string ForShare => string.Empty;

    public override string ForUpdate => string.Empty;

    public override string ForUpdateOf(string alias) => string.Empty;

    public override async Task InitializeAsync(CancellationToken cancellationToken)
    {
        var directory = System.IO.Path.GetDirectoryName(Path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var connection = new SqliteConnection(_writeConnectionString);
        await using var connectionScope = connection.ConfigureAwait(false);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        var command = connection.CreateCommand();
        await using var commandScope = command.ConfigureAwait(false);
        command.CommandText = "PRAGMA journal_mode=WAL;";
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public override async Task<DbConnection> OpenReadConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_readConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public override async Task<WriteSession> BeginWriteAsync(CancellationToken cancellationToken)
    {
        await _writerGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        SqliteConnection? connection = null;
        try
        {
            connection = new SqliteConnection(_writeConnectionString);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            {
                var pragma = connection.CreateCommand();
                await using var pragmaScope = pragma.ConfigureAwait(false);
                // Per connection: NORMAL is durable across process crashes in WAL mode; busy_timeout covers other processes.
                pragma.CommandText = "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;";
                await pragma.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            // BEGIN IMMEDIATE: take the write lock up front rather than failing to upgrade a read lock later.
            var transaction = connection.BeginTransaction(deferred: false);
            return new WriteSession(connection, transaction, () => _writerGate.Release());
        }
        catch
        {
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }

            _writerGate.Release();
            throw;
        }
    }

    public override Task LockForMigrationAsync(WriteSession session, CancellationToken cancellationToken) => Task.CompletedTask;

    // SQLite's LIKE ignores ASCII case; MLflow's LIKE is case-sensitive, so LIKE becomes GLOB with a translated pattern.
    public override string Like(string column, string parameter) => $"{column} GLOB {parameter}";

    public override string ILike(string column, string parameter) => $"lower({column}) LIKE lower({parameter})";

    public override string LikePatternValue(string pattern)
    {
        var sb = new StringBuilder(pattern.Length + 4);
        foreach (var c in pattern)
        {
            switch (c)
            {
                case '%': sb.Append('*'); break;
                case '_': sb.Append('?'); break;
                case '*': sb.Append("[*]"); break;
                case '?': sb.Append("[?]"); break;
                case '[': sb.Append("[[]"); break;
                default: sb.Append(c); break;
            }
        }

        return sb.ToString();
    }

    public override string InArray(string column, string parameter, bool negate = false) =>
        $"{column} {(negate ? "NOT IN" : "IN")} (SELECT value FROM json_each({parameter}))";

    public override void AddArray(DbCommand command, string name, IReadOnlyCollection<string> values)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var v in values)
            {
                writer.WriteStringValue(v);
            }

            writer.WriteEndArray();
        }

        command.Add(name, Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    public override void AddArray(DbCommand command, string name, IReadOnlyCollection<long> values) =>
        command.Add(name, "[" + string.Join(',', values) + "]");

    public override async Task InsertAsync(WriteSession session, ColumnBatch batch, string suffix, CancellationToken cancellationToken)
    {
        if (batch.RowCount == 0)
        {
            return;
        }

        var names = new List<string>();
        var placeholders = new List<string>();
        var command = session.Command(string.Empty);
        await using var commandScope = command.ConfigureAwait(false);
        for (var i = 0; i < batch.Constants.Count; i++)
        {
            names.Add(batch.Constants[i].Name);
            placeholders.Add($"@k{i}");
            command.Add($"@k{i}", batch.Constants[i].Value);
        }

        var parameters = new DbParameter[batch.Columns.Count];
        for (var i = 0; i < batch.Columns.Count; i++)
        {
            names.Add(batch.Columns[i].Name);
            placeholders.Add($"@c{i}");
            parameters[i] = command.Add($"@c{i}", DBNull.Value);
        }

        command.CommandText = $"INSERT INTO {batch.Table} ({string.Join(", ", names)}) VALUES ({string.Join(", ", placeholders)}) {suffix}";
        // One prepared statement re-bound and re-executed per row: the fastest way into SQLite from ADO.NET.
        command.Prepare();
        for (var row = 0; row < batch.RowCount; row++)
        {
            for (var c = 0; c < parameters.Length; c++)
            {
                var (_, type, values) = batch.Columns[c];
                parameters[c].Value = type switch
                {
                    ColumnType.Text => (object?)((string?[])values)[row] ?? DBNull.Value,
                    ColumnType.Int64 => ((long[])values)[row],
                    ColumnType.Double => ((double[])values)[row],
                    _ => ((bool[])values)[row] ? 1L : 0L,
                };
            }

            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public override bool IsUniqueViolation(Exception exception) =>
        exception is SqliteException { SqliteErrorCode: 19, SqliteExtendedErrorCode: 2067 or 1555 };

    public override ValueTask DisposeAsync()
    {
        using (var connection = new SqliteConnection(_readConnectionString))
        {
            SqliteConnection.ClearPool(connection);
        }

        using (var connection = new SqliteConnection(_writeConnectionString))
        {
            SqliteConnection.ClearPool(connection);
        }

        return ValueTask.CompletedTask;
    }
}
