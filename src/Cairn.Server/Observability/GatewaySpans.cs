using System.Buffers;
using System.Text;
using System.Text.Json;
using Cairn.Core.Gateway;
using Cairn.Core.Observability;
using Cairn.Server.Gateway;

namespace Cairn.Server.Observability;

/// <summary>
/// Turns a gateway request that carried a W3C <c>traceparent</c> into a GenAI span of that trace, so the call shows in the
/// caller's trace with its model, tokens and cost, one click from its request log record.
/// </summary>
internal static class GatewaySpans
{
    /// <summary>The span, or null when the request had no valid <c>traceparent</c>.</summary>
    public static SpanRecord? FromRecord(RequestLogRecord record, string? project)
    {
        if (!TryParseTraceParent(record.TraceParent, out var traceId, out var parentSpanId))
        {
            return null;
        }

        var start = record.Timestamp * 1_000_000;
        var embeddings = record.Endpoint == "embeddings";
        var operation = embeddings ? "embeddings" : "chat";
        var usage = record.Usage;
        return new SpanRecord
        {
            Project = project ?? ObservabilityDefaults.Project,
            TraceId = traceId,
            // The request id's random tail: the same request always makes the same span.
            SpanId = SpanIdOf(record.Id),
            ParentSpanId = parentSpanId,
            Name = $"{operation} {record.RequestedModel ?? record.ServedModel ?? "unknown"}",
            Kind = SpanKind.Client,
            StartTimeUnixNano = start,
            EndTimeUnixNano = start + (long)(record.LatencyMs * 1_000_000),
            StatusCode = record.Outcome == RequestOutcome.Success ? SpanStatusCode.Ok : SpanStatusCode.Error,
            StatusMessage = record.Outcome == RequestOutcome.Success ? null : record.Error,
            Type = embeddings ? SpanTypes.Embedding : SpanTypes.Generation,
            Operation = operation,
            Provider = record.Provider,
            RequestModel = record.RequestedModel,
            ResponseModel = record.ServedModel,
            InputTokens = usage?.PromptTokens,
            OutputTokens = usage?.CompletionTokens,
            CachedInputTokens = usage?.CachedInputTokens,
            CacheWriteTokens = usage?.CacheWriteTokens,
            ReasoningTokens = usage?.ReasoningTokens,
            CostUsd = record.CostUsd,
            Input = Messages(ChatTranscript.FromRequest(record.RequestBody)),
            Output = Messages(ChatTranscript.FromResponse(record.ResponseBody, record.Stream)),
            UserId = record.UserId,
            SessionId = record.SessionId,
            ServiceName = "cairn-gateway",
            ScopeName = "Cairn.Gateway",
            AttributesJson = Attributes(record, operation),
            RequestLogId = record.Id,
        };
    }

    /// <summary>Reads <c>00-&lt;trace id&gt;-&lt;parent id&gt;-&lt;flags&gt;</c>; ids must be lowercase hex and not all zero.</summary>
    internal static bool TryParseTraceParent(string? value, out string traceId, out string parentSpanId)
    {
        traceId = parentSpanId = "";
        if (value is null || value.Length < 55 || value[2] != '-' || value[35] != '-' || value[52] != '-' || value.StartsWith("ff", StringComparison.Ordinal))
        {
            return false;
        }

        var trace = value.AsSpan(3, 32);
        var parent = value.AsSpan(36, 16);
        if (!IsHex(value.AsSpan(0, 2)) || !IsHex(trace) || !IsHex(parent) || !trace.ContainsAnyExcept('0') || !parent.ContainsAnyExcept('0'))
        {
            return false;
        }

        traceId = trace.ToString();
        parentSpanId = parent.ToString();
        return true;
    }

    private static bool IsHex(ReadOnlySpan<char> text) => !text.ContainsAnyExcept("0123456789abcdef");

    private static string SpanIdOf(string requestId)
    {
        var tail = requestId.Length >= 16 ? requestId[^16..] : requestId.PadLeft(16, '0');
        return IsHex(tail) && tail.AsSpan().ContainsAnyExcept('0') ? tail : Convert.ToHexStringLower(Guid.NewGuid().ToByteArray(), 0, 8);
    }

    private static string? Messages(IReadOnlyList<ChatMessage> messages)
    {
        if (messages.Count == 0)
        {
            return null;
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var message in messages)
            {
                writer.WriteStartObject();
                writer.WriteString("role", message.Role);
                writer.WriteString("content", message.Text);
                if (message.ToolCalls.Count > 0)
                {
                    writer.WriteStartArray("tool_calls");
                    foreach (var call in message.ToolCalls)
                    {
                        writer.WriteStringValue(call);
                    }

                    writer.WriteEndArray();
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string Attributes(RequestLogRecord record, string operation)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("gen_ai.operation.name", operation);
            Write(writer, "gen_ai.provider.name", record.Provider);
            Write(writer, "gen_ai.request.model", record.RequestedModel);
            Write(writer, "gen_ai.response.model", record.ServedModel);
            if (record.Usage is { } usage)
            {
                writer.WriteNumber("gen_ai.usage.input_tokens", usage.PromptTokens);
                writer.WriteNumber("gen_ai.usage.output_tokens", usage.CompletionTokens);
            }

            writer.WriteString("cairn.request_id", record.Id);
            Write(writer, "cairn.route", record.Route);
            writer.WriteNumber("http.response.status_code", record.Status);
            writer.WriteBoolean("cairn.cache_hit", record.CacheHit);
            writer.WriteNumber("cairn.attempts", record.Attempts.Count);
            if (record.TimeToFirstTokenMs is { } ttft)
            {
                writer.WriteNumber("cairn.time_to_first_token_ms", ttft);
            }

            if (record.PromptName is not null)
            {
                writer.WriteString("cairn.prompt.name", record.PromptName);
                writer.WriteNumber("cairn.prompt.version", record.PromptVersion ?? 0);
            }

            foreach (var (key, value) in record.Properties)
            {
                writer.WriteString("cairn.property." + key, value);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void Write(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }
}
