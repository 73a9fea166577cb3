using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cairn.Core.Gateway.Translation;

/// <summary>JSON helpers shared by the translators.</summary>
internal static class TranslationJson
{
    /// <summary>Writer options for wire output: compact, and non-ASCII text kept as UTF-8 the way the vendors send it.</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Serialises an element as compact JSON.</summary>
    public static string Compact(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            element.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Serialises a node as compact JSON (<c>null</c> for a null node).</summary>
    public static string Compact(JsonNode? node)
    {
        if (node is null)
        {
            return "null";
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            node.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The node's string value, or null when it is absent or not a string.</summary>
    public static string? AsString(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    /// <summary>The node's boolean value, or null when it is absent or not a boolean.</summary>
    public static bool? AsBool(JsonNode? node) => node?.GetValueKind() switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    /// <summary>The node's integer value, or null when it is absent or not an integral number.</summary>
    public static long? AsInt64(JsonNode? node)
    {
        if (node is not JsonValue value || value.GetValueKind() != JsonValueKind.Number)
        {
            return null;
        }

        if (value.TryGetValue(out JsonElement element))
        {
            return element.TryGetInt64(out var n) ? n : null;
        }

        if (value.TryGetValue(out long l))
        {
            return l;
        }

        if (value.TryGetValue(out int i))
        {
            return i;
        }

        return long.TryParse(value.ToJsonString(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : null;
    }

    /// <summary>A copy of the node when it is a number, else null.</summary>
    public static JsonNode? NumberOrNull(JsonNode? node) =>
        node is not null && node.GetValueKind() == JsonValueKind.Number ? node.DeepClone() : null;

    /// <summary>The property's string value, or null when it is absent or not a string.</summary>
    public static string? GetString(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    /// <summary>The property when present with the given kind.</summary>
    public static bool TryGet(JsonElement element, string name, JsonValueKind kind, out JsonElement value)
    {
        if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out value) && value.ValueKind == kind)
        {
            return true;
        }

        value = default;
        return false;
    }

    /// <summary>Parses a tool call's <c>arguments</c> string into an object; empty text gives an empty object.</summary>
    /// <exception cref="TranslationException">The text is not a JSON object.</exception>
    public static JsonObject ParseArguments(string? arguments, string param)
    {
        if (string.IsNullOrWhiteSpace(arguments))
        {
            return [];
        }

        try
        {
            return JsonNode.Parse(arguments) as JsonObject
                ?? throw new TranslationException("Tool call arguments must be a JSON object.", param);
        }
        catch (JsonException e)
        {
            throw new TranslationException($"Tool call arguments are not valid JSON: {e.Message}", param);
        }
    }

    /// <summary>Parses a tool call's <c>arguments</c> string into an object; anything but a JSON object gives an empty object.</summary>
    public static JsonObject ParseArgumentsLenient(string? arguments)
    {
        if (string.IsNullOrWhiteSpace(arguments))
        {
            return [];
        }

        try
        {
            return JsonNode.Parse(arguments) as JsonObject ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    /// <summary>Splits <c>data:[mediatype][;base64],data</c>; false when the text is not a data URL.</summary>
    public static bool TryParseDataUrl(string url, out string mediaType, out string data, out bool base64)
    {
        mediaType = "";
        data = "";
        base64 = false;
        if (!url.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var comma = url.IndexOf(',', StringComparison.Ordinal);
        if (comma < 0)
        {
            return false;
        }

        var header = url.AsSpan(5, comma - 5);
        if (header.EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
        {
            base64 = true;
            header = header[..^7];
        }

        var semicolon = header.IndexOf(';');
        mediaType = (semicolon >= 0 ? header[..semicolon] : header).ToString();
        if (mediaType.Length == 0)
        {
            mediaType = "text/plain";
        }

        data = url[(comma + 1)..];
        return true;
    }

    /// <summary>
    /// Validates OpenAI <c>tools</c> (function tools only) and yields each tool's <c>function</c> with a new object holding
    /// its <c>name</c> and <c>description</c>, for the vendor's own schema field to be added.
    /// </summary>
    public static IEnumerable<(JsonObject Function, JsonObject Converted)> FunctionTools(JsonArray tools, string vendor)
    {
        for (var i = 0; i < tools.Count; i++)
        {
            var path = $"tools[{i}]";
            var tool = tools[i] as JsonObject ?? throw new TranslationException("Each tool must be an object.", path);
            var type = AsString(tool["type"]) ?? "function";
            if (type != "function" || tool["function"] is not JsonObject function)
            {
                throw new TranslationException($"Tools of type '{type}' are not supported by {vendor} models.", path);
            }

            var converted = new JsonObject
            {
                ["name"] = AsString(function["name"]) ?? throw new TranslationException("A tool needs a name.", path + ".function.name"),
            };
            if (AsString(function["description"]) is { } description)
            {
                converted["description"] = description;
            }

            yield return (function, converted);
        }
    }

    /// <summary>True for absolute http and https URLs.</summary>
    public static bool IsHttpUrl(string url) =>
        url.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("http://", StringComparison.OrdinalIgnoreCase);

    /// <summary>The text of an OpenAI message <c>content</c> (a string, or the text parts of a parts array joined by newlines).</summary>
    public static string? ContentText(JsonNode? content)
    {
        if (AsString(content) is { } text)
        {
            return text;
        }

        if (content is not JsonArray parts)
        {
            return null;
        }

        var builder = new StringBuilder();
        foreach (var part in parts)
        {
            if (part is JsonObject obj && AsString(obj["text"] ?? obj["refusal"]) is { } piece)
            {
                if (builder.Length > 0)
                {
                    builder.Append('\n');
                }

                builder.Append(piece);
            }
        }

        return builder.ToString();
    }

    /// <summary>Adds a node to an array (the generic <c>JsonArray.Add&lt;T&gt;</c> is not trim-safe).</summary>
    public static void AddNode(this JsonArray array, JsonNode? node) => array.Add(node);

    /// <summary>Adds a string to an array.</summary>
    public static void AddNode(this JsonArray array, string value) => array.AddNode(JsonValue.Create(value));

    /// <summary>Removes a prefix when present.</summary>
    public static string StripPrefix(string value, string prefix) =>
        value.StartsWith(prefix, StringComparison.Ordinal) ? value[prefix.Length..] : value;

    /// <summary>OpenAI's <c>usage</c> object for normalised usage.</summary>
    public static JsonObject ToOpenAiUsage(TokenUsage usage) => new()
    {
        ["prompt_tokens"] = usage.PromptTokens,
        ["completion_tokens"] = usage.CompletionTokens,
        ["total_tokens"] = usage.TotalTokens,
        ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = usage.CachedInputTokens },
        ["completion_tokens_details"] = new JsonObject { ["reasoning_tokens"] = usage.ReasoningTokens },
    };

    /// <summary>Writes OpenAI's <c>usage</c> object for normalised usage as the value of the current property.</summary>
    public static void WriteOpenAiUsage(Utf8JsonWriter writer, TokenUsage usage)
    {
        writer.WriteStartObject();
        writer.WriteNumber("prompt_tokens", usage.PromptTokens);
        writer.WriteNumber("completion_tokens", usage.CompletionTokens);
        writer.WriteNumber("total_tokens", usage.TotalTokens);
        writer.WriteStartObject("prompt_tokens_details");
        writer.WriteNumber("cached_tokens", usage.CachedInputTokens);
        writer.WriteEndObject();
        writer.WriteStartObject("completion_tokens_details");
        writer.WriteNumber("reasoning_tokens", usage.ReasoningTokens);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>OpenAI's error body.</summary>
    public static JsonObject OpenAiError(string message, string type, string? param, string? code) => new()
    {
        ["error"] = new JsonObject
        {
            ["message"] = message,
            ["type"] = type,
            ["param"] = param,
            ["code"] = code,
        },
    };

    /// <summary>Parses one SSE event's data, copying it into a pooled buffer that the returned lease gives back.</summary>
    public static PooledDocument Parse(ReadOnlySpan<byte> data)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(data.Length, 1));
        try
        {
            data.CopyTo(buffer);
            var document = JsonDocument.Parse(buffer.AsMemory(0, data.Length));
            return new PooledDocument(document, buffer);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>A parsed document over a rented buffer; disposing it returns both.</summary>
    public readonly struct PooledDocument(JsonDocument document, byte[] buffer) : IDisposable
    {
        /// <summary>The document's root element.</summary>
        public JsonElement Root => document.RootElement;

        /// <inheritdoc />
        public void Dispose()
        {
            document.Dispose();
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
