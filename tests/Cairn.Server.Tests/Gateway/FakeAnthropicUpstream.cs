using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Cairn.Server.Tests.Gateway;

/// <summary>What a vendor fake (Anthropic, Gemini) does with the next request.</summary>
public enum VendorFault
{
    /// <summary>Answer normally.</summary>
    None,

    /// <summary>HTTP 429 in the vendor's error format, with <c>retry-after</c> (Anthropic) or <c>RetryInfo</c> (Gemini).</summary>
    RateLimited,

    /// <summary>Anthropic's HTTP 529 <c>overloaded_error</c>; Gemini's HTTP 503 <c>UNAVAILABLE</c>.</summary>
    Overloaded,

    /// <summary>HTTP 500 in the vendor's error format.</summary>
    ServerError,

    /// <summary>HTTP 400 in the vendor's error format (a client error, never retried).</summary>
    BadRequest,

    /// <summary>A stream that starts normally and then carries an error event (Anthropic's <c>event: error</c>, Gemini's error object).</summary>
    StreamError,
}

/// <summary>The headers a vendor fake received with one request.</summary>
public sealed record ReceivedHeaders(string? ApiKey, string? Version, string? Authorization, string? ContentType, string Path, string? Beta = null);

/// <summary>
/// A local stand-in for Anthropic's Messages API (<c>POST /v1/messages</c>) that speaks its exact wire format: it checks
/// <c>x-api-key</c> and <c>anthropic-version</c>, answers messages with <c>text</c> and <c>tool_use</c> blocks and Anthropic's
/// usage (uncached <c>input_tokens</c> beside <c>cache_read_input_tokens</c> and <c>cache_creation_input_tokens</c>), streams
/// named SSE events (<c>message_start</c>, <c>content_block_start</c>, <c>ping</c>, <c>content_block_delta</c> with
/// <c>text_delta</c> or <c>input_json_delta</c>, <c>content_block_stop</c>, <c>message_delta</c>, <c>message_stop</c>), and
/// fails with <c>{"type":"error","error":{"type","message"},"request_id"}</c> bodies.
/// </summary>
public sealed class FakeAnthropicUpstream : IAsyncDisposable
{
    /// <summary>The key the fake accepts in <c>x-api-key</c>.</summary>
    public const string ApiKey = "sk-ant-api03-upstream-secret";

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<VendorFault> _script = new();
    private int _counter;

    private FakeAnthropicUpstream(WebApplication app) => _app = app;

    /// <summary>The API base to configure as the provider's <c>BaseUrl</c> (without <c>/v1</c>, like <c>https://api.anthropic.com</c>).</summary>
    public string BaseUrl => _app.Urls.First().TrimEnd('/');

    /// <summary>Every request body received (including rejected ones), in order.</summary>
    public ConcurrentQueue<JsonObject> Requests { get; } = new();

    /// <summary>The headers of every request received, in order.</summary>
    public ConcurrentQueue<ReceivedHeaders> Headers { get; } = new();

    /// <summary>The answer text (the text block of every answer).</summary>
    public string AnswerText { get; set; } = "Hello from Claude.";

    /// <summary>The tool input sent when the request offers tools and the last user turn is not a tool result.</summary>
    public string ToolInputJson { get; set; } = """{"city_name":"Paris"}""";

    /// <summary>Uncached input tokens reported (<c>input_tokens</c>).</summary>
    public int InputTokens { get; set; } = 25;

    /// <summary>Input tokens read from the prompt cache (<c>cache_read_input_tokens</c>).</summary>
    public int CacheReadTokens { get; set; }

    /// <summary>Input tokens written to the prompt cache (<c>cache_creation_input_tokens</c>).</summary>
    public int CacheCreationTokens { get; set; }

    /// <summary>Output tokens reported (the final, cumulative count).</summary>
    public int OutputTokens { get; set; } = 9;

    /// <summary>Whether <c>message_delta.usage</c> repeats the input and cache counts, as the current API does.</summary>
    public bool DeltaRepeatsInputUsage { get; set; } = true;

    /// <summary>Seconds sent in <c>retry-after</c> on 429.</summary>
    public int RetryAfterSeconds { get; set; }

    /// <summary>The model the fake reports; a dated snapshot of the requested one when null.</summary>
    public string? ReportedModel { get; set; }

    /// <summary>Queues faults for the next requests (then normal answers).</summary>
    public void Enqueue(params VendorFault[] faults)
    {
        foreach (var fault in faults)
        {
            _script.Enqueue(fault);
        }
    }

    public static async Task<FakeAnthropicUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var fake = new FakeAnthropicUpstream(app);
        app.MapPost("/v1/messages", fake.MessagesAsync);
        await app.StartAsync();
        return fake;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task MessagesAsync(HttpContext context)
    {
        var request = context.Request;
        Headers.Enqueue(new ReceivedHeaders(
            NullIfEmpty(request.Headers["x-api-key"].ToString()),
            NullIfEmpty(request.Headers["anthropic-version"].ToString()),
            NullIfEmpty(request.Headers.Authorization.ToString()),
            request.ContentType,
            request.Path + request.QueryString,
            NullIfEmpty(request.Headers["anthropic-beta"].ToString())));
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var body = JsonNode.Parse(await reader.ReadToEndAsync())!.AsObject();
        Requests.Enqueue(body);
        var requestId = "req_011CUeq" + Interlocked.Increment(ref _counter).ToString("D6", CultureInfo.InvariantCulture);
        context.Response.Headers["request-id"] = requestId;

        if (request.Headers["x-api-key"] != ApiKey)
        {
            await ErrorAsync(context, 401, "authentication_error", "invalid x-api-key", requestId);
            return;
        }

        if (string.IsNullOrEmpty(request.Headers["anthropic-version"]))
        {
            await ErrorAsync(context, 400, "invalid_request_error", "anthropic-version: header is required", requestId);
            return;
        }

        if (body["max_tokens"] is null)
        {
            await ErrorAsync(context, 400, "invalid_request_error", "max_tokens: Field required", requestId);
            return;
        }

        if (body["messages"] is not JsonArray { Count: > 0 } messages)
        {
            await ErrorAsync(context, 400, "invalid_request_error", "messages: Field required", requestId);
            return;
        }

        if (messages.Any(m => m?["role"]?.GetValue<string>() is not ("user" or "assistant")))
        {
            await ErrorAsync(context, 400, "invalid_request_error", "messages: roles must be 'user' or 'assistant'; use the top-level 'system' parameter for system prompts", requestId);
            return;
        }

        var fault = _script.TryDequeue(out var next) ? next : VendorFault.None;
        switch (fault)
        {
            case VendorFault.RateLimited:
                context.Response.Headers["retry-after"] = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                context.Response.Headers["anthropic-ratelimit-requests-remaining"] = "0";
                await ErrorAsync(context, 429, "rate_limit_error", "This request would exceed the rate limit for your organization of 50 requests per minute.", requestId);
                return;
            case VendorFault.Overloaded:
                await ErrorAsync(context, 529, "overloaded_error", "Overloaded", requestId);
                return;
            case VendorFault.ServerError:
                await ErrorAsync(context, 500, "api_error", "Internal server error", requestId);
                return;
            case VendorFault.BadRequest:
                await ErrorAsync(context, 400, "invalid_request_error", "temperature: range: 0..1", requestId);
                return;
            default:
                break;
        }

        var model = ReportedModel ?? body["model"]!.GetValue<string>() + "-20250929";
        var lastContent = messages[^1]!["content"];
        var answersToolResult = lastContent is JsonArray blocks && blocks.Any(b => b?["type"]?.GetValue<string>() == "tool_result");
        var tool = body["tools"] is JsonArray { Count: > 0 } tools && !answersToolResult ? tools[0]!["name"]!.GetValue<string>() : null;
        var id = "msg_01XFDUDYJgAACzvnptvVoY" + _counter.ToString("D2", CultureInfo.InvariantCulture);
        var toolId = "toolu_01A09q90qw90lq917835lq9" + _counter.ToString(CultureInfo.InvariantCulture);
        var stopReason = tool is null ? "end_turn" : "tool_use";

        if (body["stream"]?.GetValue<bool>() != true)
        {
            var content = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = AnswerText });
            if (tool is not null)
            {
                content.Add(new JsonObject { ["type"] = "tool_use", ["id"] = toolId, ["name"] = tool, ["input"] = JsonNode.Parse(ToolInputJson) });
            }

            var message = new JsonObject
            {
                ["id"] = id,
                ["type"] = "message",
                ["role"] = "assistant",
                ["model"] = model,
                ["content"] = content,
                ["stop_reason"] = stopReason,
                ["stop_sequence"] = null,
                ["usage"] = Usage(OutputTokens, withCacheDetail: true),
            };
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(message.ToJsonString());
            return;
        }

        context.Response.ContentType = "text/event-stream; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        context.Features.Get<IHttpResponseBodyFeature>()!.DisableBuffering();
        async Task Send(string name, JsonObject data)
        {
            await context.Response.WriteAsync($"event: {name}\ndata: {data.ToJsonString()}\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }

        await Send("message_start", new JsonObject
        {
            ["type"] = "message_start",
            ["message"] = new JsonObject
            {
                ["id"] = id,
                ["type"] = "message",
                ["role"] = "assistant",
                ["model"] = model,
                ["content"] = new JsonArray(),
                ["stop_reason"] = null,
                ["stop_sequence"] = null,
                ["usage"] = Usage(1, withCacheDetail: true),
            },
        });
        await Send("content_block_start", new JsonObject
        {
            ["type"] = "content_block_start",
            ["index"] = 0,
            ["content_block"] = new JsonObject { ["type"] = "text", ["text"] = "" },
        });
        await Send("ping", new JsonObject { ["type"] = "ping" });
        var words = AnswerText.Split(' ');
        for (var i = 0; i < words.Length; i++)
        {
            await Send("content_block_delta", new JsonObject
            {
                ["type"] = "content_block_delta",
                ["index"] = 0,
                ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = (i == 0 ? "" : " ") + words[i] },
            });
            if (fault == VendorFault.StreamError && i == 0)
            {
                await Send("error", new JsonObject
                {
                    ["type"] = "error",
                    ["error"] = new JsonObject { ["type"] = "overloaded_error", ["message"] = "Overloaded" },
                });
                return;
            }
        }

        await Send("content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = 0 });
        if (tool is not null)
        {
            await Send("content_block_start", new JsonObject
            {
                ["type"] = "content_block_start",
                ["index"] = 1,
                ["content_block"] = new JsonObject { ["type"] = "tool_use", ["id"] = toolId, ["name"] = tool, ["input"] = new JsonObject() },
            });
            // Anthropic starts with an empty fragment, then sends the input JSON in arbitrary pieces.
            var third = ToolInputJson.Length / 3;
            foreach (var fragment in new[] { "", ToolInputJson[..third], ToolInputJson[third..(2 * third)], ToolInputJson[(2 * third)..] })
            {
                await Send("content_block_delta", new JsonObject
                {
                    ["type"] = "content_block_delta",
                    ["index"] = 1,
                    ["delta"] = new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = fragment },
                });
            }

            await Send("content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = 1 });
        }

        var deltaUsage = DeltaRepeatsInputUsage ? Usage(OutputTokens, withCacheDetail: false) : new JsonObject { ["output_tokens"] = OutputTokens };
        await Send("message_delta", new JsonObject
        {
            ["type"] = "message_delta",
            ["delta"] = new JsonObject { ["stop_reason"] = stopReason, ["stop_sequence"] = null },
            ["usage"] = deltaUsage,
        });
        await Send("message_stop", new JsonObject { ["type"] = "message_stop" });
    }

    private JsonObject Usage(int outputTokens, bool withCacheDetail)
    {
        var usage = new JsonObject
        {
            ["input_tokens"] = InputTokens,
            ["cache_creation_input_tokens"] = CacheCreationTokens,
            ["cache_read_input_tokens"] = CacheReadTokens,
        };
        if (withCacheDetail)
        {
            usage["cache_creation"] = new JsonObject { ["ephemeral_5m_input_tokens"] = CacheCreationTokens, ["ephemeral_1h_input_tokens"] = 0 };
        }

        usage["output_tokens"] = outputTokens;
        if (withCacheDetail)
        {
            usage["service_tier"] = "standard";
        }

        return usage;
    }

    private static Task ErrorAsync(HttpContext context, int status, string type, string message, string requestId)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var error = new JsonObject
        {
            ["type"] = "error",
            ["error"] = new JsonObject { ["type"] = type, ["message"] = message },
            ["request_id"] = requestId,
        };
        return context.Response.WriteAsync(error.ToJsonString());
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
