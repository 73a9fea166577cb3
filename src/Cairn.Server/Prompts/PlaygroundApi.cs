using System.Buffers;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Contracts.Prompts;
using Cairn.Core.Gateway;
using Cairn.Core.Prompts;
using Cairn.Core.Tracking;
using Cairn.Server.Gateway;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Cairn.Server.Prompts;

/// <summary>
/// The prompt playground's server side: <c>POST /api/cairn/playground/run</c> renders a prompt (a saved version or a
/// draft) and sends it through Cairn's own gateway as a streamed chat completion, relaying the stream to the browser. Going
/// through the gateway (over loopback, with the in-memory <see cref="PlaygroundKey"/>) means every run is routed, retried,
/// priced and recorded in the request log like any other call, with <c>Cairn-Prompt</c> for saved versions.
/// <c>GET /api/cairn/gateway/requests/{id}</c> then gives the run's record (tokens, cost, latency, time to first token).
/// </summary>
internal static class PlaygroundApi
{
    public static IEndpointRouteBuilder MapPlaygroundApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/api/cairn/playground/run", RunAsync).WithTags("Prompts").WithName("RunPlayground").DisableAntiforgery();
        endpoints.MapGet("/api/cairn/gateway/requests/{id}", GetRecordAsync).WithTags("Gateway").WithName("GetRequestRecord");
        return endpoints;
    }

    // Playground runs call this process's own gateway over loopback; one pooled client for all of them.
    private static readonly HttpClient s_self = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, AutomaticDecompression = System.Net.DecompressionMethods.None })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private static async Task RunAsync(HttpContext context, PromptRegistry prompts, PlaygroundKey key)
    {
        JsonObject? body;
        try
        {
            body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
        }
        catch (JsonException e)
        {
            await ProblemAsync(context, StatusCodes.Status400BadRequest, "Invalid request body", $"The body must be a JSON object: {e.Message}");
            return;
        }

        if (body is null || body["model"]?.GetValue<string>() is not { Length: > 0 } model)
        {
            await ProblemAsync(context, StatusCodes.Status400BadRequest, "Missing model", "A playground run needs a 'model' (a route or provider/model).");
            return;
        }

        var variables = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (body["variables"] is JsonObject given)
        {
            foreach (var (name, value) in given)
            {
                variables[name] = value is null ? null : JsonSerializer.Deserialize(value.ToJsonString(), PlaygroundJson.Default.JsonElement);
            }
        }

        List<PromptMessage> messages;
        string? promptHeader = null;
        JsonObject? modelConfig = body["model_config"] as JsonObject;
        try
        {
            if (body["prompt"] is JsonObject saved)
            {
                var name = saved["name"]?.GetValue<string>() ?? throw TrackingException.Invalid("prompt.name is required.");
                var version = await prompts.GetAsync(name, saved["version"]?.GetValue<int>(), saved["label"]?.GetValue<string>(), context.RequestAborted);
                promptHeader = $"{version.Name}@{version.Version}";
                modelConfig ??= version.ModelConfig;
                messages = Render(version.Text, version.Messages, variables);
            }
            else
            {
                var draftMessages = body["messages"] is JsonArray list
                    ? list.Select(m => new PromptMessage { Role = m?["role"]?.GetValue<string>() ?? "user", Content = m?["content"]?.GetValue<string>() ?? "" }).ToList()
                    : null;
                var text = body["template"]?.GetValue<string>();
                if ((text is null) == (draftMessages is null))
                {
                    throw TrackingException.Invalid("Give a saved 'prompt' {name, version|label}, or a draft 'template' or 'messages'.");
                }

                messages = Render(text, draftMessages, variables);
            }
        }
        catch (TrackingException e)
        {
            await ProblemAsync(context, e.Code == TrackingErrorCode.ResourceDoesNotExist ? StatusCodes.Status404NotFound : StatusCodes.Status400BadRequest, "Invalid prompt", e.Message);
            return;
        }
        catch (Exception e) when (e is PromptTemplateException or PromptRenderException or InvalidOperationException or FormatException)
        {
            await ProblemAsync(context, StatusCodes.Status400BadRequest, e is PromptRenderException ? "Missing variables" : "Invalid template", e.Message);
            return;
        }

        // The chat completion, as an OpenAI client would send it through the gateway.
        var request = new JsonObject
        {
            ["model"] = model,
            ["messages"] = new JsonArray([.. messages.Select(static m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content })]),
            ["stream"] = true,
            ["stream_options"] = new JsonObject { ["include_usage"] = true },
        };
        foreach (var (setting, target) in (ReadOnlySpan<(string, string)>)[("temperature", "temperature"), ("max_tokens", "max_tokens"), ("top_p", "top_p")])
        {
            if (modelConfig?[setting] is JsonValue value)
            {
                request[target] = value.DeepClone();
            }
        }

        var self = SelfAddress(context);
        using var upstream = new HttpRequestMessage(HttpMethod.Post, new Uri(self, "/v1/chat/completions"))
        {
            Content = new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        upstream.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key.Secret);
        if (promptHeader is not null)
        {
            upstream.Headers.TryAddWithoutValidation(Attribution.PromptHeader, promptHeader);
        }

        using var response = await s_self.SendAsync(upstream, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        if (response.Headers.TryGetValues(GatewayHandler.RequestIdHeader, out var ids))
        {
            context.Response.Headers[GatewayHandler.RequestIdHeader] = ids.First();
        }

        if (!response.IsSuccessStatusCode)
        {
            // The gateway's OpenAI-style error, as problem details for the playground page.
            var error = await response.Content.ReadAsStringAsync(context.RequestAborted);
            var message = (JsonNode.Parse(error) as JsonObject)?["error"]?["message"]?.GetValue<string>() ?? error;
            await ProblemAsync(context, (int)response.StatusCode, "The model call failed", message);
            return;
        }

        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        if (promptHeader is not null)
        {
            context.Response.Headers[Attribution.PromptHeader] = promptHeader;
        }

        await using var stream = await response.Content.ReadAsStreamAsync(context.RequestAborted);
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static List<PromptMessage> Render(string? text, IReadOnlyList<PromptMessage>? messages, Dictionary<string, object?> variables) =>
        messages is not null
            ? ChatPromptTemplate.Parse(messages).Render(variables)
            : [new PromptMessage { Role = "user", Content = PromptTemplate.Parse(text ?? "").Render(variables) }];

    private static async Task GetRecordAsync(string id, HttpContext context, IRequestLogStore store)
    {
        var record = await store.GetAsync(id, context.RequestAborted);
        if (record is null)
        {
            await ProblemAsync(context, StatusCodes.Status404NotFound, "Not found", $"No request record '{id}' (records are stored a few milliseconds after the call ends).");
            return;
        }

        var json = new JsonObject
        {
            ["id"] = record.Id,
            ["timestamp"] = record.Timestamp,
            ["requested_model"] = record.RequestedModel,
            ["served_model"] = record.ServedModel,
            ["provider"] = record.Provider,
            ["status"] = record.Status,
            ["outcome"] = record.Outcome.ToString().ToLowerInvariant(),
            ["error"] = record.Error,
            ["stream"] = record.Stream,
            ["latency_ms"] = record.LatencyMs,
            ["ttft_ms"] = record.TimeToFirstTokenMs,
            ["prompt_tokens"] = record.Usage?.PromptTokens,
            ["completion_tokens"] = record.Usage?.CompletionTokens,
            ["cached_tokens"] = record.Usage?.CachedInputTokens,
            ["reasoning_tokens"] = record.Usage?.ReasoningTokens,
            ["tokens_estimated"] = record.Usage?.Estimated,
            ["cost_usd"] = record.CostUsd,
            ["prompt_name"] = record.PromptName,
            ["prompt_version"] = record.PromptVersion,
            ["key_id"] = record.KeyId,
        };
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(json.ToJsonString(), context.RequestAborted);
    }

    // Cairn listens on loopback only (CairnApp refuses other addresses), so its first address reaches its own gateway.
    private static Uri SelfAddress(HttpContext context) =>
        CairnApp.ListeningAddresses(context.RequestServices).FirstOrDefault() ?? new Uri($"{context.Request.Scheme}://{context.Request.Host}");

    private static Task ProblemAsync(HttpContext context, int status, string title, string detail) =>
        Results.Problem(detail, statusCode: status, title: title).ExecuteAsync(context);
}

/// <summary>JSON metadata for the playground's variables.</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(JsonElement))]
internal sealed partial class PlaygroundJson : System.Text.Json.Serialization.JsonSerializerContext;
