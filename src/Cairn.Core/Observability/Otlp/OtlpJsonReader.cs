using System.Globalization;
using System.Text.Json;
using Cairn.Core.Observability.Otlp.Proto;
using Google.Protobuf;
using Google.Protobuf.Collections;

namespace Cairn.Core.Observability.Otlp;

/// <summary>
/// Reads an OTLP/JSON export request into the protobuf messages, by hand: OTLP/JSON differs from the protobuf JSON
/// mapping (ids are hex, not base64), and the reader accepts both the lowerCamelCase and the snake_case field names,
/// 64-bit integers as numbers or strings, and enums as numbers or names.
/// </summary>
/// <remarks>
/// A span that cannot be read (an id that is not hex, a field of the wrong type) is recorded in the returned errors and
/// rejected on its own; anything wrong outside the spans makes the whole body unreadable (a <see cref="JsonException"/>).
/// </remarks>
internal static class OtlpJsonReader
{
    // Each kvlist nesting level is four JSON levels; allow as deep as the protobuf parser's recursion limit.
    private static readonly JsonReaderOptions s_readerOptions = new() { MaxDepth = 256 };

    /// <summary>Reads <paramref name="body"/>; spans that could not be read are keys of <paramref name="spanErrors"/>.</summary>
    public static ExportTraceServiceRequest Read(ReadOnlySpan<byte> body, out Dictionary<Span, string>? spanErrors)
    {
        var reader = new Utf8JsonReader(body, s_readerOptions);
        using var document = JsonDocument.ParseValue(ref reader);
        if (reader.Read())
        {
            throw new JsonException("There is more content after the request object.");
        }

        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException($"The request is a JSON {Describe(root.ValueKind)}, not an object.");
        }

        spanErrors = null;
        var request = new ExportTraceServiceRequest();
        foreach (var property in root.EnumerateObject())
        {
            if (Is(property, "resourceSpans", "resource_spans"))
            {
                foreach (var item in Array(property.Value, "resourceSpans"))
                {
                    request.ResourceSpans.Add(ReadResourceSpans(item, ref spanErrors));
                }
            }
        }

        return request;
    }

    private static ResourceSpans ReadResourceSpans(JsonElement element, ref Dictionary<Span, string>? spanErrors)
    {
        var resourceSpans = new ResourceSpans();
        foreach (var property in Object(element, "resourceSpans[]"))
        {
            if (Is(property, "resource", "resource"))
            {
                if (property.Value.ValueKind != JsonValueKind.Null)
                {
                    var resource = new Resource();
                    foreach (var field in Object(property.Value, "resource"))
                    {
                        if (Is(field, "attributes", "attributes"))
                        {
                            ReadAttributes(field.Value, resource.Attributes, "resource.attributes");
                        }
                    }

                    resourceSpans.Resource = resource;
                }
            }
            else if (Is(property, "scopeSpans", "scope_spans"))
            {
                foreach (var item in Array(property.Value, "scopeSpans"))
                {
                    resourceSpans.ScopeSpans.Add(ReadScopeSpans(item, ref spanErrors));
                }
            }
            else if (Is(property, "schemaUrl", "schema_url"))
            {
                resourceSpans.SchemaUrl = String(property.Value, "schemaUrl");
            }
        }

        return resourceSpans;
    }

    private static ScopeSpans ReadScopeSpans(JsonElement element, ref Dictionary<Span, string>? spanErrors)
    {
        var scopeSpans = new ScopeSpans();
        var spans = (JsonElement?)null;
        foreach (var property in Object(element, "scopeSpans[]"))
        {
            if (Is(property, "scope", "scope"))
            {
                if (property.Value.ValueKind != JsonValueKind.Null)
                {
                    scopeSpans.Scope = ReadScope(property.Value);
                }
            }
            else if (Is(property, "spans", "spans"))
            {
                spans = property.Value;
            }
            else if (Is(property, "schemaUrl", "schema_url"))
            {
                scopeSpans.SchemaUrl = String(property.Value, "schemaUrl");
            }
        }

        if (spans is { } list)
        {
            foreach (var item in Array(list, "spans"))
            {
                try
                {
                    scopeSpans.Spans.Add(ReadSpan(item));
                }
                catch (Exception ex) when (ex is JsonException or InvalidOperationException)
                {
                    // Keep the span's place so the rejection names the right index; the converter reports the error.
                    var placeholder = new Span();
                    scopeSpans.Spans.Add(placeholder);
                    spanErrors ??= new Dictionary<Span, string>(ReferenceEqualityComparer.Instance);
                    spanErrors[placeholder] = "cannot be read: " + ex.Message;
                }
            }
        }

        return scopeSpans;
    }

    private static InstrumentationScope ReadScope(JsonElement element)
    {
        var scope = new InstrumentationScope();
        foreach (var property in Object(element, "scope"))
        {
            if (Is(property, "name", "name"))
            {
                scope.Name = String(property.Value, "scope.name");
            }
            else if (Is(property, "version", "version"))
            {
                scope.Version = String(property.Value, "scope.version");
            }
            else if (Is(property, "attributes", "attributes"))
            {
                ReadAttributes(property.Value, scope.Attributes, "scope.attributes");
            }
        }

        return scope;
    }

    private static Span ReadSpan(JsonElement element)
    {
        var span = new Span();
        foreach (var property in Object(element, "span"))
        {
            var value = property.Value;
            switch (property.Name)
            {
                case "traceId" or "trace_id":
                    span.TraceId = Id(value, 16, "traceId");
                    break;
                case "spanId" or "span_id":
                    span.SpanId = Id(value, 8, "spanId");
                    break;
                case "parentSpanId" or "parent_span_id":
                    span.ParentSpanId = Id(value, 8, "parentSpanId");
                    break;
                case "traceState" or "trace_state":
                    span.TraceState = String(value, "traceState");
                    break;
                case "flags":
                    span.Flags = (uint)UInt64(value, "flags");
                    break;
                case "name":
                    span.Name = String(value, "name");
                    break;
                case "kind":
                    span.Kind = (Span.Types.SpanKind)Enum(value, "kind", static name => name switch
                    {
                        "SPAN_KIND_INTERNAL" => 1,
                        "SPAN_KIND_SERVER" => 2,
                        "SPAN_KIND_CLIENT" => 3,
                        "SPAN_KIND_PRODUCER" => 4,
                        "SPAN_KIND_CONSUMER" => 5,
                        _ => 0,
                    });
                    break;
                case "startTimeUnixNano" or "start_time_unix_nano":
                    span.StartTimeUnixNano = UInt64(value, "startTimeUnixNano");
                    break;
                case "endTimeUnixNano" or "end_time_unix_nano":
                    span.EndTimeUnixNano = UInt64(value, "endTimeUnixNano");
                    break;
                case "attributes":
                    ReadAttributes(value, span.Attributes, "attributes");
                    break;
                case "events":
                    foreach (var item in Array(value, "events"))
                    {
                        span.Events.Add(ReadEvent(item));
                    }

                    break;
                case "links":
                    foreach (var item in Array(value, "links"))
                    {
                        span.Links.Add(ReadLink(item));
                    }

                    break;
                case "status":
                    if (value.ValueKind != JsonValueKind.Null)
                    {
                        span.Status = ReadStatus(value);
                    }

                    break;
            }
        }

        return span;
    }

    private static Span.Types.Event ReadEvent(JsonElement element)
    {
        var e = new Span.Types.Event();
        foreach (var property in Object(element, "events[]"))
        {
            switch (property.Name)
            {
                case "timeUnixNano" or "time_unix_nano":
                    e.TimeUnixNano = UInt64(property.Value, "events[].timeUnixNano");
                    break;
                case "name":
                    e.Name = String(property.Value, "events[].name");
                    break;
                case "attributes":
                    ReadAttributes(property.Value, e.Attributes, "events[].attributes");
                    break;
            }
        }

        return e;
    }

    private static Span.Types.Link ReadLink(JsonElement element)
    {
        var link = new Span.Types.Link();
        foreach (var property in Object(element, "links[]"))
        {
            switch (property.Name)
            {
                case "traceId" or "trace_id":
                    link.TraceId = Id(property.Value, 16, "links[].traceId");
                    break;
                case "spanId" or "span_id":
                    link.SpanId = Id(property.Value, 8, "links[].spanId");
                    break;
                case "traceState" or "trace_state":
                    link.TraceState = String(property.Value, "links[].traceState");
                    break;
                case "attributes":
                    ReadAttributes(property.Value, link.Attributes, "links[].attributes");
                    break;
            }
        }

        return link;
    }

    private static Status ReadStatus(JsonElement element)
    {
        var status = new Status();
        foreach (var property in Object(element, "status"))
        {
            switch (property.Name)
            {
                case "message":
                    status.Message = String(property.Value, "status.message");
                    break;
                case "code":
                    status.Code = (Status.Types.StatusCode)Enum(property.Value, "status.code", static name => name switch
                    {
                        "STATUS_CODE_OK" => 1,
                        "STATUS_CODE_ERROR" => 2,
                        _ => 0,
                    });
                    break;
            }
        }

        return status;
    }

    private static void ReadAttributes(JsonElement element, RepeatedField<KeyValue> attributes, string path)
    {
        foreach (var item in Array(element, path))
        {
            attributes.Add(ReadKeyValue(item, path));
        }
    }

    private static KeyValue ReadKeyValue(JsonElement element, string path)
    {
        var pair = new KeyValue();
        foreach (var property in Object(element, path))
        {
            if (property.NameEquals("key"u8))
            {
                pair.Key = String(property.Value, path + "[].key");
            }
            else if (property.NameEquals("value"u8) && property.Value.ValueKind != JsonValueKind.Null)
            {
                pair.Value = ReadAnyValue(property.Value, path);
            }
        }

        return pair;
    }

    private static AnyValue ReadAnyValue(JsonElement element, string path)
    {
        var value = new AnyValue();
        foreach (var property in Object(element, path))
        {
            var v = property.Value;
            if (v.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            switch (property.Name)
            {
                case "stringValue" or "string_value":
                    value.StringValue = String(v, path);
                    break;
                case "boolValue" or "bool_value":
                    value.BoolValue = v.ValueKind switch
                    {
                        JsonValueKind.True => true,
                        JsonValueKind.False => false,
                        _ => throw new JsonException($"{path}: boolValue is a JSON {Describe(v.ValueKind)}, not a boolean."),
                    };
                    break;
                case "intValue" or "int_value":
                    value.IntValue = Int64(v, path);
                    break;
                case "doubleValue" or "double_value":
                    value.DoubleValue = Double(v, path);
                    break;
                case "bytesValue" or "bytes_value":
                    value.BytesValue = Bytes(v, path);
                    break;
                case "arrayValue" or "array_value":
                    var array = new ArrayValue();
                    foreach (var field in Object(v, path))
                    {
                        if (field.NameEquals("values"u8))
                        {
                            foreach (var item in Array(field.Value, path))
                            {
                                array.Values.Add(ReadAnyValue(item, path));
                            }
                        }
                    }

                    value.ArrayValue = array;
                    break;
                case "kvlistValue" or "kvlist_value":
                    var list = new KeyValueList();
                    foreach (var field in Object(v, path))
                    {
                        if (field.NameEquals("values"u8))
                        {
                            ReadAttributes(field.Value, list.Values, path);
                        }
                    }

                    value.KvlistValue = list;
                    break;
            }
        }

        return value;
    }

    // OTLP/JSON ids are hex (case-insensitive). Base64 of the right length is accepted too: a generic protobuf JSON
    // encoder writes bytes that way, and a 16- or 8-byte id in base64 cannot be mistaken for hex (24 or 12 characters).
    private static ByteString Id(JsonElement element, int length, string field)
    {
        var text = String(element, field);
        if (text.Length == 0)
        {
            return ByteString.Empty;
        }

        if (text.Length % 2 == 0)
        {
            var bytes = new byte[text.Length / 2];
            if (Convert.FromHexString(text, bytes, out _, out _) == System.Buffers.OperationStatus.Done)
            {
                return UnsafeByteOperations.UnsafeWrap(bytes);
            }
        }

        Span<byte> decoded = stackalloc byte[18];
        if (text.Length <= 24 && Convert.TryFromBase64String(text, decoded, out var written) && written == length)
        {
            return ByteString.CopyFrom(decoded[..written]);
        }

        throw new JsonException($"{field} '{Shorten(text)}' is not a hex id.");
    }

    private static ByteString Bytes(JsonElement element, string path)
    {
        if (element.ValueKind == JsonValueKind.String && element.TryGetBytesFromBase64(out var bytes))
        {
            return UnsafeByteOperations.UnsafeWrap(bytes);
        }

        // Proto3 JSON also allows the URL-safe alphabet.
        var text = String(element, path).Replace('-', '+').Replace('_', '/');
        text = text.PadRight(text.Length + ((4 - (text.Length % 4)) % 4), '=');
        try
        {
            return UnsafeByteOperations.UnsafeWrap(Convert.FromBase64String(text));
        }
        catch (FormatException)
        {
            throw new JsonException($"{path}: bytesValue is not base64.");
        }
    }

    private static ulong UInt64(JsonElement element, string field)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Number:
                if (element.TryGetUInt64(out var number))
                {
                    return number;
                }

                if (element.TryGetDouble(out var d) && d >= 0 && d < 1.8446744073709552E19 && d == Math.Floor(d))
                {
                    return (ulong)d;
                }

                break;
            case JsonValueKind.String:
                if (ulong.TryParse(element.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out number))
                {
                    return number;
                }

                break;
            case JsonValueKind.Null:
                return 0;
        }

        throw new JsonException($"{field} is not an unsigned 64-bit integer.");
    }

    private static long Int64(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Number:
                if (element.TryGetInt64(out var number))
                {
                    return number;
                }

                if (element.TryGetDouble(out var d) && d >= long.MinValue && d < long.MaxValue && d == Math.Floor(d))
                {
                    return (long)d;
                }

                break;
            case JsonValueKind.String:
                if (long.TryParse(element.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number))
                {
                    return number;
                }

                break;
        }

        throw new JsonException($"{path}: intValue is not a 64-bit integer.");
    }

    private static double Double(JsonElement element, string path)
    {
        if (element.ValueKind == JsonValueKind.Number)
        {
            return element.GetDouble();
        }

        if (element.ValueKind == JsonValueKind.String)
        {
            var text = element.GetString();
            switch (text)
            {
                case "NaN":
                    return double.NaN;
                case "Infinity":
                    return double.PositiveInfinity;
                case "-Infinity":
                    return double.NegativeInfinity;
            }

            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
            {
                return d;
            }
        }

        throw new JsonException($"{path}: doubleValue is not a number.");
    }

    private static int Enum(JsonElement element, string field, Func<string, int> byName)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Number when element.TryGetInt32(out var number):
                return number;
            case JsonValueKind.String:
                var text = element.GetString()!;
                return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : byName(text);
            case JsonValueKind.Null:
                return 0;
            default:
                throw new JsonException($"{field} is not an enum number or name.");
        }
    }

    private static string String(JsonElement element, string field) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString()!,
        JsonValueKind.Null => "",
        _ => throw new JsonException($"{field} is a JSON {Describe(element.ValueKind)}, not a string."),
    };

    private static JsonElement.ArrayEnumerator Array(JsonElement element, string field) => element.ValueKind switch
    {
        JsonValueKind.Array => element.EnumerateArray(),
        JsonValueKind.Null => default,
        _ => throw new JsonException($"{field} is a JSON {Describe(element.ValueKind)}, not an array."),
    };

    private static JsonElement.ObjectEnumerator Object(JsonElement element, string field) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject(),
        _ => throw new JsonException($"{field} is a JSON {Describe(element.ValueKind)}, not an object."),
    };

    private static bool Is(JsonProperty property, string camel, string snake) =>
        property.NameEquals(camel) || (!ReferenceEquals(camel, snake) && property.NameEquals(snake));

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };

    private static string Shorten(string text) => text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 40), "…");
}
