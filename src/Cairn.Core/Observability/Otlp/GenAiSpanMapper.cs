using System.Globalization;
using System.Text.Json;
using Cairn.Core.Gateway;
using Cairn.Core.Observability.Otlp.Proto;
using Google.Protobuf.Collections;

namespace Cairn.Core.Observability.Otlp;

/// <summary>The first-class span fields read from the GenAI, OpenInference, OpenLLMetry and Langfuse attributes.</summary>
internal struct GenAiFields
{
    public string Type;
    public string? Operation;
    public string? Provider;
    public string? RequestModel;
    public string? ResponseModel;
    public long? InputTokens;
    public long? OutputTokens;
    public long? CachedInputTokens;
    public long? CacheWriteTokens;
    public long? ReasoningTokens;
    public decimal? CostUsd;
    public string? Input;
    public string? Output;
    public string? UserId;
    public string? SessionId;
    public IReadOnlyList<string> Tags;
    public string? RequestLogId;

    /// <summary>The attributes (as <see cref="AttributeLookup.Bit"/>s) that became <see cref="Input"/> or <see cref="Output"/>.</summary>
    public ulong ConsumedKeys;

    /// <summary>Whether the input or output was cut at the size limit.</summary>
    public bool Truncated;
}

/// <summary>
/// Reads what a span is and what it cost from the attribute conventions in use: OpenTelemetry GenAI (current and older
/// names), OpenInference, OpenLLMetry and Langfuse, plus Cairn's own <c>cairn.*</c> keys.
/// </summary>
/// <remarks>
/// <para>Precedence, first present wins (span attributes; user, session and tags fall back to the resource's):</para>
/// <list type="bullet">
/// <item>Type: <c>cairn.span.type</c> (a <see cref="SpanTypes"/> value), <c>openinference.span.kind</c> (unknown kinds are
/// <c>span</c>), <c>gen_ai.operation.name</c>, <c>llm.request.type</c>, <c>langfuse.observation.type</c>, else <c>span</c>;
/// an operation or request type Cairn does not know falls through to the next.</item>
/// <item>Provider: <c>gen_ai.provider.name</c>, <c>gen_ai.system</c>, <c>llm.provider</c>, <c>llm.system</c>. Request model:
/// <c>gen_ai.request.model</c>, <c>llm.model_name</c>. Response model: <c>gen_ai.response.model</c>.</item>
/// <item>Tokens: the current GenAI names, then the older ones, then OpenInference's <c>llm.token_count.*</c>. Input tokens
/// are stored with cache reads and writes included (OpenAI's accounting, as the GenAI conventions define them). A sender
/// that reports fewer input tokens than cache reads plus writes cannot have included them (Anthropic's own accounting,
/// which some instrumentations pass through), so they are added; likewise reasoning tokens to output tokens when the
/// output count is smaller. An Anthropic count that excludes the cache yet is still the larger cannot be told apart
/// and is taken as inclusive.</item>
/// <item>Cost: <c>gen_ai.usage.cost</c>, <c>cairn.cost_usd</c>, <c>llm.cost.total</c>, else the price table for the
/// response model (then the request model) when any token count is known.</item>
/// <item>Input (output alike): <c>gen_ai.input.messages</c> (with <c>gen_ai.system_instructions</c> prepended as a system
/// message), <c>gen_ai.prompt</c>, OpenLLMetry's <c>gen_ai.prompt.N.*</c>, the message events
/// (<c>gen_ai.{system,user,assistant,tool}.message</c>, <c>gen_ai.choice</c>, <c>gen_ai.content.prompt</c>),
/// <c>input.value</c>, OpenInference's <c>llm.input_messages.N.message.*</c>, <c>gen_ai.tool.call.arguments</c>,
/// <c>langfuse.observation.input</c>. String values are kept as sent (JSON or plain text); other values become JSON.
/// The attributes taken are not repeated in the span's attribute JSON.</item>
/// <item>User: <c>user.id</c>, <c>enduser.id</c>, <c>langfuse.user.id</c>. Session: <c>session.id</c>,
/// <c>gen_ai.conversation.id</c>, <c>langfuse.session.id</c>. Tags: <c>tags</c>, <c>langfuse.trace.tags</c> (an array, a
/// JSON array text, or comma-separated text). Gateway request: <c>cairn.request_id</c>.</item>
/// </list>
/// </remarks>
internal static class GenAiSpanMapper
{
    private static readonly string[] s_types =
        [SpanTypes.Generation, SpanTypes.Embedding, SpanTypes.Tool, SpanTypes.Retrieval, SpanTypes.Agent, SpanTypes.Chain, SpanTypes.Span];

    /// <summary>Maps one span's attributes (already sorted into <paramref name="span"/>) and events.</summary>
    public static GenAiFields Map(
        AttributeLookup span, AttributeLookup resource, RepeatedField<Span.Types.Event> events, OtlpDecodeOptions options, JsonBuffer buffer, JsonBuffer nested)
    {
        var fields = new GenAiFields
        {
            Type = ResolveType(span),
            Operation = Text(span[GenAiKey.OperationName]),
            Provider = Text(span[GenAiKey.ProviderName]) ?? Text(span[GenAiKey.GenAiSystem])
                ?? Text(span[GenAiKey.LlmProvider]) ?? Text(span[GenAiKey.LlmSystem]),
            RequestModel = Text(span[GenAiKey.RequestModel]) ?? Text(span[GenAiKey.LlmModelName]),
            ResponseModel = Text(span[GenAiKey.ResponseModel]),
            UserId = Text(span[GenAiKey.UserId]) ?? Text(span[GenAiKey.EndUserId]) ?? Text(span[GenAiKey.LangfuseUserId])
                ?? Text(resource[GenAiKey.UserId]) ?? Text(resource[GenAiKey.EndUserId]) ?? Text(resource[GenAiKey.LangfuseUserId]),
            SessionId = Text(span[GenAiKey.SessionId]) ?? Text(span[GenAiKey.ConversationId]) ?? Text(span[GenAiKey.LangfuseSessionId])
                ?? Text(resource[GenAiKey.SessionId]) ?? Text(resource[GenAiKey.ConversationId]) ?? Text(resource[GenAiKey.LangfuseSessionId]),
            Tags = ReadTags(span[GenAiKey.Tags] ?? span[GenAiKey.LangfuseTags] ?? resource[GenAiKey.Tags] ?? resource[GenAiKey.LangfuseTags]),
            RequestLogId = Text(span[GenAiKey.CairnRequestId]),
        };

        ReadTokens(span, ref fields);
        fields.CostUsd = Money(span[GenAiKey.GenAiCost]) ?? Money(span[GenAiKey.CairnCost]) ?? Money(span[GenAiKey.LlmCostTotal])
            ?? PriceOf(fields, options.Prices);
        ReadInput(span, events, options.MaxInputOutputLength, buffer, nested, ref fields);
        ReadOutput(span, events, options.MaxInputOutputLength, buffer, nested, ref fields);
        return fields;
    }

    private static string ResolveType(AttributeLookup span)
    {
        if (Text(span[GenAiKey.CairnSpanType]) is { } cairn)
        {
            foreach (var known in s_types)
            {
                if (string.Equals(cairn, known, StringComparison.OrdinalIgnoreCase))
                {
                    return known;
                }
            }
        }

        if (Text(span[GenAiKey.OpenInferenceSpanKind]) is { } kind)
        {
            return kind.ToUpperInvariant() switch
            {
                "LLM" => SpanTypes.Generation,
                "EMBEDDING" => SpanTypes.Embedding,
                "TOOL" => SpanTypes.Tool,
                "RETRIEVER" => SpanTypes.Retrieval,
                "AGENT" => SpanTypes.Agent,
                "CHAIN" => SpanTypes.Chain,
                _ => SpanTypes.Span,
            };
        }

        var operation = Text(span[GenAiKey.OperationName]) switch
        {
            "chat" or "text_completion" or "generate_content" => SpanTypes.Generation,
            "embeddings" => SpanTypes.Embedding,
            "execute_tool" => SpanTypes.Tool,
            "invoke_agent" or "create_agent" => SpanTypes.Agent,
            _ => null,
        };
        if (operation is not null)
        {
            return operation;
        }

        var requestType = Text(span[GenAiKey.LlmRequestType]) switch
        {
            "chat" or "completion" => SpanTypes.Generation,
            "embedding" => SpanTypes.Embedding,
            _ => null,
        };
        if (requestType is not null)
        {
            return requestType;
        }

        return Text(span[GenAiKey.LangfuseObservationType])?.ToLowerInvariant() switch
        {
            "generation" => SpanTypes.Generation,
            "embedding" => SpanTypes.Embedding,
            "tool" => SpanTypes.Tool,
            "retriever" => SpanTypes.Retrieval,
            "agent" => SpanTypes.Agent,
            "chain" => SpanTypes.Chain,
            _ => SpanTypes.Span,
        };
    }

    private static void ReadTokens(AttributeLookup span, ref GenAiFields fields)
    {
        var input = Count(span[GenAiKey.InputTokens]) ?? Count(span[GenAiKey.PromptTokens]) ?? Count(span[GenAiKey.LlmPromptTokens]);
        var output = Count(span[GenAiKey.OutputTokens]) ?? Count(span[GenAiKey.CompletionTokens]) ?? Count(span[GenAiKey.LlmCompletionTokens]);
        var cached = Count(span[GenAiKey.CacheReadInputTokens]) ?? Count(span[GenAiKey.CacheReadInputTokensFlat])
            ?? Count(span[GenAiKey.CachedTokens]) ?? Count(span[GenAiKey.LlmCacheReadTokens]);
        var written = Count(span[GenAiKey.CacheCreationInputTokens]) ?? Count(span[GenAiKey.CacheCreationInputTokensFlat])
            ?? Count(span[GenAiKey.LlmCacheWriteTokens]);
        var reasoning = Count(span[GenAiKey.ReasoningOutputTokens]) ?? Count(span[GenAiKey.ReasoningTokens])
            ?? Count(span[GenAiKey.LlmReasoningTokens]);

        // An input count below the cache reads plus writes cannot include them: it is Anthropic's uncached count.
        var cacheTotal = (cached ?? 0) + (written ?? 0);
        if (input is { } counted && cacheTotal > counted)
        {
            input = counted + cacheTotal;
        }

        // Likewise an output count below the reasoning tokens (Gemini reports thoughts beside the candidates).
        if (output is { } produced && reasoning is { } thought && thought > produced)
        {
            output = produced + thought;
        }

        fields.InputTokens = input;
        fields.OutputTokens = output;
        fields.CachedInputTokens = cached;
        fields.CacheWriteTokens = written;
        fields.ReasoningTokens = reasoning;
    }

    private static decimal? PriceOf(in GenAiFields fields, PriceTable prices)
    {
        if (fields.InputTokens is null && fields.OutputTokens is null)
        {
            return null;
        }

        var price = prices.Find(fields.ResponseModel) ?? prices.Find(fields.RequestModel);
        return price?.Cost(new TokenUsage(
            fields.InputTokens ?? 0,
            fields.OutputTokens ?? 0,
            fields.CachedInputTokens ?? 0,
            fields.CacheWriteTokens ?? 0,
            fields.ReasoningTokens ?? 0));
    }

    // Where a span's input and output come from, first found wins. None stands for the gen_ai message events.
    private static readonly GenAiKey[] s_inputSources =
    [
        GenAiKey.InputMessages, GenAiKey.GenAiPrompt, GenAiKey.FlatGenAiPrompt, GenAiKey.None,
        GenAiKey.InputValue, GenAiKey.FlatLlmInputMessages, GenAiKey.ToolCallArguments, GenAiKey.LangfuseInput,
    ];

    private static readonly GenAiKey[] s_outputSources =
    [
        GenAiKey.OutputMessages, GenAiKey.GenAiCompletion, GenAiKey.FlatGenAiCompletion, GenAiKey.None,
        GenAiKey.OutputValue, GenAiKey.FlatLlmOutputMessages, GenAiKey.ToolCallResult, GenAiKey.LangfuseOutput,
    ];

    private static void ReadInput(
        AttributeLookup span, RepeatedField<Span.Types.Event> events, int max, JsonBuffer buffer, JsonBuffer nested, ref GenAiFields fields)
    {
        var truncated = false;
        var (input, source) = ReadFirst(s_inputSources, output: false, span, events, max, ref truncated, buffer, nested);

        // System instructions belong with the current conventions' input messages (or stand alone).
        if (span[GenAiKey.SystemInstructions] is { } instructions && (source == GenAiKey.InputMessages || input is null))
        {
            input = WithSystemInstructions(instructions, input, max, ref truncated, buffer, nested);
            fields.ConsumedKeys |= AttributeLookup.Bit(GenAiKey.SystemInstructions);
        }

        if (source != GenAiKey.None)
        {
            fields.ConsumedKeys |= AttributeLookup.Bit(source);
        }

        fields.Input = input;
        fields.Truncated |= truncated;
    }

    private static void ReadOutput(
        AttributeLookup span, RepeatedField<Span.Types.Event> events, int max, JsonBuffer buffer, JsonBuffer nested, ref GenAiFields fields)
    {
        var truncated = false;
        var (output, source) = ReadFirst(s_outputSources, output: true, span, events, max, ref truncated, buffer, nested);
        if (source != GenAiKey.None)
        {
            fields.ConsumedKeys |= AttributeLookup.Bit(source);
        }

        fields.Output = output;
        fields.Truncated |= truncated;
    }

    /// <summary>The text of the first of <paramref name="sources"/> the span has, and which one (None for events or nothing).</summary>
    private static (string? Text, GenAiKey Source) ReadFirst(
        GenAiKey[] sources, bool output, AttributeLookup span, RepeatedField<Span.Types.Event> events, int max, ref bool truncated, JsonBuffer buffer, JsonBuffer nested)
    {
        foreach (var key in sources)
        {
            if (key == GenAiKey.None)
            {
                if (EventMessages(events, output, max, ref truncated, buffer, nested) is { } fromEvents)
                {
                    return (fromEvents, GenAiKey.None);
                }
            }
            else if (key >= GenAiKey.FlatLlmInputMessages)
            {
                if (span.Has(key))
                {
                    return (FlatMessages(span.FlatFields, key, max, ref truncated, buffer, nested), key);
                }
            }
            else if (span[key] is { } value)
            {
                return (OtlpJsonWriting.ToText(value, max, ref truncated, buffer, nested), key);
            }
        }

        return (null, GenAiKey.None);
    }

    // [{"role":"system","parts":<instructions>}, ...messages]: the current conventions keep system instructions apart.
    private static string WithSystemInstructions(AnyValue instructions, string? messages, int max, ref bool truncated, JsonBuffer buffer, JsonBuffer nested)
    {
        var writer = buffer.Start();
        writer.WriteStartArray();
        writer.WriteStartObject();
        writer.WriteString("role", "system");
        writer.WritePropertyName("parts");
        if (instructions.ValueCase == AnyValue.ValueOneofCase.StringValue)
        {
            using var parsed = TryParse(instructions.StringValue);
            if (parsed?.RootElement.ValueKind == JsonValueKind.Array)
            {
                parsed.RootElement.WriteTo(writer);
            }
            else
            {
                writer.WriteStartArray();
                writer.WriteStartObject();
                writer.WriteString("type", "text");
                writer.WriteString("content", OtlpJsonWriting.Truncate(instructions.StringValue, max, ref truncated));
                writer.WriteEndObject();
                writer.WriteEndArray();
            }
        }
        else
        {
            OtlpJsonWriting.WriteValue(writer, instructions, max, ref truncated, nested);
        }

        writer.WriteEndObject();
        if (messages is not null)
        {
            using var parsed = TryParse(messages);
            if (parsed?.RootElement.ValueKind == JsonValueKind.Array)
            {
                foreach (var message in parsed.RootElement.EnumerateArray())
                {
                    message.WriteTo(writer);
                }
            }
            else if (parsed is not null)
            {
                parsed.RootElement.WriteTo(writer);
            }
            else
            {
                writer.WriteStringValue(messages);
            }
        }

        writer.WriteEndArray();
        return OtlpJsonWriting.Truncate(buffer.Finish(), max, ref truncated);
    }

    // A JSON array of {"role", ...attributes} from the message events, or the text of gen_ai.content.prompt/completion.
    private static string? EventMessages(
        RepeatedField<Span.Types.Event> events, bool output, int max, ref bool truncated, JsonBuffer buffer, JsonBuffer nested)
    {
        if (events.Count == 0)
        {
            return null;
        }

        Utf8JsonWriter? writer = null;
        AnyValue? content = null;
        foreach (var e in events)
        {
            var role = output
                ? e.Name == "gen_ai.choice" ? "assistant" : null
                : e.Name switch
                {
                    "gen_ai.system.message" => "system",
                    "gen_ai.user.message" => "user",
                    "gen_ai.assistant.message" => "assistant",
                    "gen_ai.tool.message" => "tool",
                    _ => null,
                };
            if (role is null)
            {
                if (content is null && e.Name == (output ? "gen_ai.content.completion" : "gen_ai.content.prompt"))
                {
                    content = Find(e.Attributes, output ? "gen_ai.completion" : "gen_ai.prompt");
                }

                continue;
            }

            if (writer is null)
            {
                writer = buffer.Start();
                writer.WriteStartArray();
            }

            WriteEventMessage(writer, e.Attributes, role, max, ref truncated, nested);
        }

        if (writer is not null)
        {
            writer.WriteEndArray();
            return OtlpJsonWriting.Truncate(buffer.Finish(), max, ref truncated);
        }

        return content is null ? null : OtlpJsonWriting.ToText(content, max, ref truncated, buffer, nested);
    }

    private static void WriteEventMessage(
        Utf8JsonWriter writer, RepeatedField<KeyValue> attributes, string role, int max, ref bool truncated, JsonBuffer nested)
    {
        // gen_ai.choice nests the message ({"role", "content", "tool_calls"}) as a map or as JSON text; flatten it.
        var message = Find(attributes, "message");
        using var parsed = message?.ValueCase == AnyValue.ValueOneofCase.StringValue ? TryParse(message.StringValue) : null;
        var messageObject = parsed?.RootElement.ValueKind == JsonValueKind.Object ? parsed.RootElement : (JsonElement?)null;
        role = OtlpJsonWriting.ScalarText(Find(attributes, "role")) ?? role;
        if (message?.ValueCase == AnyValue.ValueOneofCase.KvlistValue)
        {
            role = OtlpJsonWriting.ScalarText(Find(message.KvlistValue.Values, "role")) ?? role;
        }
        else if (messageObject is { } o && o.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String)
        {
            role = r.GetString() ?? role;
        }

        writer.WriteStartObject();
        writer.WriteString("role", role);
        foreach (var attribute in attributes)
        {
            if (attribute.Key is "role" or "message" or "gen_ai.system" or "gen_ai.provider.name")
            {
                continue;
            }

            writer.WritePropertyName(attribute.Key);
            OtlpJsonWriting.WriteValue(writer, attribute.Value, max, ref truncated, nested);
        }

        if (message?.ValueCase == AnyValue.ValueOneofCase.KvlistValue)
        {
            foreach (var pair in message.KvlistValue.Values)
            {
                if (pair.Key != "role")
                {
                    writer.WritePropertyName(pair.Key);
                    OtlpJsonWriting.WriteValue(writer, pair.Value, max, ref truncated, nested);
                }
            }
        }
        else if (messageObject is { } json)
        {
            foreach (var property in json.EnumerateObject())
            {
                if (property.Name != "role")
                {
                    property.WriteTo(writer);
                }
            }
        }
        else if (message is not null)
        {
            writer.WritePropertyName("message");
            OtlpJsonWriting.WriteValue(writer, message, max, ref truncated, nested);
        }

        writer.WriteEndObject();
    }

    // [{"role": ..., "content": ..., ...}] from llm.input_messages.N.message.<field> or gen_ai.prompt.N.<field>.
    private static string FlatMessages(List<FlatMessageField> all, GenAiKey list, int max, ref bool truncated, JsonBuffer buffer, JsonBuffer nested)
    {
        var fields = new List<FlatMessageField>();
        foreach (var field in all)
        {
            if (field.List == list)
            {
                fields.Add(field);
            }
        }

        fields.Sort(static (a, b) => a.Index != b.Index ? a.Index.CompareTo(b.Index) : a.Order.CompareTo(b.Order));
        var writer = buffer.Start();
        writer.WriteStartArray();
        var current = -1;
        foreach (var field in fields)
        {
            if (field.Index != current)
            {
                if (current >= 0)
                {
                    writer.WriteEndObject();
                }

                writer.WriteStartObject();
                current = field.Index;
            }

            writer.WritePropertyName(field.Field);
            OtlpJsonWriting.WriteValue(writer, field.Value, max, ref truncated, nested);
        }

        if (current >= 0)
        {
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        return OtlpJsonWriting.Truncate(buffer.Finish(), max, ref truncated);
    }

    private static IReadOnlyList<string> ReadTags(AnyValue? value)
    {
        switch (value?.ValueCase ?? AnyValue.ValueOneofCase.None)
        {
            case AnyValue.ValueOneofCase.ArrayValue:
                var tags = new List<string>(value!.ArrayValue.Values.Count);
                foreach (var item in value.ArrayValue.Values)
                {
                    AddTag(tags, OtlpJsonWriting.ScalarText(item));
                }

                return tags;
            case AnyValue.ValueOneofCase.StringValue:
                var text = value!.StringValue.AsSpan().Trim();
                var list = new List<string>();
                if (text.StartsWith('['))
                {
                    using var parsed = TryParse(value.StringValue);
                    if (parsed?.RootElement.ValueKind == JsonValueKind.Array)
                    {
                        foreach (var item in parsed.RootElement.EnumerateArray())
                        {
                            AddTag(list, item.ValueKind == JsonValueKind.String ? item.GetString() : item.GetRawText());
                        }

                        return list;
                    }
                }

                foreach (var range in text.Split(','))
                {
                    AddTag(list, text[range].ToString());
                }

                return list;
            default:
                return [];
        }
    }

    private static void AddTag(List<string> tags, string? tag)
    {
        tag = tag?.Trim();
        if (!string.IsNullOrEmpty(tag) && !tags.Contains(tag))
        {
            tags.Add(tag);
        }
    }

    private static AnyValue? Find(RepeatedField<KeyValue> attributes, string key)
    {
        foreach (var attribute in attributes)
        {
            if (attribute.Key == key)
            {
                return attribute.Value;
            }
        }

        return null;
    }

    private static JsonDocument? TryParse(string text)
    {
        var trimmed = text.AsSpan().TrimStart();
        if (trimmed.IsEmpty || (trimmed[0] != '[' && trimmed[0] != '{'))
        {
            return null;
        }

        try
        {
            return JsonDocument.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Text(AnyValue? value) => OtlpJsonWriting.ScalarText(value);

    private static long? Count(AnyValue? value)
    {
        switch (value?.ValueCase ?? AnyValue.ValueOneofCase.None)
        {
            case AnyValue.ValueOneofCase.IntValue:
                return value!.IntValue >= 0 ? value.IntValue : null;
            case AnyValue.ValueOneofCase.DoubleValue:
                var d = value!.DoubleValue;
                return double.IsFinite(d) && d >= 0 && d < long.MaxValue ? (long)Math.Round(d) : null;
            case AnyValue.ValueOneofCase.StringValue:
                return long.TryParse(value!.StringValue, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0 ? n : null;
            default:
                return null;
        }
    }

    private static decimal? Money(AnyValue? value)
    {
        decimal? amount = (value?.ValueCase ?? AnyValue.ValueOneofCase.None) switch
        {
            AnyValue.ValueOneofCase.IntValue => value!.IntValue,
            AnyValue.ValueOneofCase.DoubleValue when double.IsFinite(value!.DoubleValue) && Math.Abs(value.DoubleValue) < 1e15 =>
                (decimal)value.DoubleValue,
            AnyValue.ValueOneofCase.StringValue when decimal.TryParse(
                value!.StringValue, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => null,
        };
        return amount >= 0 ? amount : null;
    }
}
