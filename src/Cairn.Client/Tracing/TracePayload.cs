using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using System.Text.Unicode;

namespace Cairn.Client.Tracing;

/// <summary>Turns step inputs, outputs and messages into attribute text, capped at <see cref="CairnTracing.MaxPayloadBytes"/>.</summary>
internal static class TracePayload
{
    private const string TruncationMarker = "…[truncated]";

    /// <summary>Formats <paramref name="value"/>: a string as itself (text), a JSON node or element as its JSON, anything else serialized to JSON.</summary>
    /// <returns>The text and its MIME type, or null text for a null value.</returns>
    public static (string? Text, string MimeType) Format<T>(T value, JsonTypeInfo? typeInfo, bool stringIsJson)
    {
        string json;
        switch (value)
        {
            case null:
                return (null, CairnAttributes.TextMimeType);
            case string text:
                return stringIsJson ? Cap(text, CairnAttributes.JsonMimeType) : Cap(text, CairnAttributes.TextMimeType);
            case JsonElement { ValueKind: JsonValueKind.Undefined }:
                return (null, CairnAttributes.TextMimeType);
            case JsonElement element:
                json = element.GetRawText();
                break;
            case JsonNode node:
                json = node.ToJsonString(CairnTracing.SerializerOptions);
                break;
            default:
                if (!TrySerialize(value, typeInfo, out json))
                {
                    return (json, CairnAttributes.TextMimeType);
                }

                break;
        }

        return Cap(json, CairnAttributes.JsonMimeType);
    }

    /// <summary>Cuts <paramref name="text"/> to at most <see cref="CairnTracing.MaxPayloadBytes"/> UTF-8 bytes; cut JSON is no longer JSON, so it becomes text.</summary>
    public static (string Text, string MimeType) Cap(string text, string mimeType)
    {
        const int Limit = CairnTracing.MaxPayloadBytes;

        // A UTF-16 char is at most 3 UTF-8 bytes, so most payloads need no count.
        if (text.Length <= Limit / 3 || (text.Length <= Limit && System.Text.Encoding.UTF8.GetByteCount(text) <= Limit))
        {
            return (text, mimeType);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(Limit - 16);
        try
        {
            // Stops before a surrogate pair that would not fit, so the prefix stays valid text.
            Utf8.FromUtf16(text, buffer.AsSpan(0, Limit - 16), out var charsRead, out _, replaceInvalidSequences: true, isFinalBlock: false);
            return (string.Concat(text.AsSpan(0, charsRead), TruncationMarker), CairnAttributes.TextMimeType);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static bool TrySerialize<T>(T value, JsonTypeInfo? typeInfo, out string json)
    {
        var runtimeType = value!.GetType();
        try
        {
            typeInfo ??= CairnTracing.SerializerOptions.GetTypeInfo(runtimeType);
            json = JsonSerializer.Serialize(value, typeInfo);
            return true;
        }
#pragma warning disable CA1031 // Recording a step must never fail the caller's work: a value that cannot be serialized is recorded as a note instead.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            json = $"<{runtimeType.Name} could not be serialized: {ex.Message} Pass a JsonTypeInfo, or add the type to CairnTracing.SerializerOptions.>";
            return false;
        }
    }
}
