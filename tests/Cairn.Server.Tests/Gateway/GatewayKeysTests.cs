using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Cairn.Core.Gateway;
using Microsoft.Extensions.DependencyInjection;

namespace Cairn.Server.Tests.Gateway;

/// <summary>Virtual keys: issued through Cairn's API, stored hashed, required by the gateway, with model lists, limits and budgets.</summary>
public sealed class GatewayKeysTests : IAsyncLifetime
{
    private GatewayHarness _gateway = null!;

    public async ValueTask InitializeAsync() => _gateway = await GatewayHarness.StartAsync(requireKey: true);

    public async ValueTask DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task MissingOrWrongKey_Returns401InOpenAiFormat()
    {
        var (missing, missingError) = await ChatAsync(null);
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal("invalid_api_key", missingError["code"]!.GetValue<string>());

        var (wrong, _) = await ChatAsync("sk-cairn-not-a-real-key");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);

        var (vendorKey, _) = await ChatAsync("sk-proj-some-openai-key");
        Assert.Equal(HttpStatusCode.Unauthorized, vendorKey.StatusCode);
        Assert.Empty(_gateway.Upstream.Requests);
    }

    [Fact]
    public async Task CreatedKey_Works_IsStoredHashed_AndRevokes()
    {
        var (id, secret) = await _gateway.CreateKeyAsync(new JsonObject { ["name"] = "ci" });
        Assert.StartsWith("sk-cairn-", secret, StringComparison.Ordinal);

        var (ok, _) = await ChatAsync(secret);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var record = await _gateway.RecordAsync(ok.Headers.GetValues("Cairn-Request-Id").Single());
        Assert.Equal(id, record.KeyId);
        // The client's Cairn key is never sent upstream.
        Assert.Equal("Bearer sk-upstream-secret", _gateway.Upstream.Authorizations.Last());

        // Only the hash is stored: the secret appears nowhere in the database file.
        var keys = await _gateway.Server.Services.GetRequiredService<IVirtualKeyStore>().ListAsync(CancellationToken.None);
        Assert.Equal(VirtualKey.HashOf(secret), Assert.Single(keys).Hash);
        var databaseBytes = await File.ReadAllBytesAsync(Path.Combine(_gateway.Server.DataDirectory, "cairn.db"));
        Assert.Equal(-1, databaseBytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)));

        var listed = await _gateway.Server.Client.GetFromJsonAsync<JsonObject>("/api/cairn/gateway/keys");
        var info = listed!["keys"]![0]!;
        Assert.Null(info["key"]);
        Assert.Equal(secret[..15], info["prefix"]!.GetValue<string>());

        using var revoke = await _gateway.Server.Client.DeleteAsync($"/api/cairn/gateway/keys/{id}");
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        var (revoked, revokedError) = await ChatAsync(secret);
        Assert.Equal(HttpStatusCode.Unauthorized, revoked.StatusCode);
        Assert.Contains("revoked", revokedError["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeysApi_BadInput_ReturnsProblemDetails()
    {
        using var noName = await _gateway.Server.Client.PostAsync("/api/cairn/gateway/keys", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, noName.StatusCode);
        Assert.Equal("application/problem+json", noName.Content.Headers.ContentType!.MediaType);
        var problem = (await noName.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(400, problem["status"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(problem["detail"]!.GetValue<string>()));

        using var malformed = await _gateway.Server.Client.PostAsync("/api/cairn/gateway/keys", new StringContent("{\"name\":", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal("application/problem+json", malformed.Content.Headers.ContentType!.MediaType);

        using var badPeriod = await _gateway.Server.Client.PostAsJsonAsync("/api/cairn/gateway/keys", new JsonObject { ["name"] = "x", ["budget_period"] = "week" });
        Assert.Equal(HttpStatusCode.BadRequest, badPeriod.StatusCode);

        using var missing = await _gateway.Server.Client.DeleteAsync("/api/cairn/gateway/keys/key_nope");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task AllowedModels_OtherModelsGet403()
    {
        var (_, secret) = await _gateway.CreateKeyAsync(new JsonObject { ["name"] = "narrow", ["allowed_models"] = new JsonArray("fast") });
        var (ok, _) = await ChatAsync(secret, "fast");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var (denied, error) = await ChatAsync(secret, "fake/gpt-4o");
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Equal("model_not_allowed", error["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task RequestsPerMinute_Over_Returns429WithRetryAfter()
    {
        var (_, secret) = await _gateway.CreateKeyAsync(new JsonObject { ["name"] = "slow", ["requests_per_minute"] = 2 });
        Assert.Equal(HttpStatusCode.OK, (await ChatAsync(secret)).Response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ChatAsync(secret)).Response.StatusCode);
        var (limited, error) = await ChatAsync(secret);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("rate_limit_exceeded", error["code"]!.GetValue<string>());
        Assert.NotNull(limited.Headers.RetryAfter?.Delta);
        Assert.InRange(limited.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        Assert.Equal(2, _gateway.Upstream.Requests.Count);
    }

    [Fact]
    public async Task Budget_Spent_Returns429InsufficientQuota()
    {
        _gateway.Upstream.PromptTokens = 1_000_000; // $0.15 per call on gpt-4o-mini
        var (_, secret) = await _gateway.CreateKeyAsync(new JsonObject { ["name"] = "capped", ["budget_usd"] = 0.2, ["budget_period"] = "day" });
        Assert.Equal(HttpStatusCode.OK, (await ChatAsync(secret)).Response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ChatAsync(secret)).Response.StatusCode);
        var (over, error) = await ChatAsync(secret);
        Assert.Equal(HttpStatusCode.TooManyRequests, over.StatusCode);
        Assert.Equal("insufficient_quota", error["type"]!.GetValue<string>());
        Assert.Contains("Budget exceeded", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HeliconeStyle_CairnKeyInOwnHeader_ForwardsClientVendorKey()
    {
        // With no provider key configured, the client's own Authorization goes upstream (bring your own key).
        await _gateway.RewriteConfigAsync(new JsonObject
        {
            ["RequireApiKey"] = true,
            ["Providers"] = new JsonObject { ["byok"] = new JsonObject { ["BaseUrl"] = _gateway.Upstream.BaseUrl } },
            ["Routes"] = new JsonObject { ["mine"] = new JsonObject { ["Deployments"] = new JsonArray(new JsonObject { ["Provider"] = "byok", ["Model"] = "gpt-4o-mini" }) } },
        });
        var (_, secret) = await _gateway.CreateKeyAsync(new JsonObject { ["name"] = "helicone-style" });
        var deadline = DateTime.UtcNow.AddSeconds(10);
        HttpResponseMessage response;
        do
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = new StringContent("""{"model":"mine","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "sk-proj-client-own-key");
            request.Headers.Add("Helicone-Auth", $"Bearer {secret}");
            response = await _gateway.Server.Client.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                break;
            }

            await Task.Delay(100); // the configuration file reload is asynchronous
        }
        while (DateTime.UtcNow < deadline);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Bearer sk-proj-client-own-key", _gateway.Upstream.Authorizations.Last());
    }

    private async Task<(HttpResponseMessage Response, JsonNode Error)> ChatAsync(string? key, string model = "fast")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent($$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        var response = await _gateway.Server.Client.SendAsync(request);
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return (response, json["error"] ?? json);
    }
}
