using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Cairn.Core.Gateway;
using OpenAI;
using OpenAI.Chat;

namespace Cairn.Server.Tests.Gateway;

/// <summary>Bad input and upstream faults: OpenAI-format errors, retries, fallbacks, timeouts and client disconnects.</summary>
public sealed class GatewayFaultTests : IAsyncLifetime
{
    private GatewayHarness _gateway = null!;

    public async ValueTask InitializeAsync() => _gateway = await GatewayHarness.StartAsync(gateway =>
    {
        gateway["MaxRequestBodyBytes"] = 4096;
        var routes = gateway["Routes"]!.AsObject();
        routes["resilient"] = new JsonObject
        {
            ["Deployments"] = new JsonArray(new JsonObject { ["Provider"] = "dead", ["Model"] = "gpt-4o-mini" }),
            ["Fallbacks"] = new JsonArray("fast"),
            ["Retry"] = new JsonObject { ["MaxRetries"] = 1, ["InitialDelayMs"] = 10 },
        };
        routes["impatient"] = new JsonObject
        {
            ["Deployments"] = new JsonArray(new JsonObject { ["Provider"] = "fake", ["Model"] = "gpt-4o-mini" }),
            ["TimeoutSeconds"] = 0.5,
            ["Retry"] = new JsonObject { ["MaxRetries"] = 0 },
        };
        routes["impatient-with-fallback"] = new JsonObject
        {
            ["Deployments"] = new JsonArray(new JsonObject { ["Provider"] = "fake", ["Model"] = "gpt-4o-mini" }),
            ["TimeoutSeconds"] = 0.5,
            ["Retry"] = new JsonObject { ["MaxRetries"] = 0 },
            ["Fallbacks"] = new JsonArray("fast"),
        };
    });

    public async ValueTask DisposeAsync() => await _gateway.DisposeAsync();

    [Theory]
    [InlineData("{\"model\": \"fast\", \"messages\": [", 400, "invalid_request_error")]
    [InlineData("[1,2]", 400, "invalid_request_error")]
    [InlineData("{\"messages\":[]}", 400, "invalid_request_error")]
    [InlineData("{\"model\":\"no-such-model\",\"messages\":[]}", 404, "model_not_found")]
    [InlineData("{\"model\":\"nobody/gpt-4o\",\"messages\":[]}", 404, "model_not_found")]
    public async Task BadRequests_GetOpenAiErrors(string body, int status, string typeOrCode)
    {
        var (response, error) = await PostAsync(body);
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.False(string.IsNullOrEmpty(error["message"]!.GetValue<string>()));
        Assert.True(error["type"]!.GetValue<string>() == typeOrCode || error["code"]?.GetValue<string>() == typeOrCode);
        Assert.True(response.Headers.Contains("Cairn-Request-Id"));
        Assert.Empty(_gateway.Upstream.Requests);

        var record = await _gateway.RecordAsync(response.Headers.GetValues("Cairn-Request-Id").Single());
        Assert.Equal(RequestOutcome.Error, record.Outcome);
        Assert.Equal(status, record.Status);
    }

    [Fact]
    public async Task OversizeBody_Returns413()
    {
        var big = "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"" + new string('x', 5000) + "\"}]}";
        var (response, error) = await PostAsync(big);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("request_too_large", error["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task RateLimitedThenServerError_RetriedUntilSuccess_EveryAttemptLogged()
    {
        _gateway.Upstream.Enqueue(FakeBehavior.RateLimited, FakeBehavior.ServerError);
        var client = new ChatClient("fast", new ApiKeyCredential("sk-any"), new OpenAIClientOptions { Endpoint = _gateway.V1 });
        // The SDK's own retries would hide the gateway's; turn them off.
        var result = await client.CompleteChatAsync([new UserChatMessage("hi")], new ChatCompletionOptions(), CancellationToken.None);
        Assert.Equal("Hello from the fake upstream.", result.Value.Content[0].Text);

        Assert.True(result.GetRawResponse().Headers.TryGetValue("Cairn-Request-Id", out var requestId));
        var record = await _gateway.RecordAsync(requestId!);
        Assert.Equal(RequestOutcome.Success, record.Outcome);
        Assert.Equal([429, 500, 200], record.Attempts.Select(a => a.Status));
        Assert.Equal(3, _gateway.Upstream.Requests.Count);
    }

    [Fact]
    public async Task ClientError_IsNotRetried_AndPassesThrough()
    {
        _gateway.Upstream.Enqueue(FakeBehavior.BadRequest);
        var (response, error) = await PostAsync("""{"model":"fast","messages":[{"role":"user","content":"hi"}],"temperature":7}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_value", error["code"]!.GetValue<string>());
        Assert.Single(_gateway.Upstream.Requests);
    }

    [Fact]
    public async Task RetriesExhausted_Returns429WithRetryAfter()
    {
        _gateway.Upstream.RetryAfterSeconds = 1;
        _gateway.Upstream.Enqueue(FakeBehavior.RateLimited, FakeBehavior.RateLimited, FakeBehavior.RateLimited);
        var (response, error) = await PostAsync("""{"model":"fast","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("rate_limit_exceeded", error["code"]!.GetValue<string>());
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter!.Delta);
        var record = await _gateway.RecordAsync(response.Headers.GetValues("Cairn-Request-Id").Single());
        Assert.Equal(3, record.Attempts.Count);
        Assert.All(record.Attempts, a => Assert.Equal(429, a.Status));
    }

    [Fact]
    public async Task DeadDeployment_FallsBackToNextRoute()
    {
        var (response, _) = await PostAsync("""{"model":"resilient","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var record = await _gateway.RecordAsync(response.Headers.GetValues("Cairn-Request-Id").Single());
        Assert.Equal(["dead", "dead", "fake"], record.Attempts.Select(a => a.Provider));
        Assert.Equal(0, record.Attempts[0].Status);
        Assert.Contains("Connection", record.Attempts[0].Error, StringComparison.Ordinal);
        Assert.Equal("fake", record.Provider);
        Assert.Equal("fast", record.Route);
    }

    [Fact]
    public async Task ConnectionReset_IsRetried()
    {
        _gateway.Upstream.Enqueue(FakeBehavior.Reset);
        var (response, _) = await PostAsync("""{"model":"fast","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var record = await _gateway.RecordAsync(response.Headers.GetValues("Cairn-Request-Id").Single());
        Assert.Equal(2, record.Attempts.Count);
        Assert.Equal(0, record.Attempts[0].Status);
    }

    [Fact]
    public async Task HangingUpstream_TimesOutWith504_OrFallsBack()
    {
        _gateway.Upstream.Enqueue(FakeBehavior.Hang);
        var (response, error) = await PostAsync("""{"model":"impatient","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Contains("0.5 s", error["message"]!.GetValue<string>(), StringComparison.Ordinal);

        _gateway.Upstream.Enqueue(FakeBehavior.Hang);
        var (fallback, _) = await PostAsync("""{"model":"impatient-with-fallback","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.OK, fallback.StatusCode);
        var record = await _gateway.RecordAsync(fallback.Headers.GetValues("Cairn-Request-Id").Single());
        Assert.Equal(2, record.Attempts.Count);
        Assert.Equal(0, record.Attempts[0].Status);
    }

    [Fact]
    public async Task ClientDisconnectMidStream_CancelsUpstream_RecordKeepsWhatWasStreamed()
    {
        _gateway.Upstream.AnswerText = "one two three four five";
        _gateway.Upstream.Enqueue(FakeBehavior.StreamThenHang);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"fast","stream":true,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        using var cancel = new CancellationTokenSource();
        var response = await _gateway.Server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        var requestId = response.Headers.GetValues("Cairn-Request-Id").Single();
        var stream = await response.Content.ReadAsStreamAsync(cancel.Token);
        var seen = new StringBuilder();
        var buffer = new byte[1024];
        while (!seen.ToString().Contains(" two", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, cancel.Token);
            Assert.NotEqual(0, read);
            seen.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }

        await cancel.CancelAsync();
        response.Dispose();

        var record = await _gateway.RecordAsync(requestId);
        Assert.Equal(RequestOutcome.Cancelled, record.Outcome);
        Assert.Contains("two", record.ResponseBody, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", record.ResponseBody, StringComparison.Ordinal);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (_gateway.Upstream.ClientCancellations == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(1, _gateway.Upstream.ClientCancellations);
    }

    private async Task<(HttpResponseMessage Response, JsonNode Error)> PostAsync(string body)
    {
        var response = await _gateway.Server.Client.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        var json = JsonNode.Parse(text)!;
        return (response, json["error"] ?? json);
    }
}
