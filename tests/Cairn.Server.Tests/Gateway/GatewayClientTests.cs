using System.ClientModel;
using System.Text.Json.Nodes;
using Cairn.Core.Gateway;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;
using ChatFinishReason = OpenAI.Chat.ChatFinishReason;
using OpenAI.Embeddings;
using OpenAI.Models;

namespace Cairn.Server.Tests.Gateway;

/// <summary>The gateway driven by the official OpenAI .NET SDK and Microsoft.Extensions.AI, in front of a fake OpenAI upstream.</summary>
public sealed class GatewayClientTests : IAsyncLifetime
{
    private GatewayHarness _gateway = null!;

    public async ValueTask InitializeAsync() => _gateway = await GatewayHarness.StartAsync();

    public async ValueTask DisposeAsync() => await _gateway.DisposeAsync();

    private OpenAIClientOptions Options => new() { Endpoint = _gateway.V1, NetworkTimeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task ChatCompletion_ThroughRoute_AnswersAndLogsTokensAndCost()
    {
        _gateway.Upstream.PromptTokens = 1000;
        _gateway.Upstream.CachedTokens = 400;
        var client = new ChatClient("fast", new ApiKeyCredential("sk-any"), Options);

        var result = await client.CompleteChatAsync([new UserChatMessage("Say hello.")]);

        Assert.Equal("Hello from the fake upstream.", result.Value.Content[0].Text);
        Assert.Equal(1000, result.Value.Usage.InputTokenCount);
        Assert.Equal(400, result.Value.Usage.InputTokenDetails.CachedTokenCount);
        Assert.True(result.GetRawResponse().Headers.TryGetValue("Cairn-Request-Id", out var requestId));

        // The route's deployment model went upstream, with the provider's key (not the client's).
        var sent = _gateway.Upstream.Requests.Last();
        Assert.Equal("gpt-4o-mini", sent["model"]!.GetValue<string>());
        Assert.Equal("Bearer sk-upstream-secret", _gateway.Upstream.Authorizations.Last());

        var record = await _gateway.RecordAsync(requestId!);
        Assert.Equal(RequestOutcome.Success, record.Outcome);
        Assert.Equal("fast", record.RequestedModel);
        Assert.Equal("gpt-4o-mini", record.ServedModel);
        Assert.Equal("fake", record.Provider);
        Assert.Equal("fast", record.Route);
        Assert.Equal(200, record.Status);
        Assert.Equal(1000, record.Usage!.PromptTokens);
        Assert.Equal(400, record.Usage.CachedInputTokens);
        Assert.Equal(5, record.Usage.CompletionTokens);
        // gpt-4o-mini: 600 uncached × $0.15/M + 400 cached × $0.075/M + 5 output × $0.60/M.
        Assert.Equal(0.000123m, record.CostUsd);
        Assert.Single(record.Attempts);
        Assert.Contains("Say hello.", record.RequestBody, StringComparison.Ordinal);
        Assert.Contains("Hello from the fake upstream.", record.ResponseBody, StringComparison.Ordinal);
        Assert.True(record.LatencyMs > 0);
    }

    [Fact]
    public async Task StreamingChat_WithSdk_StreamsTextAndUsage_RecordsTimeToFirstToken()
    {
        _gateway.Upstream.PromptTokens = 20;
        _gateway.Upstream.ReasoningTokens = 8;
        var client = new ChatClient("fake/gpt-4o", new ApiKeyCredential("sk-any"), Options);

        var text = new System.Text.StringBuilder();
        ChatTokenUsage? usage = null;
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Stream please.")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage ??= update.Usage;
        }

        Assert.Equal("Hello from the fake upstream.", text.ToString());
        Assert.NotNull(usage);
        Assert.Equal(20, usage.InputTokenCount);
        Assert.Equal(8, usage.OutputTokenDetails.ReasoningTokenCount);

        var record = await LatestAsync();
        Assert.True(record.Stream);
        Assert.Equal("fake/gpt-4o", record.RequestedModel);
        Assert.Equal("gpt-4o", record.ServedModel);
        Assert.Null(record.Route);
        Assert.NotNull(record.TimeToFirstTokenMs);
        Assert.True(record.TimeToFirstTokenMs <= record.LatencyMs);
        Assert.Equal(13, record.Usage!.CompletionTokens);
        Assert.Equal(8, record.Usage.ReasoningTokens);
        // gpt-4o: 20 × $2.50/M + 13 × $10/M (reasoning is output).
        Assert.Equal(0.00018m, record.CostUsd);
        Assert.Contains("data: [DONE]", record.ResponseBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StreamWithoutIncludeUsage_ClientGetsNoUsageChunk_LogStillHasTokens()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"fast","stream":true,"messages":[{"role":"user","content":"hi"}]}""", System.Text.Encoding.UTF8, "application/json"),
        };
        using var response = await _gateway.Server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/event-stream; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.DoesNotContain("\"choices\":[]", body, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
        // Cairn asked the upstream for usage on the client's behalf.
        Assert.True(_gateway.Upstream.Requests.Last()["stream_options"]!["include_usage"]!.GetValue<bool>());

        var record = await _gateway.RecordAsync(response.Headers.GetValues("Cairn-Request-Id").Single());
        Assert.Equal(12, record.Usage!.PromptTokens);
        Assert.False(record.Usage.Estimated);
    }

    [Fact]
    public async Task ToolCalls_PlainAndStreamed_ReachTheSdk()
    {
        var client = new ChatClient("fast", new ApiKeyCredential("sk-any"), Options);
        var tool = ChatTool.CreateFunctionTool(
            "get_weather_for_city",
            "gets the current weather for a given city",
            BinaryData.FromString("""{"type":"object","properties":{"city_name":{"type":"string"}},"required":["city_name"]}"""));
        var options = new ChatCompletionOptions { Tools = { tool } };

        var result = await client.CompleteChatAsync([new UserChatMessage("Weather in Santiago?")], options);
        Assert.Equal(ChatFinishReason.ToolCalls, result.Value.FinishReason);
        Assert.Equal("get_weather_for_city", result.Value.ToolCalls[0].FunctionName);
        Assert.Equal("Santiago", JsonNode.Parse(result.Value.ToolCalls[0].FunctionArguments.ToString())!["city_name"]!.GetValue<string>());
        Assert.NotNull(_gateway.Upstream.Requests.Last()["tools"]);

        var arguments = new System.Text.StringBuilder();
        string? name = null;
        ChatFinishReason? finish = null;
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Weather in Paris?")], options))
        {
            foreach (var call in update.ToolCallUpdates)
            {
                name ??= call.FunctionName;
                arguments.Append(call.FunctionArgumentsUpdate?.ToString());
            }

            finish ??= update.FinishReason;
        }

        Assert.Equal("get_weather_for_city", name);
        Assert.Equal("""{"city_name":"Paris"}""", arguments.ToString());
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
    }

    [Fact]
    public async Task Embeddings_Base64AndFloat_PassThrough()
    {
        var client = new EmbeddingClient("fake/text-embedding-3-small", new ApiKeyCredential("sk-any"), Options);
        var embedding = await client.GenerateEmbeddingAsync("hello");
        Assert.Equal([0.1f, -0.2f, 0.3f], embedding.Value.ToFloats().ToArray());
        Assert.Equal("base64", _gateway.Upstream.Requests.Last()["encoding_format"]!.GetValue<string>());

        var record = await LatestAsync();
        Assert.Equal("embeddings", record.Endpoint);
        Assert.Equal(4, record.Usage!.PromptTokens);
        // text-embedding-3-small: 4 × $0.02/M.
        Assert.Equal(0.00000008m, record.CostUsd);

        using var raw = await _gateway.Server.Client.PostAsync("/v1/embeddings", new StringContent("""{"model":"fake/text-embedding-3-small","input":["a","b"],"encoding_format":"float"}""", System.Text.Encoding.UTF8, "application/json"));
        var body = JsonNode.Parse(await raw.Content.ReadAsStringAsync())!;
        Assert.Equal(2, body["data"]!.AsArray().Count);
        Assert.Equal(-0.2, body["data"]![1]!["embedding"]![1]!.GetValue<double>(), 5);
    }

    [Fact]
    public async Task Models_ListsRoutesAndProviderModels()
    {
        var client = new OpenAIModelClient(new ApiKeyCredential("sk-any"), Options);
        var models = await client.GetModelsAsync();
        var ids = models.Value.Select(m => m.Id).ToList();
        Assert.Contains("fast", ids);
        Assert.Contains("fake/gpt-4o-mini", ids);
        Assert.Contains("fake/gpt-4o", ids);
    }

    [Fact]
    public async Task MicrosoftExtensionsAi_ChatClient_GetsResponsesAndUsage()
    {
        IChatClient chat = new ChatClient("fast", new ApiKeyCredential("sk-any"), Options).AsIChatClient();

        var response = await chat.GetResponseAsync("Say hello.");
        Assert.Equal("Hello from the fake upstream.", response.Text);
        Assert.Equal(12, response.Usage!.InputTokenCount);

        var streamed = new System.Text.StringBuilder();
        UsageDetails? usage = null;
        await foreach (var update in chat.GetStreamingResponseAsync("Stream please."))
        {
            streamed.Append(update.Text);
            usage ??= update.Contents.OfType<UsageContent>().FirstOrDefault()?.Details;
        }

        Assert.Equal("Hello from the fake upstream.", streamed.ToString());
        Assert.Equal(12, usage!.InputTokenCount);
    }

    [Fact]
    public async Task Attribution_CairnAndHeliconeHeaders_AreRecorded()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"fast","messages":[{"role":"user","content":"hi"}]}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Cairn-User-Id", "user-42");
        request.Headers.Add("Helicone-Session-Id", "session-7");
        request.Headers.Add("Helicone-Session-Path", "/plan/search");
        request.Headers.Add("Cairn-Property-Environment", "staging");
        request.Headers.Add("Helicone-Property-App", "checkout");
        request.Headers.Add("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        using var response = await _gateway.Server.Client.SendAsync(request);
        response.EnsureSuccessStatusCode();

        var record = await _gateway.RecordAsync(response.Headers.GetValues("Cairn-Request-Id").Single());
        Assert.Equal("user-42", record.UserId);
        Assert.Equal("session-7", record.SessionId);
        Assert.Equal("/plan/search", record.SessionPath);
        Assert.Equal("staging", record.Properties["Environment"]);
        Assert.Equal("checkout", record.Properties["App"]);
        Assert.Equal("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", record.TraceParent);

        var byProperty = await _gateway.Server.Services.GetRequiredService<IRequestLogStore>().SearchAsync(
            new RequestLogQuery { Property = new("App", "checkout") }, CancellationToken.None);
        Assert.Equal(record.Id, Assert.Single(byProperty.Items).Id);
    }

    private async Task<RequestLogRecord> LatestAsync() => (await _gateway.RecordsAsync(1))[0];
}
