using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Cairn.Server.Tests.Gateway;

/// <summary>
/// A local stand-in for Google's Gemini API (Generative Language) that speaks its exact wire format:
/// <c>POST /v1beta/models/{model}:generateContent</c> and <c>:streamGenerateContent?alt=sse</c> (CRLF-terminated <c>data:</c>
/// events, no end marker, cumulative <c>usageMetadata</c>, whole <c>functionCall</c> parts), the key in <c>x-goog-api-key</c>
/// (or <c>?key=</c>) answered with Google's HTTP 400 <c>API_KEY_INVALID</c> when wrong, and
/// <c>{"error":{"code","message","status","details"}}</c> errors.
/// </summary>
public sealed class FakeGeminiUpstream : IAsyncDisposable
{
    /// <summary>The key the fake accepts.</summary>
    public const string ApiKey = "AIzaSyFakeUpstreamSecret0123456789abcd";

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<VendorFault> _script = new();
    private int _counter;

    private FakeGeminiUpstream(WebApplication app) => _app = app;

    /// <summary>The API base to configure as the provider's <c>BaseUrl</c> (ends in <c>/v1beta</c>).</summary>
    public string BaseUrl => _app.Urls.First().TrimEnd('/') + "/v1beta";

    /// <summary>Every request body received (including rejected ones), in order.</summary>
    public ConcurrentQueue<JsonObject> Requests { get; } = new();

    /// <summary>The headers and path of every request received, in order (the key in <see cref="ReceivedHeaders.ApiKey"/>).</summary>
    public ConcurrentQueue<ReceivedHeaders> Headers { get; } = new();

    /// <summary>The answer text.</summary>
    public string AnswerText { get; set; } = "Hello from Gemini.";

    /// <summary>The function call arguments sent when the request declares functions and the last turn is not a function response.</summary>
    public string FunctionArgsJson { get; set; } = """{"city_name":"Paris"}""";

    /// <summary>The opaque thought signature a thinking model attaches to a function call part (none when null).</summary>
    public string? ThoughtSignature { get; set; }

    /// <summary><c>promptTokenCount</c> (which includes the cached tokens).</summary>
    public int PromptTokens { get; set; } = 30;

    /// <summary><c>cachedContentTokenCount</c> (omitted when 0).</summary>
    public int CachedTokens { get; set; }

    /// <summary><c>candidatesTokenCount</c> (the visible answer).</summary>
    public int CandidatesTokens { get; set; } = 6;

    /// <summary><c>thoughtsTokenCount</c> (omitted when 0).</summary>
    public int ThoughtsTokens { get; set; }

    /// <summary>The model the fake reports in <c>modelVersion</c>; the one in the URL when null.</summary>
    public string? ReportedModel { get; set; }

    /// <summary>Queues faults for the next requests (then normal answers).</summary>
    public void Enqueue(params VendorFault[] faults)
    {
        foreach (var fault in faults)
        {
            _script.Enqueue(fault);
        }
    }

    public static async Task<FakeGeminiUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var fake = new FakeGeminiUpstream(app);
        // "{model}:generateContent" is one path segment holding a literal colon, which route templates cannot split; parse it by hand.
        app.MapPost("/v1beta/models/{**rest}", fake.ModelsAsync);
        await app.StartAsync();
        return fake;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task ModelsAsync(HttpContext context, string rest)
    {
        var request = context.Request;
        var key = request.Headers["x-goog-api-key"].ToString();
        if (key.Length == 0)
        {
            key = request.Query["key"].ToString();
        }

        Headers.Enqueue(new ReceivedHeaders(
            key.Length == 0 ? null : key,
            null,
            request.Headers.Authorization.ToString() is { Length: > 0 } authorization ? authorization : null,
            request.ContentType,
            request.Path + request.QueryString));
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync();
        var body = JsonNode.Parse(text)!.AsObject();
        Requests.Enqueue(body);
        Interlocked.Increment(ref _counter);

        var colon = rest.LastIndexOf(':');
        var (model, method) = colon > 0 ? (rest[..colon], rest[(colon + 1)..]) : (rest, "");
        if (key != ApiKey)
        {
            context.Response.StatusCode = 400;
            context.Response.ContentType = "application/json; charset=UTF-8";
            await context.Response.WriteAsync("""
                {
                  "error": {
                    "code": 400,
                    "message": "API key not valid. Please pass a valid API key.",
                    "status": "INVALID_ARGUMENT",
                    "details": [
                      {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID",
                        "domain": "googleapis.com",
                        "metadata": {
                          "service": "generativelanguage.googleapis.com"
                        }
                      },
                      {
                        "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                        "locale": "en-US",
                        "message": "API key not valid. Please pass a valid API key."
                      }
                    ]
                  }
                }
                """);
            return;
        }

        var stream = method == "streamGenerateContent";
        if (method is not ("generateContent" or "streamGenerateContent"))
        {
            await ErrorAsync(context, 404, "NOT_FOUND", $"Method '{method}' is not found for models/{model}.");
            return;
        }

        if (stream && request.Query["alt"] != "sse")
        {
            // Without alt=sse Gemini streams one JSON array; the gateway must always ask for SSE.
            await ErrorAsync(context, 400, "INVALID_ARGUMENT", "This fake only streams with alt=sse.");
            return;
        }

        if (body["contents"] is not JsonArray { Count: > 0 } contents)
        {
            await ErrorAsync(context, 400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified");
            return;
        }

        if (contents.Any(c => c?["role"]?.GetValue<string>() is not ("user" or "model")))
        {
            await ErrorAsync(context, 400, "INVALID_ARGUMENT", "Please use a valid role: user, model.");
            return;
        }

        switch (_script.TryDequeue(out var next) ? next : VendorFault.None)
        {
            case VendorFault.RateLimited:
                await ErrorAsync(context, 429, "RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your plan and billing details.");
                return;
            case VendorFault.Overloaded:
                await ErrorAsync(context, 503, "UNAVAILABLE", "The model is overloaded. Please try again later.");
                return;
            case VendorFault.ServerError:
                await ErrorAsync(context, 500, "INTERNAL", "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting");
                return;
            case VendorFault.BadRequest:
                await ErrorAsync(context, 400, "INVALID_ARGUMENT", "Invalid value at 'generation_config.temperature' (TYPE_FLOAT), \"hot\"");
                return;
            case VendorFault.StreamError when stream:
                await StreamAsync(context, model, function: null, failAfterFirst: true);
                return;
            default:
                break;
        }

        var lastParts = contents[^1]!["parts"] as JsonArray;
        var answersFunction = lastParts is not null && lastParts.Any(p => p?["functionResponse"] is not null);
        var function = body["tools"]?[0]?["functionDeclarations"]?[0]?["name"]?.GetValue<string>() is { } name && !answersFunction ? name : null;
        if (stream)
        {
            await StreamAsync(context, model, function, failAfterFirst: false);
            return;
        }

        var response = new JsonObject
        {
            ["candidates"] = new JsonArray(new JsonObject
            {
                ["content"] = new JsonObject { ["parts"] = function is null ? new JsonArray(new JsonObject { ["text"] = AnswerText }) : new JsonArray(FunctionCallPart(function)), ["role"] = "model" },
                ["finishReason"] = "STOP",
                ["index"] = 0,
                ["safetyRatings"] = new JsonArray(new JsonObject { ["category"] = "HARM_CATEGORY_HARASSMENT", ["probability"] = "NEGLIGIBLE" }),
            }),
            ["usageMetadata"] = UsageMetadata(CandidatesTokens),
            ["modelVersion"] = ReportedModel ?? model,
            ["responseId"] = ResponseId,
        };
        context.Response.ContentType = "application/json; charset=UTF-8";
        await context.Response.WriteAsync(response.ToJsonString());
    }

    private string ResponseId => "mTxxaKqhB" + _counter.ToString(System.Globalization.CultureInfo.InvariantCulture) + "PqjMcPz";

    private async Task StreamAsync(HttpContext context, string model, string? function, bool failAfterFirst)
    {
        context.Response.ContentType = "text/event-stream";
        context.Features.Get<IHttpResponseBodyFeature>()!.DisableBuffering();
        async Task Send(JsonObject data)
        {
            await context.Response.WriteAsync($"data: {data.ToJsonString()}\r\n\r\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }

        JsonObject Chunk(JsonArray parts, string? finishReason, int candidatesSoFar)
        {
            var candidate = new JsonObject { ["content"] = new JsonObject { ["parts"] = parts, ["role"] = "model" } };
            if (finishReason is not null)
            {
                candidate["finishReason"] = finishReason;
            }

            candidate["index"] = 0;
            return new JsonObject
            {
                ["candidates"] = new JsonArray(candidate),
                ["usageMetadata"] = UsageMetadata(candidatesSoFar),
                ["modelVersion"] = ReportedModel ?? model,
                ["responseId"] = ResponseId,
            };
        }

        if (function is not null)
        {
            await Send(Chunk(new JsonArray(FunctionCallPart(function)), "STOP", CandidatesTokens));
            return;
        }

        var words = AnswerText.Split(' ');
        for (var i = 0; i < words.Length; i++)
        {
            var last = i == words.Length - 1;
            var soFar = last ? CandidatesTokens : CandidatesTokens * (i + 1) / words.Length;
            await Send(Chunk(new JsonArray(new JsonObject { ["text"] = (i == 0 ? "" : " ") + words[i] }), last ? "STOP" : null, soFar));
            if (failAfterFirst)
            {
                await Send(new JsonObject
                {
                    ["error"] = new JsonObject { ["code"] = 503, ["message"] = "The model is overloaded. Please try again later.", ["status"] = "UNAVAILABLE" },
                });
                return;
            }
        }
    }

    private JsonObject FunctionCallPart(string name)
    {
        var part = new JsonObject { ["functionCall"] = new JsonObject { ["name"] = name, ["args"] = JsonNode.Parse(FunctionArgsJson) } };
        if (ThoughtSignature is not null)
        {
            part["thoughtSignature"] = ThoughtSignature;
        }

        return part;
    }

    // Cumulative: every chunk repeats the prompt and thoughts and counts the candidates produced so far.
    private JsonObject UsageMetadata(int candidates)
    {
        var usage = new JsonObject
        {
            ["promptTokenCount"] = PromptTokens,
            ["candidatesTokenCount"] = candidates,
            ["totalTokenCount"] = PromptTokens + candidates + ThoughtsTokens,
        };
        if (CachedTokens > 0)
        {
            usage["cachedContentTokenCount"] = CachedTokens;
        }

        usage["promptTokensDetails"] = new JsonArray(new JsonObject { ["modality"] = "TEXT", ["tokenCount"] = PromptTokens });
        if (CachedTokens > 0)
        {
            usage["cacheTokensDetails"] = new JsonArray(new JsonObject { ["modality"] = "TEXT", ["tokenCount"] = CachedTokens });
        }

        if (ThoughtsTokens > 0)
        {
            usage["thoughtsTokenCount"] = ThoughtsTokens;
        }

        return usage;
    }

    private static Task ErrorAsync(HttpContext context, int code, string status, string message)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json; charset=UTF-8";
        var error = new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message, ["status"] = status } };
        return context.Response.WriteAsync(error.ToJsonString());
    }
}
