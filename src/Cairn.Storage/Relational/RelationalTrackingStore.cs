using System.Data.Common;
using System.Globalization;
using Cairn.Core.Registry;
using Cairn.Core.Tracking;

namespace Cairn.Storage.Relational;

/// <summary>Well-known workspace ids.</summary>
internal static class WorkspaceIds
{
    /// <summary>The workspace every database starts with and single-tenant deployments use.</summary>
    public const string Default = "default";
}

/// <summary>The tracking and registry stores of one workspace, on any <see cref="SqlDialect"/>.</summary>
/// <remarks>Thread-safe; every public method is one transaction (writes) or a set of reads on one connection.</remarks>
internal sealed partial class RelationalTrackingStore : IExperimentStore, IRunStore, ILoggedModelStore, IModelRegistryStore
{
    public const string DefaultExperimentId = "0";
    public const string DefaultExperimentName = "Default";
    public const string RunNameTag = "mlflow.runName";
    public const string ModelVersionsTag = "mlflow.modelVersions";
    public const string DatasetContextTag = "mlflow.data.context";

    private const int SearchMaxResultsThreshold = 50000;

    private readonly SqlDialect _db;
    private readonly string _workspaceId;
    private readonly string _artifactRoot;
    private readonly TimeProvider _time;

    public RelationalTrackingStore(SqlDialect dialect, string workspaceId, string artifactRoot, TimeProvider timeProvider)
    {
        _db = dialect;
        _workspaceId = workspaceId;
        _artifactRoot = artifactRoot;
        _time = timeProvider;
    }

    /// <summary>Creates the default workspace and its <c>Default</c> experiment (id 0) when missing.</summary>
    public static async Task EnsureDefaultsAsync(SqlDialect dialect, string workspaceId, string artifactRoot, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        var session = await dialect.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        {
            var workspace = session.Command(
                "INSERT INTO workspaces (workspace_id, name, creation_time) VALUES (@id, @id, @now) ON CONFLICT DO NOTHING");
            await using var workspaceScope = workspace.ConfigureAwait(false);
            workspace.Add("@id", workspaceId);
            workspace.Add("@now", now);
            await workspace.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        if (workspaceId == WorkspaceIds.Default)
        {
            // An explicit id 0 does not advance SQLite's AUTOINCREMENT past 0 nor PostgreSQL's identity (it starts at 1).
            var experiment = session.Command(
                "INSERT INTO experiments (experiment_id, workspace_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) " +
                "SELECT 0, @ws, @name, @location, 'active', @now, @now WHERE NOT EXISTS (SELECT 1 FROM experiments WHERE experiment_id = 0)");
            await using var experimentScope = experiment.ConfigureAwait(false);
            experiment.Add("@ws", workspaceId);
            experiment.Add("@name", DefaultExperimentName);
            experiment.Add("@location", BackendStore.AppendPath(artifactRoot, DefaultExperimentId));
            experiment.Add("@now", now);
            await experiment.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await session.CommitAsync().ConfigureAwait(false);
    }

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private static bool TryParseId(string? id, out long value) =>
        long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    private static string IdString(long id) => id.ToString(CultureInfo.InvariantCulture);

    /// <summary>Removes repeated keys, keeping each key at its first position with its last value (upsert semantics).</summary>
    private static List<KeyValue> DedupeLastWins(IReadOnlyList<KeyValue> items)
    {
        var result = new List<KeyValue>(items.Count);
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            if (index.TryGetValue(item.Key, out var i))
            {
                result[i] = item;
            }
            else
            {
                index[item.Key] = result.Count;
                result.Add(item);
            }
        }

        return result;
    }

    private static ColumnBatch KeyValueBatch(string table, string ownerColumn, string owner, IReadOnlyList<KeyValue> items, string keyColumn = "key", string valueColumn = "value")
    {
        var keys = new string?[items.Count];
        var values = new string?[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            keys[i] = items[i].Key;
            values[i] = items[i].Value;
        }

        return new ColumnBatch(table, items.Count).Constant(ownerColumn, owner).Column(keyColumn, keys).Column(valueColumn, values);
    }

    private static ColumnBatch KeyValueBatch(string table, string ownerColumn, long owner, IReadOnlyList<KeyValue> items)
    {
        var keys = new string?[items.Count];
        var values = new string?[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            keys[i] = items[i].Key;
            values[i] = items[i].Value;
        }

        return new ColumnBatch(table, items.Count).Constant(ownerColumn, owner).Column("key", keys).Column("value", values);
    }

    private static async Task<long> ExecuteScalarInt64Async(DbCommand command, CancellationToken cancellationToken)
    {
        var result = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return Convert.ToInt64(result, CultureInfo.InvariantCulture);
    }

    private static void ValidateMaxResults(int maxResults)
    {
        if (maxResults < 1)
        {
            throw TrackingException.Invalid($"Invalid value for max_results. It must be a positive integer, but got {maxResults}");
        }

        if (maxResults > SearchMaxResultsThreshold)
        {
            throw TrackingException.Invalid($"Invalid value for max_results. It must be at most {SearchMaxResultsThreshold}, but got {maxResults}");
        }
    }

    private static string StageCondition(string column, ViewType viewType) => viewType switch
    {
        ViewType.ActiveOnly => $"{column} = 'active'",
        ViewType.DeletedOnly => $"{column} = 'deleted'",
        _ => "1 = 1",
    };

    /// <summary>Runs one statement in the write session and returns the number of rows it affected.</summary>
    private static async Task<int> ExecuteAsync(WriteSession session, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        var command = session.Command(sql);
        await using var commandScope = command.ConfigureAwait(false);
        foreach (var (name, value) in parameters)
        {
            command.Add(name, value);
        }

        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
