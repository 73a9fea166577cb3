using System.Text.Json.Serialization;

namespace Cairn.Core.Gateway;

/// <summary>A model's list prices in US dollars per million tokens.</summary>
/// <param name="Input">Uncached input.</param>
/// <param name="Output">Output (reasoning included unless <paramref name="Reasoning"/> is set).</param>
/// <param name="CachedInput">Input read from the prompt cache; <paramref name="Input"/> when null.</param>
/// <param name="CacheWrite">Input written to the prompt cache; <paramref name="Input"/> when null.</param>
/// <param name="Reasoning">Reasoning output, when priced apart from other output; <paramref name="Output"/> when null.</param>
public sealed record ModelPrice(
    [property: JsonPropertyName("input")] decimal Input,
    [property: JsonPropertyName("output")] decimal Output,
    [property: JsonPropertyName("cached_input")] decimal? CachedInput = null,
    [property: JsonPropertyName("cache_write")] decimal? CacheWrite = null,
    [property: JsonPropertyName("reasoning")] decimal? Reasoning = null)
{
    private const decimal PerToken = 1_000_000m;

    /// <summary>The cost of <paramref name="usage"/> at these prices, in US dollars.</summary>
    public decimal Cost(TokenUsage usage)
    {
        ArgumentNullException.ThrowIfNull(usage);
        var cached = Math.Max(0, usage.CachedInputTokens);
        var written = Math.Max(0, usage.CacheWriteTokens);
        var uncached = Math.Max(0, usage.PromptTokens - cached - written);
        var reasoning = Math.Max(0, Math.Min(usage.ReasoningTokens, usage.CompletionTokens));
        var output = Math.Max(0, usage.CompletionTokens - reasoning);
        var cost = (uncached * Input)
            + (cached * (CachedInput ?? Input))
            + (written * (CacheWrite ?? Input))
            + (output * Output)
            + (reasoning * (Reasoning ?? Output));
        return cost / PerToken;
    }
}
