using System.Buffers;
using System.Net.Http.Headers;
using Cairn.Core.Gateway;

namespace Cairn.Server.Gateway;

/// <summary>OpenAI's protocol, for OpenAI, Azure OpenAI and every OpenAI-compatible server: the body is forwarded as the client sent it.</summary>
internal sealed class OpenAiAdapter(bool azure) : ProviderAdapter
{
    public const string DefaultBaseUrl = "https://api.openai.com/v1";

    /// <inheritdoc />
    public override HttpRequestMessage CreateRequest(GatewayCall call, UpstreamTarget target)
    {
        var provider = target.Provider;
        var info = call.Info ?? OpenAiBody.Inspect(call.Body.Span);
        // Ask for the usage chunk on every stream; the client only sees it when it asked for it.
        var body = OpenAiBody.Rewrite(call.Body, info, target.Model, addIncludeUsage: call.Stream && !info.IncludeUsage);
        var baseUrl = (provider.BaseUrl ?? (azure ? throw new GatewayException(500, $"Provider '{target.ProviderName}' (Azure OpenAI) has no BaseUrl.", "server_error") : DefaultBaseUrl)).TrimEnd('/');
        string url;
        if (azure && !string.IsNullOrEmpty(provider.ApiVersion))
        {
            url = $"{baseUrl}/openai/deployments/{Uri.EscapeDataString(target.Model)}/{call.UpstreamPath}?api-version={Uri.EscapeDataString(provider.ApiVersion)}";
        }
        else if (azure)
        {
            url = baseUrl.EndsWith("/openai/v1", StringComparison.OrdinalIgnoreCase) ? $"{baseUrl}/{call.UpstreamPath}" : $"{baseUrl}/openai/v1/{call.UpstreamPath}";
        }
        else
        {
            url = $"{baseUrl}/{call.UpstreamPath}";
        }

        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = Json(body), Version = System.Net.HttpVersion.Version11 };
        var key = ResolveSecret(provider.ApiKey);
        if (key is not null)
        {
            if (azure)
            {
                request.Headers.TryAddWithoutValidation("api-key", key);
            }
            else
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            }
        }
        else if (call.ClientAuthorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", call.ClientAuthorization);
        }

        if (call.Stream)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        }

        CopyHeaders(request, provider);
        return request;
    }

    /// <inheritdoc />
    public override ConvertedResponse ConvertResponse(GatewayCall call, byte[] upstreamBody)
    {
        var (usage, model, _) = OpenAiBody.ScanResponse(upstreamBody);
        return new ConvertedResponse(upstreamBody, usage, model);
    }

    /// <inheritdoc />
    public override IStreamConverter CreateStreamConverter(GatewayCall call) => new PassThroughStream(call.ClientWantsStreamUsage);

    /// <inheritdoc />
    public override byte[] ConvertError(int status, byte[] upstreamBody)
    {
        // OpenAI-compatible servers answer OpenAI's error shape; anything else is wrapped so the client can read it.
        if (upstreamBody.AsSpan().TrimStart(" \t\r\n"u8).StartsWith("{"u8) && upstreamBody.AsSpan().IndexOf("\"error\""u8) >= 0)
        {
            return upstreamBody;
        }

        return GatewayException.Format($"The upstream answered HTTP {status}: {OpenAiBody.Preview(upstreamBody)}", status >= 500 ? "server_error" : "invalid_request_error", null, null);
    }

    /// <summary>Forwards OpenAI's stream frames unchanged, except the usage chunk Cairn asked for on the client's behalf.</summary>
    private sealed class PassThroughStream(bool clientWantsUsage) : IStreamConverter
    {
        public TokenUsage? Usage { get; private set; }

        public string? Model { get; private set; }

        public bool Finished { get; private set; }

        public void OnFrame(ReadOnlySequence<byte> rawFrame, string? eventName, ReadOnlySpan<byte> data, IBufferWriter<byte> output)
        {
            if (data.SequenceEqual("[DONE]"u8))
            {
                Finished = true;
            }
            else if (data.Length > 0 && data[0] == (byte)'{')
            {
                // Only chunks that carry a usage object need a closer look; most do not mention it or say "usage":null.
                if (data.IndexOf("\"usage\":{"u8) >= 0 || data.IndexOf("\"usage\": {"u8) >= 0 || Model is null)
                {
                    var (usage, model, emptyChoices) = OpenAiBody.ScanResponse(data);
                    Model ??= model;
                    if (usage is not null)
                    {
                        Usage = usage;
                        if (emptyChoices && !clientWantsUsage)
                        {
                            return;
                        }
                    }
                }
            }

            foreach (var segment in rawFrame)
            {
                output.Write(segment.Span);
            }
        }

        public void Complete(IBufferWriter<byte> output)
        {
        }
    }
}
