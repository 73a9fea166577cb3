using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Cairn.Core.Observability.Otlp.Proto;
using Google.Protobuf.Collections;

namespace Cairn.Core.Observability.Otlp;

/// <summary>A reusable UTF-8 JSON writer over a growable buffer, producing one string at a time.</summary>
/// <remarks>Owned by one decode call; not thread-safe.</remarks>
internal sealed class JsonBuffer : IDisposable
{
    private static readonly JsonWriterOptions s_options = new()
    {
        // Stored, not embedded in HTML: keep non-ASCII text as it is rather than \u-escaping it.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly Utf8JsonWriter _writer;

    public JsonBuffer() => _writer = new Utf8JsonWriter(_buffer, s_options);

    /// <summary>Clears the buffer and returns the writer, ready for one JSON value.</summary>
    public Utf8JsonWriter Start()
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        return _writer;
    }

    /// <summary>The JSON written since <see cref="Start"/>, as UTF-8.</summary>
    public ReadOnlySpan<byte> Written
    {
        get
        {
            _writer.Flush();
            return _buffer.WrittenSpan;
        }
    }

    /// <summary>The JSON written since <see cref="Start"/>.</summary>
    public string Finish() => Encoding.UTF8.GetString(Written);

    public void Dispose() => _writer.Dispose();
}

/// <summary>Writes OTLP values as plain JSON (<c>{"key": value}</c>), cutting what is over the size limits.</summary>
internal static class OtlpJsonWriting
{
    /// <summary>What replaces the end of a value cut at the size limit.</summary>
    public const string TruncationMarker = "…[truncated]";

    /// <summary>
    /// <paramref name="text"/> cut to <paramref name="maxLength"/> characters (never between the halves of a surrogate
    /// pair) with <see cref="TruncationMarker"/> appended; <paramref name="text"/> itself when it fits.
    /// </summary>
    public static string Truncate(string text, int maxLength, ref bool truncated)
    {
        if (text.Length <= maxLength)
        {
            return text;
        }

        truncated = true;
        var cut = maxLength;
        if (cut > 0 && char.IsHighSurrogate(text[cut - 1]))
        {
            cut--;
        }

        return string.Concat(text.AsSpan(0, cut), TruncationMarker);
    }

    /// <summary>Writes <paramref name="attributes"/> as one object, leaving out the keys in <paramref name="skip"/>.</summary>
    public static void WriteAttributes(
        Utf8JsonWriter writer, RepeatedField<KeyValue>? attributes, AttributeLookup? lookup, ulong skip, int maxLength, ref bool truncated, JsonBuffer nested)
    {
        writer.WriteStartObject();
        if (attributes is not null)
        {
            for (var i = 0; i < attributes.Count; i++)
            {
                if (skip != 0 && lookup is not null && (skip & AttributeLookup.Bit(lookup.KeyAt(i))) != 0)
                {
                    continue;
                }

                var attribute = attributes[i];
                writer.WritePropertyName(attribute.Key);
                WriteValue(writer, attribute.Value, maxLength, ref truncated, nested);
            }
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// Writes one value: strings, numbers and booleans as themselves, arrays as arrays, key-value lists as objects, bytes
    /// as base64. A string over <paramref name="maxLength"/> is cut; so is an array or list whose JSON is longer, which
    /// is then written as the cut JSON text. <paramref name="nested"/> is the scratch buffer for that (null inside it).
    /// </summary>
    public static void WriteValue(Utf8JsonWriter writer, AnyValue? value, int maxLength, ref bool truncated, JsonBuffer? nested)
    {
        switch (value?.ValueCase ?? AnyValue.ValueOneofCase.None)
        {
            case AnyValue.ValueOneofCase.StringValue:
                writer.WriteStringValue(Truncate(value!.StringValue, maxLength, ref truncated));
                break;
            case AnyValue.ValueOneofCase.BoolValue:
                writer.WriteBooleanValue(value!.BoolValue);
                break;
            case AnyValue.ValueOneofCase.IntValue:
                writer.WriteNumberValue(value!.IntValue);
                break;
            case AnyValue.ValueOneofCase.DoubleValue:
                WriteDouble(writer, value!.DoubleValue);
                break;
            case AnyValue.ValueOneofCase.BytesValue:
                var bytes = value!.BytesValue.Span;
                if ((bytes.Length + 2) / 3 * 4 <= maxLength)
                {
                    writer.WriteBase64StringValue(bytes);
                }
                else
                {
                    writer.WriteStringValue(Truncate(Convert.ToBase64String(bytes), maxLength, ref truncated));
                }

                break;
            case AnyValue.ValueOneofCase.ArrayValue:
            case AnyValue.ValueOneofCase.KvlistValue:
                if (nested is not null && !FitsIn(value!, maxLength))
                {
                    WriteLargeComposite(writer, value!, maxLength, ref truncated, nested);
                }
                else
                {
                    WriteComposite(writer, value!, maxLength, ref truncated, nested);
                }

                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }

    /// <summary>The value as text: a string as it is, anything else as its JSON; null when empty.</summary>
    public static string? ToText(AnyValue? value, int maxLength, ref bool truncated, JsonBuffer buffer, JsonBuffer nested)
    {
        switch (value?.ValueCase ?? AnyValue.ValueOneofCase.None)
        {
            case AnyValue.ValueOneofCase.None:
                return null;
            case AnyValue.ValueOneofCase.StringValue:
                return value!.StringValue.Length == 0 ? null : Truncate(value.StringValue, maxLength, ref truncated);
            default:
                var writer = buffer.Start();
                WriteValue(writer, value, maxLength, ref truncated, nested);
                return Truncate(buffer.Finish(), maxLength, ref truncated);
        }
    }

    /// <summary>A scalar as text (numbers in invariant culture); null for arrays, lists, bytes and empty strings.</summary>
    public static string? ScalarText(AnyValue? value) => (value?.ValueCase ?? AnyValue.ValueOneofCase.None) switch
    {
        AnyValue.ValueOneofCase.StringValue => value!.StringValue.Length == 0 ? null : value.StringValue,
        AnyValue.ValueOneofCase.IntValue => value!.IntValue.ToString(CultureInfo.InvariantCulture),
        AnyValue.ValueOneofCase.DoubleValue => value!.DoubleValue.ToString("R", CultureInfo.InvariantCulture),
        AnyValue.ValueOneofCase.BoolValue => value!.BoolValue ? "true" : "false",
        _ => null,
    };

    private static void WriteDouble(Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            // JSON has no NaN or infinities; write them as proto3 JSON does.
            writer.WriteStringValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
        }
    }

    private static void WriteComposite(Utf8JsonWriter writer, AnyValue value, int maxLength, ref bool truncated, JsonBuffer? nested)
    {
        if (value.ValueCase == AnyValue.ValueOneofCase.ArrayValue)
        {
            writer.WriteStartArray();
            foreach (var item in value.ArrayValue.Values)
            {
                WriteValue(writer, item, maxLength, ref truncated, nested);
            }

            writer.WriteEndArray();
        }
        else
        {
            writer.WriteStartObject();
            foreach (var pair in value.KvlistValue.Values)
            {
                writer.WritePropertyName(pair.Key);
                WriteValue(writer, pair.Value, maxLength, ref truncated, nested);
            }

            writer.WriteEndObject();
        }
    }

    private static void WriteLargeComposite(Utf8JsonWriter writer, AnyValue value, int maxLength, ref bool truncated, JsonBuffer nested)
    {
        var inner = nested.Start();
        WriteComposite(inner, value, maxLength, ref truncated, null);
        var json = nested.Written;
        if (json.Length <= maxLength)
        {
            // The estimate was pessimistic (escapes, multi-byte text): the whole value fits after all.
            writer.WriteRawValue(json, skipInputValidation: true);
            return;
        }

        writer.WriteStringValue(Truncate(Encoding.UTF8.GetString(json), maxLength, ref truncated));
    }

    // A cheap upper-bound-ish estimate of the JSON length of an array or list, stopping as soon as it passes the limit;
    // only values that may not fit are serialised twice.
    private static bool FitsIn(AnyValue value, int maxLength)
    {
        var budget = (long)maxLength;
        return Spend(value, ref budget);
    }

    private static bool Spend(AnyValue? value, ref long budget)
    {
        switch (value?.ValueCase ?? AnyValue.ValueOneofCase.None)
        {
            case AnyValue.ValueOneofCase.StringValue:
                budget -= value!.StringValue.Length + 3;
                break;
            case AnyValue.ValueOneofCase.BytesValue:
                budget -= (value!.BytesValue.Length + 2) / 3 * 4 + 3;
                break;
            case AnyValue.ValueOneofCase.ArrayValue:
                budget -= 2;
                foreach (var item in value!.ArrayValue.Values)
                {
                    if (!Spend(item, ref budget))
                    {
                        return false;
                    }
                }

                break;
            case AnyValue.ValueOneofCase.KvlistValue:
                budget -= 2;
                foreach (var pair in value!.KvlistValue.Values)
                {
                    budget -= pair.Key.Length + 4;
                    if (!Spend(pair.Value, ref budget))
                    {
                        return false;
                    }
                }

                break;
            default:
                budget -= 25;
                break;
        }

        return budget >= 0;
    }
}
