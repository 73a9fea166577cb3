using System.Globalization;
using System.Text;
using Cairn.Core.Observability.Otlp.Proto;
using Google.Protobuf;
using Google.Protobuf.Collections;

namespace Cairn.Core.Observability.Otlp;

/// <summary>Turns a parsed export request into <see cref="SpanRecord"/>s, rejecting the spans that cannot be stored.</summary>
/// <remarks>One instance per decode call: it reuses its buffers and lookups from span to span and is not thread-safe.</remarks>
internal sealed class SpanConverter : IDisposable
{
    /// <summary>The name given to a span that has none.</summary>
    public const string UnnamedSpan = "(unnamed)";

    private const int MaxListedProblems = 10;
    private const int TraceIdLength = 16;
    private const int SpanIdLength = 8;

    private readonly OtlpDecodeOptions _options;
    private readonly AttributeLookup _span = new();
    private readonly AttributeLookup _resource = new();
    private readonly JsonBuffer _buffer = new();
    private readonly JsonBuffer _nested = new();
    private StringBuilder? _problems;
    private int _listed;

    public SpanConverter(OtlpDecodeOptions options) => _options = options;

    /// <summary>Converts every span of <paramref name="request"/>; <paramref name="spanErrors"/> holds spans already found unreadable.</summary>
    public OtlpDecodeResult Convert(ExportTraceServiceRequest request, IReadOnlyDictionary<Span, string>? spanErrors)
    {
        var total = 0;
        foreach (var resourceSpans in request.ResourceSpans)
        {
            foreach (var scopeSpans in resourceSpans.ScopeSpans)
            {
                total += scopeSpans.Spans.Count;
            }
        }

        var records = new List<SpanRecord>(total);
        long rejected = 0;
        var manyResources = request.ResourceSpans.Count > 1;
        for (var r = 0; r < request.ResourceSpans.Count; r++)
        {
            var resourceSpans = request.ResourceSpans[r];
            var attributes = resourceSpans.Resource?.Attributes;
            _resource.Load(attributes);
            var resourceTruncated = false;
            var writer = _buffer.Start();
            OtlpJsonWriting.WriteAttributes(writer, attributes, null, 0, _options.MaxAttributeValueLength, ref resourceTruncated, _nested);
            var resource = new ResourceContext(
                _options.Project is { Length: > 0 } project ? project : OtlpJsonWriting.ScalarText(_resource[GenAiKey.CairnProject]) ?? ObservabilityDefaults.Project,
                OtlpJsonWriting.ScalarText(_resource[GenAiKey.ServiceName]),
                _buffer.Finish(),
                resourceTruncated);

            foreach (var scopeSpans in resourceSpans.ScopeSpans)
            {
                var scopeName = scopeSpans.Scope?.Name is { Length: > 0 } name ? name : null;
                for (var i = 0; i < scopeSpans.Spans.Count; i++)
                {
                    var span = scopeSpans.Spans[i];
                    string? problem = null;
                    if (spanErrors?.TryGetValue(span, out problem) != true)
                    {
                        problem = Validate(span);
                    }

                    if (problem is not null)
                    {
                        rejected++;
                        Describe(problem, i, scopeName, manyResources ? r : -1);
                        continue;
                    }

                    records.Add(ConvertSpan(span, resource, scopeName));
                }
            }
        }

        string? message = null;
        if (rejected > 0)
        {
            if (rejected > _listed)
            {
                _problems!.Append(CultureInfo.InvariantCulture, $"; and {rejected - _listed} more");
            }

            message = string.Create(CultureInfo.InvariantCulture, $"{rejected} {(rejected == 1 ? "span" : "spans")} rejected: {_problems}");
        }

        return new OtlpDecodeResult(records, rejected, message);
    }

    public void Dispose()
    {
        _buffer.Dispose();
        _nested.Dispose();
    }

    private static string? Validate(Span span)
    {
        var problem = CheckId(span.TraceId, TraceIdLength, "trace id") ?? CheckId(span.SpanId, SpanIdLength, "span id");
        if (problem is not null)
        {
            return problem;
        }

        if (span.ParentSpanId.Length != 0 && span.ParentSpanId.Length != SpanIdLength)
        {
            return string.Create(CultureInfo.InvariantCulture, $"has a parent span id of {span.ParentSpanId.Length} bytes ({SpanIdLength} expected)");
        }

        if (span.StartTimeUnixNano == 0)
        {
            return "has no start time";
        }

        if (span.StartTimeUnixNano > long.MaxValue || span.EndTimeUnixNano > long.MaxValue)
        {
            return "has a timestamp after the year 2262";
        }

        return null;
    }

    private static string? CheckId(ByteString id, int length, string what)
    {
        if (id.Length == 0)
        {
            return $"has no {what}";
        }

        if (id.Length != length)
        {
            return string.Create(CultureInfo.InvariantCulture, $"has a {what} of {id.Length} bytes ({length} expected)");
        }

        return IsZero(id) ? $"has an all-zero {what}" : null;
    }

    private static bool IsZero(ByteString id) => !id.Span.ContainsAnyExcept((byte)0);

    private void Describe(string problem, int index, string? scopeName, int resourceIndex)
    {
        if (_listed >= MaxListedProblems)
        {
            return;
        }

        _problems ??= new StringBuilder();
        if (_listed > 0)
        {
            _problems.Append("; ");
        }

        _problems.Append(CultureInfo.InvariantCulture, $"span {index + 1} of scope '{scopeName}'");
        if (resourceIndex >= 0)
        {
            _problems.Append(CultureInfo.InvariantCulture, $" (resource {resourceIndex + 1})");
        }

        _problems.Append(' ').Append(problem);
        _listed++;
    }

    private SpanRecord ConvertSpan(Span span, ResourceContext resource, string? scopeName)
    {
        var flags = resource.Truncated ? SpanFlags.Truncated : SpanFlags.None;
        var start = (long)span.StartTimeUnixNano;
        var end = (long)span.EndTimeUnixNano;
        if (end < start)
        {
            end = start;
            flags |= SpanFlags.EndBeforeStart;
        }

        _span.Load(span.Attributes);
        var genAi = GenAiSpanMapper.Map(_span, _resource, span.Events, _options, _buffer, _nested);
        var truncated = genAi.Truncated;
        var max = _options.MaxAttributeValueLength;

        var writer = _buffer.Start();
        OtlpJsonWriting.WriteAttributes(writer, span.Attributes, _span, genAi.ConsumedKeys, max, ref truncated, _nested);
        var attributesJson = _buffer.Finish();
        var eventsJson = span.Events.Count == 0 ? null : WriteEvents(span.Events, max, ref truncated);
        var linksJson = span.Links.Count == 0 ? null : WriteLinks(span.Links, max, ref truncated);
        var name = span.Name.Length == 0 ? UnnamedSpan : OtlpJsonWriting.Truncate(span.Name, max, ref truncated);
        var statusMessage = span.Status?.Message is { Length: > 0 } m ? OtlpJsonWriting.Truncate(m, max, ref truncated) : null;
        if (truncated)
        {
            flags |= SpanFlags.Truncated;
        }

        return new SpanRecord
        {
            Project = resource.Project,
            TraceId = System.Convert.ToHexStringLower(span.TraceId.Span),
            SpanId = System.Convert.ToHexStringLower(span.SpanId.Span),
            ParentSpanId = span.ParentSpanId.Length == 0 || IsZero(span.ParentSpanId) ? null : System.Convert.ToHexStringLower(span.ParentSpanId.Span),
            Name = name,
            Kind = span.Kind is >= Span.Types.SpanKind.Unspecified and <= Span.Types.SpanKind.Consumer ? (SpanKind)span.Kind : SpanKind.Unspecified,
            StartTimeUnixNano = start,
            EndTimeUnixNano = end,
            StatusCode = (span.Status?.Code ?? Status.Types.StatusCode.Unset) switch
            {
                Status.Types.StatusCode.Ok => SpanStatusCode.Ok,
                Status.Types.StatusCode.Error => SpanStatusCode.Error,
                _ => SpanStatusCode.Unset,
            },
            StatusMessage = statusMessage,
            Type = genAi.Type,
            Operation = genAi.Operation,
            Provider = genAi.Provider,
            RequestModel = genAi.RequestModel,
            ResponseModel = genAi.ResponseModel,
            InputTokens = genAi.InputTokens,
            OutputTokens = genAi.OutputTokens,
            CachedInputTokens = genAi.CachedInputTokens,
            CacheWriteTokens = genAi.CacheWriteTokens,
            ReasoningTokens = genAi.ReasoningTokens,
            CostUsd = genAi.CostUsd,
            Input = genAi.Input,
            Output = genAi.Output,
            UserId = genAi.UserId,
            SessionId = genAi.SessionId,
            ServiceName = resource.ServiceName,
            ScopeName = scopeName,
            Tags = genAi.Tags,
            AttributesJson = attributesJson,
            ResourceJson = resource.Json,
            EventsJson = eventsJson,
            LinksJson = linksJson,
            Flags = flags,
            RequestLogId = genAi.RequestLogId,
        };
    }

    private string WriteEvents(RepeatedField<Span.Types.Event> events, int max, ref bool truncated)
    {
        var writer = _buffer.Start();
        writer.WriteStartArray();
        foreach (var e in events)
        {
            writer.WriteStartObject();
            writer.WriteString("name", OtlpJsonWriting.Truncate(e.Name, max, ref truncated));
            writer.WriteNumber("time_unix_nano", e.TimeUnixNano);
            writer.WritePropertyName("attributes");
            OtlpJsonWriting.WriteAttributes(writer, e.Attributes, null, 0, max, ref truncated, _nested);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        return _buffer.Finish();
    }

    private string WriteLinks(RepeatedField<Span.Types.Link> links, int max, ref bool truncated)
    {
        var writer = _buffer.Start();
        writer.WriteStartArray();
        foreach (var link in links)
        {
            writer.WriteStartObject();
            writer.WriteString("trace_id", System.Convert.ToHexStringLower(link.TraceId.Span));
            writer.WriteString("span_id", System.Convert.ToHexStringLower(link.SpanId.Span));
            writer.WritePropertyName("attributes");
            OtlpJsonWriting.WriteAttributes(writer, link.Attributes, null, 0, max, ref truncated, _nested);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        return _buffer.Finish();
    }

    private sealed record ResourceContext(string Project, string? ServiceName, string Json, bool Truncated);
}
