using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Cairn.Core.Gateway;
using Cairn.Core.Tracking;

namespace Cairn.Storage.Relational;

/// <summary>The gateway's request log of one workspace, on any <see cref="SqlDialect"/>.</summary>
/// <remarks>Thread-safe. Written by the gateway's batch writer only, so a batch is one transaction and one bulk insert per table.</remarks>
internal sealed class RelationalRequestLogStore(SqlDialect db, string workspaceId) : IRequestLogStore, IUsageReportStore
{
    private const string Columns =
        "request_id, timestamp, endpoint, key_id, requested_model, served_model, provider, route, attempts, outcome, status, error, " +
        "stream, cache_hit, latency_ms, ttft_ms, prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens, reasoning_tokens, " +
        "tokens_estimated, cost_usd, request_body, response_body, body_truncated, user_id, session_id, session_path, properties, traceparent, " +
        "prompt_name, prompt_version";

    /// <inheritdoc />
    public async Task AppendAsync(IReadOnlyList<RequestLogRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            return;
        }

        var n = records.Count;
        var batch = new ColumnBatch("request_logs", n)
            .Constant("workspace_id", workspaceId)
            .Column("request_id", records.Select(r => r.Id).ToArray())
            .Column("timestamp", records.Select(r => r.Timestamp).ToArray())
            .Column("endpoint", records.Select(r => r.Endpoint).ToArray())
            .Column("key_id", records.Select(r => r.KeyId).ToArray())
            .Column("requested_model", records.Select(r => r.RequestedModel).ToArray())
            .Column("served_model", records.Select(r => r.ServedModel).ToArray())
            .Column("provider", records.Select(r => r.Provider).ToArray())
            .Column("route", records.Select(r => r.Route).ToArray())
            .Column("attempts", records.Select(r => JsonSerializer.Serialize(r.Attempts.ToList(), RequestLogJsonContext.Default.ListUpstreamAttempt)).ToArray())
            .Column("outcome", records.Select(r => OutcomeName(r.Outcome)).ToArray())
            .Column("status", records.Select(r => (long)r.Status).ToArray())
            .Column("error", records.Select(r => r.Error).ToArray())
            .Column("stream", records.Select(r => r.Stream).ToArray())
            .Column("cache_hit", records.Select(r => r.CacheHit).ToArray())
            .Column("latency_ms", records.Select(r => r.LatencyMs).ToArray())
            .Column("ttft_ms", records.Select(r => r.TimeToFirstTokenMs).ToArray())
            .Column("prompt_tokens", records.Select(r => r.Usage?.PromptTokens).ToArray())
            .Column("completion_tokens", records.Select(r => r.Usage?.CompletionTokens).ToArray())
            .Column("cached_tokens", records.Select(r => r.Usage?.CachedInputTokens).ToArray())
            .Column("cache_write_tokens", records.Select(r => r.Usage?.CacheWriteTokens).ToArray())
            .Column("reasoning_tokens", records.Select(r => r.Usage?.ReasoningTokens).ToArray())
            .Column("tokens_estimated", records.Select(r => r.Usage?.Estimated ?? false).ToArray())
            .Column("cost_usd", records.Select(r => r.CostUsd is { } c ? (double?)c : null).ToArray())
            .Column("request_body", records.Select(r => r.RequestBody).ToArray())
            .Column("response_body", records.Select(r => r.ResponseBody).ToArray())
            .Column("body_truncated", records.Select(r => r.BodyTruncated).ToArray())
            .Column("user_id", records.Select(r => r.UserId).ToArray())
            .Column("session_id", records.Select(r => r.SessionId).ToArray())
            .Column("session_path", records.Select(r => r.SessionPath).ToArray())
            .Column("properties", records.Select(r => JsonSerializer.Serialize(new Dictionary<string, string>(r.Properties), RequestLogJsonContext.Default.DictionaryStringString)).ToArray())
            .Column("traceparent", records.Select(r => r.TraceParent).ToArray())
            .Column("prompt_name", records.Select(r => r.PromptName).ToArray())
            .Column("prompt_version", records.Select(r => r.PromptVersion is { } v ? (long?)v : null).ToArray());

        var properties = records.SelectMany(r => r.Properties.Select(p => (r.Id, p.Key, p.Value))).ToList();
        var session = await db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        // A record is written once; a retried batch (after a failed commit) must not fail on the rows that did land.
        await db.InsertAsync(session, batch, "ON CONFLICT (request_id) DO NOTHING", cancellationToken).ConfigureAwait(false);
        if (properties.Count > 0)
        {
            var propertyBatch = new ColumnBatch("request_log_properties", properties.Count)
                .Column("request_id", properties.Select(p => p.Id).ToArray())
                .Column("key", properties.Select(p => p.Key).ToArray())
                .Column("value", properties.Select(p => p.Value).ToArray());
            await db.InsertAsync(session, propertyBatch, "ON CONFLICT (request_id, key) DO NOTHING", cancellationToken).ConfigureAwait(false);
        }

        await session.CommitAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<RequestLogRecord?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var connection = await db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var command = connection.Command($"SELECT {Columns} FROM request_logs WHERE workspace_id = @ws AND request_id = @id");
        await using var commandScope = command.ConfigureAwait(false);
        command.Add("@ws", workspaceId);
        command.Add("@id", id);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? Read(reader) : null;
    }

    /// <inheritdoc />
    public async Task<Page<RequestLogRecord>> SearchAsync(RequestLogQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.MaxResults is < 1 or > 1000)
        {
            throw TrackingException.Invalid($"max_results must be between 1 and 1000, got {query.MaxResults}.");
        }

        var where = new List<string> { "workspace_id = @ws" };
        var parameters = new List<(string, object?)> { ("@ws", workspaceId) };
        void Add(string condition, string name, object? value)
        {
            where.Add(condition);
            parameters.Add((name, value));
        }

        if (query.From is { } from)
        {
            Add("timestamp >= @from", "@from", from);
        }

        if (query.To is { } to)
        {
            Add("timestamp < @to", "@to", to);
        }

        if (!string.IsNullOrEmpty(query.Model))
        {
            Add("(requested_model = @model OR served_model = @model)", "@model", query.Model);
        }

        if (!string.IsNullOrEmpty(query.Provider))
        {
            Add("provider = @provider", "@provider", query.Provider);
        }

        if (!string.IsNullOrEmpty(query.KeyId))
        {
            Add("key_id = @key", "@key", query.KeyId);
        }

        if (!string.IsNullOrEmpty(query.UserId))
        {
            Add("user_id = @user", "@user", query.UserId);
        }

        if (!string.IsNullOrEmpty(query.SessionId))
        {
            Add("session_id = @session", "@session", query.SessionId);
        }

        if (query.Outcome is { } outcome)
        {
            Add("outcome = @outcome", "@outcome", OutcomeName(outcome));
        }

        if (query.Property is { } property)
        {
            where.Add("request_id IN (SELECT p.request_id FROM request_log_properties p WHERE p.key = @pkey AND p.value = @pvalue)");
            parameters.Add(("@pkey", property.Key));
            parameters.Add(("@pvalue", property.Value));
        }

        // Keyset paging on (timestamp, request_id), newest first: stable while new records arrive, and cheap at any depth.
        if (ParseToken(query.PageToken) is { } after)
        {
            where.Add("(timestamp < @after_ts OR (timestamp = @after_ts AND request_id < @after_id))");
            parameters.Add(("@after_ts", after.Timestamp));
            parameters.Add(("@after_id", after.Id));
        }

        var connection = await db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var command = connection.Command(
            $"SELECT {Columns} FROM request_logs WHERE {string.Join(" AND ", where)} " +
            $"ORDER BY timestamp DESC, request_id DESC LIMIT {(query.MaxResults + 1).ToString(CultureInfo.InvariantCulture)}");
        await using var commandScope = command.ConfigureAwait(false);
        foreach (var (name, value) in parameters)
        {
            command.Add(name, value);
        }

        var records = new List<RequestLogRecord>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                records.Add(Read(reader));
            }
        }

        string? next = null;
        if (records.Count > query.MaxResults)
        {
            records.RemoveAt(records.Count - 1);
            var last = records[^1];
            next = Convert.ToBase64String(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{last.Timestamp}:{last.Id}")));
        }

        return new Page<RequestLogRecord>(records, next);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<PromptVersionUsage>> PromptUsageAsync(string promptName, long from, CancellationToken cancellationToken)
    {
        var connection = await db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var totals = new SortedDictionary<int, (long Calls, long Errors, long Input, long Output, decimal Cost)>();
        var latencies = new Dictionary<int, List<double>>();
        {
            // One pass in version and latency order: the totals, and the latencies for the percentiles.
            var command = connection.Command(
                "SELECT prompt_version, latency_ms, outcome, prompt_tokens, completion_tokens, cost_usd FROM request_logs " +
                "WHERE workspace_id = @ws AND prompt_name = @name AND timestamp >= @from ORDER BY prompt_version, latency_ms");
            await using var commandScope = command.ConfigureAwait(false);
            command.Add("@ws", workspaceId);
            command.Add("@name", promptName);
            command.Add("@from", from);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var version = (int)reader.GetInt64(0);
                totals.TryGetValue(version, out var t);
                totals[version] = (
                    t.Calls + 1,
                    t.Errors + (reader.GetString(2) == "success" ? 0 : 1),
                    t.Input + (reader.GetNullableInt64(3) ?? 0),
                    t.Output + (reader.GetNullableInt64(4) ?? 0),
                    t.Cost + (reader.IsDBNull(5) ? 0 : (decimal)reader.GetDouble(5)));
                if (!latencies.TryGetValue(version, out var list))
                {
                    latencies[version] = list = [];
                }

                list.Add(reader.GetDouble(1));
            }
        }

        var feedback = new Dictionary<int, (double Mean, long Count)>();
        {
            // Scores on the traces that hold the requests' gateway spans, each score once per version.
            var command = connection.Command(
                "SELECT v, AVG(value), COUNT(*) FROM (SELECT DISTINCT r.prompt_version AS v, s.score_id, s.value FROM request_logs r " +
                "JOIN spans sp ON sp.request_log_id = r.request_id JOIN trace_scores s ON s.trace_id = sp.trace_id " +
                "WHERE r.workspace_id = @ws AND r.prompt_name = @name AND r.timestamp >= @from AND s.value IS NOT NULL " +
                "AND s.data_type IN ('numeric', 'boolean')) scored GROUP BY v");
            await using var commandScope = command.ConfigureAwait(false);
            command.Add("@ws", workspaceId);
            command.Add("@name", promptName);
            command.Add("@from", from);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                feedback[(int)reader.GetInt64(0)] = (reader.GetDouble(1), reader.GetInt64(2));
            }
        }

        return totals.Select(t =>
        {
            var sorted = latencies[t.Key];
            var score = feedback.TryGetValue(t.Key, out var f) ? f : ((double Mean, long Count)?)null;
            return new PromptVersionUsage(
                t.Key, t.Value.Calls, t.Value.Errors, Percentile(sorted, 0.50), Percentile(sorted, 0.95),
                t.Value.Input, t.Value.Output, t.Value.Cost, score?.Mean, score?.Count ?? 0);
        }).ToList();
    }

    /// <summary>The nearest-rank percentile of sorted values.</summary>
    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    /// <inheritdoc />
    public async Task<IReadOnlyList<UsageBucket>> UsageAsync(UsageQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.BucketMs <= 0 || query.To <= query.From)
        {
            throw TrackingException.Invalid("A usage report needs from < to and a positive bucket size.");
        }

        if ((query.To - query.From) / query.BucketMs > 10_000)
        {
            throw TrackingException.Invalid("A usage report may have at most 10,000 buckets; choose a larger bucket.");
        }

        var group = query.Split switch
        {
            UsageSplit.Model => "requested_model",
            UsageSplit.Key => "key_id",
            UsageSplit.User => "user_id",
            UsageSplit.Provider => "provider",
            _ => "NULL",
        };
        // Sums are computed here rather than in SQL so that percentiles come from the same pass; the rows read are
        // narrow (no bodies) and streamed.
        var connection = await db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var command = connection.Command(
            $"SELECT timestamp, {group}, outcome, latency_ms, prompt_tokens, completion_tokens, cached_tokens, cost_usd FROM request_logs " +
            "WHERE workspace_id = @ws AND timestamp >= @from AND timestamp < @to");
        await using var commandScope = command.ConfigureAwait(false);
        command.Add("@ws", workspaceId);
        command.Add("@from", query.From);
        command.Add("@to", query.To);
        var accumulators = new Dictionary<(long, string), UsageAccumulator>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var bucket = query.From + ((reader.GetInt64(0) - query.From) / query.BucketMs * query.BucketMs);
                var key = (bucket, reader.IsDBNull(1) ? "" : reader.GetString(1));
                if (!accumulators.TryGetValue(key, out var accumulator))
                {
                    accumulators[key] = accumulator = new UsageAccumulator();
                }

                accumulator.Requests++;
                accumulator.Errors += reader.GetString(2) == "error" ? 1 : 0;
                accumulator.Latencies.Add(reader.GetDouble(3));
                accumulator.Prompt += reader.GetNullableInt64(4) ?? 0;
                accumulator.Completion += reader.GetNullableInt64(5) ?? 0;
                accumulator.Cached += reader.GetNullableInt64(6) ?? 0;
                accumulator.Cost += reader.IsDBNull(7) ? 0 : (decimal)reader.GetDouble(7);
            }
        }

        return accumulators
            .OrderBy(a => a.Key.Item1).ThenBy(a => a.Key.Item2, StringComparer.Ordinal)
            .Select(a => a.Value.ToBucket(a.Key.Item1, a.Key.Item2))
            .ToList();
    }

    private sealed class UsageAccumulator
    {
        public long Requests;
        public long Errors;
        public long Prompt;
        public long Completion;
        public long Cached;
        public decimal Cost;
        public List<double> Latencies { get; } = [];

        public UsageBucket ToBucket(long start, string group)
        {
            Latencies.Sort();
            return new UsageBucket
            {
                Start = start,
                Group = group,
                Requests = Requests,
                Errors = Errors,
                PromptTokens = Prompt,
                CompletionTokens = Completion,
                CachedTokens = Cached,
                CostUsd = Cost,
                LatencyP50Ms = Percentile(0.50),
                LatencyP95Ms = Percentile(0.95),
            };
        }

        private double Percentile(double p) => Latencies.Count == 0 ? 0 : Latencies[Math.Min(Latencies.Count - 1, (int)Math.Ceiling(p * Latencies.Count) - 1)];
    }

    private static (long Timestamp, string Id)? ParseToken(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(token));
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && long.TryParse(text.AsSpan(0, colon), NumberStyles.Integer, CultureInfo.InvariantCulture, out var timestamp))
            {
                return (timestamp, text[(colon + 1)..]);
            }
        }
        catch (FormatException)
        {
        }

        throw TrackingException.Invalid("Invalid page token.");
    }

    private static RequestLogRecord Read(DbDataReader reader)
    {
        var prompt = reader.GetNullableInt64(16);
        var completion = reader.GetNullableInt64(17);
        TokenUsage? usage = prompt is null && completion is null
            ? null
            : new TokenUsage(
                prompt ?? 0,
                completion ?? 0,
                reader.GetNullableInt64(18) ?? 0,
                reader.GetNullableInt64(19) ?? 0,
                reader.GetNullableInt64(20) ?? 0,
                reader.GetFlag(21));
        return new RequestLogRecord
        {
            Id = reader.GetString(0),
            Timestamp = reader.GetInt64(1),
            Endpoint = reader.GetString(2),
            KeyId = reader.GetNullableString(3),
            RequestedModel = reader.GetNullableString(4),
            ServedModel = reader.GetNullableString(5),
            Provider = reader.GetNullableString(6),
            Route = reader.GetNullableString(7),
            Attempts = JsonSerializer.Deserialize(reader.GetString(8), RequestLogJsonContext.Default.ListUpstreamAttempt) ?? [],
            Outcome = ParseOutcome(reader.GetString(9)),
            Status = reader.GetInt32(10),
            Error = reader.GetNullableString(11),
            Stream = reader.GetFlag(12),
            CacheHit = reader.GetFlag(13),
            LatencyMs = reader.GetDouble(14),
            TimeToFirstTokenMs = reader.IsDBNull(15) ? null : reader.GetDouble(15),
            Usage = usage,
            CostUsd = reader.IsDBNull(22) ? null : (decimal)reader.GetDouble(22),
            RequestBody = reader.GetNullableString(23),
            ResponseBody = reader.GetNullableString(24),
            BodyTruncated = reader.GetFlag(25),
            UserId = reader.GetNullableString(26),
            SessionId = reader.GetNullableString(27),
            SessionPath = reader.GetNullableString(28),
            Properties = JsonSerializer.Deserialize(reader.GetString(29), RequestLogJsonContext.Default.DictionaryStringString) ?? [],
            TraceParent = reader.GetNullableString(30),
            PromptName = reader.GetNullableString(31),
            PromptVersion = reader.GetNullableInt64(32) is { } promptVersion ? (int)promptVersion : null,
        };
    }

    private static string OutcomeName(RequestOutcome outcome) => outcome switch
    {
        RequestOutcome.Success => "success",
        RequestOutcome.Cancelled => "cancelled",
        _ => "error",
    };

    private static RequestOutcome ParseOutcome(string value) => value switch
    {
        "success" => RequestOutcome.Success,
        "cancelled" => RequestOutcome.Cancelled,
        _ => RequestOutcome.Error,
    };
}

[JsonSerializable(typeof(List<UpstreamAttempt>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(List<string>))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
internal sealed partial class RequestLogJsonContext : JsonSerializerContext;
