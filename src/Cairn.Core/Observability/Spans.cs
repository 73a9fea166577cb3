namespace Cairn.Core.Observability;

/// <summary>OpenTelemetry's span kind (the OTLP enum values).</summary>
public enum SpanKind
{
    /// <summary>Not given.</summary>
    Unspecified = 0,

    /// <summary>An internal operation.</summary>
    Internal = 1,

    /// <summary>The server side of a remote call.</summary>
    Server = 2,

    /// <summary>The client side of a remote call (a model call made by the application).</summary>
    Client = 3,

    /// <summary>A message producer.</summary>
    Producer = 4,

    /// <summary>A message consumer.</summary>
    Consumer = 5,
}

/// <summary>OpenTelemetry's span status (the OTLP enum values).</summary>
public enum SpanStatusCode
{
    /// <summary>Not set (treated as success).</summary>
    Unset = 0,

    /// <summary>Explicitly successful.</summary>
    Ok = 1,

    /// <summary>Failed.</summary>
    Error = 2,
}

/// <summary>
/// One stored span: the OTLP span as received (attributes, events, links, resource as JSON) plus the fields Cairn reads
/// from the GenAI and OpenInference conventions (model, tokens, cost, input and output).
/// </summary>
public sealed record SpanRecord
{
    /// <summary>The project the span belongs to.</summary>
    public required string Project { get; init; }

    /// <summary>The trace id: 32 lowercase hex characters.</summary>
    public required string TraceId { get; init; }

    /// <summary>The span id: 16 lowercase hex characters.</summary>
    public required string SpanId { get; init; }

    /// <summary>The parent span id, or null for a root span.</summary>
    public string? ParentSpanId { get; init; }

    /// <summary>The span name.</summary>
    public required string Name { get; init; }

    /// <summary>The span kind.</summary>
    public SpanKind Kind { get; init; }

    /// <summary>Start, in Unix nanoseconds.</summary>
    public long StartTimeUnixNano { get; init; }

    /// <summary>End, in Unix nanoseconds (never before the start; see <see cref="Flags"/>).</summary>
    public long EndTimeUnixNano { get; init; }

    /// <summary>The status code.</summary>
    public SpanStatusCode StatusCode { get; init; }

    /// <summary>The status message (for errors), or null.</summary>
    public string? StatusMessage { get; init; }

    /// <summary>
    /// What the step is: <c>generation</c> (a model call), <c>embedding</c>, <c>tool</c>, <c>retrieval</c>,
    /// <c>agent</c>, <c>chain</c>, or <c>span</c> for anything else.
    /// </summary>
    public string Type { get; init; } = SpanTypes.Span;

    /// <summary>The GenAI operation (<c>gen_ai.operation.name</c>: <c>chat</c>, <c>embeddings</c>, <c>execute_tool</c>, ...).</summary>
    public string? Operation { get; init; }

    /// <summary>The GenAI provider (<c>gen_ai.provider.name</c> or the older <c>gen_ai.system</c>).</summary>
    public string? Provider { get; init; }

    /// <summary>The model the application asked for (<c>gen_ai.request.model</c>).</summary>
    public string? RequestModel { get; init; }

    /// <summary>The model that answered (<c>gen_ai.response.model</c>).</summary>
    public string? ResponseModel { get; init; }

    /// <summary>Input tokens, cached ones included (as the GenAI conventions count them), or null.</summary>
    public long? InputTokens { get; init; }

    /// <summary>Output tokens, reasoning ones included, or null.</summary>
    public long? OutputTokens { get; init; }

    /// <summary>Input tokens read from the provider's prompt cache (part of <see cref="InputTokens"/>), or null.</summary>
    public long? CachedInputTokens { get; init; }

    /// <summary>Input tokens written to the provider's prompt cache (part of <see cref="InputTokens"/>), or null.</summary>
    public long? CacheWriteTokens { get; init; }

    /// <summary>Reasoning tokens (part of <see cref="OutputTokens"/>), or null.</summary>
    public long? ReasoningTokens { get; init; }

    /// <summary>The cost in US dollars: as reported by the span, else from the price table; null when unknown.</summary>
    public decimal? CostUsd { get; init; }

    /// <summary>The step's input: a JSON document (chat messages, tool arguments) or plain text; null when none.</summary>
    public string? Input { get; init; }

    /// <summary>The step's output: a JSON document or plain text; null when none.</summary>
    public string? Output { get; init; }

    /// <summary>The end user (<c>user.id</c>, <c>enduser.id</c>, <c>langfuse.user.id</c>), or null.</summary>
    public string? UserId { get; init; }

    /// <summary>The session (<c>session.id</c>, <c>gen_ai.conversation.id</c>, <c>langfuse.session.id</c>), or null.</summary>
    public string? SessionId { get; init; }

    /// <summary>The service (<c>service.name</c> of the resource), or null.</summary>
    public string? ServiceName { get; init; }

    /// <summary>The instrumentation scope's name, or null.</summary>
    public string? ScopeName { get; init; }

    /// <summary>Tags (<c>tags</c>, <c>langfuse.trace.tags</c>): short labels used to filter traces.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>
    /// The span's attributes as one JSON object (<c>{"key": value}</c>: strings, numbers, booleans, arrays, objects for
    /// key-value lists, base64 strings for bytes), less those taken as <see cref="Input"/> or <see cref="Output"/>.
    /// </summary>
    public string AttributesJson { get; init; } = "{}";

    /// <summary>The resource's attributes as one JSON object.</summary>
    public string ResourceJson { get; init; } = "{}";

    /// <summary>The span's events as a JSON array of <c>{"name", "time_unix_nano", "attributes"}</c>, or null when none.</summary>
    public string? EventsJson { get; init; }

    /// <summary>The span's links as a JSON array of <c>{"trace_id", "span_id", "attributes"}</c>, or null when none.</summary>
    public string? LinksJson { get; init; }

    /// <summary>What Cairn changed on the way in (values truncated, end before start), or none.</summary>
    public SpanFlags Flags { get; init; }

    /// <summary>The id of the gateway request log record this span stands for, or null.</summary>
    public string? RequestLogId { get; init; }

    /// <summary>The model shown for the span: the answering model, else the requested one.</summary>
    public string? Model => ResponseModel ?? RequestModel;

    /// <summary>Duration in milliseconds.</summary>
    public double DurationMs => (EndTimeUnixNano - StartTimeUnixNano) / 1_000_000.0;
}

/// <summary>What Cairn changed about a span on the way in.</summary>
[Flags]
public enum SpanFlags
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary>At least one attribute value, event or input/output was cut at the size limit.</summary>
    Truncated = 1,

    /// <summary>The end came before the start (clock skew); the end was set to the start.</summary>
    EndBeforeStart = 2,
}

/// <summary>The values of <see cref="SpanRecord.Type"/>.</summary>
public static class SpanTypes
{
    /// <summary>A model call (chat, text completion).</summary>
    public const string Generation = "generation";

    /// <summary>An embeddings call.</summary>
    public const string Embedding = "embedding";

    /// <summary>A tool execution.</summary>
    public const string Tool = "tool";

    /// <summary>A retrieval (vector or keyword search).</summary>
    public const string Retrieval = "retrieval";

    /// <summary>An agent invocation.</summary>
    public const string Agent = "agent";

    /// <summary>A chain or workflow step.</summary>
    public const string Chain = "chain";

    /// <summary>Anything else.</summary>
    public const string Span = "span";
}
