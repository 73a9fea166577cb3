using System.Net;
using System.Text;
using Cairn.Server.Gateway;
using Cairn.Server.Tests.Gateway;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Cairn.Server.Tests.Prompts;

/// <summary>The playground's run endpoint: renders, goes through the gateway (keys required), streams, and is logged.</summary>
public sealed class PlaygroundApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SavedVersionAndDraft_StreamThroughTheGateway_AndAreLogged()
    {
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        await using var server = await CairnTestServer.StartAsync(configureBuilder: b => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            // Keys stay required: the playground uses its own in-memory key.
            ["Cairn:Gateway:Providers:fake:BaseUrl"] = upstream.BaseUrl,
            ["Cairn:Gateway:Providers:fake:Models:0"] = "gpt-4o-mini",
        }));
        await server.PostJsonAsync("/api/cairn/prompts", """{"name":"support/triage","template":"Answer briefly: {{question}}","model_config":{"temperature":0.3}}""", 201);

        async Task<(HttpStatusCode Status, string Body, string? RequestId)> RunAsync(string json)
        {
            using var content = new StringContent(json, Encoding.UTF8, "application/json");
            using var response = await server.Client.PostAsync("/api/cairn/playground/run", content, Ct);
            var id = response.Headers.TryGetValues(GatewayHandler.RequestIdHeader, out var ids) ? ids.First() : null;
            return (response.StatusCode, await response.Content.ReadAsStringAsync(Ct), id);
        }

        var saved = await RunAsync("""{"prompt":{"name":"support/triage","version":1},"variables":{"question":"Where is my invoice?"},"model":"fake/gpt-4o-mini"}""");
        Assert.Equal(HttpStatusCode.OK, saved.Status);
        Assert.Contains("data: ", saved.Body, StringComparison.Ordinal);
        Assert.Contains("[DONE]", saved.Body, StringComparison.Ordinal);
        Assert.NotNull(saved.RequestId);
        var draft = await RunAsync("""{"messages":[{"role":"system","content":"Be terse."},{"role":"user","content":"{{q}}"}],"variables":{"q":"hi"},"model":"fake/gpt-4o-mini"}""");
        Assert.Equal(HttpStatusCode.OK, draft.Status);

        await server.Services.GetRequiredService<RequestLogWriter>().FlushAsync(Ct);
        var record = await server.GetAsync($"/api/cairn/gateway/requests/{saved.RequestId}");
        Assert.Equal("support/triage", record["prompt_name"]!.GetValue<string>());
        Assert.Equal(1, record["prompt_version"]!.GetValue<int>());
        Assert.Equal("playground", record["key_id"]!.GetValue<string>());
        Assert.True(record["stream"]!.GetValue<bool>());
        Assert.True(record["completion_tokens"]!.GetValue<long>() > 0);
        Assert.True(record["cost_usd"]!.GetValue<decimal>() > 0);
        Assert.NotNull(record["ttft_ms"]);
        var sent = upstream.Requests.Last(r => r.ToJsonString().Contains("Answer briefly", StringComparison.Ordinal));
        Assert.Equal("Answer briefly: Where is my invoice?", sent["messages"]![0]!["content"]!.GetValue<string>());
        Assert.Equal(0.3, sent["temperature"]!.GetValue<double>());
        var draftRecord = await server.GetAsync($"/api/cairn/gateway/requests/{draft.RequestId}");
        Assert.Null(draftRecord["prompt_name"]);

        // Bad input: missing variables, unknown prompt, unknown model, no model; the playground key is not a usable credential outside.
        Assert.Equal(HttpStatusCode.BadRequest, (await RunAsync("""{"prompt":{"name":"support/triage"},"variables":{},"model":"fake/gpt-4o-mini"}""")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await RunAsync("""{"prompt":{"name":"nope"},"model":"fake/gpt-4o-mini"}""")).Status);
        var unknownModel = await RunAsync("""{"template":"hi","model":"no-such-model"}""");
        Assert.False(unknownModel.Status == HttpStatusCode.OK);
        Assert.Contains("no-such-model", unknownModel.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await RunAsync("""{"template":"hi"}""")).Status);
        await server.GetAsync("/api/cairn/gateway/requests/req_missing", 404);
    }
}
