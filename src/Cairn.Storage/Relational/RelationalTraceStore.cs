using System.Buffers;
using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Cairn.Core.Observability;
using Cairn.Core.Tracking;

namespace Cairn.Storage.Relational;

/// <summary>Spans, traces, sessions and scores of one workspace, on any <see cref="SqlDialect"/>.</summary>
/// <remarks>
/// Thread-safe. Spans are written by the ingest batch writer: one transaction per batch inserts the spans (a span already
/// stored is skipped) and recomputes the totals of every trace the batch touched from that trace's stored spans, so totals
/// are right whatever order and batching the spans arrive in, and a batch written twice changes nothing.
/// </remarks>
internal sealed class RelationalTraceStore(SqlDialect db, string workspaceId, TimeProvider timeProvider) : ITraceStore
{
    private const string SpanColumns =
        "project, trace_id, span_id, parent_span_id, name, kind, start_ns, end_ns, status_code, status_message, type, operation, provider, " +
        "request_model, response_model, input_tokens, output_tokens, cached_tokens, cache_write_tokens, reasoning_tokens, cost_usd, input, output, " +
        "user_id, session_id, service_name, scope_name, tags, attributes, resource, events, links, flags, request_log_id";

    private const string TraceColumns =
        "project, trace_id, name, root_span_id, start_ns, end_ns, span_count, error_count, input_tokens, output_tokens, cached_tokens, cost_usd, " +
        "user_id, session_id, service_name, models, tags, input, output";

    private const string NodeColumns =
        "s.span_id, s.parent_span_id, s.name, s.type, s.start_ns, s.end_ns, s.status_code, s.request_model, s.response_model, s.input_tokens, s.output_tokens, s.cost_usd";

    private const int MaxPageSize = 1000;

    private static readonly string[] s_traceTables = ["spans", "trace_scores", "traces"];

    /// <inheritdoc />
    public async Task AppendAsync(IReadOnlyList<SpanRecord> spans, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spans);
        if (spans.Count == 0)
        {
            return;
        }

        var n = spans.Count;
        var batch = new ColumnBatch("spans", n)
            .Constant("workspace_id", workspaceId)
            .Column("project", Map(spans, static s => s.Project))
            .Column("trace_id", Map(spans, static s => s.TraceId))
            .Column("span_id", Map(spans, static s => s.SpanId))
            .Column("parent_span_id", Map(spans, static s => s.ParentSpanId))
            .Column("name", Map(spans, static s => s.Name))
            .Column("kind", MapLong(spans, static s => (long)s.Kind))
            .Column("start_ns", MapLong(spans, static s => s.StartTimeUnixNano))
            .Column("end_ns", MapLong(spans, static s => s.EndTimeUnixNano))
            .Column("status_code", MapLong(spans, static s => (long)s.StatusCode))
            .Column("status_message", Map(spans, static s => s.StatusMessage))
            .Column("type", Map(spans, static s => s.Type))
            .Column("operation", Map(spans, static s => s.Operation))
            .Column("provider", Map(spans, static s => s.Provider))
            .Column("request_model", Map(spans, static s => s.RequestModel))
            .Column("response_model", Map(spans, static s => s.ResponseModel))
            .Column("input_tokens", MapNullable(spans, static s => s.InputTokens))
            .Column("output_tokens", MapNullable(spans, static s => s.OutputTokens))
            .Column("cached_tokens", MapNullable(spans, static s => s.CachedInputTokens))
            .Column("cache_write_tokens", MapNullable(spans, static s => s.CacheWriteTokens))
            .Column("reasoning_tokens", MapNullable(spans, static s => s.ReasoningTokens))
            .Column("cost_usd", MapCost(spans))
            .Column("input", Map(spans, static s => s.Input))
            .Column("output", Map(spans, static s => s.Output))
            .Column("user_id", Map(spans, static s => s.UserId))
            .Column("session_id", Map(spans, static s => s.SessionId))
            .Column("service_name", Map(spans, static s => s.ServiceName))
            .Column("scope_name", Map(spans, static s => s.ScopeName))
            .Column("tags", Map(spans, static s => JsonArray(s.Tags)))
            .Column("attributes", Map(spans, static s => s.AttributesJson))
            .Column("resource", Map(spans, static s => s.ResourceJson))
            .Column("events", Map(spans, static s => s.EventsJson))
            .Column("links", Map(spans, static s => s.LinksJson))
            .Column("flags", MapLong(spans, static s => (long)s.Flags))
            .Column("request_log_id", Map(spans, static s => s.RequestLogId));

        // The project of a trace is the one its first stored span named.
        var traceProjects = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var span in spans)
        {
            traceProjects.TryAdd(span.TraceId, span.Project);
        }

        var session = await db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        await db.InsertAsync(session, batch, "ON CONFLICT (trace_id, span_id) DO NOTHING", cancellationToken).ConfigureAwait(false);
        var rollups = await RollUpAsync(session, traceProjects, cancellationToken).ConfigureAwait(false);
        await UpsertTracesAsync(session, rollups, cancellationToken).ConfigureAwait(false);
        await session.CommitAsync().ConfigureAwait(false);
    }

    private async Task<List<TraceSummary>> RollUpAsync(WriteSession session, Dictionary<string, string> traceProjects, CancellationToken cancellationToken)
    {
        var command = session.Command(
            "SELECT trace_id, span_id, parent_span_id, name, start_ns, end_ns, status_code, input_tokens, output_tokens, cached_tokens, cost_usd, " +
            "user_id, session_id, service_name, request_model, response_model, tags, " +
            "CASE WHEN parent_span_id IS NULL THEN input END, CASE WHEN parent_span_id IS NULL THEN output END, project, type " +
            $"FROM spans WHERE {db.InArray("trace_id", "@ids")} ORDER BY trace_id, start_ns, span_id");
        await using var commandScope = command.ConfigureAwait(false);
        db.AddArray(command, "@ids", traceProjects.Keys);
        var result = new List<TraceSummary>(traceProjects.Count);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            TraceAccumulator? current = null;
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var traceId = reader.GetString(0);
                if (current is null || current.TraceId != traceId)
                {
                    if (current is not null)
                    {
                        result.Add(current.ToSummary());
                    }

                    current = new TraceAccumulator(traceId, reader.GetString(19));
                }

                current.Add(reader);
            }

            if (current is not null)
            {
                result.Add(current.ToSummary());
            }
        }

        return result;
    }

    private async Task UpsertTracesAsync(WriteSession session, List<TraceSummary> traces, CancellationToken cancellationToken)
    {
        if (traces.Count == 0)
        {
            return;
        }

        var now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        var batch = new ColumnBatch("traces", traces.Count)
            .Constant("workspace_id", workspaceId)
            .Constant("updated_at", now)
            .Column("project", Map(traces, static t => t.Project))
            .Column("trace_id", Map(traces, static t => t.TraceId))
            .Column("name", Map(traces, static t => t.Name))
            .Column("root_span_id", Map(traces, static t => t.RootSpanId))
            .Column("start_ns", MapLong(traces, static t => t.StartTimeUnixNano))
            .Column("end_ns", MapLong(traces, static t => t.EndTimeUnixNano))
            .Column("duration_ms", traces.Select(static t => t.DurationMs).ToArray())
            .Column("span_count", MapLong(traces, static t => t.SpanCount))
            .Column("error_count", MapLong(traces, static t => t.ErrorCount))
            .Column("input_tokens", MapLong(traces, static t => t.InputTokens))
            .Column("output_tokens", MapLong(traces, static t => t.OutputTokens))
            .Column("cached_tokens", MapLong(traces, static t => t.CachedInputTokens))
            .Column("total_tokens", MapLong(traces, static t => t.TotalTokens))
            .Column("cost_usd", traces.Select(static t => (double)t.CostUsd).ToArray())
            .Column("user_id", Map(traces, static t => t.UserId))
            .Column("session_id", Map(traces, static t => t.SessionId))
            .Column("service_name", Map(traces, static t => t.ServiceName))
            .Column("models", Map(traces, static t => JsonArray(t.Models)))
            .Column("tags", Map(traces, static t => JsonArray(t.Tags)))
            .Column("input", Map(traces, static t => t.Input))
            .Column("output", Map(traces, static t => t.Output));
        const string Update =
            "ON CONFLICT (trace_id) DO UPDATE SET name = excluded.name, root_span_id = excluded.root_span_id, start_ns = excluded.start_ns, " +
            "end_ns = excluded.end_ns, duration_ms = excluded.duration_ms, span_count = excluded.span_count, error_count = excluded.error_count, " +
            "input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens, cached_tokens = excluded.cached_tokens, " +
            "total_tokens = excluded.total_tokens, cost_usd = excluded.cost_usd, user_id = excluded.user_id, session_id = excluded.session_id, " +
            "service_name = excluded.service_name, models = excluded.models, tags = excluded.tags, input = excluded.input, output = excluded.output, " +
            "updated_at = excluded.updated_at";
        await db.InsertAsync(session, batch, Update, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<Page<TraceSummary>> SearchTracesAsync(TraceQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        CheckPageSize(query.MaxResults);
        var where = new List<string> { "workspace_id = @ws", "project = @project" };
        var parameters = new List<(string, object?)> { ("@ws", workspaceId), ("@project", query.Project) };
        void Add(string condition, string name, object? value)
        {
            where.Add(condition);
            parameters.Add((name, value));
        }

        if (!string.IsNullOrEmpty(query.Name))
        {
            Add(@"lower(name) LIKE @name ESCAPE '\'", "@name", "%" + EscapeLike(query.Name.ToLowerInvariant()) + "%");
        }

        if (query.From is { } from)
        {
            Add("start_ns >= @from", "@from", from);
        }

        if (query.To is { } to)
        {
            Add("start_ns < @to", "@to", to);
        }

        if (query.HasError is { } hasError)
        {
            where.Add(hasError ? "error_count > 0" : "error_count = 0");
        }

        if (query.MinDurationMs is { } minDuration)
        {
            Add("duration_ms >= @min_duration", "@min_duration", minDuration);
        }

        if (query.MaxDurationMs is { } maxDuration)
        {
            Add("duration_ms <= @max_duration", "@max_duration", maxDuration);
        }

        if (query.MinCostUsd is { } minCost)
        {
            Add("cost_usd >= @min_cost", "@min_cost", (double)minCost);
        }

        if (query.MinTokens is { } minTokens)
        {
            Add("total_tokens >= @min_tokens", "@min_tokens", minTokens);
        }

        if (!string.IsNullOrEmpty(query.Model))
        {
            Add(@"models LIKE @model ESCAPE '\'", "@model", "%" + EscapeLike(JsonArray([query.Model])[1..^1]) + "%");
        }

        if (!string.IsNullOrEmpty(query.Tag))
        {
            Add(@"tags LIKE @tag ESCAPE '\'", "@tag", "%" + EscapeLike(JsonArray([query.Tag])[1..^1]) + "%");
        }

        if (!string.IsNullOrEmpty(query.UserId))
        {
            Add("user_id = @user", "@user", query.UserId);
        }

        if (!string.IsNullOrEmpty(query.SessionId))
        {
            Add("session_id = @session", "@session", query.SessionId);
        }

        if (query.Attribute is { } attribute)
        {
            where.Add($"EXISTS (SELECT 1 FROM spans s WHERE s.trace_id = traces.trace_id AND {db.JsonField("s.attributes", "@attr_key")} = @attr_value)");
            parameters.Add(("@attr_key", attribute.Key));
            parameters.Add(("@attr_value", attribute.Value));
        }

        var (sortColumn, descending) = query.Order switch
        {
            TraceOrder.Oldest => ("start_ns", false),
            TraceOrder.Slowest => ("duration_ms", true),
            TraceOrder.Costliest => ("cost_usd", true),
            TraceOrder.MostTokens => ("total_tokens", true),
            _ => ("start_ns", true),
        };
        var isDouble = sortColumn is "duration_ms" or "cost_usd";

        // Keyset paging on (sort column, trace_id): stable while traces arrive, and cheap at any depth.
        if (PageToken.Decode(query.PageToken) is { } token)
        {
            var parts = token.Split('|', 2);
            object? after = null;
            if (parts.Length == 2)
            {
                after = isDouble
                    ? double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null
                    : long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : null;
            }

            if (after is null)
            {
                throw TrackingException.Invalid("Invalid page token.");
            }

            var op = descending ? "<" : ">";
            where.Add($"({sortColumn} {op} @after OR ({sortColumn} = @after AND trace_id {op} @after_id))");
            parameters.Add(("@after", after));
            parameters.Add(("@after_id", parts[1]));
        }

        var direction = descending ? "DESC" : "ASC";
        var connection = await db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var command = connection.Command(
            $"SELECT {TraceColumns}, {sortColumn} FROM traces WHERE {string.Join(" AND ", where)} " +
            $"ORDER BY {sortColumn} {direction}, trace_id {direction} LIMIT {(query.MaxResults + 1).ToString(CultureInfo.InvariantCulture)}");
        await using var commandScope = command.ConfigureAwait(false);
        foreach (var (name, value) in parameters)
        {
            command.Add(name, value);
        }

        var traces = new List<TraceSummary>();
        var sortValues = new List<string>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                traces.Add(ReadTrace(reader));
                sortValues.Add(isDouble
                    ? reader.GetDouble(19).ToString("R", CultureInfo.InvariantCulture)
                    : reader.GetInt64(19).ToString(CultureInfo.InvariantCulture));
            }
        }

        string? next = null;
        if (traces.Count > query.MaxResults)
        {
            traces.RemoveAt(traces.Count - 1);
            next = PageToken.Encode(sortValues[traces.Count - 1] + "|" + traces[^1].TraceId);
        }

        return new Page<TraceSummary>(traces, next);
    }

    /// <inheritdoc />
    public async Task<TraceSummary?> GetTraceAsync(string project, string traceId, CancellationToken cancellationToken)
    {
        var connection = await db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var command = connection.Command($"SELECT {TraceColumns} FROM traces WHERE trace_id = @trace AND workspace_id = @ws AND project = @project");
        await using var commandScope = command.ConfigureAwait(false);
        command.Add("@trace", traceId);
        command.Add("@ws", workspaceId);
        command.Add("@project", project);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadTrace(reader) : null;
    }

    /// <inheritdoc />
    public async Task<Page<SpanNode>> GetChildrenAsync(string project, string traceId, string? parentSpanId, int maxResults, string? pageToken, CancellationToken cancellationToken)
    {
        CheckPageSize(maxResults);
        var where = new List<string> { "s.trace_id = @trace", "s.workspace_id = @ws", "s.project = @project" };
        where.Add(parentSpanId is null
            ? "(s.parent_span_id IS NULL OR NOT EXISTS (SELECT 1 FROM spans p WHERE p.trace_id = s.trace_id AND p.span_id = s.parent_span_id))"
            : "s.parent_span_id = @parent");
        long? afterStart = null;
        string? afterId = null;
        if (PageToken.Decode(pageToken) is { } token)
        {
            var parts = token.Split('|', 2);
            if (parts.Length != 2 || !long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var start))
            {
                throw TrackingException.Invalid("Invalid page token.");
            }

            afterStart = start;
            afterId = parts[1];
            where.Add("(s.start_ns > @after OR (s.start_ns = @after AND s.span_id > @after_id))");
        }

        var connection = await db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var nodes = new List<SpanNode>();
        {
            var command = connection.Command(
                $"SELECT {NodeColumns} FROM spans s WHERE {string.Join(" AND ", where)} " +
                $"ORDER BY s.start_ns, s.span_id LIMIT {(maxResults + 1).ToString(CultureInfo.InvariantCulture)}");
            await using var commandScope = command.ConfigureAwait(false);
            command.Add("@trace", traceId);
            command.Add("@ws", workspaceId);
            command.Add("@project", project);
            if (parentSpanId is not null)
            {
                command.Add("@parent", parentSpanId);
            }

            if (afterStart is { } after)
            {
                command.Add("@after", after);
                command.Add("@after_id", afterId);
            }

            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                nodes.Add(ReadNode(reader));
            }
        }

        string? next = null;
        if (nodes.Count > maxResults)
        {
            nodes.RemoveAt(nodes.Count - 1);
            next = PageToken.Encode(nodes[^1].StartTimeUnixNano.ToString(CultureInfo.InvariantCulture) + "|" + nodes[^1].SpanId);
        }

        if (nodes.Count > 0)
        {
            var counts = new Dictionary<string, long>(StringComparer.Ordinal);
            var command = connection.Command(
                $"SELECT parent_span_id, COUNT(*) FROM spans WHERE trace_id = @trace AND {db.InArray("parent_span_id", "@ids")} GROUP BY parent_span_id");
            await using var commandScope = command.ConfigureAwait(false);
            command.Add("@trace", traceId);
            db.AddArray(command, "@ids", nodes.Select(static n => n.SpanId).ToList());
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    counts[reader.GetString(0)] = reader.GetInt64(1);
                }
            }

            for (var i = 0; i < nodes.Count; i++)
            {
                if (counts.TryGetValue(nodes[i].SpanId, out var count))
                {
                    nodes[i] = nodes[i] with { ChildCount = count };
                }
            }
        }

        return new Page<SpanNode>(nodes, next);
    }

    /// <inheritdoc />
    public async Task<SpanRecord?> GetSpanAsync(string project, string traceId, string spanId, CancellationToken cancellationToken)
    {
        var connection = await db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var command = connection.Command($"SELECT {SpanColumns} FROM spans WHERE trace_id = @trace AND span_id = @span AND workspace_id = @ws AND project = @project");
        await using var commandScope = command.ConfigureAwait(false);
        command.Add("@trace", traceId);
        command.Add("@span", spanId);
        command.Add("@ws", workspaceId);
        command.Add("@project", project);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadSpan(reader) : null;
    }

    /// <inheritdoc />
    public async Task<Page<SessionSummary>> SearchSessionsAsync(SessionQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var (rows, next) = await GroupTracesAsync(
            query.Project, "session_id", "MIN(user_id)", string.IsNullOrEmpty(query.UserId) ? null : ("user_id", query.UserId), query.MaxResults, query.PageToken, cancellationToken).ConfigureAwait(false);
        return new Page<SessionSummary>(
            rows.Select(r => new SessionSummary
            {
                Project = query.Project,
                SessionId = r.Key,
                UserId = r.Extra as string,
                TraceCount = r.Traces,
                StartTimeUnixNano = r.Start,
                EndTimeUnixNano = r.End,
                TotalTokens = r.Tokens,
                CostUsd = r.Cost,
                ErrorCount = r.Errors,
            }).ToList(),
            next);
    }

    /// <inheritdoc />
    public async Task<Page<UserSummary>> SearchUsersAsync(UserQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var (rows, next) = await GroupTracesAsync(
            query.Project, "user_id", "COUNT(DISTINCT session_id)", null, query.MaxResults, query.PageToken, cancellationToken).ConfigureAwait(false);
        return new Page<UserSummary>(
            rows.Select(r => new UserSummary
            {
                Project = query.Project,
                UserId = r.Key,
                SessionCount = Convert.ToInt64(r.Extra, CultureInfo.InvariantCulture),
                TraceCount = r.Traces,
                FirstSeenUnixNano = r.Start,
                LastSeenUnixNano = r.End,
                TotalTokens = r.Tokens,
                CostUsd = r.Cost,
                ErrorCount = r.Errors,
            }).ToList(),
            next);
    }

    private sealed record GroupRow(string Key, object? Extra, long Traces, long Start, long End, long Tokens, decimal Cost, long Errors);

    /// <summary>The project's traces grouped by <paramref name="column"/> (sessions, users), the most recently active group first, keyset-paged.</summary>
    private async Task<(List<GroupRow> Rows, string? Next)> GroupTracesAsync(
        string project, string column, string extra, (string Column, string Value)? filter, int maxResults, string? pageToken, CancellationToken cancellationToken)
    {
        CheckPageSize(maxResults);
        var where = $"workspace_id = @ws AND project = @project AND {column} IS NOT NULL" + (filter is { } f ? $" AND {f.Column} = @filter" : "");
        var having = "";
        long? afterEnd = null;
        string? afterKey = null;
        if (PageToken.Decode(pageToken) is { } token)
        {
            var parts = token.Split('|', 2);
            if (parts.Length != 2 || !long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var end))
            {
                throw TrackingException.Invalid("Invalid page token.");
            }

            (afterEnd, afterKey) = (end, parts[1]);
            having = $" HAVING (MAX(end_ns) < @after OR (MAX(end_ns) = @after AND {column} < @after_id))";
        }

        var connection = await db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var command = connection.Command(
            $"SELECT {column}, {extra}, COUNT(*), MIN(start_ns), MAX(end_ns), SUM(total_tokens), SUM(cost_usd), " +
            $"SUM(CASE WHEN error_count > 0 THEN 1 ELSE 0 END) FROM traces WHERE {where} GROUP BY {column}{having} " +
            $"ORDER BY MAX(end_ns) DESC, {column} DESC LIMIT {(maxResults + 1).ToString(CultureInfo.InvariantCulture)}");
        await using var commandScope = command.ConfigureAwait(false);
        command.Add("@ws", workspaceId);
        command.Add("@project", project);
        if (filter is { } value)
        {
            command.Add("@filter", value.Value);
        }

        if (afterEnd is { } afterValue)
        {
            command.Add("@after", afterValue);
            command.Add("@after_id", afterKey);
        }

        var rows = new List<GroupRow>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add(new GroupRow(
                    reader.GetString(0),
                    reader.IsDBNull(1) ? null : reader.GetValue(1),
                    reader.GetInt64(2),
                    reader.GetInt64(3),
                    reader.GetInt64(4),
                    reader.GetInt64(5),
                    (decimal)reader.GetDouble(6),
                    reader.GetInt64(7)));
            }
        }

        string? next = null;
        if (rows.Count > maxResults)
        {
            rows.RemoveAt(rows.Count - 1);
            next = PageToken.Encode(rows[^1].End.ToString(CultureInfo.InvariantCulture) + "|" + rows[^1].Key);
        }

        return (rows, next);
    }

    /// <inheritdoc />
    public async Task AddScoreAsync(Score score, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(score);
        var session = await db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        var command = session.Command(
            "INSERT INTO trace_scores (score_id, workspace_id, project, trace_id, span_id, name, data_type, value, string_value, source, comment, author, timestamp) " +
            "VALUES (@id, @ws, @project, @trace, @span, @name, @type, @value, @string, @source, @comment, @author, @ts)");
        await using (command.ConfigureAwait(false))
        {
            command.Add("@id", score.Id);
            command.Add("@ws", workspaceId);
            command.Add("@project", score.Project);
            command.Add("@trace", score.TraceId);
            command.Add("@span", score.SpanId);
            command.Add("@name", score.Name);
            command.Add("@type", ScoreTypeName(score.DataType));
            command.Add("@value", score.Value);
            command.Add("@string", score.StringValue);
            command.Add("@source", ScoreSourceName(score.Source));
            command.Add("@comment", score.Comment);
            command.Add("@author", score.Author);
            command.Add("@ts", score.Timestamp);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await session.CommitAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<Score>> GetScoresAsync(string project, string traceId, CancellationToken cancellationToken)
    {
        var connection = await db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var command = connection.Command(
            "SELECT score_id, project, trace_id, span_id, name, data_type, value, string_value, source, comment, author, timestamp " +
            "FROM trace_scores WHERE trace_id = @trace AND workspace_id = @ws AND project = @project ORDER BY timestamp, score_id");
        await using var commandScope = command.ConfigureAwait(false);
        command.Add("@trace", traceId);
        command.Add("@ws", workspaceId);
        command.Add("@project", project);
        var scores = new List<Score>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                scores.Add(new Score
                {
                    Id = reader.GetString(0),
                    Project = reader.GetString(1),
                    TraceId = reader.GetString(2),
                    SpanId = reader.GetNullableString(3),
                    Name = reader.GetString(4),
                    DataType = ParseScoreType(reader.GetString(5)),
                    Value = reader.IsDBNull(6) ? null : reader.GetDouble(6),
                    StringValue = reader.GetNullableString(7),
                    Source = ParseScoreSource(reader.GetString(8)),
                    Comment = reader.GetNullableString(9),
                    Author = reader.GetNullableString(10),
                    Timestamp = reader.GetInt64(11),
                });
            }
        }

        return scores;
    }

    /// <inheritdoc />
    public async Task<bool> DeleteScoreAsync(string project, string scoreId, CancellationToken cancellationToken)
    {
        var session = await db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        var command = session.Command("DELETE FROM trace_scores WHERE score_id = @id AND workspace_id = @ws AND project = @project");
        int deleted;
        await using (command.ConfigureAwait(false))
        {
            command.Add("@id", scoreId);
            command.Add("@ws", workspaceId);
            command.Add("@project", project);
            deleted = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await session.CommitAsync().ConfigureAwait(false);
        return deleted > 0;
    }

    /// <inheritdoc />
    public async Task<long> DeleteTracesBeforeAsync(string project, long startedBefore, CancellationToken cancellationToken)
    {
        // A few hundred traces per transaction, so the writer gate is never held for long while a big backlog is removed.
        const int Chunk = 500;
        long total = 0;
        while (true)
        {
            var session = await db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
            await using var sessionScope = session.ConfigureAwait(false);
            var ids = new List<string>(Chunk);
            {
                var select = session.Command(
                    "SELECT trace_id FROM traces WHERE workspace_id = @ws AND project = @project AND start_ns < @before " +
                    $"ORDER BY start_ns LIMIT {Chunk.ToString(CultureInfo.InvariantCulture)}");
                await using var selectScope = select.ConfigureAwait(false);
                select.Add("@ws", workspaceId);
                select.Add("@project", project);
                select.Add("@before", startedBefore);
                var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using var readerScope = reader.ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    ids.Add(reader.GetString(0));
                }
            }

            if (ids.Count == 0)
            {
                return total;
            }

            foreach (var table in s_traceTables)
            {
                var delete = session.Command($"DELETE FROM {table} WHERE {db.InArray("trace_id", "@ids")}");
                await using var deleteScope = delete.ConfigureAwait(false);
                db.AddArray(delete, "@ids", ids);
                await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await session.CommitAsync().ConfigureAwait(false);
            total += ids.Count;
            if (ids.Count < Chunk)
            {
                return total;
            }
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> GetProjectsAsync(CancellationToken cancellationToken)
    {
        var connection = await db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var command = connection.Command($"SELECT project FROM traces WHERE workspace_id = @ws GROUP BY project ORDER BY project{db.OrderCollation}");
        await using var commandScope = command.ConfigureAwait(false);
        command.Add("@ws", workspaceId);
        var projects = new List<string>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                projects.Add(reader.GetString(0));
            }
        }

        return projects;
    }

    private static TraceSummary ReadTrace(DbDataReader reader) => new()
    {
        Project = reader.GetString(0),
        TraceId = reader.GetString(1),
        Name = reader.GetString(2),
        RootSpanId = reader.GetNullableString(3),
        StartTimeUnixNano = reader.GetInt64(4),
        EndTimeUnixNano = reader.GetInt64(5),
        SpanCount = reader.GetInt64(6),
        ErrorCount = reader.GetInt64(7),
        InputTokens = reader.GetInt64(8),
        OutputTokens = reader.GetInt64(9),
        CachedInputTokens = reader.GetInt64(10),
        CostUsd = (decimal)reader.GetDouble(11),
        UserId = reader.GetNullableString(12),
        SessionId = reader.GetNullableString(13),
        ServiceName = reader.GetNullableString(14),
        Models = ParseArray(reader.GetString(15)),
        Tags = ParseArray(reader.GetString(16)),
        Input = reader.GetNullableString(17),
        Output = reader.GetNullableString(18),
    };

    private static SpanNode ReadNode(DbDataReader reader)
    {
        var input = reader.GetNullableInt64(9);
        var output = reader.GetNullableInt64(10);
        return new SpanNode
        {
            SpanId = reader.GetString(0),
            ParentSpanId = reader.GetNullableString(1),
            Name = reader.GetString(2),
            Type = reader.GetString(3),
            StartTimeUnixNano = reader.GetInt64(4),
            EndTimeUnixNano = reader.GetInt64(5),
            StatusCode = (SpanStatusCode)reader.GetInt64(6),
            Model = reader.GetNullableString(8) ?? reader.GetNullableString(7),
            TotalTokens = input is null && output is null ? null : (input ?? 0) + (output ?? 0),
            CostUsd = reader.IsDBNull(11) ? null : (decimal)reader.GetDouble(11),
        };
    }

    private static SpanRecord ReadSpan(DbDataReader reader) => new()
    {
        Project = reader.GetString(0),
        TraceId = reader.GetString(1),
        SpanId = reader.GetString(2),
        ParentSpanId = reader.GetNullableString(3),
        Name = reader.GetString(4),
        Kind = (SpanKind)reader.GetInt64(5),
        StartTimeUnixNano = reader.GetInt64(6),
        EndTimeUnixNano = reader.GetInt64(7),
        StatusCode = (SpanStatusCode)reader.GetInt64(8),
        StatusMessage = reader.GetNullableString(9),
        Type = reader.GetString(10),
        Operation = reader.GetNullableString(11),
        Provider = reader.GetNullableString(12),
        RequestModel = reader.GetNullableString(13),
        ResponseModel = reader.GetNullableString(14),
        InputTokens = reader.GetNullableInt64(15),
        OutputTokens = reader.GetNullableInt64(16),
        CachedInputTokens = reader.GetNullableInt64(17),
        CacheWriteTokens = reader.GetNullableInt64(18),
        ReasoningTokens = reader.GetNullableInt64(19),
        CostUsd = reader.IsDBNull(20) ? null : (decimal)reader.GetDouble(20),
        Input = reader.GetNullableString(21),
        Output = reader.GetNullableString(22),
        UserId = reader.GetNullableString(23),
        SessionId = reader.GetNullableString(24),
        ServiceName = reader.GetNullableString(25),
        ScopeName = reader.GetNullableString(26),
        Tags = ParseArray(reader.GetString(27)),
        AttributesJson = reader.GetString(28),
        ResourceJson = reader.GetString(29),
        EventsJson = reader.GetNullableString(30),
        LinksJson = reader.GetNullableString(31),
        Flags = (SpanFlags)reader.GetInt64(32),
        RequestLogId = reader.GetNullableString(33),
    };

    private static void CheckPageSize(int maxResults)
    {
        if (maxResults is < 1 or > MaxPageSize)
        {
            throw TrackingException.Invalid($"max_results must be between 1 and {MaxPageSize}, got {maxResults}.");
        }
    }

    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);

    private static string JsonArray(IReadOnlyList<string> values)
    {
        if (values.Count == 0)
        {
            return "[]";
        }

        var buffer = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var value in values)
            {
                writer.WriteStringValue(value);
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string[] ParseArray(string json)
    {
        if (json is "[]" or "")
        {
            return [];
        }

        using var document = JsonDocument.Parse(json);
        var values = new string[document.RootElement.GetArrayLength()];
        var i = 0;
        foreach (var element in document.RootElement.EnumerateArray())
        {
            values[i++] = element.GetString() ?? "";
        }

        return values;
    }

    private static string?[] Map<T>(IReadOnlyList<T> items, Func<T, string?> selector)
    {
        var values = new string?[items.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = selector(items[i]);
        }

        return values;
    }

    private static long[] MapLong<T>(IReadOnlyList<T> items, Func<T, long> selector)
    {
        var values = new long[items.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = selector(items[i]);
        }

        return values;
    }

    private static long?[] MapNullable(IReadOnlyList<SpanRecord> spans, Func<SpanRecord, long?> selector)
    {
        var values = new long?[spans.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = selector(spans[i]);
        }

        return values;
    }

    private static double?[] MapCost(IReadOnlyList<SpanRecord> spans)
    {
        var values = new double?[spans.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = spans[i].CostUsd is { } cost ? (double)cost : null;
        }

        return values;
    }

    private static string ScoreTypeName(ScoreDataType type) => type switch
    {
        ScoreDataType.Boolean => "boolean",
        ScoreDataType.Categorical => "categorical",
        ScoreDataType.Text => "text",
        _ => "numeric",
    };

    private static ScoreDataType ParseScoreType(string name) => name switch
    {
        "boolean" => ScoreDataType.Boolean,
        "categorical" => ScoreDataType.Categorical,
        "text" => ScoreDataType.Text,
        _ => ScoreDataType.Numeric,
    };

    private static string ScoreSourceName(ScoreSource source) => source switch
    {
        ScoreSource.Api => "api",
        ScoreSource.Evaluator => "evaluator",
        _ => "human",
    };

    private static ScoreSource ParseScoreSource(string name) => name switch
    {
        "api" => ScoreSource.Api,
        "evaluator" => ScoreSource.Evaluator,
        _ => ScoreSource.Human,
    };

    /// <summary>Builds a trace's totals from its stored spans, read in start order.</summary>
    /// <remarks>
    /// Tokens and cost are summed over the model calls (generation and embedding spans). Agent and chain spans often
    /// report their children's usage again (an <c>invoke_agent</c> span with the total of its calls), so their figures
    /// count only in traces that have no model-call spans with usage of their own.
    /// </remarks>
    private sealed class TraceAccumulator(string traceId, string project)
    {
        private readonly Usage _calls = new();
        private readonly Usage _others = new();
        private readonly List<string> _models = [];
        private readonly List<string> _tags = [];
        private string? _rootSpanId;
        private string? _rootName;
        private string? _firstName;
        private string? _rootInput;
        private string? _rootOutput;
        private string? _userId;
        private string? _sessionId;
        private string? _service;
        private string? _rootUser;
        private string? _rootSession;
        private string? _rootService;
        private long _start = long.MaxValue;
        private long _end = long.MinValue;
        private long _spans;
        private long _errors;

        public string TraceId { get; } = traceId;

        public void Add(DbDataReader reader)
        {
            var isRoot = reader.IsDBNull(2);
            var name = reader.GetString(3);
            _firstName ??= name;
            _start = Math.Min(_start, reader.GetInt64(4));
            _end = Math.Max(_end, reader.GetInt64(5));
            _spans++;
            if (reader.GetInt64(6) == (long)SpanStatusCode.Error)
            {
                _errors++;
            }

            var type = reader.GetString(20);
            (type is SpanTypes.Generation or SpanTypes.Embedding ? _calls : _others).Add(reader);

            var user = reader.GetNullableString(11);
            var session = reader.GetNullableString(12);
            var service = reader.GetNullableString(13);
            _userId ??= user;
            _sessionId ??= session;
            _service ??= service;
            var model = reader.GetNullableString(15) ?? reader.GetNullableString(14);
            if (model is not null && !_models.Contains(model))
            {
                _models.Add(model);
            }

            var tags = reader.GetString(16);
            if (tags != "[]")
            {
                foreach (var tag in ParseArray(tags))
                {
                    if (!_tags.Contains(tag))
                    {
                        _tags.Add(tag);
                    }
                }
            }

            if (isRoot && _rootSpanId is null)
            {
                _rootSpanId = reader.GetString(1);
                _rootName = name;
                _rootInput = reader.GetNullableString(17);
                _rootOutput = reader.GetNullableString(18);
                _rootUser = user;
                _rootSession = session;
                _rootService = service;
            }
        }

        public TraceSummary ToSummary()
        {
            var usage = _calls.Reported ? _calls : _others;
            return new()
            {
                Project = project,
                TraceId = TraceId,
                Name = _rootName ?? _firstName ?? "",
                RootSpanId = _rootSpanId,
                StartTimeUnixNano = _start,
                EndTimeUnixNano = _end,
                SpanCount = _spans,
                ErrorCount = _errors,
                InputTokens = usage.Input,
                OutputTokens = usage.Output,
                CachedInputTokens = usage.Cached,
                CostUsd = usage.Cost,
                UserId = _rootUser ?? _userId,
                SessionId = _rootSession ?? _sessionId,
                ServiceName = _rootService ?? _service,
                Models = _models,
                Tags = _tags,
                Input = _rootInput,
                Output = _rootOutput,
            };
        }

        private sealed class Usage
        {
            public long Input { get; private set; }

            public long Output { get; private set; }

            public long Cached { get; private set; }

            public decimal Cost { get; private set; }

            public bool Reported { get; private set; }

            public void Add(DbDataReader reader)
            {
                if (reader.IsDBNull(7) && reader.IsDBNull(8) && reader.IsDBNull(10))
                {
                    return;
                }

                Reported = true;
                Input += reader.GetNullableInt64(7) ?? 0;
                Output += reader.GetNullableInt64(8) ?? 0;
                Cached += reader.GetNullableInt64(9) ?? 0;
                if (!reader.IsDBNull(10))
                {
                    Cost += (decimal)reader.GetDouble(10);
                }
            }
        }
    }
}
