using System.Buffers;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Cairn.Core.Observability;
using Cairn.Core.Observability.Otlp;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Cairn.Server.Observability;

/// <summary>
/// OTLP/HTTP trace ingest: <c>POST /v1/traces</c> (and <c>/api/public/otel/v1/traces</c>, where Langfuse exporters send),
/// protobuf or JSON, optionally gzip-compressed, answered as the OTLP specification says: an
/// <c>ExportTraceServiceResponse</c> (with partial success when spans were rejected) in the request's encoding, and for
/// errors a <c>google.rpc.Status</c> in that encoding.
/// </summary>
internal static class TraceIngestApi
{
    /// <summary>The header that names the target project.</summary>
    public const string ProjectHeader = "x-cairn-project";

    private const string Protobuf = "application/x-protobuf";
    private const string Json = "application/json";

    public static IEndpointRouteBuilder MapTraceIngest(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/v1/traces", IngestAsync).WithName("OtlpTraces").WithTags("Traces").DisableAntiforgery();
        endpoints.MapPost("/api/public/otel/v1/traces", IngestAsync).WithName("OtlpTracesLangfusePath").WithTags("Traces").DisableAntiforgery();
        return endpoints;
    }

    private static async Task IngestAsync(HttpContext context)
    {
        var options = context.RequestServices.GetRequiredService<IOptionsMonitor<TracesOptions>>().CurrentValue;
        var writer = context.RequestServices.GetRequiredService<TraceWriter>();
        var mediaType = context.Request.ContentType?.Split(';', 2)[0].Trim().ToLowerInvariant();
        var isJson = mediaType == Json;
        if (mediaType is not (Protobuf or Json))
        {
            await WriteStatusAsync(context, StatusCodes.Status415UnsupportedMediaType, isJson: true,
                $"Unsupported content type '{context.Request.ContentType}': OTLP/HTTP takes application/x-protobuf or application/json.");
            return;
        }

        if (context.Request.Headers.TryGetValue(ProjectHeader, out var projectHeader) && !IsValidProject(projectHeader.ToString()))
        {
            await WriteStatusAsync(context, StatusCodes.Status400BadRequest, isJson,
                $"Invalid {ProjectHeader} header: a project name is 1 to 200 characters without control characters.");
            return;
        }

        // A Cairn key bound to a project decides the project (a key for one project cannot write into another).
        string? keyProject;
        try
        {
            keyProject = (await context.RequestServices.GetRequiredService<Gateway.GatewayKeys>().FindPresentedKeyAsync(context.Request.Headers, context.RequestAborted))?.Project;
        }
        catch (Gateway.GatewayException e)
        {
            await WriteStatusAsync(context, StatusCodes.Status401Unauthorized, isJson, e.Message);
            return;
        }

        byte[]? rented = null;
        try
        {
            int length;
            try
            {
                (rented, length) = await ReadBodyAsync(context, options.MaxBodyBytes);
            }
            catch (BodyTooLargeException)
            {
                await WriteStatusAsync(context, StatusCodes.Status413PayloadTooLarge, isJson,
                    $"The request body is over the limit of {options.MaxBodyBytes} bytes (Cairn:Traces:MaxBodyBytes); send smaller batches.");
                return;
            }
            catch (InvalidDataException e)
            {
                await WriteStatusAsync(context, StatusCodes.Status400BadRequest, isJson, $"The gzip body could not be decompressed: {e.Message}");
                return;
            }
            catch (NotSupportedException e)
            {
                await WriteStatusAsync(context, StatusCodes.Status415UnsupportedMediaType, isJson, e.Message);
                return;
            }

            var decodeOptions = new OtlpDecodeOptions
            {
                Project = keyProject ?? (projectHeader.Count > 0 ? projectHeader.ToString().Trim() : null),
                MaxAttributeValueLength = options.MaxAttributeValueLength,
                MaxInputOutputLength = options.MaxInputOutputLength,
            };
            OtlpDecodeResult result;
            try
            {
                var body = rented.AsSpan(0, length);
                result = isJson ? OtlpTraceDecoder.DecodeJson(body, decodeOptions) : OtlpTraceDecoder.DecodeProtobuf(body, decodeOptions);
            }
            catch (OtlpFormatException e)
            {
                await WriteStatusAsync(context, StatusCodes.Status400BadRequest, isJson, e.Message);
                return;
            }

            if (!writer.TryEnqueue(result.Spans))
            {
                // Back-pressure: the writer is behind; OTLP exporters retry 503 after Retry-After.
                context.Response.Headers.RetryAfter = "2";
                await WriteStatusAsync(context, StatusCodes.Status503ServiceUnavailable, isJson,
                    "Cairn's span writer is behind; retry after the delay in Retry-After. No span of this request was stored.");
                return;
            }

            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = isJson ? Json : Protobuf;
            var answer = isJson
                ? OtlpTraceDecoder.EncodeResponseJson(result.RejectedSpans, result.ErrorMessage)
                : OtlpTraceDecoder.EncodeResponseProtobuf(result.RejectedSpans, result.ErrorMessage);
            await context.Response.Body.WriteAsync(answer, context.RequestAborted);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    internal static bool IsValidProject(string project)
    {
        var trimmed = project.Trim();
        return trimmed.Length is > 0 and <= 200 && !trimmed.Any(char.IsControl);
    }

    /// <summary>Reads the (possibly gzip-compressed) body into a pooled buffer, refusing more than <paramref name="limit"/> bytes either way.</summary>
    private static async Task<(byte[] Buffer, int Length)> ReadBodyAsync(HttpContext context, long limit)
    {
        if (context.Request.ContentLength > limit)
        {
            throw new BodyTooLargeException();
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            // Cairn enforces its own limit (with an OTLP-shaped answer) instead of Kestrel's 30 MB default.
            sizeFeature.MaxRequestBodySize = null;
        }

        var encoding = context.Request.Headers.ContentEncoding.ToString().Trim().ToLowerInvariant();
        Stream source = context.Request.Body;
        GZipStream? gzip = null;
        if (encoding is "gzip")
        {
            gzip = new GZipStream(source, CompressionMode.Decompress, leaveOpen: true);
            source = gzip;
        }
        else if (encoding is not ("" or "identity"))
        {
            throw new NotSupportedException($"Unsupported Content-Encoding '{encoding}': Cairn takes gzip or none.");
        }

        var cap = (int)Math.Min(limit, Array.MaxLength);
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Max(context.Request.ContentLength ?? 0, 16 * 1024) * (gzip is null ? 1 : 4), cap) + 1);
        var length = 0;
        try
        {
            await using (gzip)
            {
                while (true)
                {
                    if (length == buffer.Length)
                    {
                        if (buffer.Length > cap)
                        {
                            throw new BodyTooLargeException();
                        }

                        var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, (long)cap + 1));
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }

                    var read = await source.ReadAsync(buffer.AsMemory(length), context.RequestAborted);
                    if (read == 0)
                    {
                        break;
                    }

                    length += read;
                    if (length > limit)
                    {
                        throw new BodyTooLargeException();
                    }
                }
            }

            return (buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>Writes a <c>google.rpc.Status</c> (code 3 INVALID_ARGUMENT, 8 RESOURCE_EXHAUSTED or 14 UNAVAILABLE) in the request's encoding.</summary>
    private static async Task WriteStatusAsync(HttpContext context, int httpStatus, bool isJson, string message)
    {
        var code = httpStatus switch
        {
            StatusCodes.Status503ServiceUnavailable => 14,
            StatusCodes.Status401Unauthorized => 16,
            StatusCodes.Status413PayloadTooLarge or StatusCodes.Status429TooManyRequests => 8,
            _ => 3,
        };
        context.Response.StatusCode = httpStatus;
        if (isJson)
        {
            context.Response.ContentType = Json;
            var buffer = new ArrayBufferWriter<byte>(message.Length + 64);
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteNumber("code", code);
                json.WriteString("message", message);
                json.WriteEndObject();
            }

            await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
            return;
        }

        // google.rpc.Status: field 1 (int32 code, varint), field 2 (string message).
        context.Response.ContentType = Protobuf;
        var text = Encoding.UTF8.GetBytes(message);
        var body = new List<byte> { 0x08, (byte)code, 0x12 };
        var size = (uint)text.Length;
        while (size >= 0x80)
        {
            body.Add((byte)(size | 0x80));
            size >>= 7;
        }

        body.Add((byte)size);
        body.AddRange(text);
        await context.Response.Body.WriteAsync(body.ToArray(), context.RequestAborted);
    }

    private sealed class BodyTooLargeException : Exception;
}
