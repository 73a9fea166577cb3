using System.Text;
using System.Text.Json;
using Cairn.Core.Observability;
using Cairn.Core.Observability.Otlp;
using Cairn.Core.Observability.Otlp.Proto;
using Google.Protobuf;
using static Cairn.Core.Tests.Observability.Otlp;
using ProtoSpan = Cairn.Core.Observability.Otlp.Proto.Span;

namespace Cairn.Core.Tests.Observability;

public sealed class OtlpTraceDecoderTests
{
    // Modelled on the OTLP specification's examples/trace.json: uppercase hex ids, 64-bit times as JSON numbers.
    private const string SpecExample = """
        {
          "resourceSpans": [
            {
              "resource": {
                "attributes": [
                  { "key": "service.name", "value": { "stringValue": "my.service" } }
                ]
              },
              "scopeSpans": [
                {
                  "scope": {
                    "name": "my.library",
                    "version": "1.0.0",
                    "attributes": [
                      { "key": "my.scope.attribute", "value": { "stringValue": "some scope attribute" } }
                    ]
                  },
                  "spans": [
                    {
                      "traceId": "5B8EFFF798038103D269B633813FC60C",
                      "spanId": "EEE19B7EC3C1B174",
                      "parentSpanId": "EEE19B7EC3C1B173",
                      "name": "I'm a server span",
                      "startTimeUnixNano": 1544712660000000000,
                      "endTimeUnixNano": 1544712661000000000,
                      "kind": 2,
                      "attributes": [
                        { "key": "my.span.attr", "value": { "stringValue": "some value" } }
                      ]
                    }
                  ]
                }
              ]
            }
          ]
        }
        """;

    [Fact]
    public void DecodeJson_SpecExample_ReadsTheSpan()
    {
        var result = OtlpTraceDecoder.DecodeJson(Encoding.UTF8.GetBytes(SpecExample), new OtlpDecodeOptions());

        Assert.Equal(0, result.RejectedSpans);
        Assert.Null(result.ErrorMessage);
        var span = Assert.Single(result.Spans);
        Assert.Equal(ObservabilityDefaults.Project, span.Project);
        Assert.Equal("5b8efff798038103d269b633813fc60c", span.TraceId);
        Assert.Equal("eee19b7ec3c1b174", span.SpanId);
        Assert.Equal("eee19b7ec3c1b173", span.ParentSpanId);
        Assert.Equal("I'm a server span", span.Name);
        Assert.Equal(SpanKind.Server, span.Kind);
        Assert.Equal(1544712660000000000, span.StartTimeUnixNano);
        Assert.Equal(1544712661000000000, span.EndTimeUnixNano);
        Assert.Equal(1000, span.DurationMs);
        Assert.Equal(SpanStatusCode.Unset, span.StatusCode);
        Assert.Equal(SpanTypes.Span, span.Type);
        Assert.Equal("my.service", span.ServiceName);
        Assert.Equal("my.library", span.ScopeName);
        JsonEqual("""{"my.span.attr":"some value"}""", span.AttributesJson);
        JsonEqual("""{"service.name":"my.service"}""", span.ResourceJson);
        Assert.Null(span.EventsJson);
        Assert.Null(span.LinksJson);
        Assert.Equal(SpanFlags.None, span.Flags);
        Assert.Empty(span.Tags);
    }

    [Fact]
    public void DecodeJson_SnakeCaseNamesEnumNamesAndStringNumbers_AreAccepted()
    {
        var json = """
            {"resource_spans":[{"resource":{"attributes":[{"key":"cairn.project","value":{"string_value":"shop"}}]},
              "scope_spans":[{"spans":[{
                "trace_id":"5b8efff798038103d269b633813fc60c","span_id":"eee19b7ec3c1b174","parent_span_id":"",
                "name":"s","kind":"SPAN_KIND_CLIENT","start_time_unix_nano":"1544712660000000000","end_time_unix_nano":"1544712660500000000",
                "status":{"code":"STATUS_CODE_ERROR","message":"boom"},
                "attributes":[
                  {"key":"i","value":{"intValue":"42"}},{"key":"j","value":{"int_value":7}},{"key":"d","value":{"doubleValue":1.5}},
                  {"key":"nan","value":{"doubleValue":"NaN"}},{"key":"b","value":{"boolValue":true}},
                  {"key":"bytes","value":{"bytesValue":"AQID"}},
                  {"key":"arr","value":{"arrayValue":{"values":[{"stringValue":"x"},{"intValue":"1"}]}}},
                  {"key":"map","value":{"kvlistValue":{"values":[{"key":"k","value":{"boolValue":false}}]}}},
                  {"key":"empty","value":{}}]}]}]}]}
            """;

        var span = Assert.Single(OtlpTraceDecoder.DecodeJson(Encoding.UTF8.GetBytes(json), new OtlpDecodeOptions()).Spans);

        Assert.Equal("shop", span.Project);
        Assert.Null(span.ParentSpanId);
        Assert.Equal(SpanKind.Client, span.Kind);
        Assert.Equal(500, span.DurationMs);
        Assert.Equal(SpanStatusCode.Error, span.StatusCode);
        Assert.Equal("boom", span.StatusMessage);
        Assert.Null(span.ScopeName);
        JsonEqual(
            """{"i":42,"j":7,"d":1.5,"nan":"NaN","b":true,"bytes":"AQID","arr":["x",1],"map":{"k":false},"empty":null}""",
            span.AttributesJson);
    }

    [Fact]
    public void DecodeJson_OptionsProject_WinsOverTheResource()
    {
        var span = Assert.Single(OtlpTraceDecoder.DecodeJson(Encoding.UTF8.GetBytes(SpecExample), new OtlpDecodeOptions { Project = "p1" }).Spans);
        Assert.Equal("p1", span.Project);
    }

    [Fact]
    public void DecodeProtobuf_RoundTrip_KeepsEveryField()
    {
        var span = Span("chat", Attr("s", "text"), Attr("n", 3L), Attr("f", 0.25), Attr("ok", true),
            Attr("list", new object[] { "a", 2L }), Attr("map", new[] { Attr("inner", "v") }), Attr("raw", new byte[] { 1, 2, 3 }));
        span.ParentSpanId = ByteString.CopyFrom(Convert.FromHexString("0102030405060708"));
        span.Kind = ProtoSpan.Types.SpanKind.Internal;
        span.Status = new Status { Code = Status.Types.StatusCode.Ok };
        span.Events.Add(new ProtoSpan.Types.Event { Name = "exception", TimeUnixNano = Start + 5, Attributes = { Attr("exception.message", "x") } });
        span.Links.Add(new ProtoSpan.Types.Link
        {
            TraceId = ByteString.CopyFrom(Convert.FromHexString("000102030405060708090a0b0c0d0e0f")),
            SpanId = ByteString.CopyFrom(Convert.FromHexString("1112131415161718")),
            Attributes = { Attr("why", "batch") },
        });
        var request = Request([Attr("service.name", "api"), Attr("cairn.project", "shop")], span);

        var record = Assert.Single(Decode(request).Spans);

        Assert.Equal("shop", record.Project);
        Assert.Equal(TraceIdHex, record.TraceId);
        Assert.Equal(SpanIdHex, record.SpanId);
        Assert.Equal("0102030405060708", record.ParentSpanId);
        Assert.Equal("chat", record.Name);
        Assert.Equal(SpanKind.Internal, record.Kind);
        Assert.Equal(SpanStatusCode.Ok, record.StatusCode);
        Assert.Null(record.StatusMessage);
        Assert.Equal("api", record.ServiceName);
        Assert.Equal("test.scope", record.ScopeName);
        JsonEqual("""{"s":"text","n":3,"f":0.25,"ok":true,"list":["a",2],"map":{"inner":"v"},"raw":"AQID"}""", record.AttributesJson);
        JsonEqual("""{"service.name":"api","cairn.project":"shop"}""", record.ResourceJson);
        JsonEqual($$$"""[{"name":"exception","time_unix_nano":{{{Start + 5}}},"attributes":{"exception.message":"x"}}]""", record.EventsJson);
        JsonEqual("""[{"trace_id":"000102030405060708090a0b0c0d0e0f","span_id":"1112131415161718","attributes":{"why":"batch"}}]""", record.LinksJson);
    }

    [Fact]
    public void DecodeProtobuf_EmptyBody_IsAnEmptyRequest()
    {
        var result = OtlpTraceDecoder.DecodeProtobuf([], new OtlpDecodeOptions());
        Assert.Empty(result.Spans);
        Assert.Equal(0, result.RejectedSpans);
        Assert.Null(result.ErrorMessage);
    }

    [Fact]
    public void DecodeProtobuf_SomeSpansInvalid_KeepsTheValidAndRejectsTheRest()
    {
        var noId = Span("no id");
        noId.SpanId = ByteString.Empty;
        var zeroId = Span("zero id");
        zeroId.SpanId = ByteString.CopyFrom(new byte[8]);
        var request = Request([], Span("good"), noId, zeroId);

        var result = Decode(request);

        Assert.Equal("good", Assert.Single(result.Spans).Name);
        Assert.Equal(2, result.RejectedSpans);
        Assert.Equal(
            "2 spans rejected: span 2 of scope 'test.scope' has no span id; span 3 of scope 'test.scope' has an all-zero span id",
            result.ErrorMessage);
    }

    [Theory]
    [InlineData("trace", 0, "has no trace id")]
    [InlineData("trace", 15, "has a trace id of 15 bytes (16 expected)")]
    [InlineData("span", 9, "has a span id of 9 bytes (8 expected)")]
    [InlineData("parent", 4, "has a parent span id of 4 bytes (8 expected)")]
    [InlineData("start", 0, "has no start time")]
    public void DecodeProtobuf_BadSpan_IsRejectedWithTheReason(string field, int length, string reason)
    {
        var span = Span("bad");
        var bytes = ByteString.CopyFrom(Enumerable.Repeat((byte)1, length).ToArray());
        switch (field)
        {
            case "trace": span.TraceId = bytes; break;
            case "span": span.SpanId = bytes; break;
            case "parent": span.ParentSpanId = bytes; break;
            default: span.StartTimeUnixNano = 0; break;
        }

        var result = Decode(Request([], span));

        Assert.Empty(result.Spans);
        Assert.Equal(1, result.RejectedSpans);
        Assert.Equal($"1 span rejected: span 1 of scope 'test.scope' {reason}", result.ErrorMessage);
    }

    [Fact]
    public void DecodeProtobuf_ManyRejections_ListsTenAndCountsTheRest()
    {
        var spans = Enumerable.Range(0, 13).Select(_ => new ProtoSpan { Name = "x" }).ToArray();
        var result = Decode(Request([], spans));
        Assert.Equal(13, result.RejectedSpans);
        Assert.EndsWith("span 10 of scope 'test.scope' has no trace id; and 3 more", result.ErrorMessage);
    }

    [Fact]
    public void DecodeProtobuf_AllZeroParent_IsARootSpan()
    {
        var span = Span();
        span.ParentSpanId = ByteString.CopyFrom(new byte[8]);
        Assert.Null(DecodeOne(span).ParentSpanId);
    }

    [Fact]
    public void DecodeProtobuf_NoName_IsUnnamed() => Assert.Equal("(unnamed)", DecodeOne(Span("")).Name);

    [Fact]
    public void DecodeProtobuf_TruncatedBody_Throws()
    {
        var bytes = Request([Attr("service.name", "api")], Span("s", Attr("k", "v"))).ToByteArray();

        var ex = Assert.Throws<OtlpFormatException>(() => OtlpTraceDecoder.DecodeProtobuf(bytes.AsSpan(0, bytes.Length - 3), new OtlpDecodeOptions()));

        Assert.StartsWith("The body is not a valid OTLP ExportTraceServiceRequest (protobuf): ", ex.Message);
    }

    [Fact]
    public void DecodeProtobuf_Garbage_Throws() =>
        Assert.Throws<OtlpFormatException>(() => OtlpTraceDecoder.DecodeProtobuf("{\"not\":\"protobuf\"}"u8, new OtlpDecodeOptions()));

    [Theory]
    [InlineData("")]
    [InlineData("{\"resourceSpans\":[")]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("\"text\"")]
    [InlineData("{\"resourceSpans\":{}}")]
    [InlineData("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[]}]}]} trailing")]
    public void DecodeJson_UnreadableBody_Throws(string body)
    {
        var ex = Assert.Throws<OtlpFormatException>(() => OtlpTraceDecoder.DecodeJson(Encoding.UTF8.GetBytes(body), new OtlpDecodeOptions()));
        Assert.StartsWith("The body is not a valid OTLP ExportTraceServiceRequest (JSON): ", ex.Message);
    }

    [Fact]
    public void DecodeJson_NullLists_AreEmpty()
    {
        var result = OtlpTraceDecoder.DecodeJson("""{"resourceSpans":[{"resource":null,"scopeSpans":[{"scope":null,"spans":null}]}]}"""u8, new OtlpDecodeOptions());
        Assert.Empty(result.Spans);
        Assert.Equal(0, result.RejectedSpans);
    }

    [Fact]
    public void DecodeJson_UnreadableSpan_IsRejectedAlone()
    {
        var json = """
            {"resourceSpans":[{"scopeSpans":[{"scope":{"name":"lib"},"spans":[
              {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"ok","startTimeUnixNano":"1"},
              {"traceId":"not-hex-at-all","spanId":"eee19b7ec3c1b174","name":"bad id","startTimeUnixNano":"1"},
              {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","startTimeUnixNano":{}},
              "not a span"]}]}]}
            """;

        var result = OtlpTraceDecoder.DecodeJson(Encoding.UTF8.GetBytes(json), new OtlpDecodeOptions());

        Assert.Equal("ok", Assert.Single(result.Spans).Name);
        Assert.Equal(3, result.RejectedSpans);
        Assert.Equal(
            "3 spans rejected: span 2 of scope 'lib' cannot be read: traceId 'not-hex-at-all' is not a hex id.; "
            + "span 3 of scope 'lib' cannot be read: startTimeUnixNano is not an unsigned 64-bit integer.; "
            + "span 4 of scope 'lib' cannot be read: span is a JSON string, not an object.",
            result.ErrorMessage);
    }

    [Fact]
    public void DecodeJson_Base64Ids_AreAcceptedWhenTheyDecodeToTheRightLength()
    {
        var traceId = Convert.ToBase64String(Convert.FromHexString(TraceIdHex));
        var spanId = Convert.ToBase64String(Convert.FromHexString(SpanIdHex));
        var json = $$"""{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"{{traceId}}","spanId":"{{spanId}}","name":"s","startTimeUnixNano":1}]}]}]}""";

        var span = Assert.Single(OtlpTraceDecoder.DecodeJson(Encoding.UTF8.GetBytes(json), new OtlpDecodeOptions()).Spans);

        Assert.Equal(TraceIdHex, span.TraceId);
        Assert.Equal(SpanIdHex, span.SpanId);
    }

    [Fact]
    public void DecodeProtobuf_EndBeforeStart_EndsAtStartAndIsFlagged()
    {
        var span = Span();
        span.EndTimeUnixNano = span.StartTimeUnixNano - 1000;

        var record = DecodeOne(span);

        Assert.Equal(record.StartTimeUnixNano, record.EndTimeUnixNano);
        Assert.Equal(SpanFlags.EndBeforeStart, record.Flags);
    }

    [Fact]
    public void DecodeProtobuf_HugeAttribute_IsCutAndFlagged()
    {
        var huge = new string('x', 1024 * 1024);

        var record = DecodeOne(Span("s", Attr("big", huge), Attr("small", "ok")));

        Assert.Equal(SpanFlags.Truncated, record.Flags);
        using var attributes = JsonDocument.Parse(record.AttributesJson);
        var big = attributes.RootElement.GetProperty("big").GetString()!;
        Assert.Equal(32 * 1024 + "…[truncated]".Length, big.Length);
        Assert.EndsWith("x…[truncated]", big);
        Assert.Equal("ok", attributes.RootElement.GetProperty("small").GetString());
    }

    [Fact]
    public void DecodeProtobuf_CutInsideASurrogatePair_KeepsValidText()
    {
        var text = new string('a', 9) + "😀" + "tail";

        var record = Decode(Request([], Span("s", Attr("emoji", text))), new OtlpDecodeOptions { MaxAttributeValueLength = 10 }).Spans[0];

        using var attributes = JsonDocument.Parse(record.AttributesJson);
        Assert.Equal("aaaaaaaaa…[truncated]", attributes.RootElement.GetProperty("emoji").GetString());
    }

    [Fact]
    public void DecodeProtobuf_LargeArray_BecomesCutJsonText()
    {
        var items = Enumerable.Range(0, 100).Select(i => (object)$"item-{i}").ToArray();

        var record = Decode(Request([], Span("s", Attr("list", items), Attr("short", new object[] { "a" }))), new OtlpDecodeOptions { MaxAttributeValueLength = 50 }).Spans[0];

        Assert.Equal(SpanFlags.Truncated, record.Flags);
        using var attributes = JsonDocument.Parse(record.AttributesJson);
        Assert.Equal("[\"item-0\",\"item-1\",\"item-2\",\"item-3\",\"item-4\",\"ite…[truncated]", attributes.RootElement.GetProperty("list").GetString());
        Assert.Equal(JsonValueKind.Array, attributes.RootElement.GetProperty("short").ValueKind);
    }

    [Fact]
    public void DecodeProtobuf_HugeInput_IsCutAtTheInputLimit()
    {
        var messages = "[{\"role\":\"user\",\"content\":\"" + new string('x', 2000) + "\"}]";

        var record = Decode(Request([], Span("s", Attr("gen_ai.input.messages", messages))), new OtlpDecodeOptions { MaxInputOutputLength = 1000 }).Spans[0];

        Assert.Equal(1000 + "…[truncated]".Length, record.Input!.Length);
        Assert.Equal(SpanFlags.Truncated, record.Flags);
    }

    [Fact]
    public void EncodeResponseProtobuf_FullSuccess_IsEmpty()
    {
        Assert.Empty(OtlpTraceDecoder.EncodeResponseProtobuf(0, null));
    }

    [Fact]
    public void EncodeResponseProtobuf_PartialSuccess_RoundTrips()
    {
        var response = ExportTraceServiceResponse.Parser.ParseFrom(OtlpTraceDecoder.EncodeResponseProtobuf(2, "2 spans rejected"));
        Assert.Equal(2, response.PartialSuccess.RejectedSpans);
        Assert.Equal("2 spans rejected", response.PartialSuccess.ErrorMessage);
    }

    [Fact]
    public void EncodeResponseJson_FollowsOtlpJson()
    {
        Assert.Equal("{}", Encoding.UTF8.GetString(OtlpTraceDecoder.EncodeResponseJson(0, null)));
        Assert.Equal(
            """{"partialSuccess":{"rejectedSpans":"2","errorMessage":"2 spans rejected"}}""",
            Encoding.UTF8.GetString(OtlpTraceDecoder.EncodeResponseJson(2, "2 spans rejected")));
        Assert.Equal(
            """{"partialSuccess":{"errorMessage":"slow down"}}""",
            Encoding.UTF8.GetString(OtlpTraceDecoder.EncodeResponseJson(0, "slow down")));
    }
}
