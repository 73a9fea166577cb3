using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Cairn.Server.Tests.Gateway;

/// <summary>Gateway configuration: the REST API for providers and routes, hot reload of configuration files, and YAML files.</summary>
public sealed class GatewayConfigTests : IAsyncLifetime
{
    private GatewayHarness _gateway = null!;

    public async ValueTask InitializeAsync() => _gateway = await GatewayHarness.StartAsync();

    public async ValueTask DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task ProviderAndRouteThroughApi_ApplyToNextRequest_KeyStoredEncrypted()
    {
        const string Secret = "sk-live-provider-key-0123456789abcdef";
        using var put = await _gateway.Server.Client.PutAsJsonAsync("/api/cairn/gateway/providers/managed", new JsonObject
        {
            ["kind"] = "OpenAI",
            ["base_url"] = _gateway.Upstream.BaseUrl,
            ["api_key"] = Secret,
            ["models"] = new JsonArray("gpt-4o"),
        });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var provider = (await put.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.True(provider["has_api_key"]!.GetValue<bool>());
        Assert.Equal("api", provider["source"]!.GetValue<string>());
        Assert.Null(provider["api_key"]);

        using var route = await _gateway.Server.Client.PutAsJsonAsync("/api/cairn/gateway/routes/smart", new JsonObject
        {
            ["deployments"] = new JsonArray(new JsonObject { ["provider"] = "managed", ["model"] = "gpt-4o" }),
            ["fallbacks"] = new JsonArray("fast"),
            ["timeout_seconds"] = 30,
        });
        Assert.Equal(HttpStatusCode.OK, route.StatusCode);

        var (status, _) = await ChatAsync("smart");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Bearer " + Secret, _gateway.Upstream.Authorizations.Last());
        Assert.Equal("gpt-4o", _gateway.Upstream.Requests.Last()["model"]!.GetValue<string>());

        // Only ciphertext is stored.
        foreach (var file in Directory.GetFiles(_gateway.Server.DataDirectory, "cairn.db*"))
        {
            var bytes = await File.ReadAllBytesAsync(file);
            Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(Secret)));
        }

        var providers = (await _gateway.Server.Client.GetFromJsonAsync<JsonObject>("/api/cairn/gateway/providers"))!["providers"]!.AsArray();
        Assert.Contains(providers, p => p!["name"]!.GetValue<string>() == "fake" && p["source"]!.GetValue<string>() == "config");
        Assert.DoesNotContain(Secret, providers.ToJsonString(), StringComparison.Ordinal);
        var routes = (await _gateway.Server.Client.GetFromJsonAsync<JsonObject>("/api/cairn/gateway/routes"))!["routes"]!.AsArray();
        Assert.Contains(routes, r => r!["name"]!.GetValue<string>() == "smart" && r["source"]!.GetValue<string>() == "api");

        using var deleted = await _gateway.Server.Client.DeleteAsync("/api/cairn/gateway/routes/smart");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var (gone, error) = await ChatAsync("smart");
        Assert.Equal(HttpStatusCode.NotFound, gone);
        Assert.Equal("model_not_found", error["code"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("/api/cairn/gateway/providers/bad name", """{"kind":"OpenAI"}""")]
    [InlineData("/api/cairn/gateway/providers/p1", """{"kind":"Cohere"}""")]
    [InlineData("/api/cairn/gateway/providers/p1", """{"kind":"OpenAI","base_url":"ftp://example"}""")]
    [InlineData("/api/cairn/gateway/providers/p1", """{"kind":"AzureOpenAI"}""")]
    [InlineData("/api/cairn/gateway/providers/p1", """{"kind":""")]
    [InlineData("/api/cairn/gateway/routes/r1", """{"deployments":[]}""")]
    [InlineData("/api/cairn/gateway/routes/r1", """{"deployments":[{"provider":"nobody","model":"x"}]}""")]
    [InlineData("/api/cairn/gateway/routes/r1", """{"deployments":[{"provider":"fake"}]}""")]
    [InlineData("/api/cairn/gateway/routes/r1", """{"deployments":[{"provider":"fake","model":"x"}],"fallbacks":["nowhere"]}""")]
    [InlineData("/api/cairn/gateway/routes/r1", """{"deployments":[{"provider":"fake","model":"x","weight":-1}]}""")]
    public async Task ConfigApi_BadInput_Returns400ProblemDetails_AndChangesNothing(string path, string body)
    {
        using var response = await _gateway.Server.Client.PutAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.False(string.IsNullOrEmpty(problem["detail"]!.GetValue<string>()));
        var routes = (await _gateway.Server.Client.GetFromJsonAsync<JsonObject>("/api/cairn/gateway/routes"))!["routes"]!.AsArray();
        Assert.DoesNotContain(routes, r => r!["name"]!.GetValue<string>() == "r1");
        var providers = (await _gateway.Server.Client.GetFromJsonAsync<JsonObject>("/api/cairn/gateway/providers"))!["providers"]!.AsArray();
        Assert.DoesNotContain(providers, p => p!["name"]!.GetValue<string>() == "p1");
    }

    [Fact]
    public async Task DeleteUnknown_Returns404ProblemDetails()
    {
        using var route = await _gateway.Server.Client.DeleteAsync("/api/cairn/gateway/routes/fast");
        Assert.Equal(HttpStatusCode.NotFound, route.StatusCode);
        Assert.Equal("application/problem+json", route.Content.Headers.ContentType!.MediaType);
        using var provider = await _gateway.Server.Client.DeleteAsync("/api/cairn/gateway/providers/nobody");
        Assert.Equal(HttpStatusCode.NotFound, provider.StatusCode);
    }

    [Fact]
    public async Task ConfigFileEdited_NewRouteAppliesWithoutRestart()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await ChatAsync("hot")).Status);
        await _gateway.RewriteConfigAsync(new JsonObject
        {
            ["RequireApiKey"] = false,
            ["Providers"] = new JsonObject { ["fake"] = new JsonObject { ["BaseUrl"] = _gateway.Upstream.BaseUrl, ["ApiKey"] = "sk-upstream-secret" } },
            ["Routes"] = new JsonObject { ["hot"] = new JsonObject { ["Deployments"] = new JsonArray(new JsonObject { ["Provider"] = "fake", ["Model"] = "gpt-4o" }) } },
        });
        var deadline = DateTime.UtcNow.AddSeconds(15);
        HttpStatusCode status;
        do
        {
            await Task.Delay(100);
            status = (await ChatAsync("hot")).Status;
        }
        while (status != HttpStatusCode.OK && DateTime.UtcNow < deadline);

        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task YamlConfigFile_ConfiguresTheGateway()
    {
        var yaml = Path.Combine(Path.GetTempPath(), "cairn-tests", $"cairn-{Guid.NewGuid():N}.yaml");
        Directory.CreateDirectory(Path.GetDirectoryName(yaml)!);
        await File.WriteAllTextAsync(yaml, $"""
            Cairn:
              Gateway:
                RequireApiKey: false
                Providers:
                  local:
                    Kind: OpenAI
                    BaseUrl: {_gateway.Upstream.BaseUrl}
                    ApiKey: env:CAIRN_TEST_UNSET_VARIABLE
                    Models: [gpt-4o-mini]
                Routes:
                  yaml-route:
                    Deployments:
                      - Provider: local
                        Model: gpt-4o-mini
            """);
        try
        {
            await using var server = await CairnTestServer.StartAsync(configureBuilder: builder => CairnApp.AddConfigurationFiles(builder, yaml));
            using var response = await server.Client.PostAsync("/v1/chat/completions", new StringContent("""{"model":"yaml-route","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var direct = await server.Client.PostAsync("/v1/chat/completions", new StringContent("""{"model":"local/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, direct.StatusCode);
        }
        finally
        {
            File.Delete(yaml);
        }
    }

    private async Task<(HttpStatusCode Status, JsonNode Error)> ChatAsync(string model)
    {
        using var response = await _gateway.Server.Client.PostAsync(
            "/v1/chat/completions",
            new StringContent($$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return (response.StatusCode, json["error"] ?? json);
    }
}
