using System.Buffers;
using System.Collections.Concurrent;
using System.Data.Common;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using SQLitePCL;

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
    private SqliteConnection? _writer;

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
        try
        {
            var writer = await GetWriterAsync(cancellationToken).ConfigureAwait(false);
            SqliteTransaction transaction;
            try
            {
                // BEGIN IMMEDIATE: take the write lock up front rather than failing to upgrade a read lock later.
                transaction = writer.BeginTransaction(deferred: false);
            }
            catch (InvalidOperationException)
            {
                // A transaction left open by a failed rollback: start over on a fresh connection.
                await ResetWriterAsync().ConfigureAwait(false);
                writer = await GetWriterAsync(cancellationToken).ConfigureAwait(false);
                transaction = writer.BeginTransaction(deferred: false);
            }

            return new WriteSession(writer, transaction, ownsConnection: false, () => _writerGate.Release());
        }
        catch
        {
            await ResetWriterAsync().ConfigureAwait(false);
            _writerGate.Release();
            throw;
        }
    }

    /// <summary>The one connection this storage writes through; only used while holding the writer gate.</summary>
    private async Task<SqliteConnection> GetWriterAsync(CancellationToken cancellationToken)
    {
        if (_writer is not null)
        {
            return _writer;
        }

        var connection = new SqliteConnection(_writeConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            var pragma = connection.CreateCommand();
            await using (pragma.ConfigureAwait(false))
            {
                // NORMAL is durable across process crashes in WAL mode (only an OS crash can lose the last commits);
                // busy_timeout covers writers in other processes.
                pragma.CommandText = "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;";
                await pragma.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        _writer = connection;
        return connection;
    }

    private async Task ResetWriterAsync()
    {
        if (_writer is not null)
        {
            await _writer.DisposeAsync().ConfigureAwait(false);
            _writer = null;
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

    public override string JsonField(string column, string keyParameter) =>
        $"CAST(json_extract({column}, '$.\"' || {keyParameter} || '\"') AS TEXT)";

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

    public override Task InsertAsync(WriteSession session, ColumnBatch batch, string suffix, CancellationToken cancellationToken, bool deferred = false)
    {
        if (batch.RowCount == 0)
        {
            return Task.CompletedTask;
        }

        var names = new List<string>();
        var placeholders = new List<string>();
        foreach (var (name, _, _) in batch.Constants)
        {
            names.Add(name);
            placeholders.Add($"?{placeholders.Count + 1}");
        }

        foreach (var (name, _, _) in batch.Columns)
        {
            names.Add(name);
            placeholders.Add($"?{placeholders.Count + 1}");
        }

        var sql = $"INSERT INTO {batch.Table} ({string.Join(", ", names)}) VALUES ({string.Join(", ", placeholders)}) {suffix}";

        // The hottest write path: one statement prepared once, re-bound by index and stepped per row through SQLite's C API,
        // which costs about half of re-executing an ADO.NET command (no name lookups, no reader per row). It runs inside
        // the session's transaction because it uses the same connection.
        var db = ((SqliteConnection)session.Connection).Handle!;
        Check(db, raw.sqlite3_prepare_v2(db, sql, out var statement));
        using (statement)
        {
            var index = 1;
            foreach (var (_, type, value) in batch.Constants)
            {
                Check(db, type == ColumnType.Text ? raw.sqlite3_bind_text16(statement, index, (string)value) : raw.sqlite3_bind_int64(statement, index, (long)value));
                index++;
            }

            var first = index;
            for (var row = 0; row < batch.RowCount; row++)
            {
                if ((row & 255) == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                for (var c = 0; c < batch.Columns.Count; c++)
                {
                    var (_, type, values) = batch.Columns[c];
                    var i = first + c;
                    var rc = type switch
                    {
                        ColumnType.Text => ((string?[])values)[row] is { } text ? raw.sqlite3_bind_text16(statement, i, text) : raw.sqlite3_bind_null(statement, i),
                        ColumnType.Int64 => raw.sqlite3_bind_int64(statement, i, ((long[])values)[row]),
                        ColumnType.Double => raw.sqlite3_bind_double(statement, i, ((double[])values)[row]),
                        ColumnType.NullableInt64 => ((long?[])values)[row] is { } n ? raw.sqlite3_bind_int64(statement, i, n) : raw.sqlite3_bind_null(statement, i),
                        ColumnType.NullableDouble => ((double?[])values)[row] is { } d ? raw.sqlite3_bind_double(statement, i, d) : raw.sqlite3_bind_null(statement, i),
                        _ => raw.sqlite3_bind_int64(statement, i, ((bool[])values)[row] ? 1 : 0),
                    };
                    Check(db, rc);
                }

                var step = raw.sqlite3_step(statement);
                if (step != raw.SQLITE_DONE)
                {
                    var error = new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), step, raw.sqlite3_extended_errcode(db));
                    raw.sqlite3_reset(statement);
                    throw error;
                }

                raw.sqlite3_reset(statement);
            }
        }

        return Task.CompletedTask;
    }

    private static void Check(sqlite3 db, int rc)
    {
        if (rc is not (raw.SQLITE_OK or raw.SQLITE_DONE or raw.SQLITE_ROW))
        {
            throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), rc, raw.sqlite3_extended_errcode(db));
        }
    }

    public override DbParameter Parameter(string name, object? value) => new SqliteParameter(name, value ?? DBNull.Value);

    public override bool IsUniqueViolation(Exception exception) =>
        exception is SqliteException { SqliteErrorCode: 19, SqliteExtendedErrorCode: 2067 or 1555 };

    public override async ValueTask DisposeAsync()
    {
        await _writerGate.WaitAsync().ConfigureAwait(false);
        try
        {
            await ResetWriterAsync().ConfigureAwait(false);
        }
        finally
        {
            _writerGate.Release();
        }

        using (var connection = new SqliteConnection(_readConnectionString))
        {
            SqliteConnection.ClearPool(connection);
        }

        using (var connection = new SqliteConnection(_writeConnectionString))
        {
            SqliteConnection.ClearPool(connection);
        }
    }
}
