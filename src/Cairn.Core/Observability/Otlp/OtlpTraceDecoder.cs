using System.Buffers;
using System.Text.Json;
using Cairn.Core.Observability.Otlp.Proto;
using Google.Protobuf;

namespace Cairn.Core.Observability.Otlp;

/// <summary>
/// Reads OTLP trace export requests (<c>POST /v1/traces</c> bodies, protobuf or JSON, and the gRPC export message) into
/// <see cref="SpanRecord"/>s, and writes the export responses.
/// </summary>
/// <remarks>
/// <para>Thread-safe: every call uses its own buffers.</para>
/// <para>
/// A span is rejected on its own (counted in <see cref="OtlpDecodeResult.RejectedSpans"/>, described in
/// <see cref="OtlpDecodeResult.ErrorMessage"/>) when its trace id or span id is missing, all zeroes or of the wrong length,
/// its parent span id has the wrong length, it has no start time, a timestamp is past what a signed 64-bit nanosecond
/// count holds, or (JSON) one of its fields cannot be read. An empty or all-zero parent span id makes a root span. A span
/// without a name is kept as <c>(unnamed)</c>. An end before the start is set to the start and flagged
/// <see cref="SpanFlags.EndBeforeStart"/>; values over the size limits are cut and flagged <see cref="SpanFlags.Truncated"/>.
/// </para>
/// </remarks>
public static class OtlpTraceDecoder
{
    /// <summary>Reads a binary protobuf <c>ExportTraceServiceRequest</c>; an empty body is an empty request.</summary>
    /// <exception cref="OtlpFormatException">The body is not a protobuf export request.</exception>
    public static OtlpDecodeResult DecodeProtobuf(ReadOnlySpan<byte> body, OtlpDecodeOptions options)
    {
        Validate(options);
        ExportTraceServiceRequest request;
        try
        {
            request = ExportTraceServiceRequest.Parser.ParseFrom(body);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new OtlpFormatException("The body is not a valid OTLP ExportTraceServiceRequest (protobuf): " + ex.Message, ex);
        }

        return Convert(request, null, options);
    }

    /// <summary>Reads an OTLP/JSON <c>ExportTraceServiceRequest</c> (hex ids, lowerCamelCase or snake_case field names).</summary>
    /// <exception cref="OtlpFormatException">The body is not JSON, not an object, or malformed outside the spans.</exception>
    public static OtlpDecodeResult DecodeJson(ReadOnlySpan<byte> body, OtlpDecodeOptions options)
    {
        Validate(options);
        ExportTraceServiceRequest request;
        Dictionary<Span, string>? spanErrors;
        try
        {
            request = OtlpJsonReader.Read(body, out spanErrors);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            throw new OtlpFormatException("The body is not a valid OTLP ExportTraceServiceRequest (JSON): " + ex.Message, ex);
        }

        return Convert(request, spanErrors, options);
    }

    /// <summary>Writes a protobuf <c>ExportTraceServiceResponse</c>: empty on full success, else with <c>partial_success</c>.</summary>
    public static byte[] EncodeResponseProtobuf(long rejectedSpans, string? errorMessage)
    {
        var response = new ExportTraceServiceResponse();
        if (rejectedSpans > 0 || !string.IsNullOrEmpty(errorMessage))
        {
            response.PartialSuccess = new ExportTracePartialSuccess { RejectedSpans = rejectedSpans, ErrorMessage = errorMessage ?? "" };
        }

        return response.ToByteArray();
    }

    /// <summary>
    /// Writes an OTLP/JSON <c>ExportTraceServiceResponse</c>: <c>{}</c> on full success, else
    /// <c>{"partialSuccess":{"rejectedSpans":"2","errorMessage":"..."}}</c>.
    /// </summary>
    public static byte[] EncodeResponseJson(long rejectedSpans, string? errorMessage)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            if (rejectedSpans > 0 || !string.IsNullOrEmpty(errorMessage))
            {
                writer.WriteStartObject("partialSuccess");
                if (rejectedSpans != 0)
                {
                    // int64 is a string in proto3 JSON.
                    writer.WriteString("rejectedSpans", rejectedSpans.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }

                if (!string.IsNullOrEmpty(errorMessage))
                {
                    writer.WriteString("errorMessage", errorMessage);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static OtlpDecodeResult Convert(ExportTraceServiceRequest request, Dictionary<Span, string>? spanErrors, OtlpDecodeOptions options)
    {
        using var converter = new SpanConverter(options);
        return converter.Convert(request, spanErrors);
    }

    private static void Validate(OtlpDecodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxAttributeValueLength, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxInputOutputLength, nameof(options));
        ArgumentNullException.ThrowIfNull(options.Prices, nameof(options));
    }
}
