using System.Text;
using System.Text.Json.Nodes;
using Cairn.Core.Gateway;

namespace Cairn.Server.Tests.Gateway;

/// <summary>
/// Golden costs: each vendor's usage shape (OpenAI's cached and reasoning details, Anthropic's separate cache reads and writes,
/// Gemini's cached content and thoughts), non-streamed and streamed, through both client protocols, priced exactly from
/// prices.json, and the usage the client sees.
/// </summary>
public sealed class GatewayCostTests : IAsyncLifetime
{
    private VendorGateway _vendors = null!;

    public async ValueTask InitializeAsync()
    {
        _vendors = await VendorGateway.StartAsync();
        _vendors.OpenAi.PromptTokens = 1000;
        _vendors.OpenAi.CachedTokens = 400;
        _vendors.OpenAi.ReasoningTokens = 8;
        _vendors.Anthropic.InputTokens = 100;
        _vendors.Anthropic.CacheReadTokens = 2000;
        _vendors.Anthropic.CacheCreationTokens = 500;
        _vendors.Anthropic.OutputTokens = 50;
        _vendors.Gemini.PromptTokens = 1000;
        _vendors.Gemini.CachedTokens = 400;
        _vendors.Gemini.CandidatesTokens = 20;
        _vendors.Gemini.ThoughtsTokens = 194;
    }

    public async ValueTask DisposeAsync() => await _vendors.DisposeAsync();

    public static TheoryData<string, string, bool> Cases()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var endpoint in new[] { "chat", "messages" })
        {
            foreach (var route in new[] { "fast", "claude", "flash" })
            {
                data.Add(endpoint, route, false);
                data.Add(endpoint, route, true);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Cost_PerVendorUsageShape_MatchesPriceTable(string endpoint, string route, bool stream)
    {
        var (expectedUsage, expectedCost) = route switch
        {
            // gpt-4o-mini: 600 uncached × $0.15/M + 400 cached × $0.075/M + (5 + 8 reasoning) × $0.60/M.
            "fast" => (new TokenUsage(1000, 13, CachedInputTokens: 400, ReasoningTokens: 8), 0.0001278m),
            // claude-sonnet-4-5: 100 × $3/M + 2000 cache reads × $0.30/M + 500 cache writes × $3.75/M + 50 × $15/M.
            "claude" => (new TokenUsage(2600, 50, CachedInputTokens: 2000, CacheWriteTokens: 500), 0.003525m),
            // gemini-2.5-flash: 600 uncached × $0.30/M + 400 cached × $0.03/M + (20 + 194 thoughts) × $2.50/M.
            _ => (new TokenUsage(1000, 214, CachedInputTokens: 400, ReasoningTokens: 194), 0.000727m),
        };

        var (requestId, body) = await PostAsync(endpoint, route, stream);

        var record = await _vendors.Gateway.RecordAsync(requestId);
        Assert.Equal(RequestOutcome.Success, record.Outcome);
        Assert.Equal(stream, record.Stream);
        Assert.Equal(expectedUsage, record.Usage);
        Assert.Equal(expectedCost, record.CostUsd);

        var seen = ClientUsage(endpoint, stream, body);
        if (endpoint == "chat")
        {
            Assert.Equal(expectedUsage.PromptTokens, seen["prompt_tokens"]!.GetValue<long>());
            Assert.Equal(expectedUsage.CompletionTokens, seen["completion_tokens"]!.GetValue<long>());
            Assert.Equal(expectedUsage.TotalTokens, seen["total_tokens"]!.GetValue<long>());
            Assert.Equal(expectedUsage.CachedInputTokens, seen["prompt_tokens_details"]!["cached_tokens"]!.GetValue<long>());
            Assert.Equal(expectedUsage.ReasoningTokens, seen["completion_tokens_details"]!["reasoning_tokens"]!.GetValue<long>());
        }
        else
        {
            // Anthropic's accounting: input_tokens is the uncached rest of the prompt.
            var read = seen["cache_read_input_tokens"]!.GetValue<long>();
            var written = seen["cache_creation_input_tokens"]!.GetValue<long>();
            Assert.Equal(expectedUsage.CachedInputTokens, read);
            Assert.Equal(expectedUsage.CacheWriteTokens, written);
            Assert.Equal(expectedUsage.PromptTokens, seen["input_tokens"]!.GetValue<long>() + read + written);
            Assert.Equal(expectedUsage.CompletionTokens, seen["output_tokens"]!.GetValue<long>());
        }
    }

    [Theory]
    [InlineData("chat")]
    [InlineData("messages")]
    public async Task Cost_AnthropicStreamWithOutputOnlyDeltaUsage_KeepsInputFromMessageStart(string endpoint)
    {
        // Older API versions put only output_tokens in message_delta; the input and cache counts come from message_start.
        _vendors.Anthropic.DeltaRepeatsInputUsage = false;

        var (requestId, _) = await PostAsync(endpoint, "claude", stream: true);

        var record = await _vendors.Gateway.RecordAsync(requestId);
        Assert.Equal(new TokenUsage(2600, 50, CachedInputTokens: 2000, CacheWriteTokens: 500), record.Usage);
        Assert.Equal(0.003525m, record.CostUsd);
    }

    private async Task<(string RequestId, string Body)> PostAsync(string endpoint, string route, bool stream)
    {
        var request = endpoint == "chat"
            ? new JsonObject
            {
                ["model"] = route,
                ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Price me." }),
            }
            : new JsonObject
            {
                ["model"] = route,
                ["max_tokens"] = 1024,
                ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Price me." }),
            };
        if (stream)
        {
            request["stream"] = true;
            if (endpoint == "chat")
            {
                request["stream_options"] = new JsonObject { ["include_usage"] = true };
            }
        }

        using var content = new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await _vendors.Gateway.Server.Client.PostAsync(endpoint == "chat" ? "/v1/chat/completions" : "/v1/messages", content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return (response.Headers.GetValues("Cairn-Request-Id").Single(), body);
    }

    /// <summary>The usage object the client got: the response's, or the stream's usage chunk (OpenAI) or <c>message_delta</c> (Anthropic).</summary>
    private static JsonNode ClientUsage(string endpoint, bool stream, string body)
    {
        if (!stream)
        {
            return JsonNode.Parse(body)!["usage"]!;
        }

        JsonNode? usage = null;
        foreach (var line in body.Split('\n'))
        {
            if (!line.StartsWith("data: {", StringComparison.Ordinal))
            {
                continue;
            }

            var data = JsonNode.Parse(line["data: ".Length..])!;
            var isUsageEvent = endpoint == "chat" ? data["usage"] is JsonObject : data["type"]?.GetValue<string>() == "message_delta";
            if (isUsageEvent)
            {
                usage = data["usage"];
            }
        }

        return usage ?? throw new InvalidOperationException("The stream carried no usage: " + body);
    }
}
