using System.Net;
using System.Text;
using Cairn.Server.Gateway;
using Cairn.Server.Observability;
using Cairn.Server.Tests.Gateway;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Cairn.Server.Tests.Observability;

/// <summary>A gateway call that carries <c>traceparent</c> becomes a GenAI span of that trace, linked to its request log record.</summary>
public sealed class GatewayTraceLinkTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GatewayCallWithTraceParent_AppearsAsGenerationSpanOfTheTrace()
    {
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        await using var server = await CairnTestServer.StartAsync(configureBuilder: b => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Cairn:Gateway:RequireApiKey"] = "false",
            ["Cairn:Gateway:Providers:fake:BaseUrl"] = upstream.BaseUrl,
            ["Cairn:Gateway:Providers:fake:Models:0"] = "gpt-4o-mini",
        }));
        var project = "agents-" + Guid.NewGuid().ToString("N")[..8];
        var traceId = Guid.NewGuid().ToString("N");
        var rootSpanId = Guid.NewGuid().ToString("N")[..16];

        // The application's own root span, sent over OTLP.
        var otlp = $$$"""
            {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"agent"}}]},"scopeSpans":[{"scope":{"name":"app"},"spans":[
              {"traceId":"{{{traceId}}}","spanId":"{{{rootSpanId}}}","name":"plan-trip","kind":1,
               "startTimeUnixNano":"{{{(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 10) * 1_000_000}}}","endTimeUnixNano":"{{{(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 5_000) * 1_000_000}}}"}]}]}]}
            """;
        using (var content = new StringContent(otlp, Encoding.UTF8, "application/json"))
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/traces") { Content = content })
        {
            request.Headers.Add("x-cairn-project", project);
            using var response = await server.Client.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // A model call through the gateway inside that span.
        string requestId;
        using (var content = new StringContent("""{"model":"fake/gpt-4o-mini","messages":[{"role":"user","content":"Where to in May?"}]}""", Encoding.UTF8, "application/json"))
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = content })
        {
            request.Headers.Add("traceparent", $"00-{traceId}-{rootSpanId}-01");
            request.Headers.Add("x-cairn-project", project);
            request.Headers.Add("Cairn-Session-Id", "trip-1");
            using var response = await server.Client.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            requestId = response.Headers.GetValues(GatewayHandler.RequestIdHeader).Single();
        }

        await server.Services.GetRequiredService<RequestLogWriter>().FlushAsync(Ct);
        await server.Services.GetRequiredService<TraceWriter>().FlushAsync(Ct);

        var trace = await server.GetAsync($"/api/cairn/traces/{traceId}?project={project}");
        Assert.Equal("plan-trip", trace["name"]!.GetValue<string>());
        Assert.Equal(2, trace["span_count"]!.GetValue<long>());
        Assert.True(trace["total_tokens"]!.GetValue<long>() > 0);
        Assert.True(trace["cost_usd"]!.GetValue<decimal>() > 0);
        Assert.Equal("trip-1", trace["session_id"]!.GetValue<string>());

        var children = await server.GetAsync($"/api/cairn/traces/{traceId}/spans?project={project}&parent_span_id={rootSpanId}");
        var node = Assert.Single(children["spans"]!.AsArray())!.AsObject();
        Assert.Equal("generation", node["type"]!.GetValue<string>());
        var span = await server.GetAsync($"/api/cairn/traces/{traceId}/spans/{node["span_id"]}?project={project}");
        Assert.Equal(requestId, span["request_log_id"]!.GetValue<string>());
        Assert.Equal("fake", span["provider"]!.GetValue<string>());
        Assert.Contains("Where to in May?", span["input"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(span["output"]?.GetValue<string>()));

        // A malformed traceparent is recorded in the log but makes no span.
        Assert.False(GatewaySpans.TryParseTraceParent("00-00000000000000000000000000000000-00f067aa0ba902b7-01", out _, out _));
        Assert.False(GatewaySpans.TryParseTraceParent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", out _, out _));
        Assert.False(GatewaySpans.TryParseTraceParent("garbage", out _, out _));
        Assert.True(GatewaySpans.TryParseTraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", out var t, out var p));
        Assert.Equal(("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"), (t, p));
    }
}
