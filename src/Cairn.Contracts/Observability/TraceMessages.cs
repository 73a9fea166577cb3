using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Cairn.Contracts.Observability;

/// <summary>A trace's totals, as <c>GET /api/cairn/traces</c> lists them.</summary>
public sealed class TraceInfo
{
    /// <summary>The project.</summary>
    public string Project { get; set; } = "";

    /// <summary>The trace id (32 hex characters).</summary>
    public string TraceId { get; set; } = "";

    /// <summary>The root span's name.</summary>
    public string Name { get; set; } = "";

    /// <summary>The root span's id, or null while it has not arrived.</summary>
    public string? RootSpanId { get; set; }

    /// <summary>Start, as an ISO 8601 UTC time.</summary>
    public DateTimeOffset StartTime { get; set; }

    /// <summary>Start in Unix nanoseconds.</summary>
    public long StartTimeUnixNano { get; set; }

    /// <summary>Duration in milliseconds.</summary>
    public double DurationMs { get; set; }

    /// <summary>Spans stored.</summary>
    public long SpanCount { get; set; }

    /// <summary>Spans that failed.</summary>
    public long ErrorCount { get; set; }

    /// <summary><c>error</c> when a span failed, else <c>ok</c>.</summary>
    public string Status { get; set; } = "ok";

    /// <summary>Input tokens (cached included).</summary>
    public long InputTokens { get; set; }

    /// <summary>Output tokens.</summary>
    public long OutputTokens { get; set; }

    /// <summary>Cached input tokens.</summary>
    public long CachedInputTokens { get; set; }

    /// <summary>Input plus output tokens.</summary>
    public long TotalTokens { get; set; }

    /// <summary>Cost in US dollars.</summary>
    public decimal CostUsd { get; set; }

    /// <summary>The user, or null.</summary>
    public string? UserId { get; set; }

    /// <summary>The session, or null.</summary>
    public string? SessionId { get; set; }

    /// <summary>The service, or null.</summary>
    public string? ServiceName { get; set; }

    /// <summary>Models used.</summary>
    public List<string> Models { get; set; } = [];

    /// <summary>Tags.</summary>
    public List<string> Tags { get; set; } = [];

    /// <summary>The root span's input (JSON or text), or null.</summary>
    public string? Input { get; set; }

    /// <summary>The root span's output (JSON or text), or null.</summary>
    public string? Output { get; set; }

    /// <summary>Scores of the trace and its spans (only in <c>GET /api/cairn/traces/{id}</c>).</summary>
    public List<ScoreInfo>? Scores { get; set; }
}

/// <summary>The answer of <c>GET /api/cairn/traces</c>.</summary>
public sealed class ListTracesResponse
{
    /// <summary>The traces of this page.</summary>
    public List<TraceInfo> Traces { get; set; } = [];

    /// <summary>The token for the next page, or null at the end.</summary>
    public string? NextPageToken { get; set; }
}

/// <summary>A span in the trace tree (<c>GET /api/cairn/traces/{id}/spans?parent_span_id=</c>).</summary>
public sealed class SpanNodeInfo
{
    /// <summary>The span id.</summary>
    public string SpanId { get; set; } = "";

    /// <summary>The parent span id, or null.</summary>
    public string? ParentSpanId { get; set; }

    /// <summary>The name.</summary>
    public string Name { get; set; } = "";

    /// <summary>The step type: generation, embedding, tool, retrieval, agent, chain or span.</summary>
    public string Type { get; set; } = "";

    /// <summary>Start in Unix nanoseconds.</summary>
    public long StartTimeUnixNano { get; set; }

    /// <summary>End in Unix nanoseconds.</summary>
    public long EndTimeUnixNano { get; set; }

    /// <summary>Duration in milliseconds.</summary>
    public double DurationMs { get; set; }

    /// <summary><c>unset</c>, <c>ok</c> or <c>error</c>.</summary>
    public string Status { get; set; } = "unset";

    /// <summary>The model, or null.</summary>
    public string? Model { get; set; }

    /// <summary>Tokens, or null.</summary>
    public long? TotalTokens { get; set; }

    /// <summary>Cost in US dollars, or null.</summary>
    public decimal? CostUsd { get; set; }

    /// <summary>Number of child spans (expand the node to load them).</summary>
    public long ChildCount { get; set; }
}

/// <summary>The answer of <c>GET /api/cairn/traces/{id}/spans</c>.</summary>
public sealed class ListSpansResponse
{
    /// <summary>The spans of this page, by start time.</summary>
    public List<SpanNodeInfo> Spans { get; set; } = [];

    /// <summary>The token for the next page, or null at the end.</summary>
    public string? NextPageToken { get; set; }
}

/// <summary>One span in full (<c>GET /api/cairn/traces/{id}/spans/{spanId}</c>).</summary>
public sealed class SpanInfo
{
    /// <summary>The project.</summary>
    public string Project { get; set; } = "";

    /// <summary>The trace id.</summary>
    public string TraceId { get; set; } = "";

    /// <summary>The span id.</summary>
    public string SpanId { get; set; } = "";

    /// <summary>The parent span id, or null.</summary>
    public string? ParentSpanId { get; set; }

    /// <summary>The name.</summary>
    public string Name { get; set; } = "";

    /// <summary>internal, server, client, producer, consumer or unspecified.</summary>
    public string Kind { get; set; } = "";

    /// <summary>The step type.</summary>
    public string Type { get; set; } = "";

    /// <summary>Start in Unix nanoseconds.</summary>
    public long StartTimeUnixNano { get; set; }

    /// <summary>End in Unix nanoseconds.</summary>
    public long EndTimeUnixNano { get; set; }

    /// <summary>Duration in milliseconds.</summary>
    public double DurationMs { get; set; }

    /// <summary><c>unset</c>, <c>ok</c> or <c>error</c>.</summary>
    public string Status { get; set; } = "unset";

    /// <summary>The status message, or null.</summary>
    public string? StatusMessage { get; set; }

    /// <summary>The GenAI operation, or null.</summary>
    public string? Operation { get; set; }

    /// <summary>The provider, or null.</summary>
    public string? Provider { get; set; }

    /// <summary>The requested model, or null.</summary>
    public string? RequestModel { get; set; }

    /// <summary>The answering model, or null.</summary>
    public string? ResponseModel { get; set; }

    /// <summary>Input tokens (cached included), or null.</summary>
    public long? InputTokens { get; set; }

    /// <summary>Output tokens (reasoning included), or null.</summary>
    public long? OutputTokens { get; set; }

    /// <summary>Cached input tokens, or null.</summary>
    public long? CachedInputTokens { get; set; }

    /// <summary>Cache-write input tokens, or null.</summary>
    public long? CacheWriteTokens { get; set; }

    /// <summary>Reasoning tokens, or null.</summary>
    public long? ReasoningTokens { get; set; }

    /// <summary>Cost in US dollars, or null.</summary>
    public decimal? CostUsd { get; set; }

    /// <summary>The input (JSON or text), or null.</summary>
    public string? Input { get; set; }

    /// <summary>The output (JSON or text), or null.</summary>
    public string? Output { get; set; }

    /// <summary>The user, or null.</summary>
    public string? UserId { get; set; }

    /// <summary>The session, or null.</summary>
    public string? SessionId { get; set; }

    /// <summary>The service, or null.</summary>
    public string? ServiceName { get; set; }

    /// <summary>The instrumentation scope, or null.</summary>
    public string? ScopeName { get; set; }

    /// <summary>Tags.</summary>
    public List<string> Tags { get; set; } = [];

    /// <summary>The span's attributes.</summary>
    public JsonNode? Attributes { get; set; }

    /// <summary>The resource's attributes.</summary>
    public JsonNode? Resource { get; set; }

    /// <summary>The span's events, or null.</summary>
    public JsonNode? Events { get; set; }

    /// <summary>The span's links, or null.</summary>
    public JsonNode? Links { get; set; }

    /// <summary>Whether values were cut at the size limit.</summary>
    public bool Truncated { get; set; }

    /// <summary>Whether the end came before the start (clock skew) and was set to the start.</summary>
    public bool ClockSkew { get; set; }

    /// <summary>The gateway request log record of this call, or null.</summary>
    public string? RequestLogId { get; set; }
}

/// <summary>A session (<c>GET /api/cairn/sessions</c>).</summary>
public sealed class SessionInfo
{
    /// <summary>The session id.</summary>
    public string SessionId { get; set; } = "";

    /// <summary>The user, or null.</summary>
    public string? UserId { get; set; }

    /// <summary>Traces in the session.</summary>
    public long TraceCount { get; set; }

    /// <summary>First start, ISO 8601 UTC.</summary>
    public DateTimeOffset StartTime { get; set; }

    /// <summary>Last end, ISO 8601 UTC.</summary>
    public DateTimeOffset EndTime { get; set; }

    /// <summary>Tokens.</summary>
    public long TotalTokens { get; set; }

    /// <summary>Cost in US dollars.</summary>
    public decimal CostUsd { get; set; }

    /// <summary>Traces with an error.</summary>
    public long ErrorCount { get; set; }
}

/// <summary>The answer of <c>GET /api/cairn/sessions</c>.</summary>
public sealed class ListSessionsResponse
{
    /// <summary>The sessions of this page, most recently active first.</summary>
    public List<SessionInfo> Sessions { get; set; } = [];

    /// <summary>The token for the next page, or null at the end.</summary>
    public string? NextPageToken { get; set; }
}

/// <summary>An end user (<c>GET /api/cairn/users</c>).</summary>
public sealed class UserInfo
{
    /// <summary>The user id.</summary>
    public string UserId { get; set; } = "";

    /// <summary>Traces of the user.</summary>
    public long TraceCount { get; set; }

    /// <summary>Distinct sessions.</summary>
    public long SessionCount { get; set; }

    /// <summary>First seen, ISO 8601 UTC.</summary>
    public DateTimeOffset FirstSeen { get; set; }

    /// <summary>Last seen, ISO 8601 UTC.</summary>
    public DateTimeOffset LastSeen { get; set; }

    /// <summary>Tokens.</summary>
    public long TotalTokens { get; set; }

    /// <summary>Cost in US dollars.</summary>
    public decimal CostUsd { get; set; }

    /// <summary>Traces with an error.</summary>
    public long ErrorCount { get; set; }
}

/// <summary>The answer of <c>GET /api/cairn/users</c>.</summary>
public sealed class ListUsersResponse
{
    /// <summary>The users of this page, most recently active first.</summary>
    public List<UserInfo> Users { get; set; } = [];

    /// <summary>The token for the next page, or null at the end.</summary>
    public string? NextPageToken { get; set; }
}

/// <summary>The body of <c>POST /api/cairn/scores</c>: a score or piece of feedback on a trace or span.</summary>
public sealed class CreateScoreRequest
{
    /// <summary>The project (default <c>default</c>).</summary>
    public string? Project { get; set; }

    /// <summary>The trace.</summary>
    public string? TraceId { get; set; }

    /// <summary>The span, or null for the whole trace.</summary>
    public string? SpanId { get; set; }

    /// <summary>The score's name (<c>user-feedback</c>).</summary>
    public string? Name { get; set; }

    /// <summary>The value: a number, true or false, or a string (a category or text).</summary>
    public JsonElement? Value { get; set; }

    /// <summary><c>numeric</c>, <c>boolean</c>, <c>categorical</c> or <c>text</c>; inferred from the value when absent.</summary>
    public string? DataType { get; set; }

    /// <summary><c>human</c>, <c>api</c> (the default) or <c>evaluator</c>.</summary>
    public string? Source { get; set; }

    /// <summary>A comment.</summary>
    public string? Comment { get; set; }

    /// <summary>Who gave it.</summary>
    public string? Author { get; set; }
}

/// <summary>A stored score.</summary>
public sealed class ScoreInfo
{
    /// <summary>The score id.</summary>
    public string Id { get; set; } = "";

    /// <summary>The trace.</summary>
    public string TraceId { get; set; } = "";

    /// <summary>The span, or null.</summary>
    public string? SpanId { get; set; }

    /// <summary>The name.</summary>
    public string Name { get; set; } = "";

    /// <summary>numeric, boolean, categorical or text.</summary>
    public string DataType { get; set; } = "";

    /// <summary>The value: a number, a boolean or a string.</summary>
    public JsonNode? Value { get; set; }

    /// <summary>human, api or evaluator.</summary>
    public string Source { get; set; } = "";

    /// <summary>The comment, or null.</summary>
    public string? Comment { get; set; }

    /// <summary>Who gave it, or null.</summary>
    public string? Author { get; set; }

    /// <summary>When, ISO 8601 UTC.</summary>
    public DateTimeOffset Timestamp { get; set; }
}

/// <summary>The answer of <c>GET /api/cairn/traces/{id}/scores</c>.</summary>
public sealed class ListScoresResponse
{
    /// <summary>The scores, oldest first.</summary>
    public List<ScoreInfo> Scores { get; set; } = [];
}

/// <summary>System.Text.Json metadata for Cairn's trace API (snake_case).</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(TraceInfo))]
[JsonSerializable(typeof(ListTracesResponse))]
[JsonSerializable(typeof(ListSpansResponse))]
[JsonSerializable(typeof(SpanInfo))]
[JsonSerializable(typeof(ListSessionsResponse))]
[JsonSerializable(typeof(ListUsersResponse))]
[JsonSerializable(typeof(CreateScoreRequest))]
[JsonSerializable(typeof(ScoreInfo))]
[JsonSerializable(typeof(ListScoresResponse))]
public sealed partial class TraceJsonContext : JsonSerializerContext;
