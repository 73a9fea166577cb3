using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Cairn.Server.Tests.Gateway;

/// <summary>What the fake does with the next request.</summary>
public enum FakeBehavior
{
    /// <summary>Answer normally.</summary>
    Ok,

    /// <summary>HTTP 429 with <c>retry-after: 0</c> (or the configured seconds) in OpenAI's error format.</summary>
    RateLimited,

    /// <summary>HTTP 500 in OpenAI's error format.</summary>
    ServerError,

    /// <summary>HTTP 503 in OpenAI's error format.</summary>
    Unavailable,

    /// <summary>HTTP 400 (a client error, never retried).</summary>
    BadRequest,

    /// <summary>Never answer (until the client gives up).</summary>
    Hang,

    /// <summary>Close the connection without an answer.</summary>
    Reset,

    /// <summary>Stream a few chunks and then hang.</summary>
    StreamThenHang,
}

/// <summary>
/// A local stand-in for OpenAI's API that speaks its exact wire format: chat completions (plain, streamed with
/// <c>data:</c> frames and <c>[DONE]</c>, tool calls, usage only when <c>stream_options.include_usage</c> is set),
/// embeddings (float and base64), models, and OpenAI-shaped errors.
/// </summary>
public sealed class FakeOpenAiUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<FakeBehavior> _script = new();

    private FakeOpenAiUpstream(WebApplication app) => _app = app;

    /// <summary>The API base to configure as the provider's <c>BaseUrl</c> (ends in <c>/v1</c>).</summary>
    public string BaseUrl => _app.Urls.First().TrimEnd('/') + "/v1";

    /// <summary>Every request body received, in order.</summary>
    public ConcurrentQueue<JsonObject> Requests { get; } = new();

    /// <summary>The <c>Authorization</c> headers received, in order.</summary>
    public ConcurrentQueue<string> Authorizations { get; } = new();

    /// <summary>The path and query of every request received, in order.</summary>
    public ConcurrentQueue<string> Paths { get; } = new();

    /// <summary>The <c>api-key</c> headers received (Azure's), in order.</summary>
    public ConcurrentQueue<string> ApiKeyHeaders { get; } = new();

    /// <summary>Requests whose stream was cut by the client (observed as a cancelled request).</summary>
    public int ClientCancellations => _clientCancellations;

    /// <summary>The answer text of non-tool chat completions.</summary>
    public string AnswerText { get; set; } = "Hello from the fake upstream.";

    /// <summary>Prompt tokens reported in usage.</summary>
    public int PromptTokens { get; set; } = 12;

    /// <summary>Cached prompt tokens reported in usage.</summary>
    public int CachedTokens { get; set; }

    /// <summary>Reasoning tokens reported in usage.</summary>
    public int ReasoningTokens { get; set; }

    /// <summary>Seconds sent in <c>retry-after</c> on 429.</summary>
    public int RetryAfterSeconds { get; set; }

    /// <summary>Behave like an OpenAI-compatible server that reports no usage at all (older Ollama or llama.cpp builds).</summary>
    public bool OmitUsage { get; set; }

    /// <summary>The model name the fake reports (the requested one when null).</summary>
    public string? ReportedModel { get; set; }

    private int _clientCancellations;

    /// <summary>Queues behaviours for the next requests (then <see cref="FakeBehavior.Ok"/>).</summary>
    public void Enqueue(params FakeBehavior[] behaviors)
    {
        foreach (var behavior in behaviors)
        {
            _script.Enqueue(behavior);
        }
    }

    public static async Task<FakeOpenAiUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var fake = new FakeOpenAiUpstream(app);
        app.MapPost("/v1/chat/completions", fake.ChatAsync);
        app.MapPost("/v1/embeddings", fake.EmbeddingsAsync);
        // Azure OpenAI's two URL shapes: dated api-version with the deployment in the path, and the v1 API.
        app.MapPost("/openai/deployments/{deployment}/chat/completions", fake.ChatAsync);
        app.MapPost("/openai/v1/chat/completions", fake.ChatAsync);
        app.MapGet("/v1/models", () => Results.Text("""{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":1721172741,"owned_by":"system"}]}""", "application/json"));
        await app.StartAsync();
        return fake;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task ChatAsync(HttpContext context)
    {
        var body = await ReadAsync(context);
        if (await MisbehaveAsync(context))
        {
            return;
        }

        var model = ReportedModel ?? body["model"]?.GetValue<string>() ?? "gpt-4o-mini";
        var stream = body["stream"]?.GetValue<bool>() == true;
        var includeUsage = body["stream_options"]?["include_usage"]?.GetValue<bool>() == true;
        var wantsTool = body["tools"] is JsonArray { Count: > 0 } && body["messages"]!.AsArray().Last()!["role"]!.GetValue<string>() == "user";
        var id = "chatcmpl-" + Guid.NewGuid().ToString("N")[..24];
        const long Created = 1770950778;
        var completionTokens = AnswerText.Split(' ').Length + ReasoningTokens;
        if (!stream)
        {
            var message = wantsTool
                ? new JsonObject
                {
                    ["role"] = "assistant",
                    ["content"] = null,
                    ["tool_calls"] = new JsonArray(new JsonObject
                    {
                        ["id"] = "call_SKQEHo7QVlJRoCtEzcrYZM9C",
                        ["type"] = "function",
                        ["function"] = new JsonObject { ["name"] = body["tools"]![0]!["function"]!["name"]!.GetValue<string>(), ["arguments"] = """{"city_name": "Santiago"}""" },
                    }),
                    ["refusal"] = null,
                    ["annotations"] = new JsonArray(),
                }
                : new JsonObject { ["role"] = "assistant", ["content"] = AnswerText, ["refusal"] = null, ["annotations"] = new JsonArray() };
            var response = new JsonObject
            {
                ["id"] = id,
                ["object"] = "chat.completion",
                ["created"] = Created,
                ["model"] = model,
                ["choices"] = new JsonArray(new JsonObject
                {
                    ["index"] = 0,
                    ["message"] = message,
                    ["logprobs"] = null,
                    ["finish_reason"] = wantsTool ? "tool_calls" : "stop",
                }),
                ["usage"] = Usage(completionTokens),
                ["service_tier"] = "default",
                ["system_fingerprint"] = "fp_373a14eb6f",
            };
            if (OmitUsage)
            {
                response.Remove("usage");
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(response.ToJsonString());
            return;
        }

        includeUsage &= !OmitUsage;

        context.Response.ContentType = "text/event-stream; charset=utf-8";
        context.Features.Get<IHttpResponseBodyFeature>()!.DisableBuffering();
        var behavior = _last;
        async Task Send(JsonObject choiceDelta, string? finish, bool withUsageField = true)
        {
            var chunk = new JsonObject
            {
                ["id"] = id,
                ["object"] = "chat.completion.chunk",
                ["created"] = Created,
                ["model"] = model,
                ["service_tier"] = "default",
                ["system_fingerprint"] = "fp_373a14eb6f",
                ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = choiceDelta, ["logprobs"] = null, ["finish_reason"] = finish }),
            };
            if (includeUsage && withUsageField)
            {
                chunk["usage"] = null;
            }

            await context.Response.WriteAsync($"data: {chunk.ToJsonString()}\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }

        try
        {
            await Send(new JsonObject { ["role"] = "assistant", ["content"] = "", ["refusal"] = null }, null);
            if (wantsTool)
            {
                var name = body["tools"]![0]!["function"]!["name"]!.GetValue<string>();
                await Send(new JsonObject { ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = 0, ["id"] = "call_1", ["type"] = "function", ["function"] = new JsonObject { ["name"] = name, ["arguments"] = "" } }) }, null);
                await Send(new JsonObject { ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = 0, ["function"] = new JsonObject { ["arguments"] = "{\"city_name\":" } }) }, null);
                await Send(new JsonObject { ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = 0, ["function"] = new JsonObject { ["arguments"] = "\"Paris\"}" } }) }, null);
                await Send(new JsonObject(), "tool_calls");
            }
            else
            {
                var words = AnswerText.Split(' ');
                for (var i = 0; i < words.Length; i++)
                {
                    await Send(new JsonObject { ["content"] = (i == 0 ? "" : " ") + words[i] }, null);
                    if (behavior == FakeBehavior.StreamThenHang && i == 1)
                    {
                        await Task.Delay(Timeout.Infinite, context.RequestAborted);
                    }
                }

                await Send(new JsonObject(), "stop");
            }

            if (includeUsage)
            {
                var usageChunk = new JsonObject
                {
                    ["id"] = id,
                    ["object"] = "chat.completion.chunk",
                    ["created"] = Created,
                    ["model"] = model,
                    ["service_tier"] = "default",
                    ["system_fingerprint"] = "fp_373a14eb6f",
                    ["choices"] = new JsonArray(),
                    ["usage"] = Usage(completionTokens),
                };
                await context.Response.WriteAsync($"data: {usageChunk.ToJsonString()}\n\n", context.RequestAborted);
            }

            await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            Interlocked.Increment(ref _clientCancellations);
        }
    }

    private async Task EmbeddingsAsync(HttpContext context)
    {
        var body = await ReadAsync(context);
        if (await MisbehaveAsync(context))
        {
            return;
        }

        var inputs = body["input"] is JsonArray array ? array.Count : 1;
        var base64 = body["encoding_format"]?.GetValue<string>() == "base64";
        var data = new JsonArray();
        for (var i = 0; i < inputs; i++)
        {
            var vector = new float[] { 0.1f * (i + 1), -0.2f, 0.3f };
            JsonNode embedding = base64
                ? Convert.ToBase64String(vector.SelectMany(BitConverter.GetBytes).ToArray())
                : new JsonArray(vector.Select(v => (JsonNode)v).ToArray());
            data.Add(new JsonObject { ["object"] = "embedding", ["index"] = i, ["embedding"] = embedding });
        }

        var response = new JsonObject
        {
            ["object"] = "list",
            ["data"] = data,
            ["model"] = body["model"]?.GetValue<string>(),
            ["usage"] = new JsonObject { ["prompt_tokens"] = 4 * inputs, ["total_tokens"] = 4 * inputs },
        };
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(response.ToJsonString());
    }

    private FakeBehavior _last;

    private async Task<JsonObject> ReadAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync();
        var body = JsonNode.Parse(text)!.AsObject();
        Requests.Enqueue(body);
        Authorizations.Enqueue(context.Request.Headers.Authorization.ToString());
        Paths.Enqueue(context.Request.Path + context.Request.QueryString);
        ApiKeyHeaders.Enqueue(context.Request.Headers["api-key"].ToString());
        return body;
    }

    private async Task<bool> MisbehaveAsync(HttpContext context)
    {
        _last = _script.TryDequeue(out var behavior) ? behavior : FakeBehavior.Ok;
        switch (_last)
        {
            case FakeBehavior.RateLimited:
                context.Response.StatusCode = 429;
                context.Response.Headers["retry-after"] = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await WriteErrorAsync(context, "Rate limit reached for gpt-4o-mini in organization org-XYZ on requests per min (RPM): Limit 3, Used 3, Requested 1.", "requests", "rate_limit_exceeded");
                return true;
            case FakeBehavior.ServerError:
                context.Response.StatusCode = 500;
                await WriteErrorAsync(context, "The server had an error while processing your request. Sorry about that!", "server_error", null);
                return true;
            case FakeBehavior.Unavailable:
                context.Response.StatusCode = 503;
                await WriteErrorAsync(context, "The engine is currently overloaded, please try again later", "server_error", null);
                return true;
            case FakeBehavior.BadRequest:
                context.Response.StatusCode = 400;
                await WriteErrorAsync(context, "Invalid value for 'temperature': must be between 0 and 2.", "invalid_request_error", "invalid_value");
                return true;
            case FakeBehavior.Hang:
                try
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                }

                return true;
            case FakeBehavior.Reset:
                context.Abort();
                return true;
            default:
                return false;
        }
    }

    private static Task WriteErrorAsync(HttpContext context, string message, string type, string? code)
    {
        context.Response.ContentType = "application/json";
        var error = new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["param"] = null, ["code"] = code } };
        return context.Response.WriteAsync(error.ToJsonString());
    }

    private JsonObject Usage(int completionTokens) => new()
    {
        ["prompt_tokens"] = PromptTokens,
        ["completion_tokens"] = completionTokens,
        ["total_tokens"] = PromptTokens + completionTokens,
        ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = CachedTokens, ["audio_tokens"] = 0 },
        ["completion_tokens_details"] = new JsonObject { ["reasoning_tokens"] = ReasoningTokens, ["audio_tokens"] = 0, ["accepted_prediction_tokens"] = 0, ["rejected_prediction_tokens"] = 0 },
    };
}
