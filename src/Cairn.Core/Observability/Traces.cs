using Cairn.Core.Tracking;

namespace Cairn.Core.Observability;

/// <summary>A trace's totals, rolled up from its spans as they arrive (in any order, in any number of batches).</summary>
public sealed record TraceSummary
{
    /// <summary>The project.</summary>
    public required string Project { get; init; }

    /// <summary>The trace id (32 lowercase hex characters).</summary>
    public required string TraceId { get; init; }

    /// <summary>The root span's name, or the earliest span's while the root has not arrived.</summary>
    public required string Name { get; init; }

    /// <summary>The root span's id, or null while it has not arrived.</summary>
    public string? RootSpanId { get; init; }

    /// <summary>The earliest span start, in Unix nanoseconds.</summary>
    public long StartTimeUnixNano { get; init; }

    /// <summary>The latest span end, in Unix nanoseconds.</summary>
    public long EndTimeUnixNano { get; init; }

    /// <summary>Spans stored.</summary>
    public long SpanCount { get; init; }

    /// <summary>Spans with an error status.</summary>
    public long ErrorCount { get; init; }

    /// <summary>Input tokens over the trace's spans.</summary>
    public long InputTokens { get; init; }

    /// <summary>Output tokens over the trace's spans.</summary>
    public long OutputTokens { get; init; }

    /// <summary>Cached input tokens over the trace's spans (part of <see cref="InputTokens"/>).</summary>
    public long CachedInputTokens { get; init; }

    /// <summary>Cost over the trace's spans, in US dollars.</summary>
    public decimal CostUsd { get; init; }

    /// <summary>The end user (the first span that names one), or null.</summary>
    public string? UserId { get; init; }

    /// <summary>The session (the first span that names one), or null.</summary>
    public string? SessionId { get; init; }

    /// <summary>The service that sent the root span (or the first span), or null.</summary>
    public string? ServiceName { get; init; }

    /// <summary>The models used in the trace, in order of first use.</summary>
    public IReadOnlyList<string> Models { get; init; } = [];

    /// <summary>The tags of the trace's spans.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>The root span's input (or null).</summary>
    public string? Input { get; init; }

    /// <summary>The root span's output (or null).</summary>
    public string? Output { get; init; }

    /// <summary>Duration from the earliest start to the latest end, in milliseconds.</summary>
    public double DurationMs => (EndTimeUnixNano - StartTimeUnixNano) / 1_000_000.0;

    /// <summary>Total tokens.</summary>
    public long TotalTokens => InputTokens + OutputTokens;

    /// <summary>Whether any span failed.</summary>
    public bool HasError => ErrorCount > 0;
}

/// <summary>How to order a trace list.</summary>
public enum TraceOrder
{
    /// <summary>Newest first (by start time).</summary>
    Newest,

    /// <summary>Oldest first.</summary>
    Oldest,

    /// <summary>Longest first.</summary>
    Slowest,

    /// <summary>Most expensive first.</summary>
    Costliest,

    /// <summary>Most tokens first.</summary>
    MostTokens,
}

/// <summary>A trace search: every set field must match.</summary>
public sealed record TraceQuery
{
    /// <summary>The project.</summary>
    public string Project { get; init; } = ObservabilityDefaults.Project;

    /// <summary>Traces whose name contains this text (case-insensitive).</summary>
    public string? Name { get; init; }

    /// <summary>Earliest start (Unix nanoseconds, inclusive).</summary>
    public long? From { get; init; }

    /// <summary>Latest start (Unix nanoseconds, exclusive).</summary>
    public long? To { get; init; }

    /// <summary>true: only failed traces; false: only traces without errors.</summary>
    public bool? HasError { get; init; }

    /// <summary>Minimum duration in milliseconds.</summary>
    public double? MinDurationMs { get; init; }

    /// <summary>Maximum duration in milliseconds.</summary>
    public double? MaxDurationMs { get; init; }

    /// <summary>Minimum cost in US dollars.</summary>
    public decimal? MinCostUsd { get; init; }

    /// <summary>Minimum total tokens.</summary>
    public long? MinTokens { get; init; }

    /// <summary>A model used by one of the trace's spans.</summary>
    public string? Model { get; init; }

    /// <summary>The user id.</summary>
    public string? UserId { get; init; }

    /// <summary>The session id.</summary>
    public string? SessionId { get; init; }

    /// <summary>A tag the trace carries.</summary>
    public string? Tag { get; init; }

    /// <summary>A span attribute that must have this value (compared as text) on one of the trace's spans.</summary>
    public KeyValuePair<string, string>? Attribute { get; init; }

    /// <summary>The order.</summary>
    public TraceOrder Order { get; init; } = TraceOrder.Newest;

    /// <summary>The page size.</summary>
    public int MaxResults { get; init; } = 50;

    /// <summary>The token from the previous page, or null for the first.</summary>
    public string? PageToken { get; init; }
}

/// <summary>A session: the traces that share a session id.</summary>
public sealed record SessionSummary
{
    /// <summary>The project.</summary>
    public required string Project { get; init; }

    /// <summary>The session id.</summary>
    public required string SessionId { get; init; }

    /// <summary>The session's user (from its first trace that names one), or null.</summary>
    public string? UserId { get; init; }

    /// <summary>Traces in the session.</summary>
    public long TraceCount { get; init; }

    /// <summary>The first trace's start, in Unix nanoseconds.</summary>
    public long StartTimeUnixNano { get; init; }

    /// <summary>The last trace's end, in Unix nanoseconds.</summary>
    public long EndTimeUnixNano { get; init; }

    /// <summary>Tokens over the session.</summary>
    public long TotalTokens { get; init; }

    /// <summary>Cost over the session, in US dollars.</summary>
    public decimal CostUsd { get; init; }

    /// <summary>Traces with an error.</summary>
    public long ErrorCount { get; init; }
}

/// <summary>A session search.</summary>
public sealed record SessionQuery
{
    /// <summary>The project.</summary>
    public string Project { get; init; } = ObservabilityDefaults.Project;

    /// <summary>The user id.</summary>
    public string? UserId { get; init; }

    /// <summary>The page size.</summary>
    public int MaxResults { get; init; } = 50;

    /// <summary>The token from the previous page, or null for the first.</summary>
    public string? PageToken { get; init; }
}

/// <summary>An end user: the traces that share a user id.</summary>
public sealed record UserSummary
{
    /// <summary>The project.</summary>
    public required string Project { get; init; }

    /// <summary>The user id.</summary>
    public required string UserId { get; init; }

    /// <summary>Traces of the user.</summary>
    public long TraceCount { get; init; }

    /// <summary>Distinct sessions among them.</summary>
    public long SessionCount { get; init; }

    /// <summary>The first trace's start, in Unix nanoseconds.</summary>
    public long FirstSeenUnixNano { get; init; }

    /// <summary>The last trace's end, in Unix nanoseconds.</summary>
    public long LastSeenUnixNano { get; init; }

    /// <summary>Tokens over the user's traces.</summary>
    public long TotalTokens { get; init; }

    /// <summary>Cost over the user's traces, in US dollars.</summary>
    public decimal CostUsd { get; init; }

    /// <summary>Traces with an error.</summary>
    public long ErrorCount { get; init; }
}

/// <summary>A user search.</summary>
public sealed record UserQuery
{
    /// <summary>The project.</summary>
    public string Project { get; init; } = ObservabilityDefaults.Project;

    /// <summary>The page size.</summary>
    public int MaxResults { get; init; } = 50;

    /// <summary>The token from the previous page, or null for the first.</summary>
    public string? PageToken { get; init; }
}

/// <summary>The kind of value a score holds.</summary>
public enum ScoreDataType
{
    /// <summary>A number (<see cref="Score.Value"/>).</summary>
    Numeric,

    /// <summary>True or false (<see cref="Score.Value"/> 1 or 0).</summary>
    Boolean,

    /// <summary>One of a set of labels (<see cref="Score.StringValue"/>).</summary>
    Categorical,

    /// <summary>Free text (<see cref="Score.StringValue"/>), such as a user's comment.</summary>
    Text,
}

/// <summary>Who gave a score.</summary>
public enum ScoreSource
{
    /// <summary>A person reviewing the trace (or an end user's thumbs up or down).</summary>
    Human,

    /// <summary>An application through the API.</summary>
    Api,

    /// <summary>An automatic evaluator.</summary>
    Evaluator,
}

/// <summary>A score or piece of feedback attached to a trace or one of its spans.</summary>
public sealed record Score
{
    /// <summary>The score id.</summary>
    public required string Id { get; init; }

    /// <summary>The project.</summary>
    public required string Project { get; init; }

    /// <summary>The trace.</summary>
    public required string TraceId { get; init; }

    /// <summary>The span, or null for the whole trace.</summary>
    public string? SpanId { get; init; }

    /// <summary>The score's name (<c>user-feedback</c>, <c>correctness</c>).</summary>
    public required string Name { get; init; }

    /// <summary>The kind of value.</summary>
    public ScoreDataType DataType { get; init; }

    /// <summary>The value for numeric and boolean scores.</summary>
    public double? Value { get; init; }

    /// <summary>The value for categorical and text scores.</summary>
    public string? StringValue { get; init; }

    /// <summary>Who gave it.</summary>
    public ScoreSource Source { get; init; }

    /// <summary>A comment, or null.</summary>
    public string? Comment { get; init; }

    /// <summary>The user who gave it (for human feedback), or null.</summary>
    public string? Author { get; init; }

    /// <summary>When it was given, in Unix milliseconds.</summary>
    public long Timestamp { get; init; }
}

/// <summary>Defaults shared by the observability part.</summary>
public static class ObservabilityDefaults
{
    /// <summary>The project of spans that name none.</summary>
    public const string Project = "default";
}

/// <summary>Stores spans, rolls them up into traces and sessions, and keeps scores.</summary>
public interface ITraceStore
{
    /// <summary>
    /// Stores a batch of spans in one transaction and updates the totals of their traces. A span stored again (same
    /// project, trace and span id) replaces nothing and is not counted twice.
    /// </summary>
    Task AppendAsync(IReadOnlyList<SpanRecord> spans, CancellationToken cancellationToken);

    /// <summary>Returns traces matching <paramref name="query"/>.</summary>
    Task<Page<TraceSummary>> SearchTracesAsync(TraceQuery query, CancellationToken cancellationToken);

    /// <summary>Returns one trace's totals, or null.</summary>
    Task<TraceSummary?> GetTraceAsync(string project, string traceId, CancellationToken cancellationToken);

    /// <summary>
    /// Returns the children of <paramref name="parentSpanId"/> (or, when null, the trace's top-level spans: those
    /// without a parent or whose parent is not stored), ordered by start, a page at a time: the trace tree loads lazily.
    /// </summary>
    Task<Page<SpanNode>> GetChildrenAsync(string project, string traceId, string? parentSpanId, int maxResults, string? pageToken, CancellationToken cancellationToken);

    /// <summary>Returns one span, or null.</summary>
    Task<SpanRecord?> GetSpanAsync(string project, string traceId, string spanId, CancellationToken cancellationToken);

    /// <summary>Returns sessions, the most recently active first.</summary>
    Task<Page<SessionSummary>> SearchSessionsAsync(SessionQuery query, CancellationToken cancellationToken);

    /// <summary>Returns end users (traces grouped by user id), the most recently active first.</summary>
    Task<Page<UserSummary>> SearchUsersAsync(UserQuery query, CancellationToken cancellationToken);

    /// <summary>Stores a score.</summary>
    Task AddScoreAsync(Score score, CancellationToken cancellationToken);

    /// <summary>Returns the scores of a trace (and its spans), oldest first.</summary>
    Task<IReadOnlyList<Score>> GetScoresAsync(string project, string traceId, CancellationToken cancellationToken);

    /// <summary>Deletes a score; false when there was none.</summary>
    Task<bool> DeleteScoreAsync(string project, string scoreId, CancellationToken cancellationToken);

    /// <summary>Deletes the project's traces that started before <paramref name="startedBefore"/> (Unix nanoseconds), with their spans and scores; returns the traces deleted.</summary>
    Task<long> DeleteTracesBeforeAsync(string project, long startedBefore, CancellationToken cancellationToken);

    /// <summary>The projects that have traces.</summary>
    Task<IReadOnlyList<string>> GetProjectsAsync(CancellationToken cancellationToken);
}

/// <summary>A span in the trace tree: its summary fields and how many children it has (to expand it lazily).</summary>
public sealed record SpanNode
{
    /// <summary>The span id.</summary>
    public required string SpanId { get; init; }

    /// <summary>The parent span id, or null.</summary>
    public string? ParentSpanId { get; init; }

    /// <summary>The name.</summary>
    public required string Name { get; init; }

    /// <summary>The step type (<see cref="SpanTypes"/>).</summary>
    public required string Type { get; init; }

    /// <summary>Start, in Unix nanoseconds.</summary>
    public long StartTimeUnixNano { get; init; }

    /// <summary>End, in Unix nanoseconds.</summary>
    public long EndTimeUnixNano { get; init; }

    /// <summary>The status.</summary>
    public SpanStatusCode StatusCode { get; init; }

    /// <summary>The model, or null.</summary>
    public string? Model { get; init; }

    /// <summary>Input plus output tokens, or null when the span has none.</summary>
    public long? TotalTokens { get; init; }

    /// <summary>The cost, or null.</summary>
    public decimal? CostUsd { get; init; }

    /// <summary>How many spans have this one as their parent.</summary>
    public long ChildCount { get; init; }

    /// <summary>Duration in milliseconds.</summary>
    public double DurationMs => (EndTimeUnixNano - StartTimeUnixNano) / 1_000_000.0;
}
