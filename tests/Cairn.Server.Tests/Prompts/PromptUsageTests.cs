using System.Net;
using System.Text;
using Cairn.Core.Gateway;
using Cairn.Server.Gateway;
using Cairn.Server.Observability;
using Cairn.Server.Tests.Gateway;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Cairn.Server.Tests.Prompts;

/// <summary>Requests sent with <c>Cairn-Prompt: name@version</c> are recorded per version, with the feedback on their traces.</summary>
public sealed class PromptUsageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GatewayCallsWithPromptHeader_GivePerVersionUsageAndFeedback()
    {
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        await using var server = await CairnTestServer.StartAsync(configureBuilder: b => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Cairn:Gateway:RequireApiKey"] = "false",
            ["Cairn:Gateway:Providers:fake:BaseUrl"] = upstream.BaseUrl,
            ["Cairn:Gateway:Providers:fake:Models:0"] = "gpt-4o-mini",
        }));
        await server.PostJsonAsync("/api/cairn/prompts", """{"name":"support/triage","template":"Briefly: {{q}}"}""", 201);
        await server.PostJsonAsync("/api/cairn/prompts", """{"name":"support/triage","template":"In detail: {{q}}"}""", 201);

        var traces = new List<string>();
        async Task CallAsync(int version, string? promptHeader = null)
        {
            var traceId = Guid.NewGuid().ToString("N");
            traces.Add(traceId);
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = new StringContent("""{"model":"fake/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("Cairn-Prompt", promptHeader ?? $"support/triage@{version}");
            request.Headers.Add("traceparent", $"00-{traceId}-{Guid.NewGuid().ToString("N")[..16]}-01");
            using var response = await server.Client.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        for (var i = 0; i < 3; i++)
        {
            await CallAsync(1);
        }

        await CallAsync(2);
        await CallAsync(0, "support/triage");          // no version: not attributed
        await CallAsync(0, "../etc@1");                 // not a prompt name: not attributed
        await server.Services.GetRequiredService<RequestLogWriter>().FlushAsync(Ct);
        await server.Services.GetRequiredService<TraceWriter>().FlushAsync(Ct);

        // Thumbs up on two of version 1's traces, down on one; a text comment does not count as a score.
        await server.PostJsonAsync("/api/cairn/scores", $$"""{"trace_id":"{{traces[0]}}","name":"user-feedback","value":true}""", 201);
        await server.PostJsonAsync("/api/cairn/scores", $$"""{"trace_id":"{{traces[1]}}","name":"user-feedback","value":true}""", 201);
        await server.PostJsonAsync("/api/cairn/scores", $$"""{"trace_id":"{{traces[2]}}","name":"user-feedback","value":false}""", 201);
        await server.PostJsonAsync("/api/cairn/scores", $$"""{"trace_id":"{{traces[2]}}","name":"note","value":"rude","data_type":"text"}""", 201);

        var usage = await server.GetAsync("/api/cairn/prompt-usage/support/triage");
        var versions = usage["versions"]!.AsArray();
        Assert.Equal(2, versions.Count);
        var v1 = versions[0]!;
        Assert.Equal((1, 3L), (v1["version"]!.GetValue<int>(), v1["calls"]!.GetValue<long>()));
        Assert.Equal(0, v1["error_rate"]!.GetValue<double>());
        Assert.True(v1["p95_latency_ms"]!.GetValue<double>() >= v1["p50_latency_ms"]!.GetValue<double>());
        Assert.True(v1["input_tokens"]!.GetValue<long>() > 0);
        Assert.True(v1["cost_usd"]!.GetValue<decimal>() > 0);
        Assert.Equal(2.0 / 3, v1["feedback_score"]!.GetValue<double>(), 6);
        Assert.Equal(3, v1["feedback_count"]!.GetValue<long>());
        Assert.Equal((2, 1L), (versions[1]!["version"]!.GetValue<int>(), versions[1]!["calls"]!.GetValue<long>()));
        Assert.Null(versions[1]!["feedback_score"]);

        // The request log and the gateway span carry the version.
        var page = await server.Services.GetRequiredService<IRequestLogStore>().SearchAsync(new RequestLogQuery { MaxResults = 10 }, Ct);
        Assert.Equal(4, page.Items.Count(r => r.PromptName == "support/triage"));
        Assert.Equal(2, page.Items.Count(r => r.PromptName is null));
        await server.GetAsync("/api/cairn/prompt-usage/nope", 404);
    }
}
