namespace Cairn.Core.Gateway;

/// <summary>The tokens of one model call, normalised to OpenAI's accounting whatever the vendor reported.</summary>
/// <remarks>
/// <see cref="PromptTokens"/> includes <see cref="CachedInputTokens"/> and <see cref="CacheWriteTokens"/>, and
/// <see cref="CompletionTokens"/> includes <see cref="ReasoningTokens"/>, as in OpenAI's <c>usage</c>. Anthropic reports
/// uncached input separately from cache reads and writes, and Gemini reports thoughts beside the candidates; the parsers
/// fold both into this one shape, so prices are applied once per token and nothing is counted twice.
/// </remarks>
/// <param name="PromptTokens">All input tokens, cached and cache-written ones included.</param>
/// <param name="CompletionTokens">All output tokens, reasoning included.</param>
/// <param name="CachedInputTokens">Input tokens read from the provider's prompt cache.</param>
/// <param name="CacheWriteTokens">Input tokens written to the provider's prompt cache (Anthropic).</param>
/// <param name="ReasoningTokens">Output tokens spent on reasoning (OpenAI o-series and GPT-5, Gemini thoughts, Anthropic thinking when reported).</param>
/// <param name="Estimated">True when the counts were computed by Cairn's tokenizer because the provider reported none.</param>
public sealed record TokenUsage(
    long PromptTokens,
    long CompletionTokens,
    long CachedInputTokens = 0,
    long CacheWriteTokens = 0,
    long ReasoningTokens = 0,
    bool Estimated = false)
{
    /// <summary>Input plus output tokens.</summary>
    public long TotalTokens => PromptTokens + CompletionTokens;
}
