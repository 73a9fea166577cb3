using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Cairn.Server.Gateway;

namespace Cairn.Server.Web.Observability;

/// <summary>A span's input or output, read for display: chat messages, pretty JSON or plain text.</summary>
/// <param name="Messages">The messages when the content is a conversation, else null.</param>
/// <param name="Json">The content pretty-printed when it is other JSON, else null.</param>
/// <param name="Text">The content as sent when it is not JSON (or null when there is none).</param>
public sealed record SpanContent(IReadOnlyList<ChatMessage>? Messages, string? Json, string? Text)
{
    private static readonly JsonWriterOptions s_indented = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>No content.</summary>
    public static SpanContent None { get; } = new(null, null, null);

    /// <summary>Whether there is nothing to show.</summary>
    public bool IsEmpty => Messages is null && Json is null && string.IsNullOrEmpty(Text);

    /// <summary>
    /// Reads stored span content: message arrays in the GenAI <c>parts</c> shape, the OpenAI <c>{role, content}</c> shape
    /// (also inside a request's <c>messages</c> or a response's <c>choices</c>) and OpenInference's flattened messages
    /// become chat messages; other JSON is pretty-printed; anything else (OpenInference's text values) stays text.
    /// </summary>
    public static SpanContent Parse(string? content)
    {
        if (string.IsNullOrWhiteSpace(content))
        {
            return None;
        }

        var trimmed = content.AsSpan().TrimStart();
        if (trimmed.Length == 0 || trimmed[0] is not ('{' or '[' or '"'))
        {
            return new SpanContent(null, null, content);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(content);
        }
        catch (JsonException)
        {
            return new SpanContent(null, null, content);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.String)
            {
                return new SpanContent(null, null, root.GetString());
            }

            return ReadMessages(root, content) is { Count: > 0 } messages
                ? new SpanContent(messages, null, null)
                : new SpanContent(null, Pretty(root), null);
        }
    }

    /// <summary>The text of a conversation turn: the last user message of an input, or the assistant's answer of an output.</summary>
    /// <param name="content">The stored input or output.</param>
    /// <param name="output">Whether it is an output (the answer) rather than an input (the question).</param>
    public static string TurnText(string? content, bool output)
    {
        var parsed = Parse(content);
        if (parsed.Messages is { Count: > 0 } messages)
        {
            var wanted = output ? "assistant" : "user";
            var chosen = output
                ? messages.Where(m => m.Role == wanted).ToList()
                : messages.LastOrDefault(m => m.Role == wanted) is { } last ? [last] : [];
            if (chosen.Count == 0)
            {
                chosen = [messages[^1]];
            }

            return string.Join("\n\n", chosen.Select(m => string.Join("\n", new[] { m.Text }.Concat(m.ToolCalls).Where(t => t.Length > 0))));
        }

        return parsed.Json ?? parsed.Text ?? "";
    }

    /// <summary>A JSON document pretty-printed (non-ASCII text kept as is, for reading).</summary>
    public static string Pretty(JsonElement element)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, s_indented))
        {
            element.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    /// <summary>A JSON text pretty-printed, or the text unchanged when it is not JSON.</summary>
    public static string Pretty(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return Pretty(document.RootElement);
        }
        catch (JsonException)
        {
            return json;
        }
    }

    private static List<ChatMessage>? ReadMessages(JsonElement root, string raw)
    {
        switch (root.ValueKind)
        {
            case JsonValueKind.Array:
                var messages = new List<ChatMessage>(root.GetArrayLength());
                foreach (var item in root.EnumerateArray())
                {
                    if (!IsMessage(item))
                    {
                        return null;
                    }

                    messages.Add(Message(item));
                }

                return messages;
            case JsonValueKind.Object when root.TryGetProperty("messages", out var list) && list.ValueKind == JsonValueKind.Array:
                var prompt = new List<ChatMessage>();
                if (root.TryGetProperty("system", out var system))
                {
                    prompt.Add(new ChatMessage("system", ContentText(system), []));
                }

                if (ReadMessages(list, raw) is not { } inner)
                {
                    return null;
                }

                prompt.AddRange(inner);
                return prompt;
            case JsonValueKind.Object when root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array:
                return [.. ChatTranscript.FromResponse(raw, stream: false)];
            case JsonValueKind.Object when IsMessage(root):
                return [Message(root)];
            default:
                return null;
        }
    }

    private static bool IsMessage(JsonElement item) =>
        item.ValueKind == JsonValueKind.Object && item.TryGetProperty("role", out var role) && role.ValueKind == JsonValueKind.String
        && (item.TryGetProperty("parts", out _) || item.TryGetProperty("content", out _) || item.TryGetProperty("tool_calls", out _)
            || item.TryGetProperty("message", out _) || item.EnumerateObject().Any(p => p.Name.StartsWith("contents.", StringComparison.Ordinal)));

    private static ChatMessage Message(JsonElement message)
    {
        var role = Str(message, "role") is { Length: > 0 } r ? r : "message";
        var text = new List<string>();
        var calls = new List<string>();
        if (message.TryGetProperty("parts", out var parts) && parts.ValueKind == JsonValueKind.Array)
        {
            foreach (var part in parts.EnumerateArray())
            {
                ReadPart(part, text, calls);
            }
        }

        if (message.TryGetProperty("content", out var content))
        {
            text.Add(ContentText(content));
        }
        else if (message.TryGetProperty("message", out var body))
        {
            text.Add(ContentText(body));
        }

        if (message.TryGetProperty("tool_calls", out var toolCalls) && toolCalls.ValueKind == JsonValueKind.Array)
        {
            foreach (var call in toolCalls.EnumerateArray())
            {
                var function = call.TryGetProperty("function", out var f) ? f : call;
                calls.Add($"{Str(function, "name")}({Arguments(function)})");
            }
        }

        // OpenInference's flattened fields: contents.N.message_content.text, tool_calls.N.tool_call.function.{name,arguments}.
        var flatCalls = new SortedDictionary<string, (string Name, string Arguments)>(StringComparer.Ordinal);
        foreach (var property in message.EnumerateObject())
        {
            var name = property.Name;
            if (name.StartsWith("contents.", StringComparison.Ordinal) && name.EndsWith(".text", StringComparison.Ordinal))
            {
                text.Add(ContentText(property.Value));
            }
            else if (name.StartsWith("tool_calls.", StringComparison.Ordinal))
            {
                var index = name.Split('.')[1];
                var entry = flatCalls.TryGetValue(index, out var known) ? known : (Name: "", Arguments: "");
                if (name.EndsWith("function.name", StringComparison.Ordinal))
                {
                    entry.Name = ContentText(property.Value);
                }
                else if (name.EndsWith("function.arguments", StringComparison.Ordinal))
                {
                    entry.Arguments = ContentText(property.Value);
                }

                flatCalls[index] = entry;
            }
        }

        calls.AddRange(flatCalls.Values.Select(c => $"{c.Name}({c.Arguments})"));
        if (Str(message, "tool_call_id") is { Length: > 0 } id)
        {
            role = $"{role} ({id})";
        }

        return new ChatMessage(role, string.Join("\n", text.Where(t => t.Length > 0)), calls);
    }

    // A GenAI message part: text, reasoning, tool_call, tool_call_response, or media (shown as a placeholder).
    private static void ReadPart(JsonElement part, List<string> text, List<string> calls)
    {
        if (part.ValueKind == JsonValueKind.String)
        {
            text.Add(part.GetString()!);
            return;
        }

        switch (Str(part, "type"))
        {
            case "text":
                text.Add(Str(part, "content") ?? Str(part, "text") ?? "");
                break;
            case "reasoning" or "thinking":
                text.Add("[reasoning] " + (Str(part, "content") ?? Str(part, "text") ?? ""));
                break;
            case "tool_call":
                calls.Add($"{Str(part, "name")}({Arguments(part)})");
                break;
            case "tool_call_response":
                text.Add("[tool result] " + (part.TryGetProperty("response", out var response) ? ContentText(response) : ""));
                break;
            case { } type:
                text.Add($"[{type}]");
                break;
            default:
                text.Add(part.GetRawText());
                break;
        }
    }

    private static string Arguments(JsonElement call) =>
        call.TryGetProperty("arguments", out var arguments)
            ? arguments.ValueKind == JsonValueKind.String ? arguments.GetString()! : arguments.GetRawText()
            : "";

    private static string ContentText(JsonElement content)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                return content.GetString()!;
            case JsonValueKind.Array:
                var parts = new List<string>();
                var calls = new List<string>();
                foreach (var part in content.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.Object && Str(part, "type") == "text" && Str(part, "text") is { } t)
                    {
                        parts.Add(t);
                    }
                    else if (part.ValueKind == JsonValueKind.Object && Str(part, "type") is "image_url" or "image" or "input_audio" or "file" or "document")
                    {
                        parts.Add($"[{Str(part, "type")}]");
                    }
                    else if (part.ValueKind == JsonValueKind.Object && Str(part, "type") == "tool_result" && part.TryGetProperty("content", out var result))
                    {
                        parts.Add("[tool result] " + ContentText(result));
                    }
                    else
                    {
                        ReadPart(part, parts, calls);
                    }
                }

                parts.AddRange(calls);
                return string.Join("\n", parts.Where(p => p.Length > 0));
            case JsonValueKind.Null or JsonValueKind.Undefined:
                return "";
            default:
                return content.GetRawText();
        }
    }

    private static string? Str(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
