using System.Text.Json;
using Cairn.Core.Gateway;

namespace Cairn.Core.Tests.Gateway;

public sealed class PriceTableTests
{
    [Theory]
    [InlineData("gpt-4o-mini", "gpt-4o-mini")]
    [InlineData("GPT-4o-mini", "gpt-4o-mini")]
    [InlineData("openai/gpt-4o", "gpt-4o")]
    [InlineData("gpt-4o-2024-08-06", "gpt-4o")]
    [InlineData("claude-sonnet-4-5-20250929", "claude-sonnet-4-5")]
    [InlineData("anthropic/claude-3-5-haiku-20241022", "claude-3-5-haiku")]
    [InlineData("gemini-2.5-flash-001", "gemini-2.5-flash")]
    public void Find_KnownModelUnderOtherSpellings_ReturnsItsPrice(string model, string expected) =>
        Assert.Same(PriceTable.Default.Find(expected), PriceTable.Default.Find(model));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("my-local-llama")]
    [InlineData("nobody/")]
    public void Find_UnknownModel_ReturnsNull(string? model) => Assert.Null(PriceTable.Default.Find(model));

    [Fact]
    public void Default_HasSourceAndDate() =>
        Assert.True(PriceTable.Default.Source.Length > 10 && PriceTable.Default.Date.Length == 10);

    [Fact]
    public void With_OverridesAndAdds()
    {
        var table = PriceTable.Default.With(new Dictionary<string, ModelPrice> { ["gpt-4o"] = new(1, 2), ["llama3.2"] = new(0, 0) });
        Assert.Equal(1, table.Find("gpt-4o")!.Input);
        Assert.Equal(0, table.Find("llama3.2")!.Output);
        Assert.Equal(2.50m, PriceTable.Default.Find("gpt-4o")!.Input);
    }

    [Fact]
    public void Cost_CachedCacheWriteAndReasoning_EachAtItsOwnPrice()
    {
        var price = new ModelPrice(Input: 3, Output: 15, CachedInput: 0.3m, CacheWrite: 3.75m, Reasoning: 20);
        // 100 uncached + 2000 cached + 500 written = 2600 prompt; 50 output of which 10 reasoning.
        var usage = new TokenUsage(2600, 50, CachedInputTokens: 2000, CacheWriteTokens: 500, ReasoningTokens: 10);
        var expected = ((100 * 3m) + (2000 * 0.3m) + (500 * 3.75m) + (40 * 15m) + (10 * 20m)) / 1_000_000m;
        Assert.Equal(expected, price.Cost(usage));
    }

    [Fact]
    public void Cost_MissingCachePrices_FallBackToInputAndOutput()
    {
        var price = new ModelPrice(Input: 1, Output: 2);
        Assert.Equal((1000 * 1m + 100 * 2m) / 1_000_000m, price.Cost(new TokenUsage(1000, 100, CachedInputTokens: 400, ReasoningTokens: 50)));
    }

    [Fact]
    public void UsageReader_VendorShapes_NormaliseToOneAccounting()
    {
        using var openAi = JsonDocument.Parse("""{"prompt_tokens":34,"completion_tokens":863,"total_tokens":897,"prompt_tokens_details":{"cached_tokens":10},"completion_tokens_details":{"reasoning_tokens":128}}""");
        Assert.Equal(new TokenUsage(34, 863, 10, 0, 128), UsageReader.FromOpenAi(openAi.RootElement));

        using var anthropic = JsonDocument.Parse("""{"input_tokens":100,"cache_read_input_tokens":2000,"cache_creation_input_tokens":500,"output_tokens":50}""");
        Assert.Equal(new TokenUsage(2600, 50, 2000, 500, 0), UsageReader.FromAnthropic(anthropic.RootElement));

        using var gemini = JsonDocument.Parse("""{"promptTokenCount":27,"candidatesTokenCount":6,"thoughtsTokenCount":194,"totalTokenCount":227,"cachedContentTokenCount":20}""");
        Assert.Equal(new TokenUsage(27, 200, 20, 0, 194), UsageReader.FromGemini(gemini.RootElement));

        using var empty = JsonDocument.Parse("{}");
        Assert.Null(UsageReader.FromOpenAi(empty.RootElement));
        Assert.Null(UsageReader.FromAnthropic(empty.RootElement));
        Assert.Null(UsageReader.FromGemini(empty.RootElement));
    }
}
