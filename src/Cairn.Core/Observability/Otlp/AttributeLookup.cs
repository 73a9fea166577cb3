using System.Collections.Frozen;
using System.Globalization;
using Cairn.Core.Observability.Otlp.Proto;
using Google.Protobuf.Collections;

namespace Cairn.Core.Observability.Otlp;

/// <summary>The attributes <see cref="GenAiSpanMapper"/> reads, each with a slot in <see cref="AttributeLookup"/>.</summary>
/// <remarks>At most 63 members besides <see cref="None"/>: <see cref="AttributeLookup"/> keeps sets of keys in a <see cref="ulong"/>.</remarks>
internal enum GenAiKey
{
    None = 0,
    CairnSpanType,
    OpenInferenceSpanKind,
    OperationName,
    LlmRequestType,
    LangfuseObservationType,
    ProviderName,
    GenAiSystem,
    LlmProvider,
    LlmSystem,
    RequestModel,
    LlmModelName,
    ResponseModel,
    InputTokens,
    PromptTokens,
    OutputTokens,
    CompletionTokens,
    CacheReadInputTokens,
    CacheReadInputTokensFlat,
    CachedTokens,
    CacheCreationInputTokens,
    CacheCreationInputTokensFlat,
    ReasoningOutputTokens,
    ReasoningTokens,
    LlmPromptTokens,
    LlmCompletionTokens,
    LlmCacheReadTokens,
    LlmCacheWriteTokens,
    LlmReasoningTokens,
    GenAiCost,
    CairnCost,
    LlmCostTotal,
    InputMessages,
    OutputMessages,
    SystemInstructions,
    GenAiPrompt,
    GenAiCompletion,
    InputValue,
    OutputValue,
    ToolCallArguments,
    ToolCallResult,
    LangfuseInput,
    LangfuseOutput,
    UserId,
    EndUserId,
    LangfuseUserId,
    SessionId,
    ConversationId,
    LangfuseSessionId,
    Tags,
    LangfuseTags,
    CairnRequestId,
    CairnProject,
    ServiceName,

    // Flattened message lists: one attribute per field (llm.input_messages.0.message.role, gen_ai.prompt.0.content).
    FlatLlmInputMessages,
    FlatLlmOutputMessages,
    FlatGenAiPrompt,
    FlatGenAiCompletion,

    Count,
}

/// <summary>One field of a flattened message list: <c>llm.input_messages.3.message.content</c> is (3, "content").</summary>
internal readonly record struct FlatMessageField(GenAiKey List, int Index, int Order, string Field, AnyValue Value);

/// <summary>
/// The attributes of one span (or resource) sorted into fixed slots in one pass, so the mapper reads each known key
/// without scanning or parsing the list again.
/// </summary>
/// <remarks>Reused from span to span by one decode call; not thread-safe.</remarks>
internal sealed class AttributeLookup
{
    private const string LlmInputMessages = "llm.input_messages.";
    private const string LlmOutputMessages = "llm.output_messages.";
    private const string GenAiPromptPrefix = "gen_ai.prompt.";
    private const string GenAiCompletionPrefix = "gen_ai.completion.";

    private static readonly FrozenDictionary<string, GenAiKey> s_keys = new Dictionary<string, GenAiKey>(StringComparer.Ordinal)
    {
        ["cairn.span.type"] = GenAiKey.CairnSpanType,
        ["openinference.span.kind"] = GenAiKey.OpenInferenceSpanKind,
        ["gen_ai.operation.name"] = GenAiKey.OperationName,
        ["llm.request.type"] = GenAiKey.LlmRequestType,
        ["langfuse.observation.type"] = GenAiKey.LangfuseObservationType,
        ["gen_ai.provider.name"] = GenAiKey.ProviderName,
        ["gen_ai.system"] = GenAiKey.GenAiSystem,
        ["llm.provider"] = GenAiKey.LlmProvider,
        ["llm.system"] = GenAiKey.LlmSystem,
        ["gen_ai.request.model"] = GenAiKey.RequestModel,
        ["llm.model_name"] = GenAiKey.LlmModelName,
        ["gen_ai.response.model"] = GenAiKey.ResponseModel,
        ["gen_ai.usage.input_tokens"] = GenAiKey.InputTokens,
        ["gen_ai.usage.prompt_tokens"] = GenAiKey.PromptTokens,
        ["gen_ai.usage.output_tokens"] = GenAiKey.OutputTokens,
        ["gen_ai.usage.completion_tokens"] = GenAiKey.CompletionTokens,
        ["gen_ai.usage.cache_read.input_tokens"] = GenAiKey.CacheReadInputTokens,
        ["gen_ai.usage.cache_read_input_tokens"] = GenAiKey.CacheReadInputTokensFlat,
        ["gen_ai.usage.cached_tokens"] = GenAiKey.CachedTokens,
        ["gen_ai.usage.cache_creation.input_tokens"] = GenAiKey.CacheCreationInputTokens,
        ["gen_ai.usage.cache_creation_input_tokens"] = GenAiKey.CacheCreationInputTokensFlat,
        ["gen_ai.usage.reasoning.output_tokens"] = GenAiKey.ReasoningOutputTokens,
        ["gen_ai.usage.reasoning_tokens"] = GenAiKey.ReasoningTokens,
        ["llm.token_count.prompt"] = GenAiKey.LlmPromptTokens,
        ["llm.token_count.completion"] = GenAiKey.LlmCompletionTokens,
        ["llm.token_count.prompt_details.cache_read"] = GenAiKey.LlmCacheReadTokens,
        ["llm.token_count.prompt_details.cache_write"] = GenAiKey.LlmCacheWriteTokens,
        ["llm.token_count.completion_details.reasoning"] = GenAiKey.LlmReasoningTokens,
        ["gen_ai.usage.cost"] = GenAiKey.GenAiCost,
        ["cairn.cost_usd"] = GenAiKey.CairnCost,
        ["llm.cost.total"] = GenAiKey.LlmCostTotal,
        ["gen_ai.input.messages"] = GenAiKey.InputMessages,
        ["gen_ai.output.messages"] = GenAiKey.OutputMessages,
        ["gen_ai.system_instructions"] = GenAiKey.SystemInstructions,
        ["gen_ai.prompt"] = GenAiKey.GenAiPrompt,
        ["gen_ai.completion"] = GenAiKey.GenAiCompletion,
        ["input.value"] = GenAiKey.InputValue,
        ["output.value"] = GenAiKey.OutputValue,
        ["gen_ai.tool.call.arguments"] = GenAiKey.ToolCallArguments,
        ["gen_ai.tool.call.result"] = GenAiKey.ToolCallResult,
        ["langfuse.observation.input"] = GenAiKey.LangfuseInput,
        ["langfuse.observation.output"] = GenAiKey.LangfuseOutput,
        ["user.id"] = GenAiKey.UserId,
        ["enduser.id"] = GenAiKey.EndUserId,
        ["langfuse.user.id"] = GenAiKey.LangfuseUserId,
        ["session.id"] = GenAiKey.SessionId,
        ["gen_ai.conversation.id"] = GenAiKey.ConversationId,
        ["langfuse.session.id"] = GenAiKey.LangfuseSessionId,
        ["tags"] = GenAiKey.Tags,
        ["langfuse.trace.tags"] = GenAiKey.LangfuseTags,
        ["cairn.request_id"] = GenAiKey.CairnRequestId,
        ["cairn.project"] = GenAiKey.CairnProject,
        ["service.name"] = GenAiKey.ServiceName,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private readonly AnyValue?[] _values = new AnyValue?[(int)GenAiKey.Count];
    private readonly List<FlatMessageField> _flat = [];
    private GenAiKey[] _keyOf = new GenAiKey[32];
    private ulong _present;

    /// <summary>The attributes loaded last (empty when none).</summary>
    public RepeatedField<KeyValue>? Attributes { get; private set; }

    /// <summary>The fields of flattened message lists, in attribute order.</summary>
    public List<FlatMessageField> FlatFields => _flat;

    /// <summary>The value of <paramref name="key"/>, or null when absent or empty.</summary>
    public AnyValue? this[GenAiKey key] => _values[(int)key];

    /// <summary>Whether any attribute of a flattened message list <paramref name="list"/> was seen.</summary>
    public bool Has(GenAiKey list) => (_present & Bit(list)) != 0;

    /// <summary>The bit of <paramref name="key"/> in a set of keys.</summary>
    public static ulong Bit(GenAiKey key) => 1UL << (int)key;

    /// <summary>The known key of the attribute at <paramref name="index"/> of <see cref="Attributes"/>, or <see cref="GenAiKey.None"/>.</summary>
    public GenAiKey KeyAt(int index) => _keyOf[index];

    /// <summary>Sorts <paramref name="attributes"/> into the slots, replacing what was loaded before.</summary>
    public void Load(RepeatedField<KeyValue>? attributes)
    {
        if (_present != 0)
        {
            Array.Clear(_values);
            _flat.Clear();
            _present = 0;
        }

        Attributes = attributes;
        if (attributes is null)
        {
            return;
        }

        if (_keyOf.Length < attributes.Count)
        {
            _keyOf = new GenAiKey[Math.Max(attributes.Count, _keyOf.Length * 2)];
        }

        for (var i = 0; i < attributes.Count; i++)
        {
            var attribute = attributes[i];
            var key = Classify(attribute.Key, attribute.Value);
            _keyOf[i] = key;
            if (key == GenAiKey.None || attribute.Value is null || attribute.Value.ValueCase == AnyValue.ValueOneofCase.None)
            {
                continue;
            }

            // OTLP keys are unique; should a sender repeat one, the first value wins.
            if (key < GenAiKey.FlatLlmInputMessages && _values[(int)key] is null)
            {
                _values[(int)key] = attribute.Value;
            }

            _present |= Bit(key);
        }
    }

    private GenAiKey Classify(string name, AnyValue? value)
    {
        if (s_keys.TryGetValue(name, out var key))
        {
            return key;
        }

        if (name.StartsWith("llm.", StringComparison.Ordinal))
        {
            return TryFlat(name, LlmInputMessages, GenAiKey.FlatLlmInputMessages, value)
                ?? TryFlat(name, LlmOutputMessages, GenAiKey.FlatLlmOutputMessages, value)
                ?? GenAiKey.None;
        }

        if (name.StartsWith("gen_ai.", StringComparison.Ordinal))
        {
            return TryFlat(name, GenAiPromptPrefix, GenAiKey.FlatGenAiPrompt, value)
                ?? TryFlat(name, GenAiCompletionPrefix, GenAiKey.FlatGenAiCompletion, value)
                ?? GenAiKey.None;
        }

        return GenAiKey.None;
    }

    // "<prefix><index>.[message.]<field>", as OpenInference (llm.input_messages.0.message.role) and OpenLLMetry
    // (gen_ai.prompt.0.role) flatten message lists into attributes.
    private GenAiKey? TryFlat(string name, string prefix, GenAiKey list, AnyValue? value)
    {
        if (!name.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = name.AsSpan(prefix.Length);
        var dot = rest.IndexOf('.');
        if (dot <= 0 || dot == rest.Length - 1
            || !int.TryParse(rest[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            return null;
        }

        var field = rest[(dot + 1)..];
        if (field.StartsWith("message.", StringComparison.Ordinal) && field.Length > "message.".Length)
        {
            field = field["message.".Length..];
        }

        if (value is not null && value.ValueCase != AnyValue.ValueOneofCase.None)
        {
            _flat.Add(new FlatMessageField(list, index, _flat.Count, field.ToString(), value));
        }

        return list;
    }
}
