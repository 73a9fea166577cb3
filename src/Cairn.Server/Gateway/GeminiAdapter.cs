using System.Buffers;
using System.Text.Json;
using Cairn.Core.Gateway;
using Cairn.Core.Gateway.Translation;

namespace Cairn.Server.Gateway;

/// <summary>Google's Gemini API behind OpenAI's chat completions, translated both ways.</summary>
internal sealed class GeminiAdapter : ProviderAdapter
{
    public const string DefaultBaseUrl = "https://generativelanguage.googleapis.com/v1beta";

    /// <inheritdoc />
    public override HttpRequestMessage CreateRequest(GatewayCall call, UpstreamTarget target)
    {
        if (call.UpstreamPath != "chat/completions")
        {
            throw GatewayException.InvalidRequest($"Provider '{target.ProviderName}' (Gemini) does not offer {call.Endpoint} through the gateway yet.", "model");
        }

        var body = Translate(() => GeminiTranslator.ToGeminiRequest(ParseObject(call.Body)));
        var provider = target.Provider;
        var method = call.Stream ? "streamGenerateContent?alt=sse" : "generateContent";
        var url = $"{(provider.BaseUrl ?? DefaultBaseUrl).TrimEnd('/')}/models/{Uri.EscapeDataString(target.Model)}:{method}";
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = Json(Serialize(body)), Version = System.Net.HttpVersion.Version11 };
        var key = ResolveSecret(provider.ApiKey);
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("x-goog-api-key", key);
        }
        else if (call.ClientAuthorization is not null)
        {
            // Gemini takes API keys in x-goog-api-key; a bearer credential there is a Google OAuth access token (ya29....).
            if (BearerToken(call.ClientAuthorization) is { } token && !token.StartsWith("ya29.", StringComparison.Ordinal))
            {
                request.Headers.TryAddWithoutValidation("x-goog-api-key", token);
            }
            else
            {
                request.Headers.TryAddWithoutValidation("Authorization", call.ClientAuthorization);
            }
        }

        CopyHeaders(request, provider);
        return request;
    }

    /// <inheritdoc />
    public override ConvertedResponse ConvertResponse(GatewayCall call, byte[] upstreamBody)
    {
        using var document = AnthropicAdapter.Parse(upstreamBody);
        var root = document.RootElement;
        var model = root.TryGetProperty("modelVersion", out var version) && version.ValueKind == JsonValueKind.String ? version.GetString() : null;
        var converted = GeminiTranslator.ToOpenAiResponse(root, model ?? call.Model, call.Created, NewToolCallId);
        var usage = root.TryGetProperty("usageMetadata", out var usageElement) ? UsageReader.FromGemini(usageElement) : null;
        return new ConvertedResponse(Serialize(converted), usage, model);
    }

    /// <inheritdoc />
    public override IStreamConverter CreateStreamConverter(GatewayCall call) =>
        new Stream(new GeminiToOpenAiStream(call.Model, call.Created, call.ClientWantsStreamUsage, NewToolCallId));

    /// <inheritdoc />
    public override byte[] ConvertError(int status, byte[] upstreamBody)
    {
        try
        {
            using var document = JsonDocument.Parse(upstreamBody);
            return Serialize(GeminiTranslator.ToOpenAiError(document.RootElement));
        }
        catch (JsonException)
        {
            return GatewayException.Format($"Gemini answered HTTP {status}: {OpenAiBody.Preview(upstreamBody)}", status >= 500 ? "server_error" : "invalid_request_error", null, null);
        }
    }

    private static string NewToolCallId() => "call_" + Guid.NewGuid().ToString("N")[..24];

    private sealed class Stream(GeminiToOpenAiStream translator) : IStreamConverter
    {
        private string? _model;

        public TokenUsage? Usage => translator.Usage;

        public string? Model => _model;

        public bool Finished => translator.Completed;

        public string? Error => translator.Error;

        public void OnFrame(ReadOnlySequence<byte> rawFrame, string? eventName, ReadOnlySpan<byte> data, IBufferWriter<byte> output)
        {
            if (_model is null && data.IndexOf("\"modelVersion\""u8) >= 0)
            {
                using var document = JsonDocument.Parse(data.ToArray());
                if (document.RootElement.TryGetProperty("modelVersion", out var version) && version.ValueKind == JsonValueKind.String)
                {
                    _model = version.GetString();
                }
            }

            translator.Process(data, output);
        }

        public void Complete(IBufferWriter<byte> output) => translator.Complete(output);
    }
}
