namespace Cairn.Core.Gateway;

/// <summary>How a gateway request ended.</summary>
public enum RequestOutcome
{
    /// <summary>The upstream answered successfully and the whole response reached the client.</summary>
    Success,

    /// <summary>Every attempt failed, or the request was refused (bad input, key, limit): the client got an error.</summary>
    Error,

    /// <summary>The client went away before the response was complete; the upstream call was cancelled.</summary>
    Cancelled,
}

/// <summary>One upstream attempt of a request.</summary>
/// <param name="Provider">The provider's name.</param>
/// <param name="Model">The model name sent upstream.</param>
/// <param name="Status">The upstream HTTP status, or 0 when no response came (timeout, connection failure).</param>
/// <param name="Error">What went wrong, or null.</param>
/// <param name="DurationMs">How long the attempt took.</param>
public sealed record UpstreamAttempt(string Provider, string Model, int Status, string? Error, double DurationMs);

/// <summary>The record the gateway keeps of one request.</summary>
public sealed record RequestLogRecord
{
    /// <summary>The request id (also sent to the client as <c>Cairn-Request-Id</c>).</summary>
    public required string Id { get; init; }

    /// <summary>When the request arrived, in Unix milliseconds.</summary>
    public required long Timestamp { get; init; }

    /// <summary>The endpoint: <c>chat.completions</c>, <c>embeddings</c>, <c>messages</c>.</summary>
    public required string Endpoint { get; init; }

    /// <summary>The id of the Cairn virtual key used, or null.</summary>
    public string? KeyId { get; init; }

    /// <summary>The model the client asked for.</summary>
    public string? RequestedModel { get; init; }

    /// <summary>The model that answered (as the upstream reported it).</summary>
    public string? ServedModel { get; init; }

    /// <summary>The provider of the last attempt.</summary>
    public string? Provider { get; init; }

    /// <summary>The route (model alias) used, or null for <c>provider/model</c> addressing.</summary>
    public string? Route { get; init; }

    /// <summary>Every upstream attempt, in order.</summary>
    public IReadOnlyList<UpstreamAttempt> Attempts { get; init; } = [];

    /// <summary>How the request ended.</summary>
    public RequestOutcome Outcome { get; init; }

    /// <summary>The HTTP status returned to the client.</summary>
    public int Status { get; init; }

    /// <summary>The error message returned to the client, or null.</summary>
    public string? Error { get; init; }

    /// <summary>Whether the response was streamed.</summary>
    public bool Stream { get; init; }

    /// <summary>Whether the response came from Cairn's cache.</summary>
    public bool CacheHit { get; init; }

    /// <summary>From arrival to the last byte sent, in milliseconds.</summary>
    public double LatencyMs { get; init; }

    /// <summary>From arrival to the first content byte sent, for streams; null otherwise.</summary>
    public double? TimeToFirstTokenMs { get; init; }

    /// <summary>The tokens, or null when unknown.</summary>
    public TokenUsage? Usage { get; init; }

    /// <summary>The cost in US dollars, or null when the model has no known price.</summary>
    public decimal? CostUsd { get; init; }

    /// <summary>The stored request body (possibly truncated or redacted), or null.</summary>
    public string? RequestBody { get; init; }

    /// <summary>The stored response body (for streams, the concatenated events), or null.</summary>
    public string? ResponseBody { get; init; }

    /// <summary>Whether a stored body was cut at the size limit.</summary>
    public bool BodyTruncated { get; init; }

    /// <summary>The end user (<c>Cairn-User-Id</c> or <c>Helicone-User-Id</c>).</summary>
    public string? UserId { get; init; }

    /// <summary>The session (<c>Cairn-Session-Id</c>).</summary>
    public string? SessionId { get; init; }

    /// <summary>The position in the session (<c>Cairn-Session-Path</c>, such as <c>/plan/search</c>).</summary>
    public string? SessionPath { get; init; }

    /// <summary>Custom properties (<c>Cairn-Property-Name: value</c>).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();

    /// <summary>The W3C <c>traceparent</c> the client sent, or null.</summary>
    public string? TraceParent { get; init; }

    /// <summary>The prompt the request was rendered from (<c>Cairn-Prompt: name@version</c>), or null.</summary>
    public string? PromptName { get; init; }

    /// <summary>The version of <see cref="PromptName"/>, or null.</summary>
    public int? PromptVersion { get; init; }
}

/// <summary>Stores and queries gateway request records.</summary>
public interface IRequestLogStore
{
    /// <summary>Stores a batch of records in one transaction.</summary>
    Task AppendAsync(IReadOnlyList<RequestLogRecord> records, CancellationToken cancellationToken);

    /// <summary>Returns one record, or null.</summary>
    Task<RequestLogRecord?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>Returns records matching <paramref name="query"/>, newest first.</summary>
    Task<Tracking.Page<RequestLogRecord>> SearchAsync(RequestLogQuery query, CancellationToken cancellationToken);
}

/// <summary>A request log search: every set field must match.</summary>
public sealed record RequestLogQuery
{
    /// <summary>Earliest timestamp (Unix ms, inclusive).</summary>
    public long? From { get; init; }

    /// <summary>Latest timestamp (Unix ms, exclusive).</summary>
    public long? To { get; init; }

    /// <summary>The requested or served model.</summary>
    public string? Model { get; init; }

    /// <summary>The provider.</summary>
    public string? Provider { get; init; }

    /// <summary>The virtual key id.</summary>
    public string? KeyId { get; init; }

    /// <summary>The user id.</summary>
    public string? UserId { get; init; }

    /// <summary>The session id.</summary>
    public string? SessionId { get; init; }

    /// <summary>The outcome.</summary>
    public RequestOutcome? Outcome { get; init; }

    /// <summary>A custom property that must have the given value.</summary>
    public KeyValuePair<string, string>? Property { get; init; }

    /// <summary>The page size.</summary>
    public int MaxResults { get; init; } = 50;

    /// <summary>The page token from the previous page.</summary>
    public string? PageToken { get; init; }
}

/// <summary>How usage is split into series.</summary>
public enum UsageSplit
{
    /// <summary>One series for everything.</summary>
    None,

    /// <summary>By requested model.</summary>
    Model,

    /// <summary>By virtual key.</summary>
    Key,

    /// <summary>By user id.</summary>
    User,

    /// <summary>By provider.</summary>
    Provider,
}

/// <summary>A usage report: requests between two times, in buckets, split by one dimension.</summary>
public sealed record UsageQuery(long From, long To, long BucketMs, UsageSplit Split = UsageSplit.None);

/// <summary>The usage of one series in one time bucket.</summary>
public sealed record UsageBucket
{
    /// <summary>The bucket's start (Unix ms).</summary>
    public required long Start { get; init; }

    /// <summary>The series (model, key, user or provider; empty when unknown or not split).</summary>
    public required string Group { get; init; }

    /// <summary>Requests.</summary>
    public long Requests { get; init; }

    /// <summary>Requests that ended in an error.</summary>
    public long Errors { get; init; }

    /// <summary>Input tokens.</summary>
    public long PromptTokens { get; init; }

    /// <summary>Output tokens.</summary>
    public long CompletionTokens { get; init; }

    /// <summary>Cached input tokens.</summary>
    public long CachedTokens { get; init; }

    /// <summary>Cost in US dollars.</summary>
    public decimal CostUsd { get; init; }

    /// <summary>Median latency in milliseconds.</summary>
    public double LatencyP50Ms { get; init; }

    /// <summary>95th percentile latency in milliseconds.</summary>
    public double LatencyP95Ms { get; init; }
}

/// <summary>Aggregates the request log for usage reports.</summary>
public interface IUsageReportStore
{
    /// <summary>Usage per bucket and series, in time order.</summary>
    Task<IReadOnlyList<UsageBucket>> UsageAsync(UsageQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// How each version of a prompt does in production: the gateway requests sent with <c>Cairn-Prompt: name@version</c>
    /// since <paramref name="from"/> (Unix ms), and the numeric and boolean scores given to the traces of those requests.
    /// </summary>
    Task<IReadOnlyList<PromptVersionUsage>> PromptUsageAsync(string promptName, long from, CancellationToken cancellationToken);
}

/// <summary>One prompt version's production figures.</summary>
/// <param name="Version">The version.</param>
/// <param name="Calls">Requests.</param>
/// <param name="Errors">Requests that failed or were cancelled.</param>
/// <param name="P50LatencyMs">Median latency.</param>
/// <param name="P95LatencyMs">95th percentile latency.</param>
/// <param name="InputTokens">Input tokens.</param>
/// <param name="OutputTokens">Output tokens.</param>
/// <param name="CostUsd">Cost in US dollars.</param>
/// <param name="FeedbackScore">The mean of the scores given to the requests' traces (booleans as 0 or 1), or null when none.</param>
/// <param name="FeedbackCount">How many scores.</param>
public sealed record PromptVersionUsage(
    int Version, long Calls, long Errors, double P50LatencyMs, double P95LatencyMs, long InputTokens, long OutputTokens, decimal CostUsd, double? FeedbackScore, long FeedbackCount)
{
    /// <summary>Errors over calls.</summary>
    public double ErrorRate => Calls == 0 ? 0 : (double)Errors / Calls;
}
