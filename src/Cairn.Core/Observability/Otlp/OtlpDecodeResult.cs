namespace Cairn.Core.Observability.Otlp;

/// <summary>The spans read from one OTLP export request, and what was rejected.</summary>
/// <param name="Spans">The spans that can be stored, in request order.</param>
/// <param name="RejectedSpans">How many spans were rejected (OTLP's <c>partial_success.rejected_spans</c>).</param>
/// <param name="ErrorMessage">Why, for the sender (OTLP's <c>partial_success.error_message</c>); null when nothing was rejected.</param>
public sealed record OtlpDecodeResult(IReadOnlyList<SpanRecord> Spans, long RejectedSpans, string? ErrorMessage);
