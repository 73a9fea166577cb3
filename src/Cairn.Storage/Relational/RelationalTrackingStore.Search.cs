using System.Data.Common;
using Cairn.Core.Tracking;
using Cairn.Core.Tracking.Search;

namespace Cairn.Storage.Relational;

internal sealed partial class RelationalTrackingStore
{
    private const string ValidRunAttributes = "'['run_id', 'run_name', 'status', 'user_id', 'artifact_uri', 'start_time', 'end_time']'";

    /// <inheritdoc />
    public async Task<Page<Run>> SearchRunsAsync(RunQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ValidateMaxResults(query.MaxResults);
        var offset = PageToken.ParseOffset(query.PageToken);
        var experimentIds = (query.ExperimentIds ?? []).Select(id => TryParseId(id, out var v) ? v : -1).Where(v => v >= 0).Distinct().ToArray();
        if (experimentIds.Length == 0)
        {
            return new Page<Run>([], null);
        }

        var connection = await _db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        experimentIds = await ExperimentsInWorkspaceAsync(connection, experimentIds, cancellationToken).ConfigureAwait(false);
        if (experimentIds.Length == 0)
        {
            return new Page<Run>([], null);
        }

        // The ids are parsed integers, so they are inlined: both planners then see "one experiment" and walk its
        // (experiment_id, start_time) index instead of sorting every run of an unknown set of experiments.
        var filter = new SqlFilter(_db);
        filter.Conditions.Add($"r.experiment_id IN ({string.Join(", ", experimentIds)})");
        filter.Conditions.Add(StageCondition("r.lifecycle_stage", query.ViewType));
        var orderBy = query.OrderBy ?? [];
        var orderMetric = orderBy.Count > 0 && orderBy[0].Kind == EntityKind.Metric ? orderBy[0].Key : null;

        // Comparisons on the metric the page is ordered by are applied to the ordered index row itself rather than through a
        // second lookup of latest_metrics: the planner then walks one index in order and stops after a page (issue #2's
        // search target). Such a comparison never matches NaN or a missing value, so only the first part below can match.
        var orderMetricConditions = new List<string>();
        foreach (var clause in query.Filter?.Clauses ?? [])
        {
            if (orderMetric is not null && clause.Kind == EntityKind.Metric && clause.Key == orderMetric && clause.Operator != ComparisonOperator.NotEqual)
            {
                orderMetricConditions.Add(filter.CompareNumber("o0.value", clause, integral: false));
            }
            else
            {
                filter.Conditions.Add(RunCondition(filter, clause));
            }
        }

        var limit = query.MaxResults + 1;
        var joins = new List<string>();
        List<RunInfo> infos;
        if (orderBy.Count > 0 && orderBy[0].Kind == EntityKind.Metric)
        {
            // Ordered by a metric first: read the runs that have a real value straight off the (key, is_nan, value) index
            // so the query stops after one page, then (only if the page is not full) those with NaN, then those without it.
            // This is the same order as the single query below, which would sort every matching run.
            var first = orderBy[0];
            var key = filter.Parameter(first.Key);
            var rest = RunOrderBy(filter, orderBy, joins, skipFirst: true);
            var join = string.Join(" ", joins);
            var byValue = $"FROM latest_metrics o0 JOIN runs r ON r.run_uuid = o0.run_uuid {join}";
            var valued = (byValue, $"o0.key = {key} AND o0.is_nan = FALSE{string.Concat(orderMetricConditions.Select(static c => " AND " + c))}", $"o0.value{(first.Ascending ? " ASC" : " DESC")}, {rest}");
            infos = await QueryRunPartsAsync(
                connection,
                filter,
                orderMetricConditions.Count > 0
                    ? [valued]
                    : [
                        valued,
                        (byValue, $"o0.key = {key} AND o0.is_nan = TRUE", rest),
                        ($"FROM runs r {join}", $"NOT EXISTS (SELECT 1 FROM latest_metrics x WHERE x.run_uuid = r.run_uuid AND x.key = {key})", rest),
                    ],
                offset,
                limit,
                cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var order = RunOrderBy(filter, orderBy, joins, skipFirst: false);
            infos = await QueryRunPartsAsync(
                connection, filter, [($"FROM runs r {string.Join(" ", joins)}", "1 = 1", order)], offset, limit, cancellationToken).ConfigureAwait(false);
        }

        string? next = null;
        if (infos.Count > query.MaxResults)
        {
            infos.RemoveAt(infos.Count - 1);
            next = PageToken.Create(offset + query.MaxResults);
        }

        var runs = await LoadRunDataAsync(connection, infos, cancellationToken).ConfigureAwait(false);
        return new Page<Run>(runs, next);
    }

    /// <summary>
    /// Reads the window [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="limit"/>) of the concatenation of
    /// ordered, disjoint parts (each a FROM clause, a condition and an ORDER BY), querying later parts only when earlier ones run out.
    /// </summary>
    private async Task<List<RunInfo>> QueryRunPartsAsync(
        DbConnection connection, SqlFilter filter, IReadOnlyList<(string From, string Condition, string OrderBy)> parts, long offset, int limit, CancellationToken cancellationToken)
    {
        var infos = new List<RunInfo>(Math.Min(limit, 1024));
        var skip = offset;
        for (var part = 0; part < parts.Count; part++)
        {
            var (from, condition, orderBy) = parts[part];
            var wanted = limit - infos.Count;
            var before = infos.Count;
            var select = connection.Command(
                $"SELECT {RunColumns} {from} WHERE {condition} AND {filter.Where} ORDER BY {orderBy} LIMIT {wanted} OFFSET {skip}");
            await using (select.ConfigureAwait(false))
            {
                filter.ApplyTo(select);
                var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        infos.Add(ReadRunInfo(reader));
                    }
                }
            }

            if (infos.Count == limit || part == parts.Count - 1)
            {
                break;
            }

            if (infos.Count > before)
            {
                // This part ended inside the window, so the next one starts at its beginning.
                skip = 0;
                continue;
            }

            // The whole part lies before the window: skip past it.
            var count = connection.Command($"SELECT COUNT(*) {from} WHERE {condition} AND {filter.Where}");
            await using (count.ConfigureAwait(false))
            {
                filter.ApplyTo(count);
                skip = Math.Max(0, skip - await ExecuteScalarInt64Async(count, cancellationToken).ConfigureAwait(false));
            }
        }

        return infos;
    }

    /// <inheritdoc />
    public async Task<Page<Metric>> GetMetricHistoryAsync(string runId, string key, int maxResults, string? pageToken, CancellationToken cancellationToken)
    {
        var offset = PageToken.ParseOffset(pageToken);
        var limit = $"LIMIT {(maxResults > 0 ? (long)maxResults + 1 : long.MaxValue)} OFFSET {offset}";

        var metrics = new List<Metric>();
        var connection = await _db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        {
            var select = connection.Command(
                "SELECT m.value, m.timestamp, m.step, m.is_nan, m.model_id, m.dataset_name, m.dataset_digest FROM metrics m " +
                "WHERE m.run_uuid = @id AND m.key = @key AND EXISTS (SELECT 1 FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id " +
                $"WHERE r.run_uuid = @id AND e.workspace_id = @ws) ORDER BY m.step, m.timestamp, m.value {limit}");
            await using var selectScope = select.ConfigureAwait(false);
            select.Add("@id", runId);
            select.Add("@key", key);
            select.Add("@ws", _workspaceId);
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                metrics.Add(new Metric(key, reader.GetMetricValue(0, 3), reader.GetInt64(1), reader.GetInt64(2))
                {
                    ModelId = reader.GetNullableString(4),
                    DatasetName = reader.GetNullableString(5),
                    DatasetDigest = reader.GetNullableString(6),
                });
            }
        }

        if (metrics.Count == 0)
        {
            // An empty history is only an answer for a run that exists; an unknown run is a 404, as for every other run call.
            var exists = connection.Command(
                "SELECT COUNT(*) FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id WHERE r.run_uuid = @id AND e.workspace_id = @ws");
            await using var existsScope = exists.ConfigureAwait(false);
            exists.Add("@id", runId);
            exists.Add("@ws", _workspaceId);
            if (await ExecuteScalarInt64Async(exists, cancellationToken).ConfigureAwait(false) == 0)
            {
                throw RunNotFound(runId);
            }
        }

        if (maxResults > 0 && metrics.Count > maxResults)
        {
            metrics.RemoveAt(metrics.Count - 1);
            return new Page<Metric>(metrics, PageToken.Create(offset + maxResults));
        }

        return new Page<Metric>(metrics, null);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<Metric>> GetMetricHistoryBulkIntervalAsync(
        IReadOnlyList<string> runIds, string key, long? startStep, long? endStep, int maxResults, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runIds);
        if (startStep is not null && endStep is not null)
        {
            if (startStep > endStep)
            {
                throw TrackingException.Invalid($"end_step must be greater than start_step. Found start_step={startStep} and end_step={endStep}.");
            }
        }
        else if (startStep is not null || endStep is not null)
        {
            throw TrackingException.Invalid("If either start step or end step are specified, both must be specified.");
        }

        if (maxResults < 1)
        {
            throw TrackingException.Invalid($"max_results must be between 1 and {MaxResultsPerRun}.");
        }

        var result = new List<Metric>();
        if (runIds.Count == 0)
        {
            return result;
        }

        var connection = await _db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var ids = new List<string>();
        {
            var select = connection.Command(
                "SELECT r.run_uuid FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id " +
                $"WHERE e.workspace_id = @ws AND {_db.InArray("r.run_uuid", "@ids")}");
            await using var selectScope = select.ConfigureAwait(false);
            select.Add("@ws", _workspaceId);
            _db.AddArray(select, "@ids", runIds.Distinct(StringComparer.Ordinal).ToArray());
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                ids.Add(reader.GetString(0));
            }
        }

        if (ids.Count == 0)
        {
            return result;
        }

        // Steps that exist across the runs, and each run's first and last step: sampling works on steps actually logged.
        var allSteps = new List<long>();
        var minMax = new HashSet<long>();
        {
            var select = connection.Command(
                $"SELECT DISTINCT m.step FROM metrics m WHERE m.key = @key AND {_db.InArray("m.run_uuid", "@ids")} ORDER BY m.step;\n" +
                $"SELECT MIN(m.step), MAX(m.step) FROM metrics m WHERE m.key = @key AND {_db.InArray("m.run_uuid", "@ids")} GROUP BY m.run_uuid");
            await using var selectScope = select.ConfigureAwait(false);
            select.Add("@key", key);
            _db.AddArray(select, "@ids", ids);
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                allSteps.Add(reader.GetInt64(0));
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                minMax.Add(reader.GetInt64(0));
                minMax.Add(reader.GetInt64(1));
            }
        }

        if (allSteps.Count == 0)
        {
            return result;
        }

        var start = startStep ?? 0;
        var end = endStep ?? allSteps[^1];
        var steps = SampleSteps(start, end, maxResults, allSteps);
        steps.UnionWith(minMax.Where(s => s >= start && s <= end));
        if (steps.Count == 0)
        {
            return result;
        }

        var byRun = new Dictionary<string, List<Metric>>(StringComparer.Ordinal);
        {
            var select = connection.Command(
                "SELECT m.run_uuid, m.key, m.value, m.timestamp, m.step, m.is_nan, m.model_id, m.dataset_name, m.dataset_digest FROM metrics m " +
                $"WHERE m.key = @key AND {_db.InArray("m.run_uuid", "@ids")} AND {_db.InArray("m.step", "@steps")} " +
                "ORDER BY m.run_uuid, m.step, m.timestamp, m.value");
            await using var selectScope = select.ConfigureAwait(false);
            select.Add("@key", key);
            _db.AddArray(select, "@ids", ids);
            _db.AddArray(select, "@steps", steps.ToArray());
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var runId = reader.GetString(0);
                if (!byRun.TryGetValue(runId, out var list))
                {
                    byRun[runId] = list = [];
                }

                if (list.Count < MaxResultsGetMetricHistory)
                {
                    list.Add(new Metric(reader.GetString(1), reader.GetMetricValue(2, 5), reader.GetInt64(3), reader.GetInt64(4))
                    {
                        RunId = runId,
                        ModelId = reader.GetNullableString(6),
                        DatasetName = reader.GetNullableString(7),
                        DatasetDigest = reader.GetNullableString(8),
                    });
                }
            }
        }

        // Runs come back in the order they were asked for, as MLflow's handler loops over run_ids.
        foreach (var runId in runIds.Distinct(StringComparer.Ordinal))
        {
            if (byRun.TryGetValue(runId, out var list))
            {
                result.AddRange(list);
            }
        }

        return result;
    }

    /// <summary>Keeps the experiment ids that exist in this workspace.</summary>
    private async Task<long[]> ExperimentsInWorkspaceAsync(DbConnection connection, long[] experimentIds, CancellationToken cancellationToken)
    {
        var found = new List<long>(experimentIds.Length);
        var select = connection.Command(
            $"SELECT experiment_id FROM experiments WHERE workspace_id = @ws AND experiment_id IN ({string.Join(", ", experimentIds)})");
        await using (select.ConfigureAwait(false))
        {
            select.Add("@ws", _workspaceId);
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    found.Add(reader.GetInt64(0));
                }
            }
        }

        return [.. found];
    }

    /// <summary>The most metrics MLflow returns per run from the bulk interval endpoint.</summary>
    internal const int MaxResultsGetMetricHistory = 25000;

    /// <summary>The largest <c>max_results</c> MLflow accepts for the bulk interval endpoint.</summary>
    internal const int MaxResultsPerRun = 2500;

    /// <summary>
    /// MLflow's <c>_get_sampled_steps_from_steps</c>: at most <paramref name="maxResults"/> steps taken evenly from the logged steps in
    /// [<paramref name="startStep"/>, <paramref name="endStep"/>], plus the last one.
    /// </summary>
    /// <remarks>MLflow compares the absolute index with the window size (<c>idx &lt; num_steps</c>), which drops samples when the window
    /// does not start at the first step; this compares with the window end so zoomed-in charts stay evenly sampled.</remarks>
    internal static HashSet<long> SampleSteps(long startStep, long endStep, int maxResults, List<long> allSteps)
    {
        var startIndex = LowerBound(allSteps, startStep);
        var endIndex = UpperBound(allSteps, endStep);
        var result = new HashSet<long>();
        if (endIndex - startIndex <= maxResults)
        {
            for (var i = startIndex; i < endIndex; i++)
            {
                result.Add(allSteps[i]);
            }

            return result;
        }

        var numSteps = endIndex - startIndex;
        var interval = (double)numSteps / maxResults;
        for (var i = 0; i < maxResults; i++)
        {
            var idx = startIndex + (int)(i * interval);
            if (idx < endIndex)
            {
                result.Add(allSteps[idx]);
            }
        }

        result.Add(allSteps[endIndex - 1]);
        return result;
    }

    private static int LowerBound(List<long> sorted, long value)
    {
        var index = sorted.BinarySearch(value);
        if (index < 0)
        {
            return ~index;
        }

        while (index > 0 && sorted[index - 1] == value)
        {
            index--;
        }

        return index;
    }

    private static int UpperBound(List<long> sorted, long value)
    {
        var index = sorted.BinarySearch(value);
        if (index < 0)
        {
            return ~index;
        }

        while (index < sorted.Count - 1 && sorted[index + 1] == value)
        {
            index++;
        }

        return index + 1;
    }

    private string RunCondition(SqlFilter filter, Comparison clause)
    {
        switch (clause.Kind)
        {
            case EntityKind.Metric:
            {
                var key = filter.Parameter(clause.Key);
                if (clause.Operator == ComparisonOperator.NotEqual)
                {
                    var value = filter.CompareNumber("m.value", clause with { Operator = ComparisonOperator.NotEqual }, integral: false);
                    return $"r.run_uuid IN (SELECT m.run_uuid FROM latest_metrics m WHERE m.key = {key} AND (m.is_nan = TRUE OR {value}))";
                }

                // NaN never compares equal, less or greater (as in MLflow's file store); it is stored as 0 with a flag.
                return $"r.run_uuid IN (SELECT m.run_uuid FROM latest_metrics m WHERE m.key = {key} AND m.is_nan = FALSE AND {filter.CompareNumber("m.value", clause, integral: false)})";
            }

            case EntityKind.Param:
                return $"r.run_uuid IN (SELECT p.run_uuid FROM params p WHERE p.key = {filter.Parameter(clause.Key)} AND {filter.CompareText("p.value", clause)})";
            case EntityKind.Tag:
                return $"r.run_uuid IN (SELECT t.run_uuid FROM tags t WHERE t.key = {filter.Parameter(clause.Key)} AND {filter.CompareText("t.value", clause)})";
            case EntityKind.Attribute:
                return clause.Key switch
                {
                    "run_id" => filter.CompareText("r.run_uuid", clause),
                    "run_name" => filter.CompareText("r.name", clause),
                    "status" => filter.CompareText("r.status", clause),
                    "user_id" => filter.CompareText("r.user_id", clause),
                    "artifact_uri" => filter.CompareText("r.artifact_uri", clause),
                    "start_time" => filter.CompareNumber("r.start_time", clause, integral: true),
                    "end_time" => filter.CompareNumber("r.end_time", clause, integral: true),
                    _ => throw TrackingException.Invalid($"Invalid attribute key '{clause.Key}' specified. Valid keys are {ValidRunAttributes}"),
                };
            case EntityKind.Dataset:
                var inputs = "SELECT i.destination_id FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id";
                var where = "i.source_type = 'DATASET' AND i.destination_type = 'RUN'";
                return clause.Key switch
                {
                    "name" => $"r.run_uuid IN ({inputs} WHERE {where} AND {filter.CompareText("d.name", clause)})",
                    "digest" => $"r.run_uuid IN ({inputs} WHERE {where} AND {filter.CompareText("d.digest", clause)})",
                    "context" =>
                        $"r.run_uuid IN ({inputs} JOIN input_tags it ON it.input_uuid = i.input_uuid AND it.name = {filter.Parameter(DatasetContextTag)} " +
                        $"WHERE {where} AND {filter.CompareText("it.value", clause)})",
                    _ => throw TrackingException.Invalid(
                        $"Invalid dataset key '{clause.Key}' specified. Valid keys are '['name', 'digest', 'context']'"),
                };
            default:
                throw TrackingException.Invalid($"Invalid search expression type '{clause.Kind}'");
        }
    }

    /// <summary>Builds the ORDER BY terms (adding the LEFT JOINs they need); with <paramref name="skipFirst"/> the first term is left to the caller.</summary>
    private string RunOrderBy(SqlFilter filter, IReadOnlyList<OrderBy> orderBy, List<string> joins, bool skipFirst)
    {
        var terms = new List<string>();
        var seen = new HashSet<(EntityKind, string)>();
        var hasStartTime = false;
        for (var i = 0; i < orderBy.Count; i++)
        {
            var term = orderBy[i];
            if (!seen.Add((term.Kind, term.Key)))
            {
                throw TrackingException.Invalid($"`order_by` contains duplicate fields: {term.Kind.ToString().ToLowerInvariant()}.{term.Key}");
            }

            if (i == 0 && skipFirst)
            {
                continue;
            }

            var direction = term.Ascending ? " ASC" : " DESC";
            var alias = $"o{i}";
            switch (term.Kind)
            {
                case EntityKind.Metric:
                    joins.Add($"LEFT JOIN latest_metrics {alias} ON {alias}.run_uuid = r.run_uuid AND {alias}.key = {filter.Parameter(term.Key)}");

                    // MLflow sorts real values first, then NaN, then runs without the metric, whatever the direction.
                    terms.Add($"CASE WHEN {alias}.run_uuid IS NULL THEN 2 WHEN {alias}.is_nan = TRUE THEN 1 ELSE 0 END");
                    terms.Add($"{alias}.value{direction}");
                    break;
                case EntityKind.Param:
                case EntityKind.Tag:
                    var table = term.Kind == EntityKind.Param ? "params" : "tags";
                    joins.Add($"LEFT JOIN {table} {alias} ON {alias}.run_uuid = r.run_uuid AND {alias}.key = {filter.Parameter(term.Key)}");
                    terms.Add($"CASE WHEN {alias}.value IS NULL THEN 1 ELSE 0 END");
                    terms.Add($"{alias}.value{_db.OrderCollation}{direction}");
                    break;
                case EntityKind.Attribute:
                    var (column, text) = term.Key switch
                    {
                        "start_time" => ("r.start_time", false),
                        "end_time" => ("r.end_time", false),
                        "run_name" => ("r.name", true),
                        "run_id" => ("r.run_uuid", true),
                        "status" => ("r.status", true),
                        "user_id" => ("r.user_id", true),
                        "artifact_uri" => ("r.artifact_uri", true),
                        _ => throw TrackingException.Invalid($"Invalid attribute key '{term.Key}' specified. Valid keys are {ValidRunAttributes}"),
                    };
                    hasStartTime |= term.Key == "start_time";
                    if (term.Key == "end_time")
                    {
                        terms.Add("CASE WHEN r.end_time IS NULL THEN 1 ELSE 0 END");
                    }

                    terms.Add(column + (text ? _db.OrderCollation : string.Empty) + direction);
                    break;
                default:
                    throw TrackingException.Invalid($"Invalid identifier type '{term.Kind.ToString().ToLowerInvariant()}'");
            }
        }

        if (!hasStartTime)
        {
            terms.Add("r.start_time DESC");
        }

        terms.Add("r.run_uuid" + _db.OrderCollation);
        return string.Join(", ", terms);
    }
}
