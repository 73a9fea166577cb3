using System.Net;
using System.Net.Http.Json;
using Cairn.Client.Tests.Integration;
using Cairn.Client.Tracing;
using Cairn.Contracts.Observability;
using Microsoft.Extensions.AI;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Cairn.Client.Tests.Tracing;

/// <summary>Steps and Microsoft.Extensions.AI spans exported by <see cref="CairnTracerProviderBuilderExtensions.AddCairnExporter"/> to a real Cairn server, read back through its trace API.</summary>
[Collection(TracingCollection.Name)]
public sealed class TracingServerIntegrationTests(CairnServerFixture server) : IClassFixture<CairnServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AddCairnExporter_AgainstServer_StepsLandWithTypesSessionUsageAndErrors()
    {
        var project = "sdk-" + Guid.NewGuid().ToString("N")[..8];
        using var chatClient = new ChatClientBuilder(new FakeChatClient { Reply = "Cairn is an LLMOps platform." })
            .UseOpenTelemetry(configure: c => c.EnableSensitiveData = true)
            .Build();
        string traceId;
        using (var provider = Sdk.CreateTracerProviderBuilder().AddCairnExporter(server.BaseAddress, project: project, apiKey: "ck-test").Build())
        {
            traceId = await CairnTracing.RunStepAsync("answer-question", SpanType.Agent, new { Question = "What is Cairn?" }, async step =>
            {
                step.SetSession("conv-1").SetUser("alice").AddTags("beta");

                await CairnTracing.RunStepAsync("search-kb", SpanType.Retrieval, "cairn", s => Task.FromResult(new[] { "doc-1", "doc-2" }));

                using (var generation = CairnTracing.StartStep("call-model", SpanType.Generation))
                {
                    generation.SetInputMessages("""[{"role":"user","parts":[{"type":"text","content":"What is Cairn?"}]}]""");
                    generation.RecordGeneration("gpt-4o-mini", "openai", inputTokens: 1000, outputTokens: 200, cachedInputTokens: 400, reasoningTokens: 50);
                    generation.SetRequestId("req-123");
                }

                try
                {
                    CairnTracing.RunStep("lookup-order", SpanType.Tool, step => throw new KeyNotFoundException("no order 42"));
                }
                catch (KeyNotFoundException)
                {
                }

                await chatClient.GetResponseAsync("What is Cairn?", new ChatOptions { ModelId = "gpt-4o-mini" }, Ct);
                return step.Activity!.TraceId.ToHexString();
            });
            Assert.True(provider.ForceFlush(10_000));
        }

        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        var trace = await WaitForTraceAsync(http, project, traceId);
        Assert.Equal("answer-question", trace.Name);
        Assert.Equal("conv-1", trace.SessionId);
        Assert.Equal("alice", trace.UserId);
        Assert.Contains("beta", trace.Tags);
        Assert.Equal(5, trace.SpanCount);
        Assert.Equal(1, trace.ErrorCount);
        Assert.Contains("What is Cairn?", trace.Input, StringComparison.Ordinal);

        var root = Assert.Single((await GetSpansAsync(http, project, traceId, parentSpanId: null)).Spans);
        Assert.Equal("agent", root.Type);
        var children = (await GetSpansAsync(http, project, traceId, root.SpanId)).Spans.ToDictionary(s => s.Name);
        Assert.Equal("retrieval", children["search-kb"].Type);
        Assert.Equal("tool", children["lookup-order"].Type);
        Assert.Equal("error", children["lookup-order"].Status);
        Assert.Equal("generation", children["call-model"].Type);
        var chatSpan = Assert.Single(children.Values, s => s.Name == "chat gpt-4o-mini");
        Assert.Equal("generation", chatSpan.Type);

        var generationSpan = await GetSpanAsync(http, project, traceId, children["call-model"].SpanId);
        Assert.Equal("openai", generationSpan.Provider);
        Assert.Equal("gpt-4o-mini", generationSpan.RequestModel);
        Assert.Equal(1000, generationSpan.InputTokens);
        Assert.Equal(200, generationSpan.OutputTokens);
        Assert.Equal(400, generationSpan.CachedInputTokens);
        Assert.Equal(50, generationSpan.ReasoningTokens);
        Assert.Equal("conv-1", generationSpan.SessionId);
        Assert.Equal("alice", generationSpan.UserId);

        var failed = await GetSpanAsync(http, project, traceId, children["lookup-order"].SpanId);
        Assert.Equal("no order 42", failed.StatusMessage);

        var meaiSpan = await GetSpanAsync(http, project, traceId, chatSpan.SpanId);
        Assert.Equal(CairnTracing.MicrosoftExtensionsAISourceName, meaiSpan.ScopeName);
        Assert.Equal("conv-1", meaiSpan.SessionId);
        Assert.Equal(12, meaiSpan.InputTokens);
        Assert.Contains("Cairn is an LLMOps platform.", meaiSpan.Output, StringComparison.Ordinal);
    }

    private static async Task<TraceInfo> WaitForTraceAsync(HttpClient http, string project, string traceId)
    {
        // The server writes spans in batches, shortly after it acknowledges them.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await http.GetAsync($"api/cairn/traces/{traceId}?project={project}", Ct);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                var trace = (await response.Content.ReadFromJsonAsync(TraceJsonContext.Default.TraceInfo, Ct))!;
                if (trace.SpanCount >= 5 || DateTime.UtcNow > deadline)
                {
                    return trace;
                }
            }
            else
            {
                Assert.True(DateTime.UtcNow < deadline, $"The trace {traceId} did not appear: {response.StatusCode}.");
            }

            await Task.Delay(100, Ct);
        }
    }

    private static async Task<ListSpansResponse> GetSpansAsync(HttpClient http, string project, string traceId, string? parentSpanId) =>
        (await http.GetFromJsonAsync(
            $"api/cairn/traces/{traceId}/spans?project={project}" + (parentSpanId is null ? "" : "&parent_span_id=" + parentSpanId),
            TraceJsonContext.Default.ListSpansResponse,
            Ct))!;

    private static async Task<SpanInfo> GetSpanAsync(HttpClient http, string project, string traceId, string spanId) =>
        (await http.GetFromJsonAsync($"api/cairn/traces/{traceId}/spans/{spanId}?project={project}", TraceJsonContext.Default.SpanInfo, Ct))!;
}
