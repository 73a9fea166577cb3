using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Client.Tracing;

namespace Cairn.Client.Tests.Tracing;

[Collection(TracingCollection.Name)]
public sealed class CairnStepTests
{
    private static string? Tag(Activity activity, string key) => activity.GetTagItem(key)?.ToString();

    [Fact]
    public void StartStep_ObjectInput_RecordsTypeAndJsonInput()
    {
        using var collector = new ActivityCollector();
        const string Query = "where is the cairn?";

        using (CairnTracing.StartStep("retrieve-docs", SpanType.Retrieval, input: new { Query, TopK = 3 }))
        {
        }

        var activity = collector.Single("retrieve-docs");
        Assert.Equal(CairnTracing.SourceName, activity.Source.Name);
        Assert.Equal(ActivityKind.Internal, activity.Kind);
        Assert.Equal("retrieval", Tag(activity, "cairn.span.type"));
        Assert.Equal("""{"query":"where is the cairn?","topK":3}""", Tag(activity, "input.value"));
        Assert.Equal("application/json", Tag(activity, "input.mime_type"));
        Assert.Null(activity.GetTagItem("output.value"));
    }

    [Theory]
    [InlineData(SpanType.Span, "span", ActivityKind.Internal)]
    [InlineData(SpanType.Generation, "generation", ActivityKind.Client)]
    [InlineData(SpanType.Embedding, "embedding", ActivityKind.Client)]
    [InlineData(SpanType.Tool, "tool", ActivityKind.Internal)]
    [InlineData(SpanType.Retrieval, "retrieval", ActivityKind.Internal)]
    [InlineData(SpanType.Agent, "agent", ActivityKind.Internal)]
    [InlineData(SpanType.Chain, "chain", ActivityKind.Internal)]
    public void StartStep_EachType_WritesWireNameAndKind(SpanType type, string wireName, ActivityKind kind)
    {
        using var collector = new ActivityCollector();

        CairnTracing.StartStep("step", type).Dispose();

        var activity = collector.Single("step");
        Assert.Equal(wireName, Tag(activity, "cairn.span.type"));
        Assert.Equal(kind, activity.Kind);
    }

    [Fact]
    public void SetOutput_String_RecordsTextPlain()
    {
        using var collector = new ActivityCollector();

        using (var step = CairnTracing.StartStep("answer", SpanType.Chain, "what is 2+2?"))
        {
            step.SetOutput("4");
        }

        var activity = collector.Single("answer");
        Assert.Equal("what is 2+2?", Tag(activity, "input.value"));
        Assert.Equal("text/plain", Tag(activity, "input.mime_type"));
        Assert.Equal("4", Tag(activity, "output.value"));
        Assert.Equal("text/plain", Tag(activity, "output.mime_type"));
    }

    [Fact]
    public void SetOutput_JsonNodeAndElement_WritesJsonAsIs()
    {
        using var collector = new ActivityCollector();
        using var document = JsonDocument.Parse("""{ "b": [1, 2] }""");

        using (var step = CairnTracing.StartStep("json", SpanType.Tool, new JsonObject { ["a"] = "é" }))
        {
            step.SetOutput(document.RootElement);
        }

        var activity = collector.Single("json");
        Assert.Equal("""{"a":"é"}""", Tag(activity, "input.value"));
        Assert.Equal("application/json", Tag(activity, "input.mime_type"));
        Assert.Equal("""{ "b": [1, 2] }""", Tag(activity, "output.value"));
        Assert.Equal("application/json", Tag(activity, "output.mime_type"));
    }

    [Fact]
    public void SetOutput_WithTypeInfo_SerializesWithTheContract()
    {
        using var collector = new ActivityCollector();
        List<RetrievedDocument> documents = [new("d1", 0.9), new("d2", 0.5)];

        using (var step = CairnTracing.StartStep("retrieve", SpanType.Retrieval))
        {
            step.SetOutput(documents, TracingTestJsonContext.Default.ListRetrievedDocument);
        }

        Assert.Equal("""[{"id":"d1","score":0.9},{"id":"d2","score":0.5}]""", Tag(collector.Single("retrieve"), "output.value"));
    }

    [Fact]
    public void SetInput_Unserializable_RecordsNoteInsteadOfThrowing()
    {
        using var collector = new ActivityCollector();
        var cycle = new Node();
        cycle.Next = cycle;

        using (var step = CairnTracing.StartStep("cycle"))
        {
            step.SetInput(cycle);
        }

        var activity = collector.Single("cycle");
        Assert.StartsWith("<Node could not be serialized:", Tag(activity, "input.value"), StringComparison.Ordinal);
        Assert.Equal("text/plain", Tag(activity, "input.mime_type"));
    }

    [Fact]
    public void SetInput_OverOneMebibyte_IsCutAndRecordedAsText()
    {
        using var collector = new ActivityCollector();
        var big = new { Text = new string('€', CairnTracing.MaxPayloadBytes / 2) };

        using (var step = CairnTracing.StartStep("big"))
        {
            step.SetInput(big);
            step.SetOutput(new string('x', CairnTracing.MaxPayloadBytes));
        }

        var activity = collector.Single("big");
        var input = Tag(activity, "input.value")!;
        Assert.EndsWith("…[truncated]", input, StringComparison.Ordinal);
        Assert.StartsWith("""{"text":"€€€""", input, StringComparison.Ordinal);
        Assert.InRange(System.Text.Encoding.UTF8.GetByteCount(input), CairnTracing.MaxPayloadBytes - 32, CairnTracing.MaxPayloadBytes);
        Assert.Equal("text/plain", Tag(activity, "input.mime_type"));

        // Exactly at the cap is kept whole.
        Assert.Equal(CairnTracing.MaxPayloadBytes, Tag(activity, "output.value")!.Length);
    }

    [Fact]
    public async Task StartStep_InsideAStepWithSessionAndUser_InheritsThem()
    {
        using var collector = new ActivityCollector();

        using (var outer = CairnTracing.StartStep("agent", SpanType.Agent))
        {
            outer.SetSession("s-1").SetUser("u-1");
            await Task.Run(async () =>
            {
                using var middle = CairnTracing.StartStep("plan", SpanType.Chain);
                await Task.Yield();
                using (CairnTracing.StartStep("search", SpanType.Tool))
                {
                }

                using var other = CairnTracing.StartStep("other-user", SpanType.Tool).SetUser("u-2");
                using (CairnTracing.StartStep("leaf"))
                {
                }
            }, TestContext.Current.CancellationToken);
        }

        using (CairnTracing.StartStep("after"))
        {
        }

        Assert.Equal("s-1", Tag(collector.Single("plan"), "session.id"));
        Assert.Equal("u-1", Tag(collector.Single("search"), "user.id"));
        Assert.Equal("s-1", Tag(collector.Single("search"), "session.id"));
        Assert.Equal("u-2", Tag(collector.Single("leaf"), "user.id"));
        Assert.Equal("s-1", Tag(collector.Single("leaf"), "session.id"));
        Assert.Null(collector.Single("after").GetTagItem("session.id"));
        Assert.Null(collector.Single("after").GetTagItem("user.id"));
    }

    [Fact]
    public void AddTags_SeveralCalls_MergesWithoutRepeats()
    {
        using var collector = new ActivityCollector();

        using (var step = CairnTracing.StartStep("tagged"))
        {
            step.AddTags("beta").AddTags("beta", "eu").SetAttribute("k", 42).SetRequestId("req-1").SetCost(0.0125);
        }

        var activity = collector.Single("tagged");
        Assert.Equal(["beta", "eu"], Assert.IsType<string[]>(activity.GetTagItem("tags")));
        Assert.Equal(42, activity.GetTagItem("k"));
        Assert.Equal("req-1", Tag(activity, "cairn.request_id"));
        Assert.Equal(0.0125, activity.GetTagItem("cairn.cost_usd"));
    }

    [Fact]
    public void RecordGeneration_AllArguments_WritesGenAIAttributes()
    {
        using var collector = new ActivityCollector();

        using (var step = CairnTracing.StartStep("chat gpt-4o-mini", SpanType.Generation))
        {
            step.RecordGeneration(
                model: "gpt-4o-mini", provider: "openai", inputTokens: 1000, outputTokens: 200, cachedInputTokens: 400, reasoningTokens: 50,
                responseModel: "gpt-4o-mini-2024-07-18");
            step.SetInputMessages("""[{"role":"user","parts":[{"type":"text","content":"hi"}]}]""");
            step.SetOutputMessages(new JsonArray(new JsonObject { ["role"] = "assistant" }));
        }

        var activity = collector.Single("chat gpt-4o-mini");
        Assert.Equal("chat", Tag(activity, "gen_ai.operation.name"));
        Assert.Equal("openai", Tag(activity, "gen_ai.provider.name"));
        Assert.Equal("gpt-4o-mini", Tag(activity, "gen_ai.request.model"));
        Assert.Equal("gpt-4o-mini-2024-07-18", Tag(activity, "gen_ai.response.model"));
        Assert.Equal(1000L, activity.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Equal(200L, activity.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.Equal(400L, activity.GetTagItem("gen_ai.usage.cache_read.input_tokens"));
        Assert.Equal(50L, activity.GetTagItem("gen_ai.usage.reasoning.output_tokens"));
        Assert.Equal("""[{"role":"user","parts":[{"type":"text","content":"hi"}]}]""", Tag(activity, "gen_ai.input.messages"));
        Assert.Equal("""[{"role":"assistant"}]""", Tag(activity, "gen_ai.output.messages"));
    }

    [Fact]
    public void RecordGeneration_EmbeddingStepWithModelOnly_UsesEmbeddingsOperationAndSkipsUnknowns()
    {
        using var collector = new ActivityCollector();

        using (var step = CairnTracing.StartStep("embed", SpanType.Embedding))
        {
            step.RecordGeneration("text-embedding-3-small", inputTokens: 8);
        }

        var activity = collector.Single("embed");
        Assert.Equal("embeddings", Tag(activity, "gen_ai.operation.name"));
        Assert.Equal(8L, activity.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Null(activity.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.Null(activity.GetTagItem("gen_ai.provider.name"));
    }

    [Fact]
    public async Task RunStepAsync_Result_IsRecordedAsOutput()
    {
        using var collector = new ActivityCollector();

        var answer = await CairnTracing.RunStepAsync("answer", SpanType.Chain, new { Question = "q" }, async step =>
        {
            await Task.Yield();
            return new { Text = "a" };
        });

        Assert.Equal("a", answer.Text);
        var activity = collector.Single("answer");
        Assert.Equal("""{"question":"q"}""", Tag(activity, "input.value"));
        Assert.Equal("""{"text":"a"}""", Tag(activity, "output.value"));
        Assert.Equal(ActivityStatusCode.Unset, activity.Status);
    }

    [Fact]
    public async Task RunStepAsync_BodySetsOutput_KeepsIt()
    {
        using var collector = new ActivityCollector();

        await CairnTracing.RunStepAsync("explicit", SpanType.Tool, async step =>
        {
            await Task.Yield();
            step.SetOutput("chosen");
            return 42;
        });

        Assert.Equal("chosen", Tag(collector.Single("explicit"), "output.value"));
    }

    [Fact]
    public async Task RunStepAsync_BodyThrows_RecordsErrorAndRethrows()
    {
        using var collector = new ActivityCollector();
        var thrown = new InvalidOperationException("the tool broke");

        var caught = await Assert.ThrowsAsync<InvalidOperationException>(() => CairnTracing.RunStepAsync("failing", SpanType.Tool, "input", async step =>
        {
            await Task.Yield();
            throw thrown;
        }));

        Assert.Same(thrown, caught);
        var activity = collector.Single("failing");
        Assert.Equal(ActivityStatusCode.Error, activity.Status);
        Assert.Equal("the tool broke", activity.StatusDescription);
        Assert.Equal(typeof(InvalidOperationException).FullName, Tag(activity, "error.type"));
        var exceptionEvent = Assert.Single(activity.Events, e => e.Name == "exception");
        var eventTags = exceptionEvent.Tags.ToDictionary(t => t.Key, t => t.Value);
        Assert.Equal(typeof(InvalidOperationException).FullName, eventTags["exception.type"]);
        Assert.Equal("the tool broke", eventTags["exception.message"]);
        Assert.Null(activity.GetTagItem("output.value"));
    }

    [Fact]
    public async Task RunStepAsync_Sequential_StepsAreSiblingsUnderTheCaller()
    {
        using var collector = new ActivityCollector();

        using (CairnTracing.StartStep("parent", SpanType.Agent))
        {
            await CairnTracing.RunStepAsync("first", SpanType.Tool, step => Task.CompletedTask);
            await CairnTracing.RunStepAsync("second", SpanType.Tool, async step => await Task.Yield());
            Assert.Equal("parent", Activity.Current?.DisplayName);
        }

        var parent = collector.Single("parent");
        Assert.Equal(parent.SpanId, collector.Single("first").ParentSpanId);
        Assert.Equal(parent.SpanId, collector.Single("second").ParentSpanId);
    }

    [Fact]
    public void RunStep_Sync_RecordsOutputAndErrors()
    {
        using var collector = new ActivityCollector();

        var sum = CairnTracing.RunStep("add", SpanType.Tool, new[] { 1, 2 }, step => 3);
        Assert.Throws<FormatException>(() => CairnTracing.RunStep("parse", SpanType.Tool, step => { _ = int.Parse("x", System.Globalization.CultureInfo.InvariantCulture); }));

        Assert.Equal(3, sum);
        Assert.Equal("[1,2]", Tag(collector.Single("add"), "input.value"));
        Assert.Equal("3", Tag(collector.Single("add"), "output.value"));
        Assert.Equal("application/json", Tag(collector.Single("add"), "output.mime_type"));
        Assert.Equal(ActivityStatusCode.Error, collector.Single("parse").Status);
        Assert.Single(collector.Single("parse").Events, e => e.Name == "exception");
    }

    [Fact]
    public void Fail_Description_SetsErrorStatusWithoutEvent()
    {
        using var collector = new ActivityCollector();

        using (var step = CairnTracing.StartStep("guard"))
        {
            step.Fail("blocked by the content filter");
        }

        var activity = collector.Single("guard");
        Assert.Equal(ActivityStatusCode.Error, activity.Status);
        Assert.Equal("blocked by the content filter", activity.StatusDescription);
        Assert.Empty(activity.Events);
    }

    [Fact]
    public async Task StartStep_NoListener_ReturnsInertStepWithoutAllocating()
    {
        Assert.SkipWhen(CairnTracing.ActivitySource.HasListeners(), "Something else in the process listens to the Cairn source.");

        static void Exercise()
        {
            using var step = CairnTracing.StartStep("free", SpanType.Generation, "input text");
            step.SetOutput("output").SetSession("s").SetUser("u").AddTags("a", "b").SetAttribute("k", "v")
                .RecordGeneration("m", "p", 1, 2, 3, 4, "r").SetInputMessages("[]").Fail("no");
        }

        Exercise();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            Exercise();
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        var step = CairnTracing.StartStep("free");
        Assert.Null(step.Activity);
        Assert.False(step.IsRecording);
        Assert.Equal(0, allocated);
        Assert.Equal(42, await CairnTracing.RunStepAsync("free", SpanType.Tool, s => Task.FromResult(42)));
        Assert.Throws<InvalidOperationException>(() => CairnTracing.RunStep("free", SpanType.Tool, s => throw new InvalidOperationException()));
    }

    [Fact]
    public void SerializerOptions_SetWithoutResolver_Throws()
    {
        Assert.Throws<ArgumentException>(() => CairnTracing.SerializerOptions = new JsonSerializerOptions());
        Assert.True(CairnTracing.SerializerOptions.IsReadOnly);
    }

    private sealed class Node
    {
        public Node? Next { get; set; }
    }
}
