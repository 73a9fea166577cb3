using System.Buffers;
using System.Text.Json;

namespace Cairn.Core.Gateway.Translation;

/// <summary>Turns an Anthropic Messages event stream into OpenAI <c>chat.completion.chunk</c> frames, one upstream event at a time.</summary>
/// <remarks>
/// Feed every upstream event to <see cref="Process"/> in order. <c>message_stop</c> ends the OpenAI stream (usage chunk when
/// asked for, then <c>data: [DONE]</c>); an <c>error</c> event ends it with an OpenAI error frame. When the upstream closes
/// before either, <see cref="Completed"/> stays false and the caller decides how to end the client's stream.
/// Not thread-safe: one instance serves one stream.
/// </remarks>
public sealed class AnthropicToOpenAiStream
{
    private readonly OpenAiChunkWriter _writer;
    private readonly bool _includeUsage;
    private readonly Dictionary<int, int> _toolIndexByBlock = [];
    private bool _started;
    private bool _finishWritten;
    private bool _ended;
    private long? _inputTokens;
    private long? _outputTokens;
    private long _cacheRead;
    private long _cacheWrite;

    /// <summary>Creates a translator for one stream.</summary>
    /// <param name="requestedModel">The model name the client asked for, echoed in every chunk.</param>
    /// <param name="created">The Unix time, in seconds, written as <c>created</c>.</param>
    /// <param name="includeUsage">Whether the client sent <c>stream_options.include_usage: true</c>.</param>
    public AnthropicToOpenAiStream(string requestedModel, long created, bool includeUsage)
    {
        ArgumentNullException.ThrowIfNull(requestedModel);
        _writer = new OpenAiChunkWriter(requestedModel, created, includeUsage);
        _includeUsage = includeUsage;
    }

    /// <summary>The usage reported so far (input from <c>message_start</c>, the cumulative output from <c>message_delta</c>).</summary>
    public TokenUsage? Usage => _inputTokens is null && _outputTokens is null
        ? null
        : new TokenUsage((_inputTokens ?? 0) + _cacheRead + _cacheWrite, _outputTokens ?? 0, _cacheRead, _cacheWrite);

    /// <summary>Whether <c>message_stop</c> arrived, so the response is whole.</summary>
    public bool Completed { get; private set; }

    /// <summary>The OpenAI <c>finish_reason</c> sent, once <c>message_delta</c> arrived.</summary>
    public string? FinishReason { get; private set; }

    /// <summary>The upstream's error message when the stream ended with an <c>error</c> event.</summary>
    public string? Error { get; private set; }

    /// <summary>The chunk id sent to the client (<c>chatcmpl-</c> and the Anthropic message id).</summary>
    public string Id => _writer.Id;

    /// <summary>Translates one upstream event and writes the resulting OpenAI frames, if any.</summary>
    /// <param name="eventName">The SSE <c>event:</c> name; when null or empty, the data's <c>type</c> is used.</param>
    /// <param name="data">The event's <c>data:</c> JSON.</param>
    /// <param name="output">Where the OpenAI frames are written.</param>
    /// <exception cref="JsonException">The data is not JSON.</exception>
    public void Process(string? eventName, ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_ended)
        {
            return;
        }

        if (eventName is "ping" or "content_block_stop")
        {
            return;
        }

        using var document = TranslationJson.Parse(data);
        var root = document.Root;
        if (string.IsNullOrEmpty(eventName))
        {
            eventName = TranslationJson.GetString(root, "type");
        }

        switch (eventName)
        {
            case "message_start":
                OnMessageStart(root, output);
                break;
            case "content_block_start":
                OnBlockStart(root, output);
                break;
            case "content_block_delta":
                OnBlockDelta(root, output);
                break;
            case "message_delta":
                OnMessageDelta(root, output);
                break;
            case "message_stop":
                OnMessageStop(output);
                break;
            case "error":
                OnError(root, output);
                break;
            default:
                break;
        }
    }

    private void EnsureStarted(IBufferWriter<byte> output)
    {
        if (!_started)
        {
            _started = true;
            _writer.WriteRole(output, 0);
        }
    }

    private void OnMessageStart(JsonElement root, IBufferWriter<byte> output)
    {
        if (TranslationJson.TryGet(root, "message", JsonValueKind.Object, out var message))
        {
            if (TranslationJson.GetString(message, "id") is { } id)
            {
                _writer.Id = "chatcmpl-" + TranslationJson.StripPrefix(id, "msg_");
            }

            if (TranslationJson.TryGet(message, "usage", JsonValueKind.Object, out var usage))
            {
                ReadUsage(usage);
            }
        }

        EnsureStarted(output);
    }

    private void OnBlockStart(JsonElement root, IBufferWriter<byte> output)
    {
        EnsureStarted(output);
        if (!TranslationJson.TryGet(root, "content_block", JsonValueKind.Object, out var block))
        {
            return;
        }

        switch (TranslationJson.GetString(block, "type"))
        {
            case "text":
                if (TranslationJson.TryGet(block, "text", JsonValueKind.String, out var text) && !text.ValueEquals(""u8))
                {
                    _writer.WriteContent(output, 0, text);
                }

                break;
            case "tool_use":
                var blockIndex = root.TryGetProperty("index", out var indexElement) && indexElement.TryGetInt32(out var i) ? i : -1;
                var toolIndex = _toolIndexByBlock.Count;
                _toolIndexByBlock[blockIndex] = toolIndex;
                _writer.WriteToolCallStart(
                    output,
                    0,
                    toolIndex,
                    TranslationJson.GetString(block, "id") ?? "",
                    TranslationJson.GetString(block, "name") ?? "",
                    "");
                break;
            default:
                break;
        }
    }

    private void OnBlockDelta(JsonElement root, IBufferWriter<byte> output)
    {
        if (!TranslationJson.TryGet(root, "delta", JsonValueKind.Object, out var delta))
        {
            return;
        }

        switch (TranslationJson.GetString(delta, "type"))
        {
            case "text_delta":
                if (TranslationJson.TryGet(delta, "text", JsonValueKind.String, out var text))
                {
                    EnsureStarted(output);
                    _writer.WriteContent(output, 0, text);
                }

                break;
            case "input_json_delta":
                var blockIndex = root.TryGetProperty("index", out var indexElement) && indexElement.TryGetInt32(out var i) ? i : -1;
                if (_toolIndexByBlock.TryGetValue(blockIndex, out var toolIndex)
                    && TranslationJson.TryGet(delta, "partial_json", JsonValueKind.String, out var fragment)
                    && !fragment.ValueEquals(""u8))
                {
                    _writer.WriteToolCallArguments(output, 0, toolIndex, fragment);
                }

                break;
            default:
                // thinking_delta, signature_delta and citations_delta have no chat completion equivalent.
                break;
        }
    }

    private void OnMessageDelta(JsonElement root, IBufferWriter<byte> output)
    {
        EnsureStarted(output);
        if (TranslationJson.TryGet(root, "usage", JsonValueKind.Object, out var usage))
        {
            ReadUsage(usage);
        }

        if (TranslationJson.TryGet(root, "delta", JsonValueKind.Object, out var delta)
            && TranslationJson.GetString(delta, "stop_reason") is { } stopReason)
        {
            WriteFinish(output, AnthropicTranslator.ToFinishReason(stopReason));
        }
    }

    private void OnMessageStop(IBufferWriter<byte> output)
    {
        EnsureStarted(output);
        WriteFinish(output, "stop");
        if (_includeUsage && Usage is { } usage)
        {
            _writer.WriteUsage(output, usage);
        }

        OpenAiChunkWriter.WriteDone(output);
        Completed = true;
        _ended = true;
    }

    private void OnError(JsonElement root, IBufferWriter<byte> output)
    {
        var error = TranslationJson.TryGet(root, "error", JsonValueKind.Object, out var inner) ? inner : default;
        var (type, code) = AnthropicTranslator.MapErrorType(TranslationJson.GetString(error, "type"));
        Error = TranslationJson.GetString(error, "message") ?? "The upstream provider returned an error.";
        _writer.WriteError(output, Error, type, code);
        OpenAiChunkWriter.WriteDone(output);
        _ended = true;
    }

    private void WriteFinish(IBufferWriter<byte> output, string finishReason)
    {
        if (!_finishWritten)
        {
            _finishWritten = true;
            FinishReason = finishReason;
            _writer.WriteFinish(output, 0, finishReason);
        }
    }

    // message_delta's usage is cumulative; newer API versions repeat input and cache counts there, which then win.
    private void ReadUsage(JsonElement usage)
    {
        if (Long(usage, "input_tokens") is { } input)
        {
            _inputTokens = input;
        }

        if (Long(usage, "output_tokens") is { } output)
        {
            _outputTokens = output;
        }

        if (Long(usage, "cache_read_input_tokens") is { } read)
        {
            _cacheRead = read;
        }

        if (Long(usage, "cache_creation_input_tokens") is { } written)
        {
            _cacheWrite = written;
        }
    }

    private static long? Long(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) ? n : null;
}
