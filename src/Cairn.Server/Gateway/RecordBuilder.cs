using System.Diagnostics;
using Cairn.Core.Gateway;

namespace Cairn.Server.Gateway;

/// <summary>A failed upstream attempt and what the client gets if it is the last one.</summary>
internal sealed class UpstreamFailure(UpstreamTarget target, string message, bool retryable, int clientStatus)
{
    public UpstreamTarget Target { get; } = target;

    public string Message { get; } = message;

    public bool Retryable { get; } = retryable;

    public int ClientStatus { get; } = clientStatus;

    /// <summary>The error body in the client's protocol, or null to write one from <see cref="Message"/>.</summary>
    public byte[]? Body { get; set; }

    public TimeSpan? RetryAfter { get; set; }
}

/// <summary>Collects a request's record while it is handled; built once at the end.</summary>
/// <remarks>Used by one request at a time, never shared.</remarks>
internal sealed class RecordBuilder
{
    private readonly List<UpstreamAttempt> _attempts = [];

    public required string Id { get; init; }

    public required long Timestamp { get; init; }

    public required string Endpoint { get; init; }

    public required Attribution Attribution { get; init; }

    public string? KeyId { get; set; }

    public string? RequestedModel { get; set; }

    public string? ServedModel { get; set; }

    public string? Provider { get; set; }

    public string? Route { get; set; }

    public RequestOutcome Outcome { get; set; } = RequestOutcome.Success;

    public int Status { get; set; }

    public string? Error { get; set; }

    public bool Stream { get; set; }

    public bool CacheHit { get; set; }

    public double LatencyMs { get; set; }

    public double? TimeToFirstTokenMs { get; private set; }

    public TokenUsage? Usage { get; set; }

    public decimal? CostUsd { get; set; }

    public string? RequestBody { get; set; }

    public string? ResponseBody { get; set; }

    public bool BodyTruncated { get; set; }

    /// <summary>The price applied to this request's usage, kept so an estimated usage can be priced later.</summary>
    public ModelPrice? Price { get; private set; }

    /// <summary>Collects the bytes sent to the client when the answer is to be cached; null otherwise.</summary>
    public MemoryStream? CacheBuffer { get; set; }

    /// <summary>Whether the whole answer reached the client (only then is it cached).</summary>
    public bool Complete { get; set; }

    /// <summary>Adds bytes to the cache buffer, dropping it when the answer is too large to cache.</summary>
    public void CacheAppend(ReadOnlySpan<byte> bytes)
    {
        if (CacheBuffer is null)
        {
            return;
        }

        if (CacheBuffer.Length + bytes.Length > ResponseCache.MaxEntryBytes)
        {
            CacheBuffer = null;
            return;
        }

        CacheBuffer.Write(bytes);
    }

    /// <summary>Fills in an estimated usage (and its cost) when the provider reported none.</summary>
    public void EstimateUsageIfMissing(Func<TokenUsage?> estimate)
    {
        if (Usage is not null || Outcome == RequestOutcome.Error || Status is < 200 or > 299)
        {
            return;
        }

        Usage = estimate();
        CostUsd = Usage is not null && Price is not null ? decimal.Round(Price.Cost(Usage), 10) : CostUsd;
    }

    public UpstreamFailure Attempt(UpstreamTarget target, int status, string? error, long attemptStarted, bool retryable, int clientStatus)
    {
        _attempts.Add(new UpstreamAttempt(target.ProviderName, target.Model, status, error, Stopwatch.GetElapsedTime(attemptStarted).TotalMilliseconds));
        return new UpstreamFailure(target, error ?? "", retryable, clientStatus);
    }

    public void Succeed(int status, string? servedModel, TokenUsage? usage, ModelPrice? price, bool keepOutcome = false)
    {
        if (!keepOutcome)
        {
            Outcome = RequestOutcome.Success;
        }

        Status = status;
        ServedModel = servedModel;
        Usage = usage;
        Price = price;
        CostUsd = usage is not null && price is not null ? decimal.Round(price.Cost(usage), 10) : null;
    }

    public void Fail(int status, string message)
    {
        Outcome = RequestOutcome.Error;
        Status = status;
        Error = message;
    }

    public void FirstByte(long started) => TimeToFirstTokenMs ??= Stopwatch.GetElapsedTime(started).TotalMilliseconds;

    public RequestLogRecord Build() => new()
    {
        Id = Id,
        Timestamp = Timestamp,
        Endpoint = Endpoint,
        KeyId = KeyId,
        RequestedModel = RequestedModel,
        ServedModel = ServedModel,
        Provider = Provider,
        Route = Route,
        Attempts = _attempts,
        Outcome = Outcome,
        Status = Status,
        Error = Error,
        Stream = Stream,
        CacheHit = CacheHit,
        LatencyMs = LatencyMs,
        TimeToFirstTokenMs = TimeToFirstTokenMs,
        Usage = Usage,
        CostUsd = CostUsd,
        RequestBody = RequestBody,
        ResponseBody = ResponseBody,
        BodyTruncated = BodyTruncated,
        UserId = Attribution.UserId,
        SessionId = Attribution.SessionId,
        SessionPath = Attribution.SessionPath,
        Properties = Attribution.Properties,
        TraceParent = Attribution.TraceParent,
        PromptName = Attribution.PromptName,
        PromptVersion = Attribution.PromptVersion,
    };
}
