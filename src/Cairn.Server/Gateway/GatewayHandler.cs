using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Cairn.Core.Gateway;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Cairn.Server.Gateway;

/// <summary>The gateway's request path: read the call, pick upstream targets, try them with retries and fallbacks, relay the answer, log it.</summary>
internal sealed partial class GatewayHandler(
    GatewayRouter router,
    GatewayHttp http,
    GatewayKeys keys,
    ResponseCache cache,
    RequestLogWriter log,
    Observability.TraceWriter traces,
    TimeProvider time,
    ILogger<GatewayHandler> logger)
{
    public const string RequestIdHeader = "Cairn-Request-Id";

    private static readonly OpenAiAdapter s_openAi = new(azure: false);
    private static readonly OpenAiAdapter s_azure = new(azure: true);
    private static readonly AnthropicAdapter s_anthropic = new();
    private static readonly GeminiAdapter s_gemini = new();
    private static readonly AnthropicPassThroughAdapter s_anthropicPassThrough = new();
    private static readonly AnthropicClientAdapter s_anthropicOverOpenAi = new(s_openAi);
    private static readonly AnthropicClientAdapter s_anthropicOverAzure = new(s_azure);
    private static readonly AnthropicClientAdapter s_anthropicOverGemini = new(s_gemini);

    /// <summary>
    /// Handles a call in the client's protocol: OpenAI's (<c>/v1/chat/completions</c>, <c>/v1/embeddings</c>) or
    /// Anthropic's (<c>/v1/messages</c>).
    /// </summary>
    public async Task HandleAsync(HttpContext context, string endpoint, string upstreamPath, ClientProtocol protocol)
    {
        var started = Stopwatch.GetTimestamp();
        var record = new RecordBuilder
        {
            Id = NewRequestId(),
            Timestamp = time.GetUtcNow().ToUnixTimeMilliseconds(),
            Endpoint = endpoint,
            Attribution = Attribution.From(context.Request.Headers),
        };
        context.Response.Headers[RequestIdHeader] = record.Id;
        string? keyProject = null;
        var options = router.Options;
        var storeBodies = options.Log.StoreBodies && !IsTrue(context.Request.Headers, "Cairn-Omit-Request", "Helicone-Omit-Request");
        var storeResponse = options.Log.StoreBodies && !IsTrue(context.Request.Headers, "Cairn-Omit-Response", "Helicone-Omit-Response");
        try
        {
            var identity = await keys.AuthenticateAsync(context, context.RequestAborted);
            record.KeyId = identity.KeyId;
            keyProject = identity.Key?.Project;
            var body = await ReadBodyAsync(context, options.MaxRequestBodyBytes);
            if (storeBodies)
            {
                record.RequestBody = BodyCapture.Capture(body.Span, options.Log, out var truncated);
                record.BodyTruncated |= truncated;
            }

            var info = OpenAiBody.Inspect(body.Span);
            if (string.IsNullOrEmpty(info.Model))
            {
                throw GatewayException.InvalidRequest("You must provide a model parameter.", "model");
            }

            record.RequestedModel = info.Model;
            record.Stream = info.Stream;
            keys.CheckModelAllowed(identity, info.Model);
            var targets = router.Resolve(info.Model);
            if (targets.Count == 0)
            {
                throw GatewayException.ModelNotFound(info.Model);
            }

            var call = new GatewayCall
            {
                Endpoint = endpoint,
                UpstreamPath = upstreamPath,
                Body = body,
                Info = protocol == ClientProtocol.OpenAI ? info : null,
                Model = info.Model,
                Stream = info.Stream,
                ClientWantsStreamUsage = info.IncludeUsage || protocol == ClientProtocol.Anthropic,
                ClientAuthorization = identity.ForwardAuthorization,
                Created = time.GetUtcNow().ToUnixTimeSeconds(),
                AnthropicVersion = NullIfEmpty(context.Request.Headers["anthropic-version"].ToString()),
                AnthropicBeta = NullIfEmpty(context.Request.Headers["anthropic-beta"].ToString()),
            };
            await keys.CheckLimitsAsync(identity, context.RequestAborted);
            var policy = ResponseCache.Policy(context.Request, endpoint, identity.KeyId, body.Span, targets[0]);
            if (policy.Enabled)
            {
                if (cache.Get(policy.Key) is { } hit)
                {
                    await ReplayAsync(context, hit, policy, record, started, storeResponse);
                    return;
                }

                SetCacheHeader(context, policy, "MISS");
                record.CacheBuffer = new MemoryStream();
            }

            await ForwardAsync(context, call, targets, protocol, record, started, storeResponse);
            record.EstimateUsageIfMissing(() => TokenEstimator.Estimate(record.RequestBody ?? System.Text.Encoding.UTF8.GetString(body.Span), record.ResponseBody, call.Stream));
            if (policy.Enabled && record.Complete && record.Outcome == RequestOutcome.Success && record.CacheBuffer is { } cached)
            {
                cache.Set(policy.Key, new CachedResponse(cached.ToArray(), call.Stream, record.ServedModel, record.Provider, record.Usage), policy.Ttl);
            }

            keys.RecordUsage(identity, record.Usage, record.CostUsd);
        }
        catch (GatewayException e)
        {
            record.Fail(e.Status, e.Message);
            await e.WriteAsync(context, protocol);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            record.Outcome = RequestOutcome.Cancelled;
            record.Status = 499;
            record.Error ??= "The client closed the connection.";
        }
        catch (Exception e)
        {
            LogUnexpected(logger, record.Id, e);
            record.Fail(StatusCodes.Status500InternalServerError, "Internal error in the Cairn gateway.");
            await new GatewayException(StatusCodes.Status500InternalServerError, $"Internal error in the Cairn gateway (request {record.Id}).", "server_error").WriteAsync(context, protocol);
        }
        finally
        {
            record.LatencyMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var built = record.Build();
            log.Enqueue(built);
            if (built.TraceParent is not null && Observability.GatewaySpans.FromRecord(built, keyProject ?? ProjectOf(context)) is { } span)
            {
                // The call becomes a span of the caller's trace (kept even when the span writer is behind: it is one span).
                traces.Enqueue(span);
            }
        }
    }

    private static string? ProjectOf(HttpContext context) =>
        context.Request.Headers[Observability.TraceIngestApi.ProjectHeader].ToString() is { Length: > 0 } project && Observability.TraceIngestApi.IsValidProject(project)
            ? project.Trim()
            : null;

    private async Task ForwardAsync(HttpContext context, GatewayCall call, IReadOnlyList<UpstreamTarget> targets, ClientProtocol protocol, RecordBuilder record, long started, bool storeResponse)
    {
        UpstreamFailure? last = null;
        foreach (var target in targets)
        {
            var adapter = AdapterFor(target.Provider.Kind, protocol);
            for (var attempt = 0; attempt <= Math.Max(0, target.Retry.MaxRetries); attempt++)
            {
                if (attempt > 0 || last is not null && last.Target == target)
                {
                    var delay = Backoff(target.Retry, attempt, last?.RetryAfter);
                    if (delay is null)
                    {
                        break; // The provider asks for a longer wait than the route allows: try the next deployment.
                    }

                    await Task.Delay(delay.Value, time, context.RequestAborted);
                }

                var outcome = await TryOnceAsync(context, call, target, adapter, record, started, storeResponse);
                if (outcome is null)
                {
                    return;
                }

                last = outcome;
                if (!outcome.Retryable)
                {
                    await RelayFailureAsync(context, outcome, protocol, record);
                    return;
                }
            }
        }

        if (last is null)
        {
            throw GatewayException.ModelNotFound(call.Model);
        }

        await RelayFailureAsync(context, last, protocol, record);
    }

    /// <summary>One upstream attempt; null when the answer reached the client, else the failure.</summary>
    private async Task<UpstreamFailure?> TryOnceAsync(
        HttpContext context, GatewayCall call, UpstreamTarget target, ProviderAdapter adapter, RecordBuilder record, long started, bool storeResponse)
    {
        var attemptStarted = Stopwatch.GetTimestamp();
        record.Provider = target.ProviderName;
        record.Route = target.Route;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(target.Timeout);
        HttpResponseMessage response;
        try
        {
            using var request = adapter.CreateRequest(call, target);
            response = await http.SendAsync(request, timeout.Token);
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            return record.Attempt(target, 0, $"No response within {target.Timeout.TotalSeconds:0.###} s.", attemptStarted, retryable: true, StatusCodes.Status504GatewayTimeout);
        }
        catch (HttpRequestException e)
        {
            return record.Attempt(target, 0, $"Connection to the upstream failed: {e.Message}", attemptStarted, retryable: true, StatusCodes.Status502BadGateway);
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            if (status is < 200 or > 299)
            {
                var errorBody = await response.Content.ReadAsByteArrayAsync(timeout.Token);
                var failure = record.Attempt(target, status, $"Upstream answered HTTP {status}.", attemptStarted, IsRetryable(status), status);
                failure.Body = adapter.ConvertError(status, errorBody);
                failure.RetryAfter = RetryAfter(response);
                return failure;
            }

            if (!call.Stream)
            {
                byte[] upstreamBody;
                try
                {
                    upstreamBody = await response.Content.ReadAsByteArrayAsync(timeout.Token);
                }
                catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
                {
                    return record.Attempt(target, status, $"The response did not complete within {target.Timeout.TotalSeconds:0.###} s.", attemptStarted, retryable: true, StatusCodes.Status504GatewayTimeout);
                }
                catch (HttpRequestException e)
                {
                    return record.Attempt(target, status, $"The upstream connection broke: {e.Message}", attemptStarted, retryable: true, StatusCodes.Status502BadGateway);
                }

                var converted = adapter.ConvertResponse(call, upstreamBody);
                record.Attempt(target, status, null, attemptStarted, retryable: false, status);
                record.Succeed(status, converted.Model ?? target.Model, converted.Usage, Price(target, converted.Model));
                if (storeResponse)
                {
                    record.ResponseBody = BodyCapture.Capture(converted.Body, router.Options.Log, out var truncated);
                    record.BodyTruncated |= truncated;
                }

                context.Response.StatusCode = status;
                context.Response.ContentType = "application/json";
                context.Response.ContentLength = converted.Body.Length;
                await context.Response.Body.WriteAsync(converted.Body, context.RequestAborted);
                record.CacheAppend(converted.Body);
                record.Complete = true;
                return null;
            }

            // A stream: the attempt has succeeded once headers arrived; from here on failures reach the client as they are.
            timeout.CancelAfter(Timeout.InfiniteTimeSpan);
            record.Attempt(target, status, null, attemptStarted, retryable: false, status);
            await RelayStreamAsync(context, call, target, adapter, response, record, started, storeResponse);
            return null;
        }
    }

    private async Task RelayStreamAsync(
        HttpContext context, GatewayCall call, UpstreamTarget target, ProviderAdapter adapter, HttpResponseMessage response, RecordBuilder record, long started, bool storeResponse)
    {
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/event-stream; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        var converter = adapter.CreateStreamConverter(call);
        var captured = storeResponse ? new BodyCapture(router.Options.Log.MaxBodyBytes) : null;
        var output = new ArrayBufferWriter<byte>(4096);
        var upstream = await response.Content.ReadAsStreamAsync(context.RequestAborted);
        var reader = PipeReader.Create(upstream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, leaveOpen: true));
        string? error = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(context.RequestAborted);
                var buffer = result.Buffer;
                while (SseFrames.TryRead(ref buffer, out var frame))
                {
                    var (eventName, data) = SseFrames.Parse(frame);
                    converter.OnFrame(frame, eventName, data, output);
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
                if (output.WrittenCount > 0)
                {
                    record.FirstByte(started);
                    captured?.Append(output.WrittenSpan);
                    record.CacheAppend(output.WrittenSpan);
                    await context.Response.Body.WriteAsync(output.WrittenMemory, context.RequestAborted);
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                    output.ResetWrittenCount();
                }

                if (result.IsCompleted)
                {
                    break;
                }
            }

            converter.Complete(output);
            if (output.WrittenCount > 0)
            {
                captured?.Append(output.WrittenSpan);
                record.CacheAppend(output.WrittenSpan);
                await context.Response.Body.WriteAsync(output.WrittenMemory, context.RequestAborted);
            }

            if (!converter.Finished)
            {
                error = converter.Error is { } upstreamError
                    ? $"The upstream sent an error during the stream: {upstreamError}"
                    : "The upstream stream ended before the answer was complete.";
            }
            else
            {
                record.Complete = true;
            }
        }
        catch (HttpRequestException e)
        {
            error = $"The upstream stream broke: {e.Message}";
        }
        catch (IOException e) when (!context.RequestAborted.IsCancellationRequested)
        {
            error = $"The upstream stream broke: {e.Message}";
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            record.Outcome = RequestOutcome.Cancelled;
            record.Error = "The client closed the connection during the stream; the upstream call was cancelled.";
        }
        finally
        {
            await reader.CompleteAsync();
            if (captured is not null)
            {
                record.ResponseBody = captured.Text;
                record.BodyTruncated |= captured.Truncated;
            }

            record.Succeed(StatusCodes.Status200OK, converter.Model ?? target.Model, converter.Usage, Price(target, converter.Model), keepOutcome: true);
            if (error is not null)
            {
                record.Outcome = RequestOutcome.Error;
                record.Error = error;
            }
        }
    }

    private async Task ReplayAsync(HttpContext context, CachedResponse hit, CachePolicy policy, RecordBuilder record, long started, bool storeResponse)
    {
        SetCacheHeader(context, policy, "HIT");
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = hit.Stream ? "text/event-stream; charset=utf-8" : "application/json";
        if (hit.Stream)
        {
            context.Response.Headers.CacheControl = "no-cache";
        }

        record.FirstByte(started);
        await context.Response.Body.WriteAsync(hit.Body, context.RequestAborted);
        record.CacheHit = true;
        record.Provider = hit.Provider;
        // Served from the cache: no provider was paid, so the cost is zero; the tokens are those of the cached answer.
        record.Succeed(StatusCodes.Status200OK, hit.ServedModel, hit.Usage, price: null);
        record.CostUsd = 0;
        if (storeResponse)
        {
            record.ResponseBody = BodyCapture.Capture(hit.Body, router.Options.Log, out var truncated);
            record.BodyTruncated |= truncated;
        }
    }

    private static void SetCacheHeader(HttpContext context, CachePolicy policy, string value)
    {
        context.Response.Headers["Cairn-Cache"] = value;
        if (policy.HeliconeHeaders)
        {
            context.Response.Headers["Helicone-Cache"] = value;
        }
    }

    private static async Task RelayFailureAsync(HttpContext context, UpstreamFailure failure, ClientProtocol protocol, RecordBuilder record)
    {
        record.Fail(failure.ClientStatus, failure.Message);
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.StatusCode = failure.ClientStatus;
        context.Response.ContentType = "application/json";
        if (failure.RetryAfter is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        var body = failure.Body ?? (protocol == ClientProtocol.Anthropic
            ? AnthropicErrors.Format(failure.ClientStatus, failure.Message)
            : GatewayException.Format(failure.Message, failure.ClientStatus >= 500 ? "server_error" : "invalid_request_error", null, null));
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    private ModelPrice? Price(UpstreamTarget target, string? servedModel) =>
        target.Price ?? router.Prices.Find(target.Model) ?? router.Prices.Find(servedModel);

    private static ProviderAdapter AdapterFor(ProviderKind kind, ClientProtocol protocol) => (protocol, kind) switch
    {
        (ClientProtocol.OpenAI, ProviderKind.AzureOpenAI) => s_azure,
        (ClientProtocol.OpenAI, ProviderKind.Anthropic) => s_anthropic,
        (ClientProtocol.OpenAI, ProviderKind.Gemini) => s_gemini,
        (ClientProtocol.OpenAI, _) => s_openAi,
        (_, ProviderKind.Anthropic) => s_anthropicPassThrough,
        (_, ProviderKind.AzureOpenAI) => s_anthropicOverAzure,
        (_, ProviderKind.Gemini) => s_anthropicOverGemini,
        _ => s_anthropicOverOpenAi,
    };

    private static bool IsRetryable(int status) => status is 408 or 409 or 429 or 500 or 502 or 503 or 504 or 529;

    private static TimeSpan? Backoff(RetryOptions retry, int attempt, TimeSpan? retryAfter)
    {
        if (retryAfter is { } asked)
        {
            return asked.TotalMilliseconds > retry.MaxDelayMs ? null : asked;
        }

        var exponential = retry.InitialDelayMs * Math.Pow(2, Math.Max(0, attempt - 1));
        var jittered = exponential * (0.8 + (Random.Shared.NextDouble() * 0.4));
        return TimeSpan.FromMilliseconds(Math.Min(jittered, retry.MaxDelayMs));
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        if (response.Headers.TryGetValues("retry-after-ms", out var ms) && double.TryParse(ms.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds))
        {
            return TimeSpan.FromMilliseconds(milliseconds);
        }

        if (response.Headers.RetryAfter is { } retryAfter)
        {
            if (retryAfter.Delta is { } delta)
            {
                return delta;
            }

            if (retryAfter.Date is { } date)
            {
                var wait = date - time.GetUtcNow();
                return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
            }
        }

        return null;
    }

    private static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpContext context, long limit)
    {
        var request = context.Request;
        if (request.ContentLength > limit)
        {
            throw GatewayException.TooLarge(limit);
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = null;
        }

        // With a Content-Length, the buffer is sized once (one spare byte to see the end): asking for a fixed 8 KB of room
        // would make every small request allocate and zero a second, larger array.
        var expected = request.ContentLength;
        var buffer = new ArrayBufferWriter<byte>((int)Math.Min(expected ?? 4096, limit) + 1);
        while (true)
        {
            var sizeHint = expected is { } length ? (int)Math.Clamp(length - buffer.WrittenCount + 1, 1, 8192) : 8192;
            var memory = buffer.GetMemory(sizeHint);
            var read = await request.Body.ReadAsync(memory, context.RequestAborted);
            if (read == 0)
            {
                break;
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > limit)
            {
                throw GatewayException.TooLarge(limit);
            }
        }

        if (buffer.WrittenCount == 0)
        {
            throw GatewayException.InvalidRequest("The request body is empty; send a JSON object.");
        }

        return buffer.WrittenMemory;
    }

    private static bool IsTrue(IHeaderDictionary headers, string name, string alternative) =>
        string.Equals(headers[name].ToString(), "true", StringComparison.OrdinalIgnoreCase)
        || string.Equals(headers[alternative].ToString(), "true", StringComparison.OrdinalIgnoreCase);

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    private static string NewRequestId() => "req_" + Guid.CreateVersion7().ToString("N");

    [LoggerMessage(EventId = 5100, Level = LogLevel.Error, Message = "Unexpected failure in gateway request {RequestId}")]
    private static partial void LogUnexpected(ILogger logger, string requestId, Exception exception);
}
