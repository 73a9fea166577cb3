using System.Buffers;
using System.Text.Json;
using Cairn.Core.Gateway;
using Cairn.Core.Gateway.Translation;

namespace Cairn.Server.Gateway;

/// <summary>Anthropic clients (<c>POST /v1/messages</c>) in front of an Anthropic upstream: forwarded as sent, usage read on the way.</summary>
internal sealed class AnthropicPassThroughAdapter : ProviderAdapter
{
    /// <inheritdoc />
    public override HttpRequestMessage CreateRequest(GatewayCall call, UpstreamTarget target)
    {
        var info = call.Info ?? OpenAiBody.Inspect(call.Body.Span);
        var body = OpenAiBody.Rewrite(call.Body, info, target.Model, addIncludeUsage: false);
        return AnthropicAdapter.CreateMessagesRequest(target, body, call);
    }

    /// <inheritdoc />
    public override ConvertedResponse ConvertResponse(GatewayCall call, byte[] upstreamBody)
    {
        using var document = AnthropicAdapter.Parse(upstreamBody);
        var root = document.RootElement;
        var usage = root.TryGetProperty("usage", out var usageElement) ? UsageReader.FromAnthropic(usageElement) : null;
        return new ConvertedResponse(upstreamBody, usage, AnthropicAdapter.ModelOf(root));
    }

    /// <inheritdoc />
    public override IStreamConverter CreateStreamConverter(GatewayCall call) => new Stream();

    /// <inheritdoc />
    public override byte[] ConvertError(int status, byte[] upstreamBody) =>
        upstreamBody.AsSpan().IndexOf("\"error\""u8) >= 0 ? upstreamBody : AnthropicErrors.Format(status, $"Anthropic answered HTTP {status}: {OpenAiBody.Preview(upstreamBody)}");

    private sealed class Stream : IStreamConverter
    {
        private long? _input, _output, _cacheRead, _cacheWrite;

        public TokenUsage? Usage => _input is null && _output is null
            ? null
            : UsageReader.FromAnthropic(_input ?? 0, _output ?? 0, _cacheRead ?? 0, _cacheWrite ?? 0);

        public string? Model { get; private set; }

        public bool Finished { get; private set; }

        public string? Error { get; private set; }

        public void OnFrame(ReadOnlySequence<byte> rawFrame, string? eventName, ReadOnlySpan<byte> data, IBufferWriter<byte> output)
        {
            if (eventName is "message_start" or "message_delta")
            {
                using var document = JsonDocument.Parse(data.ToArray());
                var root = document.RootElement;
                var message = eventName == "message_start" && root.TryGetProperty("message", out var m) ? m : root;
                Model ??= AnthropicAdapter.ModelOf(message);
                if (message.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                {
                    // message_delta's counts are cumulative and, in newer API versions, repeat the input counts.
                    _input = Read(usage, "input_tokens") ?? _input;
                    _output = Read(usage, "output_tokens") ?? _output;
                    _cacheRead = Read(usage, "cache_read_input_tokens") ?? _cacheRead;
                    _cacheWrite = Read(usage, "cache_creation_input_tokens") ?? _cacheWrite;
                }
            }
            else if (eventName == "message_stop")
            {
                Finished = true;
            }
            else if (eventName == "error")
            {
                using var document = JsonDocument.Parse(data.ToArray());
                Error = document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object
                    && error.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String
                    ? message.GetString()
                    : "The upstream sent an error event.";
            }

            foreach (var segment in rawFrame)
            {
                output.Write(segment.Span);
            }
        }

        public void Complete(IBufferWriter<byte> output)
        {
        }

        private static long? Read(JsonElement usage, string name) =>
            usage.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : null;
    }
}

/// <summary>Anthropic clients in front of an OpenAI-shaped upstream (OpenAI, Azure, Gemini through its own adapter): translated both ways.</summary>
internal sealed class AnthropicClientAdapter(ProviderAdapter inner) : ProviderAdapter
{
    /// <inheritdoc />
    public override HttpRequestMessage CreateRequest(GatewayCall call, UpstreamTarget target)
    {
        var openAi = Translate(() => AnthropicMessagesToOpenAi.ToOpenAiRequest(ParseObject(call.Body), target.Model));
        return inner.CreateRequest(Inner(call, Serialize(openAi)), target);
    }

    /// <inheritdoc />
    public override ConvertedResponse ConvertResponse(GatewayCall call, byte[] upstreamBody)
    {
        var openAi = inner.ConvertResponse(Inner(call, call.Body), upstreamBody);
        using var document = AnthropicAdapter.Parse(openAi.Body);
        var anthropic = AnthropicMessagesToOpenAi.ToAnthropicResponse(document.RootElement, openAi.Model ?? call.Model);
        return new ConvertedResponse(Serialize(anthropic), openAi.Usage, openAi.Model);
    }

    /// <inheritdoc />
    public override IStreamConverter CreateStreamConverter(GatewayCall call) =>
        new Stream(inner.CreateStreamConverter(Inner(call, call.Body)), new OpenAiToAnthropicStream(call.Model));

    /// <inheritdoc />
    public override byte[] ConvertError(int status, byte[] upstreamBody)
    {
        var openAi = inner.ConvertError(status, upstreamBody);
        try
        {
            using var document = JsonDocument.Parse(openAi);
            return Serialize(AnthropicMessagesToOpenAi.ToAnthropicError(document.RootElement, status));
        }
        catch (JsonException)
        {
            return AnthropicErrors.Format(status, OpenAiBody.Preview(upstreamBody));
        }
    }

    private static GatewayCall Inner(GatewayCall call, ReadOnlyMemory<byte> body) => new()
    {
        Endpoint = call.Endpoint,
        UpstreamPath = "chat/completions",
        Body = body,
        Model = call.Model,
        Stream = call.Stream,
        ClientWantsStreamUsage = true,
        ClientAuthorization = call.ClientAuthorization,
        Created = call.Created,
        AnthropicVersion = call.AnthropicVersion,
        AnthropicBeta = call.AnthropicBeta,
    };

    /// <summary>The inner converter yields OpenAI frames; each is translated into Anthropic's events.</summary>
    private sealed class Stream(IStreamConverter inner, OpenAiToAnthropicStream translator) : IStreamConverter
    {
        private readonly ArrayBufferWriter<byte> _openAi = new();

        public TokenUsage? Usage => inner.Usage ?? translator.Usage;

        public string? Model => inner.Model;

        public bool Finished => translator.Completed;

        public string? Error => inner.Error ?? translator.Error;

        public void OnFrame(ReadOnlySequence<byte> rawFrame, string? eventName, ReadOnlySpan<byte> data, IBufferWriter<byte> output)
        {
            inner.OnFrame(rawFrame, eventName, data, _openAi);
            Drain(output);
        }

        public void Complete(IBufferWriter<byte> output)
        {
            inner.Complete(_openAi);
            Drain(output);
            translator.Complete(output);
        }

        private void Drain(IBufferWriter<byte> output)
        {
            if (_openAi.WrittenCount == 0)
            {
                return;
            }

            var pending = new ReadOnlySequence<byte>(_openAi.WrittenMemory);
            while (SseFrames.TryRead(ref pending, out var frame))
            {
                var (_, data) = SseFrames.Parse(frame);
                translator.Process(data, output);
            }

            _openAi.ResetWrittenCount();
        }
    }
}

/// <summary>Anthropic's error body: <c>{"type":"error","error":{"type","message"}}</c>.</summary>
internal static class AnthropicErrors
{
    public static byte[] Format(int status, string message)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "error");
            writer.WriteStartObject("error");
            writer.WriteString("type", AnthropicMessagesToOpenAi.ErrorTypeForStatus(status));
            writer.WriteString("message", message);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
