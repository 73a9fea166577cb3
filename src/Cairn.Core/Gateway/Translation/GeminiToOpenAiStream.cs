using System.Buffers;
using System.Text.Json;

namespace Cairn.Core.Gateway.Translation;

/// <summary>Turns a Gemini <c>streamGenerateContent?alt=sse</c> stream into OpenAI <c>chat.completion.chunk</c> frames.</summary>
/// <remarks>
/// Feed the <c>data:</c> JSON of every upstream event to <see cref="Process"/> in order, then call <see cref="Complete"/> when
/// the upstream closes (Gemini sends no end marker): it writes the usage chunk when the client asked for it, then
/// <c>data: [DONE]</c>. Text parts become content deltas; each function call (Gemini sends it whole) becomes one tool call
/// delta with its full arguments. <c>usageMetadata</c> is cumulative, so the last one wins. An upstream <c>error</c> object
/// ends the stream with an OpenAI error frame. Not thread-safe: one instance serves one stream.
/// </remarks>
public sealed class GeminiToOpenAiStream
{
    private readonly OpenAiChunkWriter _writer;
    private readonly bool _includeUsage;
    private readonly Func<string> _newToolCallId;
    private readonly Dictionary<int, ChoiceState> _choices = [];
    private bool _idSet;
    private bool _ended;

    /// <summary>Creates a translator for one stream.</summary>
    /// <param name="requestedModel">The model name the client asked for, echoed in every chunk.</param>
    /// <param name="created">The Unix time, in seconds, written as <c>created</c>.</param>
    /// <param name="includeUsage">Whether the client sent <c>stream_options.include_usage: true</c>.</param>
    /// <param name="newToolCallId">Mints an id (such as <c>call_...</c>) for a function call that has none.</param>
    public GeminiToOpenAiStream(string requestedModel, long created, bool includeUsage, Func<string> newToolCallId)
    {
        ArgumentNullException.ThrowIfNull(requestedModel);
        ArgumentNullException.ThrowIfNull(newToolCallId);
        _writer = new OpenAiChunkWriter(requestedModel, created, includeUsage);
        _includeUsage = includeUsage;
        _newToolCallId = newToolCallId;
    }

    /// <summary>The last usage the upstream reported.</summary>
    public TokenUsage? Usage { get; private set; }

    /// <summary>Whether a finish reason arrived and <see cref="Complete"/> ended the stream.</summary>
    public bool Completed { get; private set; }

    /// <summary>The OpenAI <c>finish_reason</c> of the first choice, once it arrived.</summary>
    public string? FinishReason { get; private set; }

    /// <summary>The upstream's error message when the stream ended with an error.</summary>
    public string? Error { get; private set; }

    /// <summary>The chunk id sent to the client (<c>chatcmpl-</c> and Gemini's <c>responseId</c>).</summary>
    public string Id => _writer.Id;

    /// <summary>Translates one upstream event and writes the resulting OpenAI frames, if any.</summary>
    /// <param name="data">The event's <c>data:</c> JSON (a <c>GenerateContentResponse</c>, or an error object).</param>
    /// <param name="output">Where the OpenAI frames are written.</param>
    /// <exception cref="JsonException">The data is not JSON.</exception>
    public void Process(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_ended)
        {
            return;
        }

        using var document = TranslationJson.Parse(data);
        var root = document.Root;
        if (TranslationJson.TryGet(root, "error", JsonValueKind.Object, out var error))
        {
            var (type, code) = GeminiTranslator.MapError(error);
            Error = TranslationJson.GetString(error, "message") ?? "The upstream provider returned an error.";
            _writer.WriteError(output, Error, type, code);
            OpenAiChunkWriter.WriteDone(output);
            _ended = true;
            return;
        }

        if (!_idSet)
        {
            _idSet = true;
            _writer.Id = "chatcmpl-" + (TranslationJson.GetString(root, "responseId") ?? Guid.NewGuid().ToString("N"));
        }

        if (TranslationJson.TryGet(root, "usageMetadata", JsonValueKind.Object, out var usage) && UsageReader.FromGemini(usage) is { } read)
        {
            Usage = read;
        }

        if (TranslationJson.TryGet(root, "candidates", JsonValueKind.Array, out var candidates) && candidates.GetArrayLength() > 0)
        {
            var position = 0;
            foreach (var candidate in candidates.EnumerateArray())
            {
                var index = candidate.TryGetProperty("index", out var i) && i.TryGetInt32(out var n) ? n : position;
                position++;
                OnCandidate(index, candidate, output);
            }
        }
        else if (TranslationJson.TryGet(root, "promptFeedback", JsonValueKind.Object, out var feedback)
            && TranslationJson.GetString(feedback, "blockReason") is not null)
        {
            var state = Choice(0, output);
            Finish(0, state, "content_filter", output);
        }
    }

    /// <summary>Tells the translator the upstream closed: writes the usage chunk (when asked for) and <c>data: [DONE]</c>.</summary>
    /// <param name="output">Where the closing frames are written.</param>
    public void Complete(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_ended)
        {
            return;
        }

        if (_includeUsage && Usage is { } usage)
        {
            _writer.WriteUsage(output, usage);
        }

        OpenAiChunkWriter.WriteDone(output);
        Completed = FinishReason is not null;
        _ended = true;
    }

    private ChoiceState Choice(int index, IBufferWriter<byte> output)
    {
        if (!_choices.TryGetValue(index, out var state))
        {
            state = new ChoiceState();
            _choices[index] = state;
            _writer.WriteRole(output, index);
        }

        return state;
    }

    private void OnCandidate(int index, JsonElement candidate, IBufferWriter<byte> output)
    {
        var state = Choice(index, output);
        if (state.Finished)
        {
            return;
        }

        if (TranslationJson.TryGet(candidate, "content", JsonValueKind.Object, out var content)
            && TranslationJson.TryGet(content, "parts", JsonValueKind.Array, out var parts))
        {
            foreach (var part in parts.EnumerateArray())
            {
                if (GeminiTranslator.IsThought(part))
                {
                    continue;
                }

                if (TranslationJson.TryGet(part, "text", JsonValueKind.String, out var text))
                {
                    if (!text.ValueEquals(""u8))
                    {
                        _writer.WriteContent(output, index, text);
                    }
                }
                else if (TranslationJson.TryGet(part, "functionCall", JsonValueKind.Object, out var call))
                {
                    var (id, name, arguments) = GeminiTranslator.ReadFunctionCall(part, call, _newToolCallId);
                    _writer.WriteToolCallStart(output, index, state.ToolCalls++, id, name, arguments);
                }
            }
        }

        if (TranslationJson.GetString(candidate, "finishReason") is { } finishReason)
        {
            Finish(index, state, state.ToolCalls > 0 ? "tool_calls" : GeminiTranslator.ToFinishReason(finishReason), output);
        }
    }

    private void Finish(int index, ChoiceState state, string finishReason, IBufferWriter<byte> output)
    {
        if (state.Finished)
        {
            return;
        }

        state.Finished = true;
        if (index == 0)
        {
            FinishReason = finishReason;
        }

        _writer.WriteFinish(output, index, finishReason);
    }

    private sealed class ChoiceState
    {
        public int ToolCalls { get; set; }

        public bool Finished { get; set; }
    }
}
