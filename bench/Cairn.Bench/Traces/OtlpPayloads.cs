using System.Security.Cryptography;
using Cairn.Core.Observability.Otlp.Proto;
using Google.Protobuf;

namespace Cairn.Bench.Traces;

/// <summary>
/// Realistic GenAI traces as OTLP protobuf: each trace is an agent run of ten spans (the agent, a retrieval, three chat
/// calls with messages and token usage, three tool calls, an embeddings call and a formatting step), with fresh ids for
/// every batch.
/// </summary>
internal sealed class OtlpPayloads
{
    public const int SpansPerTrace = 10;

    private static readonly string s_question = "Which of our plans includes single sign-on, and how much does it cost per seat for a team of 40 people billed yearly?";
    private static readonly string s_documents = string.Join(' ', Enumerable.Repeat("Enterprise plan: SSO (SAML, OIDC), audit logs, 99.9% SLA, $24 per seat per month billed yearly; Team plan: no SSO, $12 per seat.", 4));
    private static readonly string s_answer = "Single sign-on comes with the Enterprise plan. For 40 seats billed yearly it costs 40 × $24 × 12 = $11,520 per year.";

    private readonly ExportTraceServiceRequest _request;
    private readonly List<Span> _spans = [];
    private readonly int _traces;
    private long _sequence;

    public OtlpPayloads(int spansPerBatch, string service = "support-agent")
    {
        _traces = Math.Max(1, spansPerBatch / SpansPerTrace);
        var scope = new ScopeSpans { Scope = new InstrumentationScope { Name = "support-agent", Version = "1.4.0" } };
        for (var t = 0; t < _traces; t++)
        {
            AddTrace(scope, t);
        }

        _request = new ExportTraceServiceRequest
        {
            ResourceSpans =
            {
                new ResourceSpans
                {
                    Resource = new Resource { Attributes = { Str("service.name", service), Str("service.version", "1.4.0"), Str("deployment.environment", "production") } },
                    ScopeSpans = { scope },
                },
            },
        };
    }

    /// <summary>Spans per batch.</summary>
    public int SpanCount => _spans.Count;

    /// <summary>A batch with new trace and span ids and current timestamps; returns the payload and the trace ids.</summary>
    public (byte[] Payload, string[] TraceIds) Next()
    {
        var now = (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks * 100;
        var traceIds = new string[_traces];
        Span<byte> id = stackalloc byte[16];
        for (var t = 0; t < _traces; t++)
        {
            RandomNumberGenerator.Fill(id);
            var traceId = ByteString.CopyFrom(id);
            traceIds[t] = Convert.ToHexStringLower(id);
            var spanIds = new ByteString[SpansPerTrace];
            for (var s = 0; s < SpansPerTrace; s++)
            {
                RandomNumberGenerator.Fill(id[..8]);
                spanIds[s] = ByteString.CopyFrom(id[..8]);
            }

            for (var s = 0; s < SpansPerTrace; s++)
            {
                var span = _spans[(t * SpansPerTrace) + s];
                span.TraceId = traceId;
                span.SpanId = spanIds[s];
                span.ParentSpanId = s == 0 ? ByteString.Empty : spanIds[0];
                var offset = (ulong)(s * 50_000_000L);
                span.StartTimeUnixNano = (ulong)now - 2_000_000_000UL + offset;
                span.EndTimeUnixNano = span.StartTimeUnixNano + (s == 0 ? 1_900_000_000UL : 40_000_000UL);
            }
        }

        Interlocked.Increment(ref _sequence);
        return (_request.ToByteArray(), traceIds);
    }

    /// <summary>One trace with a root and <paramref name="children"/> child spans, in batches of <paramref name="batchSize"/>.</summary>
    public static (string TraceId, IEnumerable<byte[]> Batches) WideTrace(int children, int batchSize)
    {
        var traceId = RandomNumberGenerator.GetBytes(16);
        var rootId = RandomNumberGenerator.GetBytes(8);
        var now = (ulong)((DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks * 100);
        IEnumerable<byte[]> Batches()
        {
            var made = -1; // the root first
            while (made < children)
            {
                var scope = new ScopeSpans { Scope = new InstrumentationScope { Name = "batch-job" } };
                while (scope.Spans.Count < batchSize && made < children)
                {
                    var span = made < 0
                        ? new Span { Name = "nightly-evaluation", Kind = Span.Types.SpanKind.Internal, Attributes = { Str("cairn.span.type", "chain") } }
                        : Chat(made);
                    span.TraceId = ByteString.CopyFrom(traceId);
                    span.SpanId = made < 0 ? ByteString.CopyFrom(rootId) : ByteString.CopyFrom(RandomNumberGenerator.GetBytes(8));
                    span.ParentSpanId = made < 0 ? ByteString.Empty : ByteString.CopyFrom(rootId);
                    span.StartTimeUnixNano = now + (ulong)(Math.Max(0, made) * 1_000_000L);
                    span.EndTimeUnixNano = made < 0 ? now + (ulong)(children * 1_000_000L) + 5_000_000UL : span.StartTimeUnixNano + 900_000UL;
                    scope.Spans.Add(span);
                    made++;
                }

                yield return new ExportTraceServiceRequest
                {
                    ResourceSpans = { new ResourceSpans { Resource = new Resource { Attributes = { Str("service.name", "eval-runner") } }, ScopeSpans = { scope } } },
                }.ToByteArray();
            }
        }

        return (Convert.ToHexStringLower(traceId), Batches());
    }

    private void AddTrace(ScopeSpans scope, int t)
    {
        var user = $"user-{t % 37}";
        var session = $"session-{t % 113}";
        var root = new Span
        {
            Name = "invoke_agent support-agent",
            Kind = Span.Types.SpanKind.Server,
            Attributes =
            {
                Str("cairn.span.type", "agent"),
                Str("gen_ai.operation.name", "invoke_agent"),
                Str("gen_ai.agent.name", "support-agent"),
                Str("session.id", session),
                Str("user.id", user),
                Str("input.value", s_question),
                Str("output.value", s_answer),
            },
        };
        if (t % 10 == 3)
        {
            root.Status = new Status { Code = Status.Types.StatusCode.Error, Message = "tool 'billing.lookup' timed out" };
        }

        Add(scope, root);
        Add(scope, new Span
        {
            Name = "retrieve knowledge-base",
            Kind = Span.Types.SpanKind.Internal,
            Attributes = { Str("cairn.span.type", "retrieval"), Str("input.value", s_question), Str("output.value", s_documents), Int("retrieval.documents", 4) },
        });
        for (var c = 0; c < 3; c++)
        {
            Add(scope, Chat(c));
            Add(scope, new Span
            {
                Name = "execute_tool billing.lookup",
                Kind = Span.Types.SpanKind.Internal,
                Attributes =
                {
                    Str("gen_ai.operation.name", "execute_tool"),
                    Str("gen_ai.tool.name", "billing.lookup"),
                    Str("gen_ai.tool.call.id", $"call_{c}"),
                    Str("gen_ai.tool.call.arguments", """{"plan":"enterprise","seats":40,"billing":"yearly"}"""),
                    Str("gen_ai.tool.call.result", """{"price_per_seat_month":24,"currency":"USD","sso":true}"""),
                },
            });
        }

        Add(scope, new Span
        {
            Name = "embeddings text-embedding-3-small",
            Kind = Span.Types.SpanKind.Client,
            Attributes =
            {
                Str("gen_ai.operation.name", "embeddings"),
                Str("gen_ai.provider.name", "openai"),
                Str("gen_ai.request.model", "text-embedding-3-small"),
                Int("gen_ai.usage.input_tokens", 27),
            },
        });
        Add(scope, new Span { Name = "format-answer", Kind = Span.Types.SpanKind.Internal, Attributes = { Str("cairn.span.type", "chain") } });
    }

    private static Span Chat(int c) => new()
    {
        Name = "chat gpt-4o-mini",
        Kind = Span.Types.SpanKind.Client,
        Attributes =
        {
            Str("gen_ai.operation.name", "chat"),
            Str("gen_ai.provider.name", "openai"),
            Str("gen_ai.request.model", c == 2 ? "gpt-4o" : "gpt-4o-mini"),
            Str("gen_ai.response.model", c == 2 ? "gpt-4o-2024-08-06" : "gpt-4o-mini-2024-07-18"),
            Str("gen_ai.response.id", "chatcmpl-bench"),
            Dbl("gen_ai.request.temperature", 0.2),
            Int("gen_ai.request.max_tokens", 512),
            Int("gen_ai.usage.input_tokens", 850 + (c * 120)),
            Int("gen_ai.usage.output_tokens", 96 + (c * 10)),
            Int("gen_ai.usage.cache_read.input_tokens", c == 0 ? 0 : 512),
            Str("gen_ai.response.finish_reasons", "stop"),
            Str("gen_ai.input.messages", $$"""[{"role":"system","parts":[{"type":"text","content":"You are the support assistant of Acme. Answer from the documents; say when you do not know."}]},{"role":"user","parts":[{"type":"text","content":"{{s_question}}"}]}]"""),
            Str("gen_ai.output.messages", $$"""[{"role":"assistant","parts":[{"type":"text","content":"{{s_answer}}"}],"finish_reason":"stop"}]"""),
        },
    };

    private void Add(ScopeSpans scope, Span span)
    {
        scope.Spans.Add(span);
        _spans.Add(span);
    }

    private static KeyValue Str(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

    private static KeyValue Int(string key, long value) => new() { Key = key, Value = new AnyValue { IntValue = value } };

    private static KeyValue Dbl(string key, double value) => new() { Key = key, Value = new AnyValue { DoubleValue = value } };
}
