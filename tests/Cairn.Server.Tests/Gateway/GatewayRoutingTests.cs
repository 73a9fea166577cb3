using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Cairn.Server.Tests.Gateway;

/// <summary>Azure OpenAI's URL and key conventions, weighted load balancing and token-per-minute limits.</summary>
public sealed class GatewayRoutingTests : IAsyncLifetime
{
    private GatewayHarness _gateway = null!;
    private FakeOpenAiUpstream _second = null!;

    public async ValueTask InitializeAsync()
    {
        _second = await FakeOpenAiUpstream.StartAsync();
        _second.AnswerText = "From the second deployment.";
        _gateway = await GatewayHarness.StartAsync(gateway =>
        {
            var providers = gateway["Providers"]!.AsObject();
            var fakeBase = providers["fake"]!["BaseUrl"]!.GetValue<string>();
            var root = fakeBase[..^"/v1".Length];
            providers["azure-dated"] = new JsonObject { ["Kind"] = "AzureOpenAI", ["BaseUrl"] = root, ["ApiVersion"] = "2024-10-21", ["ApiKey"] = "azure-key-1" };
            providers["azure-v1"] = new JsonObject { ["Kind"] = "AzureOpenAI", ["BaseUrl"] = root, ["ApiKey"] = "azure-key-2" };
            providers["second"] = new JsonObject { ["BaseUrl"] = _second.BaseUrl, ["ApiKey"] = "sk-second" };
            var routes = gateway["Routes"]!.AsObject();
            routes["azure"] = new JsonObject { ["Deployments"] = new JsonArray(new JsonObject { ["Provider"] = "azure-dated", ["Model"] = "my-gpt4o-deployment" }) };
            routes["azure-v1"] = new JsonObject { ["Deployments"] = new JsonArray(new JsonObject { ["Provider"] = "azure-v1", ["Model"] = "my-gpt4o-deployment" }) };
            routes["balanced"] = new JsonObject
            {
                ["Deployments"] = new JsonArray(
                    new JsonObject { ["Provider"] = "fake", ["Model"] = "gpt-4o-mini", ["Weight"] = 3 },
                    new JsonObject { ["Provider"] = "second", ["Model"] = "gpt-4o-mini", ["Weight"] = 1 },
                    new JsonObject { ["Provider"] = "second", ["Model"] = "never", ["Weight"] = 0 }),
            };
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _second.DisposeAsync();
    }

    [Fact]
    public async Task AzureProviders_UseDeploymentUrlsAndApiKeyHeader()
    {
        Assert.Equal(HttpStatusCode.OK, await ChatAsync("azure"));
        Assert.Equal("/openai/deployments/my-gpt4o-deployment/chat/completions?api-version=2024-10-21", _gateway.Upstream.Paths.Last());
        Assert.Equal("azure-key-1", _gateway.Upstream.ApiKeyHeaders.Last());
        Assert.Equal("", _gateway.Upstream.Authorizations.Last());

        Assert.Equal(HttpStatusCode.OK, await ChatAsync("azure-v1"));
        Assert.Equal("/openai/v1/chat/completions", _gateway.Upstream.Paths.Last());
        Assert.Equal("my-gpt4o-deployment", _gateway.Upstream.Requests.Last()["model"]!.GetValue<string>());
        Assert.Equal("azure-key-2", _gateway.Upstream.ApiKeyHeaders.Last());
    }

    [Fact]
    public async Task WeightedRoute_SpreadsRequestsByWeight_ZeroWeightNeverUsed()
    {
        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await ChatAsync("balanced"));
        }

        // 3:1 over 200 requests: about 150 and 50; the bounds are far outside what chance produces (p < 1e-9).
        Assert.InRange(_gateway.Upstream.Requests.Count, 110, 190);
        Assert.InRange(_second.Requests.Count, 10, 90);
        Assert.Equal(200, _gateway.Upstream.Requests.Count + _second.Requests.Count);
        Assert.DoesNotContain(_second.Requests, r => r["model"]!.GetValue<string>() == "never");
    }

    [Fact]
    public async Task TokensPerMinute_OverLimit_Returns429()
    {
        var (_, secret) = await _gateway.CreateKeyAsync(new JsonObject { ["name"] = "tpm", ["tokens_per_minute"] = 30 });
        // Each call uses 12 prompt + 5 completion tokens: the third call finds 34 ≥ 30 tokens used this minute.
        Assert.Equal(HttpStatusCode.OK, await ChatAsync("fast", secret));
        Assert.Equal(HttpStatusCode.OK, await ChatAsync("fast", secret));
        var deadline = DateTime.UtcNow.AddSeconds(5);
        HttpStatusCode status;
        do
        {
            status = await ChatAsync("fast", secret);
        }
        while (status == HttpStatusCode.OK && DateTime.UtcNow < deadline);

        Assert.Equal(HttpStatusCode.TooManyRequests, status);
    }

    private async Task<HttpStatusCode> ChatAsync(string model, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent($$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        using var response = await _gateway.Server.Client.SendAsync(request);
        await response.Content.ReadAsStringAsync();
        return response.StatusCode;
    }
}
