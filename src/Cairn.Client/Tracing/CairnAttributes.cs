namespace Cairn.Client.Tracing;

/// <summary>The span attribute names that Cairn's trace ingestion reads.</summary>
internal static class CairnAttributes
{
    public const string SpanType = "cairn.span.type";
    public const string RequestId = "cairn.request_id";
    public const string CostUsd = "cairn.cost_usd";

    public const string InputValue = "input.value";
    public const string InputMimeType = "input.mime_type";
    public const string OutputValue = "output.value";
    public const string OutputMimeType = "output.mime_type";

    public const string SessionId = "session.id";
    public const string UserId = "user.id";
    public const string Tags = "tags";

    public const string ErrorType = "error.type";

    public const string GenAIOperationName = "gen_ai.operation.name";
    public const string GenAIProviderName = "gen_ai.provider.name";
    public const string GenAIRequestModel = "gen_ai.request.model";
    public const string GenAIResponseModel = "gen_ai.response.model";
    public const string GenAIInputTokens = "gen_ai.usage.input_tokens";
    public const string GenAIOutputTokens = "gen_ai.usage.output_tokens";
    public const string GenAICacheReadInputTokens = "gen_ai.usage.cache_read.input_tokens";
    public const string GenAIReasoningOutputTokens = "gen_ai.usage.reasoning.output_tokens";
    public const string GenAIInputMessages = "gen_ai.input.messages";
    public const string GenAIOutputMessages = "gen_ai.output.messages";

    public const string JsonMimeType = "application/json";
    public const string TextMimeType = "text/plain";

    public static string ToWireName(SpanType type) => type switch
    {
        Tracing.SpanType.Generation => "generation",
        Tracing.SpanType.Embedding => "embedding",
        Tracing.SpanType.Tool => "tool",
        Tracing.SpanType.Retrieval => "retrieval",
        Tracing.SpanType.Agent => "agent",
        Tracing.SpanType.Chain => "chain",
        _ => "span",
    };
}
