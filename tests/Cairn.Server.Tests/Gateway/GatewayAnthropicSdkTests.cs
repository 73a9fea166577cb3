using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anthropic;
using Anthropic.Core;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using Cairn.Core.Gateway;

namespace Cairn.Server.Tests.Gateway;

/// <summary>
/// Anthropic's official .NET SDK on Cairn's <c>POST /v1/messages</c>: passed through to an Anthropic upstream (model alias
/// rewritten, usage logged), and translated to OpenAI-protocol and Gemini upstreams, plain and streamed, plus errors in
/// Anthropic's format.
/// </summary>
public sealed class GatewayAnthropicSdkTests : IAsyncLifetime
{
    private VendorGateway _vendors = null!;

    public async ValueTask InitializeAsync() => _vendors = await VendorGateway.StartAsync();

    public async ValueTask DisposeAsync() => await _vendors.DisposeAsync();

    private GatewayHarness Gateway => _vendors.Gateway;

    private FakeAnthropicUpstream Anthropic => _vendors.Anthropic;

    private AnthropicClient Client() => new(new ClientOptions
    {
        ApiKey = "sk-ant-client-own-key",
        // The SDK appends /v1/messages itself.
        BaseUrl = Gateway.Server.BaseAddress.ToString().TrimEnd('/'),
        // The SDK's own retries would hide the gateway's.
        MaxRetries = 0,
        Timeout = TimeSpan.FromSeconds(30),
    });

    private static MessageCreateParams Params(string model, string text = "Say hello.") => new()
    {
        Model = model,
        MaxTokens = 256,
        System = "You are terse.",
        Messages = [new UserMessageParam(text)],
    };

    [Fact]
    public async Task Create_PassedThroughToAnthropic_ModelRewrittenAndUsageLogged()
    {
        Anthropic.InputTokens = 100;
        Anthropic.CacheReadTokens = 2000;
        Anthropic.CacheCreationTokens = 500;
        Anthropic.OutputTokens = 50;
        using var client = Client();

        var message = await client.Messages.Create(Params("claude"));

        Assert.True(Assert.Single(message.Content).TryPickText(out var text));
        Assert.Equal("Hello from Claude.", text.Text);
        Assert.Equal("end_turn", message.StopReason!.Raw());
        Assert.Equal("claude-sonnet-4-5-20250929", message.Model.Raw());
        Assert.Equal(100, message.Usage.InputTokens);
        Assert.Equal(2000, message.Usage.CacheReadInputTokens);
        Assert.Equal(500, message.Usage.CacheCreationInputTokens);
        Assert.Equal(50, message.Usage.OutputTokens);

        var sent = Assert.Single(Anthropic.Requests);
        Assert.Equal("claude-sonnet-4-5", sent["model"]!.GetValue<string>());
        Assert.Equal("You are terse.", sent["system"]!.GetValue<string>());
        Assert.Equal(256, sent["max_tokens"]!.GetValue<int>());
        var headers = Assert.Single(Anthropic.Headers);
        Assert.Equal(FakeAnthropicUpstream.ApiKey, headers.ApiKey);
        // The SDK's own anthropic-version travels on in passthrough.
        Assert.False(string.IsNullOrEmpty(headers.Version));

        var record = (await Gateway.RecordsAsync(1))[0];
        Assert.Equal(RequestOutcome.Success, record.Outcome);
        Assert.Equal("messages", record.Endpoint);
        Assert.Equal("claude", record.RequestedModel);
        Assert.Equal("anthropic", record.Provider);
        Assert.Equal("claude-sonnet-4-5-20250929", record.ServedModel);
        Assert.Equal(new TokenUsage(2600, 50, CachedInputTokens: 2000, CacheWriteTokens: 500), record.Usage);
        Assert.Equal(0.003525m, record.CostUsd);
        Assert.Equal(200, Assert.Single(record.Attempts).Status);
    }

    [Fact]
    public async Task CreateStreaming_PassedThroughToAnthropic_EventsReachSdk_UsageLogged()
    {
        Anthropic.InputTokens = 100;
        Anthropic.CacheReadTokens = 2000;
        Anthropic.CacheCreationTokens = 500;
        Anthropic.OutputTokens = 50;
        using var client = Client();

        var (text, stopReason, start, delta) = await StreamAsync(client, Params("claude"));

        Assert.Equal("Hello from Claude.", text);
        Assert.Equal("end_turn", stopReason);
        Assert.Equal("claude-sonnet-4-5-20250929", start!.Model.Raw());
        Assert.Equal(100, start.Usage.InputTokens);
        Assert.Equal(50, delta!.OutputTokens);
        Assert.True(Anthropic.Requests.Single()["stream"]!.GetValue<bool>());
        Assert.Equal("claude-sonnet-4-5", Anthropic.Requests.Single()["model"]!.GetValue<string>());

        var record = (await Gateway.RecordsAsync(1))[0];
        Assert.Equal(RequestOutcome.Success, record.Outcome);
        Assert.True(record.Stream);
        Assert.Equal("claude-sonnet-4-5-20250929", record.ServedModel);
        Assert.Equal(new TokenUsage(2600, 50, CachedInputTokens: 2000, CacheWriteTokens: 500), record.Usage);
        Assert.Equal(0.003525m, record.CostUsd);
        Assert.Contains("event: message_stop", record.ResponseBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_TranslatedToOpenAi_PlainAndStreamed()
    {
        _vendors.OpenAi.PromptTokens = 1000;
        _vendors.OpenAi.CachedTokens = 400;
        using var client = Client();

        var message = await client.Messages.Create(Params("fast"));

        Assert.True(Assert.Single(message.Content).TryPickText(out var text));
        Assert.Equal("Hello from the fake upstream.", text.Text);
        Assert.Equal("end_turn", message.StopReason!.Raw());
        Assert.Equal("gpt-4o-mini", message.Model.Raw());
        Assert.Equal(600, message.Usage.InputTokens);
        Assert.Equal(400, message.Usage.CacheReadInputTokens);
        Assert.Equal(5, message.Usage.OutputTokens);
        var sent = _vendors.OpenAi.Requests.Last();
        Assert.Equal("gpt-4o-mini", sent["model"]!.GetValue<string>());
        Assert.Equal(256, sent["max_completion_tokens"]!.GetValue<int>());
        var messages = sent["messages"]!.AsArray();
        Assert.Equal(["system", "user"], messages.Select(m => m!["role"]!.GetValue<string>()));
        Assert.Equal("You are terse.", messages[0]!["content"]!.GetValue<string>());
        Assert.Equal("Bearer sk-upstream-secret", _vendors.OpenAi.Authorizations.Last());

        var (streamed, stopReason, start, delta) = await StreamAsync(client, Params("fast"));
        Assert.Equal("Hello from the fake upstream.", streamed);
        Assert.Equal("end_turn", stopReason);
        Assert.Equal("fast", start!.Model.Raw());
        Assert.Equal(600, delta!.InputTokens);
        Assert.Equal(400, delta.CacheReadInputTokens);
        Assert.Equal(5, delta.OutputTokens);
        Assert.True(_vendors.OpenAi.Requests.Last()["stream_options"]!["include_usage"]!.GetValue<bool>());

        var records = await Gateway.RecordsAsync(2);
        Assert.All(records, record =>
        {
            Assert.Equal(RequestOutcome.Success, record.Outcome);
            Assert.Equal("messages", record.Endpoint);
            Assert.Equal("fake", record.Provider);
            Assert.Equal("gpt-4o-mini", record.ServedModel);
            Assert.Equal(new TokenUsage(1000, 5, CachedInputTokens: 400), record.Usage);
            // gpt-4o-mini: 600 × $0.15/M + 400 cached × $0.075/M + 5 × $0.60/M.
            Assert.Equal(0.000123m, record.CostUsd);
        });
    }

    [Fact]
    public async Task Create_WithTools_TranslatedToOpenAi_ToolUseBlocksPlainAndStreamed()
    {
        using var client = Client();
        var parameters = Params("fast", "Weather in Santiago?") with
        {
            Tools =
            [
                new Tool
                {
                    Name = "get_weather_for_city",
                    Description = "gets the current weather for a given city",
                    InputSchema = new InputSchema
                    {
                        Properties = new Dictionary<string, JsonElement> { ["city_name"] = JsonDocument.Parse("""{"type":"string"}""").RootElement.Clone() },
                        Required = ["city_name"],
                    },
                },
            ],
        };

        var message = await client.Messages.Create(parameters);

        Assert.Equal("tool_use", message.StopReason!.Raw());
        Assert.True(Assert.Single(message.Content).TryPickToolUse(out var toolUse));
        Assert.Equal("get_weather_for_city", toolUse.Name);
        Assert.Equal("Santiago", toolUse.Input["city_name"].GetString());
        var tool = _vendors.OpenAi.Requests.Last()["tools"]![0]!;
        Assert.Equal("function", tool["type"]!.GetValue<string>());
        Assert.Equal("string", tool["function"]!["parameters"]!["properties"]!["city_name"]!["type"]!.GetValue<string>());

        var json = new StringBuilder();
        string? name = null, stopReason = null;
        await foreach (var streamEvent in client.Messages.CreateStreaming(parameters))
        {
            if (streamEvent.TryPickContentBlockStart(out var blockStart) && blockStart.ContentBlock.TryPickToolUse(out var started))
            {
                name = started.Name;
            }
            else if (streamEvent.TryPickContentBlockDelta(out var blockDelta) && blockDelta.Delta.TryPickInputJson(out var fragment))
            {
                json.Append(fragment.PartialJson);
            }
            else if (streamEvent.TryPickDelta(out var messageDelta))
            {
                stopReason = messageDelta.Delta.StopReason?.Raw();
            }
        }

        Assert.Equal("get_weather_for_city", name);
        Assert.Equal("""{"city_name":"Paris"}""", json.ToString());
        Assert.Equal("tool_use", stopReason);
    }

    [Fact]
    public async Task Create_TranslatedToGemini_PlainAndStreamed()
    {
        using var client = Client();

        var message = await client.Messages.Create(Params("flash"));
        Assert.True(Assert.Single(message.Content).TryPickText(out var text));
        Assert.Equal("Hello from Gemini.", text.Text);
        Assert.Equal(30, message.Usage.InputTokens);
        Assert.Equal(6, message.Usage.OutputTokens);
        Assert.Equal("You are terse.", _vendors.Gemini.Requests.Last()["systemInstruction"]!["parts"]![0]!["text"]!.GetValue<string>());

        var (streamed, stopReason, _, delta) = await StreamAsync(client, Params("flash"));
        Assert.Equal("Hello from Gemini.", streamed);
        Assert.Equal("end_turn", stopReason);
        Assert.Equal(6, delta!.OutputTokens);

        var records = await Gateway.RecordsAsync(2);
        Assert.All(records, record =>
        {
            Assert.Equal("gemini", record.Provider);
            Assert.Equal(new TokenUsage(30, 6), record.Usage);
            Assert.Equal(0.000024m, record.CostUsd);
        });
    }

    [Fact]
    public async Task Create_UnknownModel_AnthropicNotFoundError()
    {
        using var client = Client();

        var e = await Assert.ThrowsAsync<AnthropicNotFoundException>(() => client.Messages.Create(Params("no-such-model")));

        Assert.Equal(System.Net.HttpStatusCode.NotFound, e.StatusCode);
        var body = JsonNode.Parse(e.ResponseBody)!;
        Assert.Equal("error", body["type"]!.GetValue<string>());
        Assert.Equal("not_found_error", body["error"]!["type"]!.GetValue<string>());
        Assert.Contains("no-such-model", body["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(Anthropic.Requests);
        var record = (await Gateway.RecordsAsync(1))[0];
        Assert.Equal(RequestOutcome.Error, record.Outcome);
        Assert.Equal(404, record.Status);
    }

    [Fact]
    public async Task Create_AnthropicBadRequest_PassedThroughAsAnthropicError_OverloadedRetried()
    {
        using var client = Client();
        Anthropic.Enqueue(VendorFault.BadRequest);

        var e = await Assert.ThrowsAsync<AnthropicBadRequestException>(() => client.Messages.Create(Params("claude")));
        var body = JsonNode.Parse(e.ResponseBody)!;
        Assert.Equal("invalid_request_error", body["error"]!["type"]!.GetValue<string>());
        Assert.Equal("temperature: range: 0..1", body["error"]!["message"]!.GetValue<string>());

        Anthropic.Enqueue(VendorFault.Overloaded);
        var message = await client.Messages.Create(Params("claude"));
        Assert.True(message.Content[0].TryPickText(out var text));
        Assert.Equal("Hello from Claude.", text.Text);
        var records = await Gateway.RecordsAsync(2);
        Assert.Equal([400], records.Single(r => r.Outcome == RequestOutcome.Error).Attempts.Select(a => a.Status));
        Assert.Equal([529, 200], records.Single(r => r.Outcome == RequestOutcome.Success).Attempts.Select(a => a.Status));
    }

    [Fact]
    public async Task Create_TranslatedToOpenAi_UpstreamBadRequest_AnthropicFormatError()
    {
        using var client = Client();
        _vendors.OpenAi.Enqueue(FakeBehavior.BadRequest);

        var e = await Assert.ThrowsAsync<AnthropicBadRequestException>(() => client.Messages.Create(Params("fast")));

        var body = JsonNode.Parse(e.ResponseBody)!;
        Assert.Equal("error", body["type"]!.GetValue<string>());
        Assert.Equal("invalid_request_error", body["error"]!["type"]!.GetValue<string>());
        Assert.Equal("Invalid value for 'temperature': must be between 0 and 2.", body["error"]!["message"]!.GetValue<string>());
        var record = (await Gateway.RecordsAsync(1))[0];
        Assert.Equal(RequestOutcome.Error, record.Outcome);
        Assert.Equal(400, record.Status);
    }

    [Fact]
    public async Task CreateStreaming_AnthropicErrorEventMidStream_PassedThrough_RecordedAsError()
    {
        Anthropic.Enqueue(VendorFault.StreamError);
        using var content = new StringContent("""{"model":"claude","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json");

        using var response = await Gateway.Server.Client.PostAsync("/v1/messages", content);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Contains("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n", body, StringComparison.Ordinal);
        Assert.DoesNotContain("message_stop", body, StringComparison.Ordinal);
        var record = await Gateway.RecordAsync(response.Headers.GetValues("Cairn-Request-Id").Single());
        Assert.Equal(RequestOutcome.Error, record.Outcome);
        Assert.Contains("Overloaded", record.Error, StringComparison.Ordinal);
        Assert.Equal(new TokenUsage(25, 1), record.Usage);
    }

    [Fact]
    public async Task Create_OwnAnthropicKey_ProviderWithoutKey_KeyCarriedOn()
    {
        using var client = new AnthropicClient(new ClientOptions
        {
            ApiKey = FakeAnthropicUpstream.ApiKey,
            BaseUrl = Gateway.Server.BaseAddress.ToString().TrimEnd('/'),
            MaxRetries = 0,
        });

        var message = await client.Messages.Create(Params("claude-byok"));

        Assert.True(message.Content[0].TryPickText(out var text));
        Assert.Equal("Hello from Claude.", text.Text);
        Assert.Equal(FakeAnthropicUpstream.ApiKey, Anthropic.Headers.Single().ApiKey);
    }

    private static async Task<(string Text, string? StopReason, Message? Start, MessageDeltaUsage? Delta)> StreamAsync(AnthropicClient client, MessageCreateParams parameters)
    {
        var text = new StringBuilder();
        string? stopReason = null;
        Message? start = null;
        MessageDeltaUsage? delta = null;
        await foreach (var streamEvent in client.Messages.CreateStreaming(parameters))
        {
            if (streamEvent.TryPickStart(out var messageStart))
            {
                start = messageStart.Message;
            }
            else if (streamEvent.TryPickContentBlockDelta(out var blockDelta) && blockDelta.Delta.TryPickText(out var textDelta))
            {
                text.Append(textDelta.Text);
            }
            else if (streamEvent.TryPickDelta(out var messageDelta))
            {
                stopReason = messageDelta.Delta.StopReason?.Raw();
                delta = messageDelta.Usage;
            }
        }

        return (text.ToString(), stopReason, start, delta);
    }

    [Fact]
    public async Task PassThrough_ForwardsClientVersionAndBetaHeaders()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages")
        {
            Content = new StringContent("""{"model":"claude","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("anthropic-version", "2023-06-01");
        request.Headers.Add("anthropic-beta", "prompt-caching-2024-07-31");
        using var response = await Gateway.Server.Client.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var received = Anthropic.Headers.Last();
        Assert.Equal("prompt-caching-2024-07-31", received.Beta);
        Assert.Equal("2023-06-01", received.Version);
    }
}
