using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json.Nodes;
using Cairn.Core.Gateway;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using ChatFinishReason = OpenAI.Chat.ChatFinishReason;
using ChatMessage = OpenAI.Chat.ChatMessage;

namespace Cairn.Server.Tests.Gateway;

/// <summary>
/// The official OpenAI .NET SDK and Microsoft.Extensions.AI on Cairn's <c>/v1/chat/completions</c>, served by Anthropic and
/// Gemini fakes that speak the vendors' own wire formats: what the SDK sees, what the vendor received, and what the request
/// log recorded (tokens, exact cost from prices.json, served model, provider, attempts).
/// </summary>
public sealed class GatewayVendorTests : IAsyncLifetime
{
    private static readonly ChatTool s_weather = ChatTool.CreateFunctionTool(
        "get_weather_for_city",
        "gets the current weather for a given city",
        BinaryData.FromString("""{"type":"object","properties":{"city_name":{"type":"string"}},"required":["city_name"]}"""));

    private VendorGateway _vendors = null!;

    public async ValueTask InitializeAsync() => _vendors = await VendorGateway.StartAsync();

    public async ValueTask DisposeAsync() => await _vendors.DisposeAsync();

    private FakeAnthropicUpstream Anthropic => _vendors.Anthropic;

    private FakeGeminiUpstream Gemini => _vendors.Gemini;

    private GatewayHarness Gateway => _vendors.Gateway;

    private ChatClient Client(string model) => new(model, new ApiKeyCredential("sk-any"), new OpenAIClientOptions
    {
        Endpoint = Gateway.V1,
        NetworkTimeout = TimeSpan.FromSeconds(30),
        // The SDK's own retries would hide the gateway's.
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
    });

    // ---- Anthropic ----

    [Fact]
    public async Task CompleteChat_ToAnthropic_AnswersTextMapsSystemAndLogsUsageAndCost()
    {
        var result = await Client("claude").CompleteChatAsync(
            [new SystemChatMessage("You are terse."), new UserChatMessage("Say hello.")],
            new ChatCompletionOptions { MaxOutputTokenCount = 200, Temperature = 0.5f });

        Assert.Equal("Hello from Claude.", Assert.Single(result.Value.Content).Text);
        Assert.Equal(ChatFinishReason.Stop, result.Value.FinishReason);
        Assert.Equal(ChatMessageRole.Assistant, result.Value.Role);
        Assert.Equal("claude-sonnet-4-5-20250929", result.Value.Model);
        Assert.StartsWith("chatcmpl-", result.Value.Id, StringComparison.Ordinal);
        Assert.Equal(25, result.Value.Usage.InputTokenCount);
        Assert.Equal(9, result.Value.Usage.OutputTokenCount);
        Assert.Equal(34, result.Value.Usage.TotalTokenCount);

        var sent = Assert.Single(Anthropic.Requests);
        Assert.Equal("claude-sonnet-4-5", sent["model"]!.GetValue<string>());
        Assert.Equal("You are terse.", sent["system"]!.GetValue<string>());
        Assert.Equal(200, sent["max_tokens"]!.GetValue<int>());
        Assert.Equal(0.5, sent["temperature"]!.GetValue<double>(), 5);
        var message = Assert.Single(sent["messages"]!.AsArray())!;
        Assert.Equal("user", message["role"]!.GetValue<string>());
        Assert.Equal("Say hello.", message["content"]!.GetValue<string>());
        Assert.Null(sent["stream"]);
        var headers = Assert.Single(Anthropic.Headers);
        Assert.Equal(FakeAnthropicUpstream.ApiKey, headers.ApiKey);
        Assert.Equal("2023-06-01", headers.Version);
        Assert.Null(headers.Authorization);

        var record = await Gateway.RecordAsync(RequestId(result));
        Assert.Equal(RequestOutcome.Success, record.Outcome);
        Assert.Equal(200, record.Status);
        Assert.Equal("chat.completions", record.Endpoint);
        Assert.Equal("claude", record.RequestedModel);
        Assert.Equal("claude", record.Route);
        Assert.Equal("anthropic", record.Provider);
        Assert.Equal("claude-sonnet-4-5-20250929", record.ServedModel);
        Assert.Equal(new TokenUsage(25, 9), record.Usage);
        // claude-sonnet-4-5: 25 × $3/M + 9 × $15/M.
        Assert.Equal(0.00021m, record.CostUsd);
        var attempt = Assert.Single(record.Attempts);
        Assert.Equal(("anthropic", "claude-sonnet-4-5", 200), (attempt.Provider, attempt.Model, attempt.Status));
        Assert.Contains("Hello from Claude.", record.ResponseBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CompleteChatStreaming_ToAnthropic_StreamsTextAndUsage()
    {
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        string? model = null;
        await foreach (var update in Client("claude").CompleteChatStreamingAsync([new UserChatMessage("Stream please.")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage ??= update.Usage;
            finish ??= update.FinishReason;
            model ??= update.Model;
        }

        Assert.Equal("Hello from Claude.", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.NotNull(usage);
        Assert.Equal(25, usage.InputTokenCount);
        Assert.Equal(9, usage.OutputTokenCount);
        Assert.True(Anthropic.Requests.Single()["stream"]!.GetValue<bool>());

        var record = (await Gateway.RecordsAsync(1))[0];
        Assert.Equal(RequestOutcome.Success, record.Outcome);
        Assert.True(record.Stream);
        Assert.Equal("anthropic", record.Provider);
        Assert.Equal("claude-sonnet-4-5-20250929", record.ServedModel);
        Assert.NotNull(record.TimeToFirstTokenMs);
        Assert.Equal(new TokenUsage(25, 9), record.Usage);
        Assert.Equal(0.00021m, record.CostUsd);
        Assert.EndsWith("data: [DONE]\n\n", record.ResponseBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ToolCalls_ToAnthropic_PlainStreamedAndAnswered()
    {
        var client = Client("claude");
        var options = new ChatCompletionOptions { Tools = { s_weather }, ToolChoice = ChatToolChoice.CreateRequiredChoice() };
        List<ChatMessage> conversation = [new UserChatMessage("Weather in Paris?")];

        var result = await client.CompleteChatAsync(conversation, options);
        Assert.Equal(ChatFinishReason.ToolCalls, result.Value.FinishReason);
        Assert.Equal("Hello from Claude.", result.Value.Content[0].Text);
        var call = Assert.Single(result.Value.ToolCalls);
        Assert.StartsWith("toolu_", call.Id, StringComparison.Ordinal);
        Assert.Equal("get_weather_for_city", call.FunctionName);
        Assert.Equal("""{"city_name":"Paris"}""", call.FunctionArguments.ToString());
        var sent = Anthropic.Requests.Last();
        var tool = Assert.Single(sent["tools"]!.AsArray())!;
        Assert.Equal("get_weather_for_city", tool["name"]!.GetValue<string>());
        Assert.Equal("object", tool["input_schema"]!["type"]!.GetValue<string>());
        Assert.Equal("any", sent["tool_choice"]!["type"]!.GetValue<string>());

        var arguments = new StringBuilder();
        string? name = null, id = null;
        ChatFinishReason? finish = null;
        await foreach (var update in client.CompleteChatStreamingAsync(conversation, options))
        {
            foreach (var fragment in update.ToolCallUpdates)
            {
                Assert.Equal(0, fragment.Index);
                name ??= fragment.FunctionName;
                id ??= fragment.ToolCallId;
                arguments.Append(fragment.FunctionArgumentsUpdate?.ToString());
            }

            finish ??= update.FinishReason;
        }

        Assert.Equal("get_weather_for_city", name);
        Assert.StartsWith("toolu_", id, StringComparison.Ordinal);
        Assert.Equal("""{"city_name":"Paris"}""", arguments.ToString());
        Assert.Equal(ChatFinishReason.ToolCalls, finish);

        conversation.Add(new AssistantChatMessage(result.Value));
        conversation.Add(new ToolChatMessage(call.Id, "18°C and sunny"));
        var answer = await client.CompleteChatAsync(conversation, new ChatCompletionOptions { Tools = { s_weather } });
        Assert.Equal(ChatFinishReason.Stop, answer.Value.FinishReason);
        Assert.Equal("Hello from Claude.", answer.Value.Content[0].Text);

        var messages = Anthropic.Requests.Last()["messages"]!.AsArray();
        Assert.Equal(["user", "assistant", "user"], messages.Select(m => m!["role"]!.GetValue<string>()));
        var toolUse = messages[1]!["content"]!.AsArray().Single(b => b!["type"]!.GetValue<string>() == "tool_use")!;
        Assert.Equal(call.Id, toolUse["id"]!.GetValue<string>());
        Assert.Equal("Paris", toolUse["input"]!["city_name"]!.GetValue<string>());
        var toolResult = Assert.Single(messages[2]!["content"]!.AsArray())!;
        Assert.Equal("tool_result", toolResult["type"]!.GetValue<string>());
        Assert.Equal(call.Id, toolResult["tool_use_id"]!.GetValue<string>());
        Assert.Equal("18°C and sunny", toolResult["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task PromptCache_ToAnthropic_PromptIncludesCacheOnce_EachPartPriced()
    {
        Anthropic.InputTokens = 100;
        Anthropic.CacheReadTokens = 2000;
        Anthropic.CacheCreationTokens = 500;
        Anthropic.OutputTokens = 50;
        var client = Client("claude");

        var result = await client.CompleteChatAsync([new UserChatMessage("Long cached prompt.")]);
        Assert.Equal(2600, result.Value.Usage.InputTokenCount);
        Assert.Equal(2000, result.Value.Usage.InputTokenDetails.CachedTokenCount);
        Assert.Equal(50, result.Value.Usage.OutputTokenCount);
        Assert.Equal(2650, result.Value.Usage.TotalTokenCount);

        ChatTokenUsage? streamed = null;
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Long cached prompt.")]))
        {
            streamed ??= update.Usage;
        }

        Assert.NotNull(streamed);
        Assert.Equal(2600, streamed.InputTokenCount);
        Assert.Equal(2000, streamed.InputTokenDetails.CachedTokenCount);
        Assert.Equal(50, streamed.OutputTokenCount);

        var records = await Gateway.RecordsAsync(2);
        Assert.All(records, record =>
        {
            Assert.Equal(new TokenUsage(2600, 50, CachedInputTokens: 2000, CacheWriteTokens: 500), record.Usage);
            // 100 uncached × $3/M + 2000 cache reads × $0.30/M + 500 cache writes × $3.75/M + 50 output × $15/M.
            Assert.Equal(0.003525m, record.CostUsd);
        });
    }

    [Fact]
    public async Task Overloaded529_ToAnthropic_RetriedThenSucceeds()
    {
        Anthropic.Enqueue(VendorFault.Overloaded);

        var result = await Client("claude").CompleteChatAsync([new UserChatMessage("hi")]);

        Assert.Equal("Hello from Claude.", result.Value.Content[0].Text);
        Assert.Equal(2, Anthropic.Requests.Count);
        var record = await Gateway.RecordAsync(RequestId(result));
        Assert.Equal(RequestOutcome.Success, record.Outcome);
        Assert.Equal([529, 200], record.Attempts.Select(a => a.Status));
        Assert.All(record.Attempts, a => Assert.Equal("anthropic", a.Provider));
        Assert.Equal(0.00021m, record.CostUsd);
    }

    [Fact]
    public async Task RateLimited_ToAnthropic_RetriesExhausted_Returns429WithRetryAfter()
    {
        Anthropic.Enqueue(VendorFault.RateLimited, VendorFault.RateLimited, VendorFault.RateLimited);

        var e = await Assert.ThrowsAsync<ClientResultException>(() => Client("claude").CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(429, e.Status);
        var response = e.GetRawResponse()!;
        Assert.True(response.Headers.TryGetValue("Retry-After", out _));
        var error = JsonNode.Parse(response.Content.ToString())!["error"]!;
        Assert.Equal("rate_limit_error", error["type"]!.GetValue<string>());
        Assert.Equal("rate_limit_exceeded", error["code"]!.GetValue<string>());
        Assert.Contains("rate limit", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        var record = await Gateway.RecordAsync(RequestId(response));
        Assert.Equal(RequestOutcome.Error, record.Outcome);
        Assert.Equal(429, record.Status);
        Assert.Equal([429, 429, 429], record.Attempts.Select(a => a.Status));
        Assert.Null(record.CostUsd);
    }

    [Fact]
    public async Task BadRequestFromAnthropic_ReachesSdkAsOpenAiError_NotRetried()
    {
        Anthropic.Enqueue(VendorFault.BadRequest);

        var e = await Assert.ThrowsAsync<ClientResultException>(() => Client("claude").CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(400, e.Status);
        Assert.Contains("temperature: range: 0..1", e.Message, StringComparison.Ordinal);
        var error = JsonNode.Parse(e.GetRawResponse()!.Content.ToString())!["error"]!;
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
        Assert.Equal("temperature: range: 0..1", error["message"]!.GetValue<string>());
        Assert.Single(Anthropic.Requests);
        var record = await Gateway.RecordAsync(RequestId(e.GetRawResponse()!));
        Assert.Equal(RequestOutcome.Error, record.Outcome);
        Assert.Equal(400, record.Status);
        Assert.Equal(400, Assert.Single(record.Attempts).Status);
    }

    [Fact]
    public async Task ErrorEventMidStream_ToAnthropic_EndsStreamWithOpenAiError_RecordedAsError()
    {
        Anthropic.Enqueue(VendorFault.StreamError);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"claude","stream":true,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };

        using var response = await Gateway.Server.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Contains("\"content\":\"Hello\"", body, StringComparison.Ordinal);
        Assert.Contains("""data: {"error":{"message":"Overloaded","type":"server_error","param":null,"code":"overloaded"}}""", body, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
        var record = await Gateway.RecordAsync(response.Headers.GetValues("Cairn-Request-Id").Single());
        Assert.Equal(RequestOutcome.Error, record.Outcome);
        Assert.Contains("Overloaded", record.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Overloaded529_ToAnthropicStream_RetriedBeforeTheFirstByte()
    {
        Anthropic.Enqueue(VendorFault.Overloaded, VendorFault.Overloaded);

        var text = new StringBuilder();
        await foreach (var update in Client("claude").CompleteChatStreamingAsync([new UserChatMessage("hi")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
        }

        Assert.Equal("Hello from Claude.", text.ToString());
        var record = (await Gateway.RecordsAsync(1))[0];
        Assert.Equal(RequestOutcome.Success, record.Outcome);
        Assert.Equal([529, 529, 200], record.Attempts.Select(a => a.Status));
        Assert.Equal(0.00021m, record.CostUsd);
    }

    [Fact]
    public async Task MicrosoftExtensionsAi_ToAnthropic_GetsTextAndUsage()
    {
        Anthropic.InputTokens = 100;
        Anthropic.CacheReadTokens = 2000;
        Anthropic.CacheCreationTokens = 500;
        Anthropic.OutputTokens = 50;
        IChatClient chat = Client("claude").AsIChatClient();

        var response = await chat.GetResponseAsync(
            [new Microsoft.Extensions.AI.ChatMessage(ChatRole.System, "You are terse."), new Microsoft.Extensions.AI.ChatMessage(ChatRole.User, "Say hello.")],
            new ChatOptions { MaxOutputTokens = 300 });

        Assert.Equal("Hello from Claude.", response.Text);
        Assert.Equal(Microsoft.Extensions.AI.ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal("claude-sonnet-4-5-20250929", response.ModelId);
        Assert.Equal(2600, response.Usage!.InputTokenCount);
        Assert.Equal(2000, response.Usage.CachedInputTokenCount);
        Assert.Equal(50, response.Usage.OutputTokenCount);
        Assert.Equal(2650, response.Usage.TotalTokenCount);
        Assert.Equal("You are terse.", Anthropic.Requests.Last()["system"]!.GetValue<string>());
        Assert.Equal(300, Anthropic.Requests.Last()["max_tokens"]!.GetValue<int>());

        var streamed = new StringBuilder();
        UsageDetails? usage = null;
        await foreach (var update in chat.GetStreamingResponseAsync("Stream please."))
        {
            streamed.Append(update.Text);
            usage ??= update.Contents.OfType<UsageContent>().FirstOrDefault()?.Details;
        }

        Assert.Equal("Hello from Claude.", streamed.ToString());
        Assert.Equal(2600, usage!.InputTokenCount);
        Assert.Equal(50, usage.OutputTokenCount);

        var records = await Gateway.RecordsAsync(2);
        Assert.All(records, r => Assert.Equal(0.003525m, r.CostUsd));
    }

    // ---- Gemini ----

    [Fact]
    public async Task CompleteChat_ToGemini_AnswersTextAndLogsUsageAndCost()
    {
        var result = await Client("flash").CompleteChatAsync(
            [new SystemChatMessage("You are terse."), new UserChatMessage("Say hello.")],
            new ChatCompletionOptions { MaxOutputTokenCount = 200 });

        Assert.Equal("Hello from Gemini.", Assert.Single(result.Value.Content).Text);
        Assert.Equal(ChatFinishReason.Stop, result.Value.FinishReason);
        Assert.Equal("gemini-2.5-flash", result.Value.Model);
        Assert.Equal(30, result.Value.Usage.InputTokenCount);
        Assert.Equal(6, result.Value.Usage.OutputTokenCount);

        var headers = Assert.Single(Gemini.Headers);
        Assert.Equal("/v1beta/models/gemini-2.5-flash:generateContent", headers.Path);
        Assert.Equal(FakeGeminiUpstream.ApiKey, headers.ApiKey);
        var sent = Gemini.Requests.Single();
        Assert.Equal("You are terse.", sent["systemInstruction"]!["parts"]![0]!["text"]!.GetValue<string>());
        var content = Assert.Single(sent["contents"]!.AsArray())!;
        Assert.Equal("user", content["role"]!.GetValue<string>());
        Assert.Equal("Say hello.", content["parts"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(200, sent["generationConfig"]!["maxOutputTokens"]!.GetValue<int>());

        var record = await Gateway.RecordAsync(RequestId(result));
        Assert.Equal(RequestOutcome.Success, record.Outcome);
        Assert.Equal("gemini", record.Provider);
        Assert.Equal("flash", record.Route);
        Assert.Equal("gemini-2.5-flash", record.ServedModel);
        Assert.Equal(new TokenUsage(30, 6), record.Usage);
        // gemini-2.5-flash: 30 × $0.30/M + 6 × $2.50/M.
        Assert.Equal(0.000024m, record.CostUsd);
        var attempt = Assert.Single(record.Attempts);
        Assert.Equal(("gemini", "gemini-2.5-flash", 200), (attempt.Provider, attempt.Model, attempt.Status));
    }

    [Fact]
    public async Task CompleteChatStreaming_ToGemini_StreamsTextAndLastCumulativeUsage()
    {
        Gemini.AnswerText = "It is eighteen degrees in Paris.";
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        await foreach (var update in Client("flash").CompleteChatStreamingAsync([new UserChatMessage("Stream please.")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }

        Assert.Equal("It is eighteen degrees in Paris.", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.Equal(30, usage!.InputTokenCount);
        Assert.Equal(6, usage.OutputTokenCount);
        Assert.Equal("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", Gemini.Headers.Single().Path);

        var record = (await Gateway.RecordsAsync(1))[0];
        Assert.Equal(RequestOutcome.Success, record.Outcome);
        Assert.True(record.Stream);
        Assert.Equal("gemini-2.5-flash", record.ServedModel);
        Assert.Equal(new TokenUsage(30, 6), record.Usage);
        Assert.Equal(0.000024m, record.CostUsd);
        Assert.EndsWith("data: [DONE]\n\n", record.ResponseBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ToolCalls_ToGemini_PlainStreamedAndAnswered_ThoughtSignatureRoundTrips()
    {
        Gemini.ThoughtSignature = "CiwBjz1rX+Pq/4Yx0Q==";
        var client = Client("flash");
        var options = new ChatCompletionOptions { Tools = { s_weather } };
        List<ChatMessage> conversation = [new UserChatMessage("Weather in Paris?")];

        var result = await client.CompleteChatAsync(conversation, options);
        Assert.Equal(ChatFinishReason.ToolCalls, result.Value.FinishReason);
        var call = Assert.Single(result.Value.ToolCalls);
        Assert.Equal("get_weather_for_city", call.FunctionName);
        Assert.Equal("""{"city_name":"Paris"}""", call.FunctionArguments.ToString());
        Assert.StartsWith("call_", call.Id, StringComparison.Ordinal);
        var declaration = Gemini.Requests.Last()["tools"]![0]!["functionDeclarations"]![0]!;
        Assert.Equal("get_weather_for_city", declaration["name"]!.GetValue<string>());

        var arguments = new StringBuilder();
        string? name = null;
        ChatFinishReason? finish = null;
        await foreach (var update in client.CompleteChatStreamingAsync(conversation, options))
        {
            foreach (var fragment in update.ToolCallUpdates)
            {
                name ??= fragment.FunctionName;
                arguments.Append(fragment.FunctionArgumentsUpdate?.ToString());
            }

            finish ??= update.FinishReason;
        }

        Assert.Equal("get_weather_for_city", name);
        Assert.Equal("""{"city_name":"Paris"}""", arguments.ToString());
        Assert.Equal(ChatFinishReason.ToolCalls, finish);

        conversation.Add(new AssistantChatMessage(result.Value));
        conversation.Add(new ToolChatMessage(call.Id, "18°C and sunny"));
        var answer = await client.CompleteChatAsync(conversation, options);
        Assert.Equal("Hello from Gemini.", answer.Value.Content[0].Text);

        var contents = Gemini.Requests.Last()["contents"]!.AsArray();
        Assert.Equal(["user", "model", "user"], contents.Select(c => c!["role"]!.GetValue<string>()));
        var callPart = contents[1]!["parts"]!.AsArray().Single(p => p!["functionCall"] is not null)!;
        Assert.Equal("get_weather_for_city", callPart["functionCall"]!["name"]!.GetValue<string>());
        Assert.Equal("Paris", callPart["functionCall"]!["args"]!["city_name"]!.GetValue<string>());
        Assert.Equal("CiwBjz1rX+Pq/4Yx0Q==", callPart["thoughtSignature"]!.GetValue<string>());
        var response = contents[2]!["parts"]![0]!["functionResponse"]!;
        Assert.Equal("get_weather_for_city", response["name"]!.GetValue<string>());
        Assert.Equal("18°C and sunny", response["response"]!["output"]!.GetValue<string>());
    }

    [Fact]
    public async Task ThinkingAndCachedContent_ToGemini_ReasoningBilledAsOutput_CachedAtCachedPrice()
    {
        Gemini.PromptTokens = 1000;
        Gemini.CachedTokens = 400;
        Gemini.CandidatesTokens = 20;
        Gemini.ThoughtsTokens = 194;
        var client = Client("flash");

        var result = await client.CompleteChatAsync([new UserChatMessage("Think about it.")]);
        var usage = result.Value.Usage;
        Assert.Equal(1000, usage.InputTokenCount);
        Assert.Equal(400, usage.InputTokenDetails.CachedTokenCount);
        Assert.Equal(214, usage.OutputTokenCount);
        Assert.Equal(194, usage.OutputTokenDetails.ReasoningTokenCount);
        Assert.Equal(1214, usage.TotalTokenCount);

        ChatTokenUsage? streamed = null;
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Think about it.")]))
        {
            streamed ??= update.Usage;
        }

        Assert.Equal(214, streamed!.OutputTokenCount);
        Assert.Equal(194, streamed.OutputTokenDetails.ReasoningTokenCount);
        Assert.Equal(400, streamed.InputTokenDetails.CachedTokenCount);

        var records = await Gateway.RecordsAsync(2);
        Assert.All(records, record =>
        {
            Assert.Equal(new TokenUsage(1000, 214, CachedInputTokens: 400, ReasoningTokens: 194), record.Usage);
            // 600 uncached × $0.30/M + 400 cached × $0.03/M + (20 + 194 thoughts) × $2.50/M.
            Assert.Equal(0.000727m, record.CostUsd);
        });
    }

    [Fact]
    public async Task WrongUpstreamKey_ToGemini_ErrorSurfacedToSdk()
    {
        var e = await Assert.ThrowsAsync<ClientResultException>(() => Client("flash-badkey").CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(400, e.Status);
        Assert.Contains("API key not valid. Please pass a valid API key.", e.Message, StringComparison.Ordinal);
        var error = JsonNode.Parse(e.GetRawResponse()!.Content.ToString())!["error"]!;
        Assert.Equal("invalid_api_key", error["code"]!.GetValue<string>());
        Assert.Equal("AIzaSyRevokedKey", Gemini.Headers.Single().ApiKey);
        var record = await Gateway.RecordAsync(RequestId(e.GetRawResponse()!));
        Assert.Equal(RequestOutcome.Error, record.Outcome);
        Assert.Equal(400, record.Status);
        Assert.Equal("gemini-badkey", record.Provider);
        Assert.Equal(400, Assert.Single(record.Attempts).Status);
    }

    [Fact]
    public async Task Unavailable503_ToGemini_RetriedThenSucceeds()
    {
        Gemini.Enqueue(VendorFault.Overloaded, VendorFault.RateLimited);

        var result = await Client("flash").CompleteChatAsync([new UserChatMessage("hi")]);

        Assert.Equal("Hello from Gemini.", result.Value.Content[0].Text);
        var record = await Gateway.RecordAsync(RequestId(result));
        Assert.Equal([503, 429, 200], record.Attempts.Select(a => a.Status));
        Assert.Equal(0.000024m, record.CostUsd);
    }

    [Fact]
    public async Task ErrorMidStream_ToGemini_EndsStreamWithOpenAiError_RecordedAsError()
    {
        Gemini.Enqueue(VendorFault.StreamError);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"flash","stream":true,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };

        using var response = await Gateway.Server.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Contains("\"content\":\"Hello\"", body, StringComparison.Ordinal);
        Assert.Contains("""data: {"error":{"message":"The model is overloaded. Please try again later.","type":"server_error","param":null,"code":"overloaded"}}""", body, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
        var record = await Gateway.RecordAsync(response.Headers.GetValues("Cairn-Request-Id").Single());
        Assert.Equal(RequestOutcome.Error, record.Outcome);
        Assert.Contains("The model is overloaded.", record.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("claude-byok")]
    [InlineData("flash-byok")]
    public async Task OwnVendorKey_ProviderWithoutKey_SentTheWayTheVendorTakesIt(string route)
    {
        var anthropic = route == "claude-byok";
        var key = anthropic ? FakeAnthropicUpstream.ApiKey : FakeGeminiUpstream.ApiKey;
        var client = new ChatClient(route, new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = Gateway.V1, RetryPolicy = new ClientRetryPolicy(0) });

        var result = await client.CompleteChatAsync([new UserChatMessage("hi")]);

        Assert.Equal(anthropic ? "Hello from Claude." : "Hello from Gemini.", result.Value.Content[0].Text);
        // Anthropic and Gemini take API keys in their own headers, not as a bearer token.
        var headers = anthropic ? Anthropic.Headers.Single() : Gemini.Headers.Single();
        Assert.Equal(key, headers.ApiKey);
        Assert.Null(headers.Authorization);
    }

    private static string RequestId(ClientResult result) => RequestId(result.GetRawResponse());

    private static string RequestId(PipelineResponse response)
    {
        Assert.True(response.Headers.TryGetValue("Cairn-Request-Id", out var id));
        return id!;
    }
}
