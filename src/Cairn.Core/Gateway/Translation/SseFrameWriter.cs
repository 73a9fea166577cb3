using System.Buffers;
using System.Text.Json;

namespace Cairn.Core.Gateway.Translation;

/// <summary>Writes server-sent-event frames whose data is JSON, reusing one <see cref="Utf8JsonWriter"/>.</summary>
internal sealed class SseFrameWriter
{
    private Utf8JsonWriter? _json;

    /// <summary>Starts a <c>data: </c> frame and returns the writer for its JSON.</summary>
    public Utf8JsonWriter BeginData(IBufferWriter<byte> output)
    {
        output.Write("data: "u8);
        return Reset(output);
    }

    /// <summary>Starts an <c>event: name</c> frame and returns the writer for its JSON data.</summary>
    public Utf8JsonWriter BeginEvent(IBufferWriter<byte> output, ReadOnlySpan<byte> name)
    {
        output.Write("event: "u8);
        output.Write(name);
        output.Write("\ndata: "u8);
        return Reset(output);
    }

    /// <summary>The writer of the frame under way.</summary>
    public Utf8JsonWriter Current => _json ?? throw new InvalidOperationException("No frame is under way.");

    /// <summary>Flushes the JSON and ends the frame.</summary>
    public void End(IBufferWriter<byte> output)
    {
        _json!.Flush();
        output.Write("\n\n"u8);
    }

    /// <summary>Writes OpenAI's end-of-stream sentinel.</summary>
    public static void WriteDone(IBufferWriter<byte> output) => output.Write("data: [DONE]\n\n"u8);

    private Utf8JsonWriter Reset(IBufferWriter<byte> output)
    {
        if (_json is null)
        {
            _json = new Utf8JsonWriter(output, TranslationJson.WriterOptions);
        }
        else
        {
            _json.Reset(output);
        }

        return _json;
    }
}

/// <summary>Writes OpenAI <c>chat.completion.chunk</c> frames for one stream.</summary>
internal sealed class OpenAiChunkWriter(string model, long created, bool includeUsage)
{
    private readonly SseFrameWriter _frames = new();

    /// <summary>The chunk id, shared by every chunk of the stream.</summary>
    public string Id { get; set; } = "chatcmpl-";

    /// <summary>Writes the first chunk of a choice: <c>delta: {role: "assistant", content: ""}</c>.</summary>
    public void WriteRole(IBufferWriter<byte> output, int choice)
    {
        var w = BeginDelta(output, choice);
        w.WriteString("role", "assistant");
        w.WriteString("content", "");
        EndDelta(output, null);
    }

    /// <summary>Writes a content delta whose text is a JSON string element.</summary>
    public void WriteContent(IBufferWriter<byte> output, int choice, JsonElement text)
    {
        var w = BeginDelta(output, choice);
        w.WritePropertyName("content");
        text.WriteTo(w);
        EndDelta(output, null);
    }

    /// <summary>Writes a content delta.</summary>
    public void WriteContent(IBufferWriter<byte> output, int choice, string text)
    {
        var w = BeginDelta(output, choice);
        w.WriteString("content", text);
        EndDelta(output, null);
    }

    /// <summary>Writes the first fragment of a tool call: index, id, type, name and the first arguments text.</summary>
    public void WriteToolCallStart(IBufferWriter<byte> output, int choice, int toolIndex, string id, string name, string arguments)
    {
        var w = BeginDelta(output, choice);
        w.WriteStartArray("tool_calls");
        w.WriteStartObject();
        w.WriteNumber("index", toolIndex);
        w.WriteString("id", id);
        w.WriteString("type", "function");
        w.WriteStartObject("function");
        w.WriteString("name", name);
        w.WriteString("arguments", arguments);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
        EndDelta(output, null);
    }

    /// <summary>Writes a fragment of a tool call's arguments whose text is a JSON string element.</summary>
    public void WriteToolCallArguments(IBufferWriter<byte> output, int choice, int toolIndex, JsonElement fragment)
    {
        var w = BeginDelta(output, choice);
        w.WriteStartArray("tool_calls");
        w.WriteStartObject();
        w.WriteNumber("index", toolIndex);
        w.WriteStartObject("function");
        w.WritePropertyName("arguments");
        fragment.WriteTo(w);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
        EndDelta(output, null);
    }

    /// <summary>Writes the chunk carrying a choice's <c>finish_reason</c> and an empty delta.</summary>
    public void WriteFinish(IBufferWriter<byte> output, int choice, string finishReason)
    {
        BeginDelta(output, choice);
        EndDelta(output, finishReason);
    }

    /// <summary>Writes the usage chunk (<c>choices: []</c>) sent before <c>[DONE]</c> when the client asked for usage.</summary>
    public void WriteUsage(IBufferWriter<byte> output, TokenUsage usage)
    {
        var w = _frames.BeginData(output);
        WriteHeader(w);
        w.WriteStartArray("choices");
        w.WriteEndArray();
        w.WritePropertyName("usage");
        TranslationJson.WriteOpenAiUsage(w, usage);
        w.WriteEndObject();
        _frames.End(output);
    }

    /// <summary>Writes an OpenAI error frame, <c>data: {"error": {...}}</c>.</summary>
    public void WriteError(IBufferWriter<byte> output, string message, string type, string? code)
    {
        var w = _frames.BeginData(output);
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteString("message", message);
        w.WriteString("type", type);
        w.WriteNull("param");
        if (code is null)
        {
            w.WriteNull("code");
        }
        else
        {
            w.WriteString("code", code);
        }

        w.WriteEndObject();
        w.WriteEndObject();
        _frames.End(output);
    }

    /// <summary>Writes <c>data: [DONE]</c>.</summary>
    public static void WriteDone(IBufferWriter<byte> output) => SseFrameWriter.WriteDone(output);

    private void WriteHeader(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("id", Id);
        w.WriteString("object", "chat.completion.chunk");
        w.WriteNumber("created", created);
        w.WriteString("model", model);
    }

    private Utf8JsonWriter BeginDelta(IBufferWriter<byte> output, int choice)
    {
        var w = _frames.BeginData(output);
        WriteHeader(w);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", choice);
        w.WriteStartObject("delta");
        return w;
    }

    private void EndDelta(IBufferWriter<byte> output, string? finishReason)
    {
        // The writer is still inside "delta"; close it and the choice, then the chunk.
        var w = _frames.Current;
        w.WriteEndObject();
        w.WriteNull("logprobs");
        if (finishReason is null)
        {
            w.WriteNull("finish_reason");
        }
        else
        {
            w.WriteString("finish_reason", finishReason);
        }

        w.WriteEndObject();
        w.WriteEndArray();
        if (includeUsage)
        {
            w.WriteNull("usage");
        }

        w.WriteEndObject();
        _frames.End(output);
    }
}
