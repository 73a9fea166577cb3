using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cairn.Contracts.Prompts;

/// <summary>How template values are looked into, tested and written (no reflection: dictionaries, lists and JSON only).</summary>
internal static class PromptValues
{
    private static readonly object s_true = true;
    private static readonly object s_false = false;

    // Prompts are not HTML: keep '<', '&', quotes and non-ASCII letters as they are inside JSON strings.
    private static readonly JsonWriterOptions s_jsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Turns JSON scalars into what they stand for: JSON null into null, booleans into <see cref="bool"/>, JSON values into their element or CLR value.</summary>
    public static object? Normalize(object? value) => value switch
    {
        JsonElement element => Normalize(element),
        JsonValue node => Normalize(node),
        _ => value,
    };

    private static object? Normalize(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.True => s_true,
        JsonValueKind.False => s_false,
        _ => element,
    };

    private static object? Normalize(JsonValue node)
    {
        if (node.TryGetValue<JsonElement>(out var element))
        {
            return Normalize(element);
        }

        return node.TryGetValue<object>(out var value) ? Normalize(value) : node.ToJsonString();
    }

    /// <summary>Looks <paramref name="name"/> up in a dictionary or JSON object; false for anything else or an absent key.</summary>
    public static bool TryGetMember(object? container, string name, out object? value)
    {
        switch (container)
        {
            case IReadOnlyDictionary<string, object?> dictionary:
                if (dictionary.TryGetValue(name, out value))
                {
                    value = Normalize(value);
                    return true;
                }

                return false;
            case IReadOnlyDictionary<string, JsonElement> json:
                if (json.TryGetValue(name, out var element))
                {
                    value = Normalize(element);
                    return true;
                }

                break;
            case JsonElement { ValueKind: JsonValueKind.Object } jsonObject:
                if (jsonObject.TryGetProperty(name, out var property))
                {
                    value = Normalize(property);
                    return true;
                }

                break;
            case JsonObject node:
                if (node.TryGetPropertyValue(name, out var child))
                {
                    value = Normalize(child);
                    return true;
                }

                break;
            case IDictionary dictionary:
                if (dictionary.Contains(name))
                {
                    value = Normalize(dictionary[name]);
                    return true;
                }

                break;
            default:
                break;
        }

        value = null;
        return false;
    }

    /// <summary>False for null, false, an empty string, an empty list or an empty object; true otherwise (numbers included, 0 too).</summary>
    public static bool IsTruthy(object? value)
    {
        switch (value)
        {
            case null:
                return false;
            case bool flag:
                return flag;
            case string text:
                return text.Length > 0;
            case JsonElement element:
                return element.ValueKind switch
                {
                    JsonValueKind.Array => element.GetArrayLength() > 0,
                    JsonValueKind.Object => element.EnumerateObject().MoveNext(),
                    JsonValueKind.String => !element.ValueEquals(""),
                    JsonValueKind.Number or JsonValueKind.True => true,
                    _ => false,
                };
            case JsonArray array:
                return array.Count > 0;
            case JsonObject node:
                return node.Count > 0;
            case ICollection collection:
                return collection.Count > 0;
            case IReadOnlyCollection<KeyValuePair<string, object?>> dictionary:
                return dictionary.Count > 0;
            case IEnumerable items:
                var enumerator = items.GetEnumerator();
                try
                {
                    return enumerator.MoveNext();
                }
                finally
                {
                    (enumerator as IDisposable)?.Dispose();
                }

            default:
                return true;
        }
    }

    /// <summary>Writes a value as prompt text.</summary>
    public static void Append(StringBuilder builder, object? value)
    {
        switch (value)
        {
            case null:
                return;
            case string text:
                builder.Append(text);
                return;
            case bool flag:
                builder.Append(flag ? "true" : "false");
                return;
            case JsonElement element:
                switch (element.ValueKind)
                {
                    case JsonValueKind.String:
                        builder.Append(element.GetString());
                        return;
                    case JsonValueKind.Number:
                        builder.Append(element.GetRawText());
                        return;
                    case JsonValueKind.True:
                        builder.Append("true");
                        return;
                    case JsonValueKind.False:
                        builder.Append("false");
                        return;
                    case JsonValueKind.Null:
                    case JsonValueKind.Undefined:
                        return;
                    default:
                        AppendJson(builder, element);
                        return;
                }

            case char character:
                builder.Append(character);
                return;
            case double number:
                AppendFormattable(builder, number, "R");
                return;
            case float number:
                AppendFormattable(builder, number, "R");
                return;
            case DateTime or DateTimeOffset:
                AppendFormattable(builder, (ISpanFormattable)value, "O");
                return;
            case ISpanFormattable formattable:
                AppendFormattable(builder, formattable, default);
                return;
            case IFormattable formattable:
                builder.Append(formattable.ToString(null, CultureInfo.InvariantCulture));
                return;
            case JsonNode or IEnumerable:
                AppendJson(builder, value);
                return;
            default:
                builder.Append(value.ToString());
                return;
        }
    }

    private static void AppendFormattable(StringBuilder builder, ISpanFormattable value, ReadOnlySpan<char> format)
    {
        Span<char> buffer = stackalloc char[64];
        if (value.TryFormat(buffer, out var written, format, CultureInfo.InvariantCulture))
        {
            builder.Append(buffer[..written]);
        }
        else
        {
            builder.Append(value.ToString(format.IsEmpty ? null : format.ToString(), CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Writes a container (or anything else) as compact JSON.</summary>
    private static void AppendJson(StringBuilder builder, object value)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, s_jsonOptions))
        {
            WriteJson(writer, value);
        }

        builder.Append(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static void WriteJson(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case string text:
                writer.WriteStringValue(text);
                break;
            case bool flag:
                writer.WriteBooleanValue(flag);
                break;
            case JsonElement element:
                element.WriteTo(writer);
                break;
            case JsonNode node:
                node.WriteTo(writer);
                break;
            case int or long or short or sbyte or byte or ushort or uint:
                writer.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture));
                break;
            case ulong number:
                writer.WriteNumberValue(number);
                break;
            case decimal number:
                writer.WriteNumberValue(number);
                break;
            case double number when double.IsFinite(number):
                writer.WriteNumberValue(number);
                break;
            case float number when float.IsFinite(number):
                writer.WriteNumberValue(number);
                break;
            case IReadOnlyDictionary<string, object?> dictionary:
                writer.WriteStartObject();
                foreach (var (key, item) in dictionary)
                {
                    writer.WritePropertyName(key);
                    WriteJson(writer, item);
                }

                writer.WriteEndObject();
                break;
            case IDictionary dictionary:
                writer.WriteStartObject();
                foreach (DictionaryEntry entry in dictionary)
                {
                    writer.WritePropertyName(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? "");
                    WriteJson(writer, entry.Value);
                }

                writer.WriteEndObject();
                break;
            case IEnumerable items:
                writer.WriteStartArray();
                foreach (var item in items)
                {
                    WriteJson(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                var scalar = new StringBuilder();
                Append(scalar, value);
                writer.WriteStringValue(scalar.ToString());
                break;
        }
    }
}
