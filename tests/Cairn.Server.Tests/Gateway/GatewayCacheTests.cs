using System.Net.Http.Headers;
using System.Text;
using Cairn.Core.Gateway;

namespace Cairn.Server.Tests.Gateway;

/// <summary>The exact-match response cache (opt-in per request or route) and token estimation when a provider reports no usage.</summary>
public sealed class GatewayCacheTests : IAsyncLifetime
{
    private GatewayHarness _gateway = null!;

    public async ValueTask InitializeAsync() => _gateway = await GatewayHarness.StartAsync(gateway =>
        gateway["Routes"]!["cached"] = new System.Text.Json.Nodes.JsonObject
        {
            ["Deployments"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["Provider"] = "fake", ["Model"] = "gpt-4o-mini" }),
            ["Cache"] = true,
        });

    public async ValueTask DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task CacheEnabledHeader_SecondIdenticalRequestIsAHit_WithZeroCost()
    {
        const string Body = """{"model":"fast","messages":[{"role":"user","content":"cache me"}]}""";
        var (first, firstBody) = await SendAsync(Body, ("Cairn-Cache-Enabled", "true"));
        Assert.Equal("MISS", first.Headers.GetValues("Cairn-Cache").Single());
        var (second, secondBody) = await SendAsync(Body, ("Cairn-Cache-Enabled", "true"));
        Assert.Equal("HIT", second.Headers.GetValues("Cairn-Cache").Single());
        Assert.Equal(firstBody, secondBody);
        Assert.Single(_gateway.Upstream.Requests);

        var record = await _gateway.RecordAsync(second.Headers.GetValues("Cairn-Request-Id").Single());
        Assert.True(record.CacheHit);
        Assert.Equal(0m, record.CostUsd);
        Assert.Empty(record.Attempts);
        Assert.Equal(12, record.Usage!.PromptTokens);

        // A different body, or no opt-in, goes upstream.
        var (other, _) = await SendAsync("""{"model":"fast","messages":[{"role":"user","content":"another"}]}""", ("Cairn-Cache-Enabled", "true"));
        Assert.Equal("MISS", other.Headers.GetValues("Cairn-Cache").Single());
        var (plain, _) = await SendAsync(Body);
        Assert.False(plain.Headers.Contains("Cairn-Cache"));
        Assert.Equal(3, _gateway.Upstream.Requests.Count);
    }

    [Fact]
    public async Task HeliconeHeaders_AndRouteDefault_TurnTheCacheOn()
    {
        const string Body = """{"model":"fast","messages":[{"role":"user","content":"helicone"}]}""";
        await SendAsync(Body, ("Helicone-Cache-Enabled", "true"));
        var (hit, _) = await SendAsync(Body, ("Helicone-Cache-Enabled", "true"));
        Assert.Equal("HIT", hit.Headers.GetValues("Helicone-Cache").Single());

        const string RouteBody = """{"model":"cached","messages":[{"role":"user","content":"route"}]}""";
        await SendAsync(RouteBody);
        var (routeHit, _) = await SendAsync(RouteBody);
        Assert.Equal("HIT", routeHit.Headers.GetValues("Cairn-Cache").Single());
        var (optOut, _) = await SendAsync(RouteBody, ("Cairn-Cache-Enabled", "false"));
        Assert.False(optOut.Headers.Contains("Cairn-Cache"));
    }

    [Fact]
    public async Task CachedStream_ReplaysAsAStream()
    {
        const string Body = """{"model":"fast","stream":true,"messages":[{"role":"user","content":"stream me"}]}""";
        var (first, firstBody) = await SendAsync(Body, ("Cairn-Cache-Enabled", "true"));
        var (second, secondBody) = await SendAsync(Body, ("Cairn-Cache-Enabled", "true"));
        Assert.Equal("HIT", second.Headers.GetValues("Cairn-Cache").Single());
        Assert.Equal("text/event-stream", second.Content.Headers.ContentType!.MediaType);
        Assert.Equal(firstBody, secondBody);
        Assert.EndsWith("data: [DONE]\n\n", secondBody, StringComparison.Ordinal);
        Assert.Single(_gateway.Upstream.Requests);
    }

    [Fact]
    public async Task MaxAge_ExpiresTheEntry()
    {
        const string Body = """{"model":"fast","messages":[{"role":"user","content":"short lived"}]}""";
        await SendAsync(Body, ("Cairn-Cache-Enabled", "true"), ("Cache-Control", "max-age=1"));
        var deadline = DateTime.UtcNow.AddSeconds(15);
        string state;
        do
        {
            await Task.Delay(250);
            var (response, _) = await SendAsync(Body, ("Cairn-Cache-Enabled", "true"), ("Cache-Control", "max-age=1"));
            state = response.Headers.GetValues("Cairn-Cache").Single();
        }
        while (state == "HIT" && DateTime.UtcNow < deadline);

        Assert.Equal("MISS", state);
    }

    [Fact]
    public async Task NoUsageFromProvider_TokensEstimatedAndPriced()
    {
        _gateway.Upstream.OmitUsage = true;
        var (plain, _) = await SendAsync("""{"model":"fast","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"What is the capital of France?"}]}""");
        var record = await _gateway.RecordAsync(plain.Headers.GetValues("Cairn-Request-Id").Single());
        Assert.True(record.Usage!.Estimated);
        Assert.InRange(record.Usage.PromptTokens, 15, 40);
        Assert.InRange(record.Usage.CompletionTokens, 4, 12);
        Assert.NotNull(record.CostUsd);
        Assert.True(record.CostUsd > 0);

        var (stream, body) = await SendAsync("""{"model":"fast","stream":true,"messages":[{"role":"user","content":"Say hello."}]}""");
        Assert.DoesNotContain("\"usage\":{", body, StringComparison.Ordinal);
        var streamed = await _gateway.RecordAsync(stream.Headers.GetValues("Cairn-Request-Id").Single());
        Assert.True(streamed.Usage!.Estimated);
        Assert.InRange(streamed.Usage.CompletionTokens, 4, 12);
    }

    private async Task<(HttpResponseMessage Response, string Body)> SendAsync(string body, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        foreach (var (name, value) in headers)
        {
            if (name == "Cache-Control")
            {
                request.Headers.CacheControl = CacheControlHeaderValue.Parse(value);
            }
            else
            {
                request.Headers.Add(name, value);
            }
        }

        var response = await _gateway.Server.Client.SendAsync(request);
        return (response, await response.Content.ReadAsStringAsync());
    }
}
