using System.Text.Json;

namespace Cairn.Core.Gateway;

/// <summary>Reads the vendors' usage objects into <see cref="TokenUsage"/>, normalising each vendor's accounting.</summary>
public static class UsageReader
{
    /// <summary>
    /// Reads OpenAI's <c>usage</c> (chat completions and embeddings): <c>prompt_tokens</c> already includes
    /// <c>prompt_tokens_details.cached_tokens</c> and <c>completion_tokens</c> includes
    /// <c>completion_tokens_details.reasoning_tokens</c>.
    /// </summary>
    public static TokenUsage? FromOpenAi(JsonElement usage)
    {
        if (usage.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var prompt = Long(usage, "prompt_tokens") ?? Long(usage, "input_tokens");
        var completion = Long(usage, "completion_tokens") ?? Long(usage, "output_tokens") ?? 0;
        if (prompt is null)
        {
            return null;
        }

        long cached = 0, reasoning = 0;
        if (usage.TryGetProperty("prompt_tokens_details", out var promptDetails) && promptDetails.ValueKind == JsonValueKind.Object)
        {
            cached = Long(promptDetails, "cached_tokens") ?? 0;
        }

        if (usage.TryGetProperty("completion_tokens_details", out var completionDetails) && completionDetails.ValueKind == JsonValueKind.Object)
        {
            reasoning = Long(completionDetails, "reasoning_tokens") ?? 0;
        }

        return new TokenUsage(prompt.Value, completion, cached, 0, reasoning);
    }

    /// <summary>
    /// Reads Anthropic's <c>usage</c>: <c>input_tokens</c> counts only the uncached input, so the prompt is
    /// <c>input_tokens + cache_read_input_tokens + cache_creation_input_tokens</c>; <c>output_tokens</c> includes thinking.
    /// </summary>
    public static TokenUsage? FromAnthropic(JsonElement usage)
    {
        if (usage.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var input = Long(usage, "input_tokens");
        var output = Long(usage, "output_tokens");
        if (input is null && output is null)
        {
            return null;
        }

        return FromAnthropic(input ?? 0, output ?? 0, Long(usage, "cache_read_input_tokens") ?? 0, Long(usage, "cache_creation_input_tokens") ?? 0);
    }

    /// <summary>Normalises Anthropic's separate counts (uncached input, output, cache reads, cache writes), for example as gathered from a stream's events.</summary>
    public static TokenUsage FromAnthropic(long inputTokens, long outputTokens, long cacheReadTokens, long cacheCreationTokens) =>
        new(inputTokens + cacheReadTokens + cacheCreationTokens, outputTokens, cacheReadTokens, cacheCreationTokens);

    /// <summary>
    /// Reads Gemini's <c>usageMetadata</c>: <c>promptTokenCount</c> includes <c>cachedContentTokenCount</c>, and
    /// <c>candidatesTokenCount</c> excludes <c>thoughtsTokenCount</c>, which is output billed at the output price.
    /// </summary>
    public static TokenUsage? FromGemini(JsonElement usage)
    {
        if (usage.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var prompt = Long(usage, "promptTokenCount");
        if (prompt is null)
        {
            return null;
        }

        var toolPrompt = Long(usage, "toolUsePromptTokenCount") ?? 0;
        var candidates = Long(usage, "candidatesTokenCount") ?? 0;
        var thoughts = Long(usage, "thoughtsTokenCount") ?? 0;
        var cached = Long(usage, "cachedContentTokenCount") ?? 0;
        return new TokenUsage(prompt.Value + toolPrompt, candidates + thoughts, cached, 0, thoughts);
    }

    private static long? Long(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) ? n : null;
}
