using System.Text.Json.Nodes;
using Cairn.Core.Observability;
using Cairn.Core.Observability.Otlp;
using Cairn.Core.Observability.Otlp.Proto;
using Google.Protobuf;

namespace Cairn.Core.Tests.Observability;

/// <summary>Builders for OTLP requests made with the generated messages, and JSON assertions.</summary>
internal static class Otlp
{
    public const string TraceIdHex = "5b8efff798038103d269b633813fc60c";
    public const string SpanIdHex = "eee19b7ec3c1b174";
    public const ulong Start = 1_544_712_660_000_000_000;

    public static KeyValue Attr(string key, object value) => new() { Key = key, Value = Value(value) };

    public static AnyValue Value(object value) => value switch
    {
        string s => new AnyValue { StringValue = s },
        bool b => new AnyValue { BoolValue = b },
        int i => new AnyValue { IntValue = i },
        long l => new AnyValue { IntValue = l },
        double d => new AnyValue { DoubleValue = d },
        byte[] bytes => new AnyValue { BytesValue = ByteString.CopyFrom(bytes) },
        KeyValue[] pairs => new AnyValue { KvlistValue = new KeyValueList { Values = { pairs } } },
        object[] items => new AnyValue { ArrayValue = new ArrayValue { Values = { items.Select(Value) } } },
        _ => throw new ArgumentException($"No AnyValue for {value.GetType()}."),
    };

    public static Span Span(string name = "span", params KeyValue[] attributes) => new()
    {
        TraceId = ByteString.CopyFrom(Convert.FromHexString(TraceIdHex)),
        SpanId = ByteString.CopyFrom(Convert.FromHexString(SpanIdHex)),
        Name = name,
        StartTimeUnixNano = Start,
        EndTimeUnixNano = Start + 1_000_000_000,
        Attributes = { attributes },
    };

    public static ExportTraceServiceRequest Request(IEnumerable<KeyValue> resource, params Span[] spans) => new()
    {
        ResourceSpans =
        {
            new ResourceSpans
            {
                Resource = new Resource { Attributes = { resource } },
                ScopeSpans = { new ScopeSpans { Scope = new InstrumentationScope { Name = "test.scope" }, Spans = { spans } } },
            },
        },
    };

    public static OtlpDecodeResult Decode(ExportTraceServiceRequest request, OtlpDecodeOptions? options = null) =>
        OtlpTraceDecoder.DecodeProtobuf(request.ToByteArray(), options ?? new OtlpDecodeOptions());

    /// <summary>Decodes one span (with no resource attributes) and returns it.</summary>
    public static SpanRecord DecodeOne(Span span, params KeyValue[] resource)
    {
        var result = Decode(Request(resource, span));
        Assert.Null(result.ErrorMessage);
        return Assert.Single(result.Spans);
    }

    public static void JsonEqual(string expected, string? actual)
    {
        var expectedNode = JsonNode.Parse(expected);
        var actualNode = actual is null ? null : JsonNode.Parse(actual);
        Assert.True(
            JsonNode.DeepEquals(expectedNode, actualNode),
            $"JSON differs.\nExpected: {expectedNode?.ToJsonString()}\nActual:   {actualNode?.ToJsonString()}");
    }
}
