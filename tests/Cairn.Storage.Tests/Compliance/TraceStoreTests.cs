using Cairn.Core.Observability;

namespace Cairn.Storage.Tests.Compliance;

/// <summary>Spans, trace roll-ups, the lazy trace tree, sessions, scores and retention on every backend.</summary>
public abstract partial class TrackingStoreComplianceTests
{
    private const long T0 = 1_764_000_000_000_000_000;

    private ITraceStore Traces => Fixture.Storage.Traces;

    private static string NewTraceId() => Guid.NewGuid().ToString("N");

    private static string NewSpanId() => Guid.NewGuid().ToString("N")[..16];

    private static SpanRecord Span(string project, string traceId, string name, string? parent = null, long startMs = 0, long durationMs = 10) => new()
    {
        Project = project,
        TraceId = traceId,
        SpanId = NewSpanId(),
        ParentSpanId = parent,
        Name = name,
        Kind = SpanKind.Internal,
        StartTimeUnixNano = T0 + (startMs * 1_000_000),
        EndTimeUnixNano = T0 + ((startMs + durationMs) * 1_000_000),
    };

    private static SpanRecord Generation(string project, string traceId, string parent, long startMs, string model, long input, long output, long cached, decimal cost) =>
        Span(project, traceId, "chat " + model, parent, startMs, 50) with
        {
            Type = SpanTypes.Generation,
            Kind = SpanKind.Client,
            Operation = "chat",
            Provider = "openai",
            RequestModel = model,
            ResponseModel = model + "-2024",
            InputTokens = input,
            OutputTokens = output,
            CachedInputTokens = cached,
            CostUsd = cost,
            Input = """[{"role":"user","content":"hi"}]""",
            Output = """[{"role":"assistant","content":"hello"}]""",
        };

    [Fact]
    public async Task Traces_SpansInAnyOrderAndBatches_RollUpOnce()
    {
        var project = UniqueName("proj");
        var traceId = NewTraceId();
        var root = Span(project, traceId, "answer-question", startMs: 0, durationMs: 1000) with
        {
            Input = "What is Cairn?",
            Output = "An LLMOps platform.",
            UserId = "u-1",
            SessionId = "s-1",
            ServiceName = "rag-app",
            Tags = ["beta"],
        };
        var retrieve = Span(project, traceId, "retrieve", root.SpanId, 10, 50) with { Type = SpanTypes.Retrieval, Tags = ["beta", "rag"] };
        var chat1 = Generation(project, traceId, root.SpanId, 100, "gpt-4o-mini", 1000, 200, 400, 0.0003m);
        var chat2 = Generation(project, traceId, root.SpanId, 300, "claude-sonnet-4", 500, 100, 0, 0.002m) with { StatusCode = SpanStatusCode.Error, StatusMessage = "rate limited" };

        // Children before their root, in two batches; then one batch again (an exporter retry).
        await Traces.AppendAsync([chat2, retrieve], Ct);
        var partial = await Traces.GetTraceAsync(project, traceId, Ct);
        Assert.NotNull(partial);
        Assert.Null(partial.RootSpanId);
        Assert.Equal("retrieve", partial.Name);
        Assert.Equal(2, partial.SpanCount);

        await Traces.AppendAsync([root, chat1], Ct);
        await Traces.AppendAsync([chat2, retrieve], Ct);

        var trace = await Traces.GetTraceAsync(project, traceId, Ct);
        Assert.NotNull(trace);
        Assert.Equal("answer-question", trace.Name);
        Assert.Equal(root.SpanId, trace.RootSpanId);
        Assert.Equal(4, trace.SpanCount);
        Assert.Equal(1, trace.ErrorCount);
        Assert.True(trace.HasError);
        Assert.Equal(1500, trace.InputTokens);
        Assert.Equal(300, trace.OutputTokens);
        Assert.Equal(400, trace.CachedInputTokens);
        Assert.Equal(0.0023m, trace.CostUsd);
        Assert.Equal(1000, trace.DurationMs);
        Assert.Equal(T0, trace.StartTimeUnixNano);
        Assert.Equal(["gpt-4o-mini-2024", "claude-sonnet-4-2024"], trace.Models);
        Assert.Equal(["beta", "rag"], trace.Tags);
        Assert.Equal("u-1", trace.UserId);
        Assert.Equal("s-1", trace.SessionId);
        Assert.Equal("rag-app", trace.ServiceName);
        Assert.Equal("What is Cairn?", trace.Input);
        Assert.Equal("An LLMOps platform.", trace.Output);

        // Another project does not see it.
        Assert.Null(await Traces.GetTraceAsync(UniqueName("other"), traceId, Ct));
    }

    [Fact]
    public async Task Traces_AgentSpanRepeatingItsCallsUsage_IsNotCountedTwice()
    {
        var project = UniqueName("proj");
        var traceId = NewTraceId();
        var agent = Span(project, traceId, "invoke_agent planner", durationMs: 500) with
        {
            Type = SpanTypes.Agent,
            InputTokens = 300,
            OutputTokens = 30,
            CostUsd = 0.003m,
        };
        await Traces.AppendAsync(
            [agent, Generation(project, traceId, agent.SpanId, 10, "gpt-4o", 100, 10, 0, 0.001m), Generation(project, traceId, agent.SpanId, 200, "gpt-4o", 200, 20, 50, 0.002m)],
            Ct);
        var trace = await Traces.GetTraceAsync(project, traceId, Ct);
        Assert.NotNull(trace);
        Assert.Equal((300, 30, 50, 0.003m), (trace.InputTokens, trace.OutputTokens, trace.CachedInputTokens, trace.CostUsd));

        // With no model-call spans of its own, the agent's figures are the trace's.
        var alone = NewTraceId();
        await Traces.AppendAsync([agent with { TraceId = alone }], Ct);
        var aloneTrace = await Traces.GetTraceAsync(project, alone, Ct);
        Assert.NotNull(aloneTrace);
        Assert.Equal((300, 30, 0.003m), (aloneTrace.InputTokens, aloneTrace.OutputTokens, aloneTrace.CostUsd));
    }

    [Fact]
    public async Task Traces_GetSpan_RoundTripsEveryField()
    {
        var project = UniqueName("proj");
        var span = Generation(project, NewTraceId(), NewSpanId(), 5, "gpt-4o", 1234, 567, 89, 0.0125m) with
        {
            CacheWriteTokens = 12,
            ReasoningTokens = 34,
            StatusCode = SpanStatusCode.Ok,
            StatusMessage = "fine",
            UserId = "u",
            SessionId = "s",
            ServiceName = "svc",
            ScopeName = "Experimental.Microsoft.Extensions.AI",
            Tags = ["a", "b c"],
            AttributesJson = """{"gen_ai.request.model":"gpt-4o","n":3,"ok":true,"list":["x","y"]}""",
            ResourceJson = """{"service.name":"svc"}""",
            EventsJson = """[{"name":"exception","time_unix_nano":1,"attributes":{"exception.message":"boom"}}]""",
            LinksJson = """[{"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331","attributes":{}}]""",
            Flags = SpanFlags.Truncated | SpanFlags.EndBeforeStart,
            RequestLogId = "req_123",
            Input = """[{"role":"user","content":"héllo ✓"}]""",
        };
        await Traces.AppendAsync([span], Ct);

        var read = await Traces.GetSpanAsync(project, span.TraceId, span.SpanId, Ct);
        Assert.NotNull(read);
        Assert.Equal(span with { Tags = [] }, read with { Tags = [] });
        Assert.Equal(span.Tags, read.Tags);
        Assert.Null(await Traces.GetSpanAsync(project, span.TraceId, NewSpanId(), Ct));
    }

    [Fact]
    public async Task Traces_Children_LoadLazily_WithCountsAndPages()
    {
        var project = UniqueName("proj");
        var traceId = NewTraceId();
        var root = Span(project, traceId, "root", durationMs: 5000);
        var children = Enumerable.Range(0, 25).Select(i => Span(project, traceId, $"step-{i:D2}", root.SpanId, 10 + i)).ToList();
        var grandchildren = Enumerable.Range(0, 3).Select(i => Span(project, traceId, $"tool-{i}", children[0].SpanId, 11 + i)).ToList();
        var orphan = Span(project, traceId, "orphan", NewSpanId(), 4000);
        await Traces.AppendAsync([.. grandchildren, orphan, .. children, root], Ct);

        var top = await Traces.GetChildrenAsync(project, traceId, null, 10, null, Ct);
        Assert.Equal(["root", "orphan"], top.Items.Select(n => n.Name));
        Assert.Equal(25, top.Items[0].ChildCount);
        Assert.Equal(0, top.Items[1].ChildCount);
        Assert.Null(top.NextPageToken);

        var names = new List<string>();
        string? token = null;
        do
        {
            var page = await Traces.GetChildrenAsync(project, traceId, root.SpanId, 10, token, Ct);
            names.AddRange(page.Items.Select(n => n.Name));
            if (page.Items[0].Name == "step-00")
            {
                Assert.Equal(3, page.Items[0].ChildCount);
            }

            token = page.NextPageToken;
        }
        while (token is not null);

        Assert.Equal(children.Select(c => c.Name), names);
        var tools = await Traces.GetChildrenAsync(project, traceId, children[0].SpanId, 10, null, Ct);
        Assert.Equal(["tool-0", "tool-1", "tool-2"], tools.Items.Select(n => n.Name));
    }

    [Fact]
    public async Task Traces_Search_FiltersOrdersAndPages()
    {
        var project = UniqueName("proj");
        var traces = new List<(string TraceId, SpanRecord Root)>();
        for (var i = 0; i < 12; i++)
        {
            var traceId = NewTraceId();
            var root = Span(project, traceId, i % 2 == 0 ? "chat-turn" : "Nightly_Batch", startMs: i * 1000, durationMs: 100 + i) with
            {
                UserId = i < 6 ? "alice" : "bob",
                SessionId = $"session-{i / 4}",
                Tags = i % 3 == 0 ? ["vip"] : [],
                StatusCode = i == 5 ? SpanStatusCode.Error : SpanStatusCode.Unset,
                AttributesJson = $$"""{"env":"{{(i < 3 ? "prod" : "dev")}}","i":{{i}}}""",
            };
            var chat = Generation(project, traceId, root.SpanId, (i * 1000) + 1, i % 4 == 0 ? "gpt-4o" : "gpt-4o-mini", 100 * i, 10, 0, 0.001m * i);
            await Traces.AppendAsync([root, chat], Ct);
            traces.Add((traceId, root));
        }

        async Task<List<string>> Ids(TraceQuery query)
        {
            var ids = new List<string>();
            string? token = null;
            do
            {
                var page = await Traces.SearchTracesAsync(query with { Project = project, PageToken = token }, Ct);
                ids.AddRange(page.Items.Select(t => t.TraceId));
                token = page.NextPageToken;
            }
            while (token is not null);
            return ids;
        }

        var newest = await Ids(new TraceQuery { MaxResults = 5 });
        Assert.Equal(traces.Select(t => t.TraceId).Reverse(), newest);
        Assert.Equal(traces.Select(t => t.TraceId), await Ids(new TraceQuery { Order = TraceOrder.Oldest, MaxResults = 4 }));
        Assert.Equal(traces.Select(t => t.TraceId).Reverse(), await Ids(new TraceQuery { Order = TraceOrder.Costliest, MaxResults = 5 }));
        Assert.Equal(traces.Select(t => t.TraceId).Reverse(), await Ids(new TraceQuery { Order = TraceOrder.Slowest, MaxResults = 7 }));
        Assert.Equal(traces.Select(t => t.TraceId).Reverse(), await Ids(new TraceQuery { Order = TraceOrder.MostTokens, MaxResults = 3 }));

        Assert.Equal(6, (await Ids(new TraceQuery { Name = "nightly_b" })).Count);
        Assert.Equal([traces[5].TraceId], await Ids(new TraceQuery { HasError = true }));
        Assert.Equal(11, (await Ids(new TraceQuery { HasError = false })).Count);
        Assert.Equal(3, (await Ids(new TraceQuery { Model = "gpt-4o-2024" })).Count);
        Assert.Empty(await Ids(new TraceQuery { Model = "gpt-4" }));
        Assert.Equal(4, (await Ids(new TraceQuery { Tag = "vip" })).Count);
        Assert.Equal(6, (await Ids(new TraceQuery { UserId = "bob" })).Count);
        Assert.Equal(4, (await Ids(new TraceQuery { SessionId = "session-1" })).Count);
        Assert.Equal(3, (await Ids(new TraceQuery { Attribute = new("env", "prod") })).Count);
        Assert.Equal([traces[7].TraceId], await Ids(new TraceQuery { Attribute = new("i", "7") }));
        Assert.Equal(2, (await Ids(new TraceQuery { MinDurationMs = 110 })).Count);
        Assert.Equal(3, (await Ids(new TraceQuery { MinCostUsd = 0.009m })).Count);
        Assert.Equal(2, (await Ids(new TraceQuery { MinTokens = 1010 })).Count);
        Assert.Equal(4, (await Ids(new TraceQuery { From = T0 + 2_000_000_000, To = T0 + 6_000_000_000 })).Count);
        Assert.Empty((await Traces.SearchTracesAsync(new TraceQuery { Project = UniqueName("none") }, Ct)).Items);
        await Assert.ThrowsAsync<Cairn.Core.Tracking.TrackingException>(() => Traces.SearchTracesAsync(new TraceQuery { Project = project, PageToken = "%%%" }, Ct));
        var malformed = Convert.ToBase64String("not-a-number|x"u8);
        await Assert.ThrowsAsync<Cairn.Core.Tracking.TrackingException>(() => Traces.SearchTracesAsync(new TraceQuery { Project = project, PageToken = malformed }, Ct));
        await Assert.ThrowsAsync<Cairn.Core.Tracking.TrackingException>(() => Traces.SearchTracesAsync(new TraceQuery { Project = project, PageToken = Convert.ToBase64String("no-separator"u8) }, Ct));
        await Assert.ThrowsAsync<Cairn.Core.Tracking.TrackingException>(() => Traces.SearchSessionsAsync(new SessionQuery { Project = project, PageToken = malformed }, Ct));
        await Assert.ThrowsAsync<Cairn.Core.Tracking.TrackingException>(() => Traces.GetChildrenAsync(project, traces[0].TraceId, null, 10, malformed, Ct));
    }

    [Fact]
    public async Task Traces_Sessions_GroupTraces()
    {
        var project = UniqueName("proj");
        for (var i = 0; i < 5; i++)
        {
            var traceId = NewTraceId();
            var root = Span(project, traceId, "turn", startMs: i * 100, durationMs: 50) with
            {
                SessionId = i < 3 ? "conv-a" : "conv-b",
                UserId = "carol",
                StatusCode = i == 4 ? SpanStatusCode.Error : SpanStatusCode.Unset,
            };
            await Traces.AppendAsync([root, Generation(project, traceId, root.SpanId, (i * 100) + 1, "gpt-4o-mini", 10, 5, 0, 0.5m)], Ct);
        }

        var first = await Traces.SearchSessionsAsync(new SessionQuery { Project = project, MaxResults = 1 }, Ct);
        var session = Assert.Single(first.Items);
        Assert.Equal("conv-b", session.SessionId);
        Assert.Equal(2, session.TraceCount);
        Assert.Equal(30, session.TotalTokens);
        Assert.Equal(1.0m, session.CostUsd);
        Assert.Equal(1, session.ErrorCount);
        Assert.Equal("carol", session.UserId);
        var second = await Traces.SearchSessionsAsync(new SessionQuery { Project = project, MaxResults = 1, PageToken = first.NextPageToken }, Ct);
        Assert.Equal("conv-a", Assert.Single(second.Items).SessionId);
        Assert.Equal(3, second.Items[0].TraceCount);
        Assert.Null(second.NextPageToken);
        Assert.Empty((await Traces.SearchSessionsAsync(new SessionQuery { Project = project, UserId = "dave" }, Ct)).Items);

        // Users: carol's five traces in two sessions, and dave's one without a session.
        var daveTrace = NewTraceId();
        await Traces.AppendAsync([Span(project, daveTrace, "turn", startMs: 1000, durationMs: 10) with { UserId = "dave" }], Ct);
        var users = await Traces.SearchUsersAsync(new UserQuery { Project = project, MaxResults = 1 }, Ct);
        var dave = Assert.Single(users.Items);
        Assert.Equal(("dave", 1L, 0L), (dave.UserId, dave.TraceCount, dave.SessionCount));
        var more = await Traces.SearchUsersAsync(new UserQuery { Project = project, MaxResults = 1, PageToken = users.NextPageToken }, Ct);
        var carol = Assert.Single(more.Items);
        Assert.Equal(("carol", 5L, 2L, 75L, 2.5m, 1L), (carol.UserId, carol.TraceCount, carol.SessionCount, carol.TotalTokens, carol.CostUsd, carol.ErrorCount));
        Assert.Null(more.NextPageToken);
    }

    [Fact]
    public async Task Traces_Scores_AddListDelete()
    {
        var project = UniqueName("proj");
        var traceId = NewTraceId();
        var root = Span(project, traceId, "turn");
        await Traces.AppendAsync([root], Ct);
        var thumbs = new Score { Id = UniqueName("score"), Project = project, TraceId = traceId, Name = "user-feedback", DataType = ScoreDataType.Boolean, Value = 1, Source = ScoreSource.Human, Comment = "great", Author = "u-1", Timestamp = 1000 };
        var label = new Score { Id = UniqueName("score"), Project = project, TraceId = traceId, SpanId = root.SpanId, Name = "tone", DataType = ScoreDataType.Categorical, StringValue = "friendly", Source = ScoreSource.Evaluator, Timestamp = 2000 };
        var numeric = new Score { Id = UniqueName("score"), Project = project, TraceId = traceId, Name = "correctness", DataType = ScoreDataType.Numeric, Value = 0.75, Source = ScoreSource.Api, Timestamp = 3000 };
        var text = new Score { Id = UniqueName("score"), Project = project, TraceId = traceId, Name = "note", DataType = ScoreDataType.Text, StringValue = "checked by QA", Source = ScoreSource.Human, Timestamp = 4000 };
        foreach (var score in (Score[])[thumbs, label, numeric, text])
        {
            await Traces.AddScoreAsync(score, Ct);
        }

        Assert.Equal([thumbs, label, numeric, text], await Traces.GetScoresAsync(project, traceId, Ct));
        Assert.True(await Traces.DeleteScoreAsync(project, label.Id, Ct));
        Assert.False(await Traces.DeleteScoreAsync(project, label.Id, Ct));
        Assert.Equal([thumbs, numeric, text], await Traces.GetScoresAsync(project, traceId, Ct));
        Assert.Empty(await Traces.GetScoresAsync(UniqueName("other"), traceId, Ct));
    }

    [Fact]
    public async Task Traces_Retention_DeletesOldTracesWithSpansAndScores()
    {
        var project = UniqueName("proj");
        var old = NewTraceId();
        var recent = NewTraceId();
        var oldRoot = Span(project, old, "old", startMs: 0);
        await Traces.AppendAsync([oldRoot, Span(project, old, "child", oldRoot.SpanId, 1)], Ct);
        await Traces.AppendAsync([Span(project, recent, "recent", startMs: 10_000)], Ct);
        await Traces.AddScoreAsync(new Score { Id = UniqueName("score"), Project = project, TraceId = old, Name = "x", Value = 1, Timestamp = 1 }, Ct);

        Assert.Equal(1, await Traces.DeleteTracesBeforeAsync(project, T0 + 5_000_000_000, Ct));
        Assert.Null(await Traces.GetTraceAsync(project, old, Ct));
        Assert.Null(await Traces.GetSpanAsync(project, old, oldRoot.SpanId, Ct));
        Assert.Empty(await Traces.GetScoresAsync(project, old, Ct));
        Assert.NotNull(await Traces.GetTraceAsync(project, recent, Ct));
        Assert.Contains(project, await Traces.GetProjectsAsync(Ct));
        Assert.Equal(0, await Traces.DeleteTracesBeforeAsync(project, T0 + 5_000_000_000, Ct));
    }
}
