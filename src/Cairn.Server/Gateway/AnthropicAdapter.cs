using System.Buffers;
using System.Text.Json;
using Cairn.Core.Gateway;
using Cairn.Core.Gateway.Translation;

namespace Cairn.Server.Gateway;

/// <summary>Anthropic's Messages API behind OpenAI's chat completions: requests, answers, streams and errors translated both ways.</summary>
internal sealed class AnthropicAdapter : ProviderAdapter
{
    public const string DefaultBaseUrl = "https://api.anthropic.com";
    public const string Version = "2023-06-01";

    /// <inheritdoc />
    public override HttpRequestMessage CreateRequest(GatewayCall call, UpstreamTarget target)
    {
        if (call.UpstreamPath != "chat/completions")
        {
            throw GatewayException.InvalidRequest($"Provider '{target.ProviderName}' (Anthropic) does not offer {call.Endpoint}.", "model");
        }

        var body = Translate(() => AnthropicTranslator.ToAnthropicRequest(ParseObject(call.Body), target.Model));
        return CreateMessagesRequest(target, Serialize(body), call);
    }

    /// <summary>A <c>POST /v1/messages</c> to the provider with its key and Anthropic's headers.</summary>
    public static HttpRequestMessage CreateMessagesRequest(UpstreamTarget target, ReadOnlyMemory<byte> body, GatewayCall call)
    {
        var clientAuthorization = call.ClientAuthorization;
        var provider = target.Provider;
        var request = new HttpRequestMessage(HttpMethod.Post, (provider.BaseUrl ?? DefaultBaseUrl).TrimEnd('/') + "/v1/messages")
        {
            Content = Json(body),
            Version = System.Net.HttpVersion.Version11,
        };
        var key = ResolveSecret(provider.ApiKey);
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("x-api-key", key);
        }
        else if (clientAuthorization is not null)
        {
            // Anthropic takes API keys only in x-api-key; a bearer credential there is an OAuth token (sk-ant-oat...).
            if (BearerToken(clientAuthorization) is { } token && !token.StartsWith("sk-ant-oat", StringComparison.Ordinal))
            {
                request.Headers.TryAddWithoutValidation("x-api-key", token);
            }
            else
            {
                request.Headers.TryAddWithoutValidation("Authorization", clientAuthorization);
            }
        }

        // The client's API version and beta features travel on (Anthropic's SDK sends both); the default version otherwise.
        request.Headers.TryAddWithoutValidation("anthropic-version", call.AnthropicVersion ?? Version);
        if (call.AnthropicBeta is { Length: > 0 } beta)
        {
            request.Headers.TryAddWithoutValidation("anthropic-beta", beta);
        }

        CopyHeaders(request, provider);
        return request;
    }

    /// <inheritdoc />
    public override ConvertedResponse ConvertResponse(GatewayCall call, byte[] upstreamBody)
    {
        using var document = Parse(upstreamBody);
        var root = document.RootElement;
        var converted = AnthropicTranslator.ToOpenAiResponse(root, ModelOf(root) ?? call.Model, call.Created);
        var usage = root.TryGetProperty("usage", out var usageElement) ? UsageReader.FromAnthropic(usageElement) : null;
        return new ConvertedResponse(Serialize(converted), usage, ModelOf(root));
    }

    /// <inheritdoc />
    public override IStreamConverter CreateStreamConverter(GatewayCall call) => new Stream(new AnthropicToOpenAiStream(call.Model, call.Created, call.ClientWantsStreamUsage));

    /// <inheritdoc />
    public override byte[] ConvertError(int status, byte[] upstreamBody)
    {
        try
        {
            using var document = JsonDocument.Parse(upstreamBody);
            return Serialize(AnthropicTranslator.ToOpenAiError(document.RootElement));
        }
        catch (JsonException)
        {
            return GatewayException.Format($"Anthropic answered HTTP {status}: {OpenAiBody.Preview(upstreamBody)}", status >= 500 ? "server_error" : "invalid_request_error", null, null);
        }
    }

    internal static string? ModelOf(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String ? model.GetString() : null;

    internal static JsonDocument Parse(byte[] body)
    {
        try
        {
            return JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            throw new GatewayException(502, $"The upstream answered with invalid JSON: {e.Message}", "server_error");
        }
    }

    private sealed class Stream(AnthropicToOpenAiStream translator) : IStreamConverter
    {
        private string? _model;

        public TokenUsage? Usage => translator.Usage;

        public string? Model => _model;

        public bool Finished => translator.Completed;

        public string? Error => translator.Error;

        public void OnFrame(ReadOnlySequence<byte> rawFrame, string? eventName, ReadOnlySpan<byte> data, IBufferWriter<byte> output)
        {
            if (_model is null && eventName == "message_start")
            {
                using var document = JsonDocument.Parse(data.ToArray());
                if (document.RootElement.TryGetProperty("message", out var message))
                {
                    _model = ModelOf(message);
                }
            }

            translator.Process(eventName, data, output);
        }

        public void Complete(IBufferWriter<byte> output)
        {
        }
    }
}
