using System.Buffers;
using System.Text.Json;

namespace Cairn.Core.Gateway.Translation;

/// <summary>Turns an OpenAI chat completion stream into Anthropic's Messages event stream, one upstream chunk at a time.</summary>
/// <remarks>
/// Feed the <c>data:</c> payload of every upstream event (including <c>[DONE]</c>) to <see cref="Process"/>, then call
/// <see cref="Complete"/> when the upstream closes. The message ends (<c>message_delta</c> with the stop reason and usage, then
/// <c>message_stop</c>) at <c>[DONE]</c>, or at <see cref="Complete"/> when a finish reason arrived without <c>[DONE]</c>;
/// usage is taken from the chunk that carries it, so the upstream request should set <c>stream_options.include_usage</c>
/// (<see cref="AnthropicMessagesToOpenAi.ToOpenAiRequest"/> does). Text and each tool call become their own content blocks,
/// numbered in order. An upstream error chunk, or an upstream that closes before any finish reason, ends the stream with an
/// Anthropic <c>error</c> event. Not thread-safe: one instance serves one stream.
/// </remarks>
public sealed class OpenAiToAnthropicStream
{
    private const int NoBlock = -1;

    private readonly SseFrameWriter _frames = new();
    private readonly string _model;
    private readonly Dictionary<int, int> _blockByToolIndex = [];
    private string _messageId = "msg_";
    private bool _started;
    private bool _ended;
    private int _nextBlock;
    private int _openBlock = NoBlock;
    private bool _openIsText;
    private string? _finishReason;
    private bool _refused;

    /// <summary>Creates a translator for one stream.</summary>
    /// <param name="requestedModel">The model name the client asked for, echoed in <c>message_start</c>.</param>
    public OpenAiToAnthropicStream(string requestedModel)
    {
        ArgumentNullException.ThrowIfNull(requestedModel);
        _model = requestedModel;
    }

    /// <summary>The usage from the upstream's usage chunk, once it arrived.</summary>
    public TokenUsage? Usage { get; private set; }

    /// <summary>Whether the message ended normally (<c>message_stop</c> was written).</summary>
    public bool Completed { get; private set; }

    /// <summary>The Anthropic <c>stop_reason</c> sent, once the message ended.</summary>
    public string? StopReason { get; private set; }

    /// <summary>The error message when the stream ended with an <c>error</c> event.</summary>
    public string? Error { get; private set; }

    /// <summary>Translates the data of one upstream event and writes the resulting Anthropic events, if any.</summary>
    /// <param name="data">The event's <c>data:</c> payload: a chunk's JSON, or <c>[DONE]</c>.</param>
    /// <param name="output">Where the Anthropic events are written.</param>
    /// <exception cref="JsonException">The data is neither JSON nor <c>[DONE]</c>.</exception>
    public void Process(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_ended)
        {
            return;
        }

        var trimmed = data.Trim(" \r\n\t"u8);
        if (trimmed.SequenceEqual("[DONE]"u8))
        {
            Finish(output);
            return;
        }

        using var document = TranslationJson.Parse(trimmed);
        var root = document.Root;
        if (TranslationJson.TryGet(root, "error", JsonValueKind.Object, out var error))
        {
            var (type, message) = ErrorOf(error);
            WriteError(output, type, message);
            return;
        }

        if (!_started)
        {
            if (TranslationJson.GetString(root, "id") is { } id)
            {
                _messageId = "msg_" + TranslationJson.StripPrefix(id, "chatcmpl-");
            }

            Start(output);
        }

        if (TranslationJson.TryGet(root, "usage", JsonValueKind.Object, out var usage) && UsageReader.FromOpenAi(usage) is { } read)
        {
            Usage = read;
        }

        if (!TranslationJson.TryGet(root, "choices", JsonValueKind.Array, out var choices))
        {
            return;
        }

        foreach (var choice in choices.EnumerateArray())
        {
            // Anthropic messages have one choice; any others (n > 1) are not forwarded.
            if (choice.TryGetProperty("index", out var index) && index.ValueKind == JsonValueKind.Number && index.GetInt32() != 0)
            {
                continue;
            }

            if (TranslationJson.TryGet(choice, "delta", JsonValueKind.Object, out var delta))
            {
                OnDelta(delta, output);
            }

            if (TranslationJson.GetString(choice, "finish_reason") is { } finishReason)
            {
                _finishReason = finishReason;
            }
        }
    }

    /// <summary>Tells the translator the upstream closed; ends the message if <c>[DONE]</c> did not already.</summary>
    /// <param name="output">Where the closing events are written.</param>
    public void Complete(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_ended)
        {
            return;
        }

        if (_finishReason is null)
        {
            WriteError(output, "api_error", "The upstream stream ended before the response was complete.");
            return;
        }

        Finish(output);
    }

    private void OnDelta(JsonElement delta, IBufferWriter<byte> output)
    {
        if (TranslationJson.TryGet(delta, "content", JsonValueKind.String, out var content) && !content.ValueEquals(""u8))
        {
            WriteText(output, content);
        }

        if (TranslationJson.TryGet(delta, "refusal", JsonValueKind.String, out var refusal) && !refusal.ValueEquals(""u8))
        {
            _refused = true;
            WriteText(output, refusal);
        }

        if (!TranslationJson.TryGet(delta, "tool_calls", JsonValueKind.Array, out var calls))
        {
            return;
        }

        foreach (var call in calls.EnumerateArray())
        {
            var toolIndex = call.TryGetProperty("index", out var index) && index.ValueKind == JsonValueKind.Number ? index.GetInt32() : 0;
            var function = TranslationJson.TryGet(call, "function", JsonValueKind.Object, out var f) ? f : default;
            if (!_blockByToolIndex.TryGetValue(toolIndex, out var block))
            {
                block = StartToolBlock(
                    output,
                    TranslationJson.GetString(call, "id") ?? $"call_{TranslationJson.StripPrefix(_messageId, "msg_")}_{toolIndex}",
                    TranslationJson.GetString(function, "name") ?? "");
                _blockByToolIndex[toolIndex] = block;
            }

            if (TranslationJson.TryGet(function, "arguments", JsonValueKind.String, out var arguments) && !arguments.ValueEquals(""u8))
            {
                // Servers that interleave parallel calls get their fragments written to the earlier block by index.
                WriteDelta(output, block, "input_json_delta", "partial_json", arguments);
            }
        }
    }

    /// <summary>Writes a <c>content_block_delta</c> event whose delta carries <paramref name="value"/> under <paramref name="property"/>.</summary>
    private void WriteDelta(IBufferWriter<byte> output, int index, string deltaType, string property, JsonElement value)
    {
        var w = _frames.BeginEvent(output, "content_block_delta"u8);
        w.WriteStartObject();
        w.WriteString("type", "content_block_delta");
        w.WriteNumber("index", index);
        w.WriteStartObject("delta");
        w.WriteString("type", deltaType);
        w.WritePropertyName(property);
        value.WriteTo(w);
        w.WriteEndObject();
        w.WriteEndObject();
        _frames.End(output);
    }

    private void Start(IBufferWriter<byte> output)
    {
        _started = true;
        var w = _frames.BeginEvent(output, "message_start"u8);
        w.WriteStartObject();
        w.WriteString("type", "message_start");
        w.WriteStartObject("message");
        w.WriteString("id", _messageId);
        w.WriteString("type", "message");
        w.WriteString("role", "assistant");
        w.WriteString("model", _model);
        w.WriteStartArray("content");
        w.WriteEndArray();
        w.WriteNull("stop_reason");
        w.WriteNull("stop_sequence");
        w.WriteStartObject("usage");
        w.WriteNumber("input_tokens", 0);
        w.WriteNumber("cache_creation_input_tokens", 0);
        w.WriteNumber("cache_read_input_tokens", 0);
        w.WriteNumber("output_tokens", 0);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
        _frames.End(output);
    }

    private void WriteText(IBufferWriter<byte> output, JsonElement text)
    {
        if (_openBlock == NoBlock || !_openIsText)
        {
            CloseBlock(output);
            _openBlock = _nextBlock++;
            _openIsText = true;
            var s = _frames.BeginEvent(output, "content_block_start"u8);
            s.WriteStartObject();
            s.WriteString("type", "content_block_start");
            s.WriteNumber("index", _openBlock);
            s.WriteStartObject("content_block");
            s.WriteString("type", "text");
            s.WriteString("text", "");
            s.WriteEndObject();
            s.WriteEndObject();
            _frames.End(output);
        }

        WriteDelta(output, _openBlock, "text_delta", "text", text);
    }

    private int StartToolBlock(IBufferWriter<byte> output, string id, string name)
    {
        CloseBlock(output);
        _openBlock = _nextBlock++;
        _openIsText = false;
        var w = _frames.BeginEvent(output, "content_block_start"u8);
        w.WriteStartObject();
        w.WriteString("type", "content_block_start");
        w.WriteNumber("index", _openBlock);
        w.WriteStartObject("content_block");
        w.WriteString("type", "tool_use");
        w.WriteString("id", id);
        w.WriteString("name", name);
        w.WriteStartObject("input");
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
        _frames.End(output);
        return _openBlock;
    }

    private void CloseBlock(IBufferWriter<byte> output)
    {
        if (_openBlock == NoBlock)
        {
            return;
        }

        var w = _frames.BeginEvent(output, "content_block_stop"u8);
        w.WriteStartObject();
        w.WriteString("type", "content_block_stop");
        w.WriteNumber("index", _openBlock);
        w.WriteEndObject();
        _frames.End(output);
        _openBlock = NoBlock;
    }

    private void Finish(IBufferWriter<byte> output)
    {
        if (!_started)
        {
            Start(output);
        }

        CloseBlock(output);
        StopReason = _refused ? "refusal" : AnthropicMessagesToOpenAi.ToStopReason(_finishReason);

        var w = _frames.BeginEvent(output, "message_delta"u8);
        w.WriteStartObject();
        w.WriteString("type", "message_delta");
        w.WriteStartObject("delta");
        w.WriteString("stop_reason", StopReason);
        w.WriteNull("stop_sequence");
        w.WriteEndObject();
        w.WriteStartObject("usage");
        var usage = Usage;
        w.WriteNumber("input_tokens", usage is null ? 0 : usage.PromptTokens - usage.CachedInputTokens);
        w.WriteNumber("cache_creation_input_tokens", 0);
        w.WriteNumber("cache_read_input_tokens", usage?.CachedInputTokens ?? 0);
        w.WriteNumber("output_tokens", usage?.CompletionTokens ?? 0);
        w.WriteEndObject();
        w.WriteEndObject();
        _frames.End(output);

        w = _frames.BeginEvent(output, "message_stop"u8);
        w.WriteStartObject();
        w.WriteString("type", "message_stop");
        w.WriteEndObject();
        _frames.End(output);

        Completed = true;
        _ended = true;
    }

    private void WriteError(IBufferWriter<byte> output, string type, string message)
    {
        Error = message;
        var w = _frames.BeginEvent(output, "error"u8);
        w.WriteStartObject();
        w.WriteString("type", "error");
        w.WriteStartObject("error");
        w.WriteString("type", type);
        w.WriteString("message", message);
        w.WriteEndObject();
        w.WriteEndObject();
        _frames.End(output);
        _ended = true;
    }

    private static (string Type, string Message) ErrorOf(JsonElement error)
    {
        var message = TranslationJson.GetString(error, "message") ?? "The upstream provider returned an error.";
        var type = TranslationJson.GetString(error, "code") switch
        {
            "rate_limit_exceeded" => "rate_limit_error",
            "invalid_api_key" => "authentication_error",
            "insufficient_quota" => "billing_error",
            _ => TranslationJson.GetString(error, "type") switch
            {
                "invalid_request_error" => "invalid_request_error",
                "server_error" => "api_error",
                "tokens" or "requests" or "rate_limit_error" => "rate_limit_error",
                _ => "api_error",
            },
        };
        return (type, message);
    }
}
