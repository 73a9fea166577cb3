using System.Text;
using System.Text.Json;

namespace Cairn.Server.Gateway;

/// <summary>One message of a logged conversation, ready to show as a chat bubble.</summary>
/// <param name="Role">system, user, assistant or tool.</param>
/// <param name="Text">The text (parts joined; images shown as a placeholder).</param>
/// <param name="ToolCalls">Tool calls as <c>name(arguments)</c>.</param>
public sealed record ChatMessage(string Role, string Text, IReadOnlyList<string> ToolCalls);

/// <summary>Reads the stored request and response bodies of a gateway call (OpenAI or Anthropic shapes, streamed or not) into chat messages.</summary>
/// <remarks>Best effort: a body that is truncated or in another shape yields no messages, and the page shows it raw instead.</remarks>
public static class ChatTranscript
{
    /// <summary>The prompt's messages.</summary>
    public static IReadOnlyList<ChatMessage> FromRequest(string? body)
    {
        var messages = new List<ChatMessage>();
        if (Parse(body) is not { } root)
        {
            return messages;
        }

        using (root)
        {
            var r = root.RootElement;
            if (r.TryGetProperty("system", out var system))
            {
                messages.Add(new ChatMessage("system", Text(system), []));
            }

            if (r.TryGetProperty("messages", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var message in list.EnumerateArray())
                {
                    messages.Add(Message(message));
                }
            }
            else if (r.TryGetProperty("input", out var input))
            {
                messages.Add(new ChatMessage("input", input.ValueKind == JsonValueKind.String ? input.GetString()! : input.GetRawText(), []));
            }
        }

        return messages;
    }

    /// <summary>The answer's message (assembled from the events for a stream).</summary>
    public static IReadOnlyList<ChatMessage> FromResponse(string? body, bool stream)
    {
        if (string.IsNullOrEmpty(body))
        {
            return [];
        }

        if (stream)
        {
            return FromStream(body);
        }

        if (Parse(body) is not { } document)
        {
            return [];
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
            {
                return choices.EnumerateArray()
                    .Where(c => c.TryGetProperty("message", out _))
                    .Select(c => Message(c.GetProperty("message")))
                    .ToList();
            }

            if (root.TryGetProperty("content", out _) && root.TryGetProperty("role", out _))
            {
                return [Message(root)];
            }

            if (root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array)
            {
                return [new ChatMessage("embeddings", $"{data.GetArrayLength()} embedding(s)", [])];
            }
        }

        return [];
    }

    private static List<ChatMessage> FromStream(string body)
    {
        var text = new StringBuilder();
        var tools = new SortedDictionary<int, (string Name, StringBuilder Arguments)>();
        var seen = false;
        foreach (var line in body.Split('\n'))
        {
            if (!line.StartsWith("data:", StringComparison.Ordinal))
            {
                continue;
            }

            var json = line[5..].Trim();
            if (json.Length == 0 || json[0] != '{' || Parse(json) is not { } document)
            {
                continue;
            }

            using (document)
            {
                var root = document.RootElement;
                if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
                {
                    foreach (var choice in choices.EnumerateArray())
                    {
                        if (!choice.TryGetProperty("delta", out var delta))
                        {
                            continue;
                        }

                        seen = true;
                        if (delta.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
                        {
                            text.Append(content.GetString());
                        }

                        if (delta.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
                        {
                            foreach (var call in calls.EnumerateArray())
                            {
                                var index = call.TryGetProperty("index", out var i) && i.ValueKind == JsonValueKind.Number ? i.GetInt32() : 0;
                                var entry = tools.TryGetValue(index, out var existing) ? existing : ("", new StringBuilder());
                                if (call.TryGetProperty("function", out var function))
                                {
                                    if (function.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
                                    {
                                        entry.Item1 = name.GetString()!;
                                    }

                                    if (function.TryGetProperty("arguments", out var arguments) && arguments.ValueKind == JsonValueKind.String)
                                    {
                                        entry.Item2.Append(arguments.GetString());
                                    }
                                }

                                tools[index] = entry;
                            }
                        }
                    }
                }
                else if (root.TryGetProperty("type", out var type))
                {
                    seen = true;
                    var kind = type.GetString();
                    if (kind == "content_block_start" && root.TryGetProperty("content_block", out var block) && block.TryGetProperty("type", out var blockType) && blockType.GetString() == "tool_use")
                    {
                        tools[root.GetProperty("index").GetInt32()] = (block.TryGetProperty("name", out var n) ? n.GetString() ?? "" : "", new StringBuilder());
                    }
                    else if (kind == "content_block_delta" && root.TryGetProperty("delta", out var delta))
                    {
                        if (delta.TryGetProperty("text", out var t))
                        {
                            text.Append(t.GetString());
                        }
                        else if (delta.TryGetProperty("partial_json", out var partial) && tools.TryGetValue(root.GetProperty("index").GetInt32(), out var tool))
                        {
                            tool.Arguments.Append(partial.GetString());
                        }
                    }
                }
            }
        }

        return seen ? [new ChatMessage("assistant", text.ToString(), tools.Values.Select(t => $"{t.Name}({t.Arguments})").ToList())] : [];
    }

    private static ChatMessage Message(JsonElement message)
    {
        var role = message.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : "message";
        var text = message.TryGetProperty("content", out var content) ? Text(content) : "";
        var calls = new List<string>();
        if (message.TryGetProperty("tool_calls", out var toolCalls) && toolCalls.ValueKind == JsonValueKind.Array)
        {
            foreach (var call in toolCalls.EnumerateArray())
            {
                if (call.TryGetProperty("function", out var function))
                {
                    calls.Add($"{Str(function, "name")}({Str(function, "arguments")})");
                }
            }
        }

        if (content.ValueKind == JsonValueKind.Array)
        {
            foreach (var block in content.EnumerateArray())
            {
                if (Str(block, "type") == "tool_use" && block.TryGetProperty("input", out var input))
                {
                    calls.Add($"{Str(block, "name")}({input.GetRawText()})");
                }
            }
        }

        if (message.TryGetProperty("tool_call_id", out var id))
        {
            role = $"tool ({id.GetString()})";
        }

        return new ChatMessage(role, text, calls);
    }

    private static string Text(JsonElement content)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                return content.GetString()!;
            case JsonValueKind.Array:
                var parts = new List<string>();
                foreach (var part in content.EnumerateArray())
                {
                    var type = Str(part, "type");
                    if (part.ValueKind == JsonValueKind.String)
                    {
                        parts.Add(part.GetString()!);
                    }
                    else if (type == "text")
                    {
                        parts.Add(Str(part, "text"));
                    }
                    else if (type is "image_url" or "image" or "input_audio" or "file" or "document")
                    {
                        parts.Add($"[{type}]");
                    }
                    else if (type == "tool_result" && part.TryGetProperty("content", out var result))
                    {
                        parts.Add($"[tool result] {Text(result)}");
                    }
                }

                return string.Join("\n", parts.Where(p => p.Length > 0));
            case JsonValueKind.Null:
            case JsonValueKind.Undefined:
                return "";
            default:
                return content.GetRawText();
        }
    }

    private static string Str(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "";

    private static JsonDocument? Parse(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return null;
        }

        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
