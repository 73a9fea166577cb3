using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Cairn.Server.Observability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Cairn.Server.Tests.Web;

/// <summary>A server seeded once over OTLP/HTTP JSON with a few traces (a RAG answer, a chat, a failed job, one of 10,004 spans), plus a headless Chromium.</summary>
public sealed class TracesUiFixture : IAsyncLifetime
{
    /// <summary>Children of the large trace's root.</summary>
    public const int BulkChildren = 10_000;

    private IPlaywright _playwright = null!;

    public CairnTestServer Server { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public string RagTraceId { get; } = NewTraceId();

    public string ChatTraceId { get; } = NewTraceId();

    public string FailedTraceId { get; } = NewTraceId();

    public string BulkTraceId { get; } = NewTraceId();

    public string OtherProjectTraceId { get; } = NewTraceId();

    public string RagRootId => "a000000000000001";

    public string RagChatId => "a000000000000003";

    public string RagToolId => "a000000000000004";

    public string BulkRootId => "b000000000000000";

    /// <summary>The first child of the large trace's root: it has three children of its own.</summary>
    public static string BulkChildId(int i) => (0x1000_0000_0000_0000L + i).ToString("x16", CultureInfo.InvariantCulture);

    public async ValueTask InitializeAsync()
    {
        Server = await CairnTestServer.StartAsync();
        await SeedAsync();
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }

    private async Task SeedAsync()
    {
        var now = TimeProvider.System.GetUtcNow();
        long At(TimeSpan ago, double plusMs = 0) => (now - ago).ToUnixTimeMilliseconds() * 1_000_000 + (long)(plusMs * 1_000_000);

        // A RAG answer in session s-1: a chain root, a retrieval, a generation with GenAI messages, and a failed tool call.
        var t1 = TimeSpan.FromMinutes(10);
        await PostAsync(null, "rag-service",
        [
            Span(RagTraceId, RagRootId, null, "answer-question", At(t1), At(t1, 1200), attributes:
            [
                ("cairn.span.type", "chain"), ("session.id", "s-1"), ("user.id", "alice"), ("tags", new[] { "prod", "rag" }),
                ("input.value", "What is Cairn?"), ("output.value", "An LLMOps platform."),
            ]),
            Span(RagTraceId, "a000000000000002", RagRootId, "retrieve", At(t1, 10), At(t1, 200), attributes: [("cairn.span.type", "retrieval")]),
            Span(RagTraceId, RagChatId, RagRootId, "chat gpt-4o-mini", At(t1, 210), At(t1, 1100), kind: 3, attributes:
            [
                ("gen_ai.operation.name", "chat"), ("gen_ai.provider.name", "openai"), ("gen_ai.request.model", "gpt-4o-mini"),
                ("gen_ai.usage.input_tokens", 1000L), ("gen_ai.usage.output_tokens", 200L), ("gen_ai.usage.cost", 0.002),
                ("gen_ai.system_instructions", """[{"type":"text","content":"Answer briefly."}]"""),
                ("gen_ai.input.messages", """[{"role":"user","parts":[{"type":"text","content":"What is Cairn?"}]}]"""),
                ("gen_ai.output.messages", """[{"role":"assistant","parts":[{"type":"text","content":"An LLMOps platform."}],"finish_reason":"stop"}]"""),
                ("cairn.request_id", "req_0123"),
            ]),
            Span(RagTraceId, RagToolId, RagRootId, "lookup-tool", At(t1, 1100), At(t1, 1150), status: 2, statusMessage: "tool timed out", attributes:
            [
                ("gen_ai.operation.name", "execute_tool"),
            ]),
        ]);

        // The second turn of s-1: one generation with OpenAI-shaped messages.
        var t2 = TimeSpan.FromMinutes(5);
        await PostAsync(null, "chat-service",
        [
            Span(ChatTraceId, "c000000000000001", null, "summarize-doc", At(t2), At(t2, 800), kind: 3, attributes:
            [
                ("gen_ai.operation.name", "chat"), ("gen_ai.request.model", "gpt-4o"), ("session.id", "s-1"), ("user.id", "alice"),
                ("tags", new[] { "prod" }), ("gen_ai.usage.input_tokens", 500L), ("gen_ai.usage.output_tokens", 100L), ("gen_ai.usage.cost", 0.05),
                ("gen_ai.input.messages", """[{"role":"system","content":"You summarize."},{"role":"user","content":"Summarize the doc"}]"""),
                ("gen_ai.output.messages", """[{"role":"assistant","content":"A short summary."}]"""),
            ]),
        ]);

        // A failed batch job in session s-2.
        var t3 = TimeSpan.FromMinutes(3);
        await PostAsync(null, "batch-service",
        [
            Span(FailedTraceId, "d000000000000001", null, "nightly-job", At(t3), At(t3, 300), status: 2, statusMessage: "upstream exploded", attributes:
            [
                ("session.id", "s-2"), ("user.id", "bob"), ("tags", "batch"), ("app.region", "eu"), ("input.value", "run batch 7"),
                ("gen_ai.request.model", "claude-3-5-haiku"), ("gen_ai.usage.input_tokens", 10L), ("gen_ai.usage.output_tokens", 0L), ("gen_ai.usage.cost", 0.0001),
            ]),
        ]);

        // A trace of 10,004 spans: a root with 10,000 children, the first of which has three children; sent in batches.
        var t4 = TimeSpan.FromMinutes(1);
        var spans = new List<JsonObject>
        {
            Span(BulkTraceId, BulkRootId, null, "bulk-import", At(t4), At(t4, BulkChildren + 50), attributes: [("cairn.span.type", "agent")]),
        };
        for (var i = 0; i < 3; i++)
        {
            spans.Add(Span(BulkTraceId, "e00000000000000" + i.ToString(CultureInfo.InvariantCulture), BulkChildId(0), $"grandchild-{i}", At(t4, 1 + i * 0.1), At(t4, 1.05 + i * 0.1), attributes: [("cairn.span.type", "tool")]));
        }

        for (var i = 0; i < BulkChildren; i++)
        {
            spans.Add(Span(BulkTraceId, BulkChildId(i), BulkRootId, $"step-{i:00000}", At(t4, 1 + i), At(t4, 1.8 + i), attributes: [("cairn.span.type", i % 2 == 0 ? "retrieval" : "tool")]));
            if (spans.Count == 1000)
            {
                await PostAsync(null, "bulk-service", spans);
                spans.Clear();
            }
        }

        if (spans.Count > 0)
        {
            await PostAsync(null, "bulk-service", spans);
        }

        await PostAsync("other", "other-service", [Span(OtherProjectTraceId, "f000000000000001", null, "elsewhere", At(t4), At(t4, 5))]);
        await Server.Services.GetRequiredService<TraceWriter>().FlushAsync(TestContext.Current.CancellationToken);

        await Server.PostJsonAsync("/api/cairn/scores", $$"""{"trace_id":"{{RagTraceId}}","name":"correctness","value":0.9,"comment":"good answer"}""", 201);
    }

    private async Task PostAsync(string? project, string service, IReadOnlyList<JsonObject> spans)
    {
        var body = new JsonObject
        {
            ["resourceSpans"] = new JsonArray(new JsonObject
            {
                ["resource"] = new JsonObject { ["attributes"] = new JsonArray(Attribute("service.name", service)) },
                ["scopeSpans"] = new JsonArray(new JsonObject
                {
                    ["scope"] = new JsonObject { ["name"] = "ui-tests" },
                    ["spans"] = new JsonArray([.. spans.Select(s => s.DeepClone())]),
                }),
            }),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/traces") { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        if (project is not null)
        {
            request.Headers.Add("x-cairn-project", project);
        }

        using var response = await Server.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"OTLP ingest answered {(int)response.StatusCode}: {text}");
        Assert.DoesNotContain("rejected", text, StringComparison.OrdinalIgnoreCase);
    }

    private static JsonObject Span(
        string traceId, string spanId, string? parent, string name, long start, long end,
        int kind = 1, int status = 0, string? statusMessage = null, (string Key, object Value)[]? attributes = null)
    {
        var span = new JsonObject
        {
            ["traceId"] = traceId,
            ["spanId"] = spanId,
            ["name"] = name,
            ["kind"] = kind,
            ["startTimeUnixNano"] = start.ToString(CultureInfo.InvariantCulture),
            ["endTimeUnixNano"] = end.ToString(CultureInfo.InvariantCulture),
            ["attributes"] = new JsonArray([.. (attributes ?? []).Select(a => (JsonNode)Attribute(a.Key, a.Value))]),
        };
        if (parent is not null)
        {
            span["parentSpanId"] = parent;
        }

        if (status != 0)
        {
            span["status"] = new JsonObject { ["code"] = status, ["message"] = statusMessage };
        }

        return span;
    }

    private static JsonObject Attribute(string key, object value) => new()
    {
        ["key"] = key,
        ["value"] = value switch
        {
            string s => new JsonObject { ["stringValue"] = s },
            long l => new JsonObject { ["intValue"] = l.ToString(CultureInfo.InvariantCulture) },
            double d => new JsonObject { ["doubleValue"] = d },
            string[] list => new JsonObject { ["arrayValue"] = new JsonObject { ["values"] = new JsonArray([.. list.Select(v => (JsonNode)new JsonObject { ["stringValue"] = v })]) } },
            _ => throw new ArgumentException($"Unsupported attribute value {value}.", nameof(value)),
        },
    };

    private static string NewTraceId() => Guid.NewGuid().ToString("N");
}

/// <summary>The traces and sessions pages (issue #5) in headless Chromium, over traces ingested through OTLP/HTTP JSON.</summary>
public sealed class TracesUiBrowserTests(TracesUiFixture fixture) : IClassFixture<TracesUiFixture>, IAsyncDisposable
{
    private static readonly string s_screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");
    private readonly List<string> _scriptErrors = [];
    private IBrowserContext? _context;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        if (_context is not null)
        {
            await _context.DisposeAsync();
        }
    }

    [Fact]
    public async Task TracesList_FiltersAndSorting_ShowMatchingTraces()
    {
        var page = await NewPageAsync();
        var response = await page.GotoAsync(Url("/traces"));
        Assert.Equal(200, response!.Status);
        var rows = page.Locator("#traces tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(4);
        await Assertions.Expect(rows.First).ToContainTextAsync("bulk-import");
        await Assertions.Expect(page.Locator($"#traces tr[data-trace-id='{fixture.RagTraceId}']")).ToContainTextAsync("gpt-4o-mini");
        await Assertions.Expect(page.Locator($"#traces tr[data-trace-id='{fixture.BulkTraceId}']")).ToContainTextAsync("10,004");
        await page.ScreenshotAsync(new() { Path = Screenshot("traces.png"), FullPage = true });

        // The form keeps a shareable URL.
        await page.Locator("#trace-filters select[name=status]").SelectOptionAsync("error");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        Assert.Contains("status=error", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(rows).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("#traces")).ToContainTextAsync("nightly-job");
        await Assertions.Expect(page.Locator("#traces")).ToContainTextAsync("answer-question");

        await page.GotoAsync(Url("/traces?model=gpt-4o-mini"));
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await Assertions.Expect(rows.First).ToContainTextAsync("answer-question");

        await page.GotoAsync(Url("/traces?session=s-1"));
        await Assertions.Expect(rows).ToHaveCountAsync(2);

        await page.GotoAsync(Url("/traces?name=SUMMAR"));
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await Assertions.Expect(rows.First).ToContainTextAsync("summarize-doc");

        await page.GotoAsync(Url("/traces?tag=batch"));
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await page.GotoAsync(Url("/traces?attribute=app.region%3Aeu"));
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await Assertions.Expect(rows.First).ToContainTextAsync("nightly-job");
        await page.GotoAsync(Url("/traces?min_tokens=1000"));
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await page.GotoAsync(Url("/traces?min_latency=700&max_latency=1000"));
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await Assertions.Expect(rows.First).ToContainTextAsync("summarize-doc");
        await page.GotoAsync(Url("/traces?user=bob&status=ok"));
        await Assertions.Expect(rows).ToHaveCountAsync(0);

        // Sorting by cost, from the column header.
        await page.GotoAsync(Url("/traces"));
        await page.Locator("#traces thead").GetByRole(AriaRole.Link, new() { Name = "Cost" }).ClickAsync();
        Assert.Contains("order=costliest", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(rows.Nth(0)).ToContainTextAsync("summarize-doc");
        await Assertions.Expect(rows.Nth(1)).ToContainTextAsync("answer-question");
        await Assertions.Expect(rows.Nth(2)).ToContainTextAsync("nightly-job");
        await Assertions.Expect(rows.Nth(0).Locator(".trace-cost")).ToHaveTextAsync("$0.05");

        // Keyset paging is exercised through the store; the project picker switches projects.
        await Assertions.Expect(page.Locator("#trace-filters select[name=project] option")).ToHaveCountAsync(2);
        await page.Locator("#trace-filters select[name=project]").SelectOptionAsync("other");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await Assertions.Expect(rows.First).ToContainTextAsync("elsewhere");
        await rows.First.Locator("td.trace-name a").ClickAsync();
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("elsewhere");
        Assert.Contains("project=other", page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TraceView_TreeAndSelectedGeneration_ShowsChatBubblesTokensAndCost()
    {
        var page = await NewPageAsync();
        await page.GotoAsync(Url("/traces"));
        await page.Locator($"#traces tr[data-trace-id='{fixture.RagTraceId}'] td.trace-name a").ClickAsync();
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("answer-question");
        await Assertions.Expect(page.Locator("#trace-stats")).ToContainTextAsync("1,000 / 200");
        await Assertions.Expect(page.Locator("#trace-cost")).ToHaveTextAsync("$0.002");
        await Assertions.Expect(page.Locator("#trace-tags")).ToContainTextAsync("rag");
        await Assertions.Expect(page.Locator("#trace-scores")).ToContainTextAsync("correctness");
        await Assertions.Expect(page.Locator("#trace-scores")).ToContainTextAsync("good answer");

        // The whole (small) tree, with the root selected and its text input shown.
        var spanRows = page.Locator("#span-tree-rows .tree-row[data-span-id]");
        await Assertions.Expect(spanRows).ToHaveCountAsync(4);
        await Assertions.Expect(page.Locator($".tree-row[data-span-id='{fixture.RagRootId}']")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("selected"));
        await Assertions.Expect(page.Locator($".tree-row[data-span-id='{fixture.RagToolId}']")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("status-error"));
        await Assertions.Expect(page.Locator($".tree-row[data-span-id='{fixture.RagChatId}'] .tree-model")).ToHaveTextAsync("gpt-4o-mini");
        await Assertions.Expect(page.Locator($".tree-row[data-span-id='{fixture.RagChatId}'] .tree-bar")).ToHaveAttributeAsync("style", new System.Text.RegularExpressions.Regex("left:17\\.5"));
        await Assertions.Expect(page.Locator("#span-input")).ToHaveTextAsync("What is Cairn?");

        // Collapsing and expanding in place hides and shows the children.
        var rootToggle = page.Locator($".tree-row[data-span-id='{fixture.RagRootId}'] a.tree-toggle");
        await rootToggle.ClickAsync();
        await Assertions.Expect(page.Locator($".tree-row[data-span-id='{fixture.RagChatId}']")).ToBeHiddenAsync();
        await rootToggle.ClickAsync();
        await Assertions.Expect(page.Locator($".tree-row[data-span-id='{fixture.RagChatId}']")).ToBeVisibleAsync();

        // Without script, the toggle is a link that the server answers with the node closed.
        var collapseUrl = await rootToggle.GetAttributeAsync("href");
        Assert.Contains("collapse=" + fixture.RagRootId, collapseUrl, StringComparison.Ordinal);
        var closed = await fixture.Server.Client.GetStringAsync(collapseUrl, Ct);
        Assert.Contains($"data-span-id=\"{fixture.RagRootId}\"", closed, StringComparison.Ordinal);
        Assert.DoesNotContain($"data-span-id=\"{fixture.RagChatId}\"", closed, StringComparison.Ordinal);

        // Selecting the generation renders its conversation as bubbles, with tokens and cost.
        await page.Locator($".tree-row[data-span-id='{fixture.RagChatId}'] a.span-link").ClickAsync();
        Assert.Contains("span=" + fixture.RagChatId, page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.Locator("#span-title")).ToHaveTextAsync("chat gpt-4o-mini");
        await Assertions.Expect(page.Locator("#span-input .bubble.role-system")).ToContainTextAsync("Answer briefly.");
        await Assertions.Expect(page.Locator("#span-input .bubble.role-user")).ToContainTextAsync("What is Cairn?");
        await Assertions.Expect(page.Locator("#span-output .bubble.role-assistant")).ToContainTextAsync("An LLMOps platform.");
        await Assertions.Expect(page.Locator("#span-tokens")).ToHaveTextAsync("1,000 / 200");
        await Assertions.Expect(page.Locator("#span-cost")).ToHaveTextAsync("$0.002");
        await Assertions.Expect(page.Locator("#span-facts")).ToContainTextAsync("openai");
        await Assertions.Expect(page.Locator("#span-attributes")).ToContainTextAsync("gen_ai.operation.name");
        await Assertions.Expect(page.Locator("#span-request-log")).ToHaveAttributeAsync("href", "/gateway/requests/req_0123");
        await Assertions.Expect(page.Locator($".tree-row[data-span-id='{fixture.RagChatId}']")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("selected"));
        await page.ScreenshotAsync(new() { Path = Screenshot("trace.png"), FullPage = true });

        // The failed tool call shows its status message.
        await page.Locator($".tree-row[data-span-id='{fixture.RagToolId}'] a.span-link").ClickAsync();
        await Assertions.Expect(page.Locator("#span-status-message")).ToHaveTextAsync("tool timed out");

        // The OpenAI message shape renders as bubbles too.
        await page.GotoAsync(Url($"/traces/{fixture.ChatTraceId}"));
        await Assertions.Expect(page.Locator("#span-input .bubble.role-user")).ToContainTextAsync("Summarize the doc");
        await Assertions.Expect(page.Locator("#span-output .bubble.role-assistant")).ToContainTextAsync("A short summary.");
        await page.Locator("#trace-session").ClickAsync();
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("s-1");
        Assert.Empty(_scriptErrors);
    }

    [Fact]
    public async Task TraceView_TenThousandSpans_RendersCappedTopLevelAndLoadsLazily()
    {
        var page = await NewPageAsync();
        var stopwatch = Stopwatch.StartNew();
        var response = await page.GotoAsync(Url($"/traces/{fixture.BulkTraceId}"), new() { WaitUntil = WaitUntilState.DOMContentLoaded });
        stopwatch.Stop();
        Assert.Equal(200, response!.Status);
        TestContext.Current.TestOutputHelper?.WriteLine($"First paint of a {TracesUiFixture.BulkChildren + 4:N0}-span trace: {stopwatch.ElapsedMilliseconds} ms");
        await Assertions.Expect(page.Locator("#trace-span-count")).ToHaveTextAsync("10,004");

        // The root and the first page of its children, never the whole trace.
        var spanRows = page.Locator("#span-tree-rows .tree-row[data-span-id]");
        Assert.Equal(201, await spanRows.CountAsync());
        Assert.True(await page.Locator("#span-tree-rows .tree-row").CountAsync() <= 202);
        var more = page.Locator("#span-tree-rows a.load-more");
        await Assertions.Expect(more).ToHaveCountAsync(1);
        await Assertions.Expect(more).ToContainTextAsync("Load 200 more (9,800 not shown)");
        await Assertions.Expect(page.Locator("#tree-summary")).ToContainTextAsync("Showing 201 of 10,004 spans");
        await page.ScreenshotAsync(new() { Path = Screenshot("trace-large.png") });

        // Expanding a child fetches its children from the span API and inserts them below it.
        var first = page.Locator($".tree-row[data-span-id='{TracesUiFixture.BulkChildId(0)}']");
        await Assertions.Expect(first).ToHaveAttributeAsync("data-loaded", "0");
        await Assertions.Expect(page.Locator(".tree-row[data-depth='2']")).ToHaveCountAsync(0);
        await first.Locator("a.tree-toggle").ClickAsync();
        var grandchildren = page.Locator(".tree-row[data-depth='2']");
        await Assertions.Expect(grandchildren).ToHaveCountAsync(3);
        await Assertions.Expect(grandchildren.First).ToContainTextAsync("grandchild-0");
        Assert.Equal(TracesUiFixture.BulkChildId(1), await grandchildren.Last.Locator("xpath=following-sibling::div[1]").GetAttributeAsync("data-span-id"));
        await Assertions.Expect(first).ToHaveAttributeAsync("aria-expanded", "true");
        await first.Locator("a.tree-toggle").ClickAsync();
        await Assertions.Expect(grandchildren.First).ToBeHiddenAsync();

        // "Load more" appends the next page in place.
        await more.ClickAsync();
        await Assertions.Expect(spanRows).ToHaveCountAsync(404);
        await Assertions.Expect(more).ToContainTextAsync("9,600 not shown");
        await Assertions.Expect(page.Locator($".tree-row[data-span-id='{TracesUiFixture.BulkChildId(399)}']")).ToBeVisibleAsync();

        // A span opened by script stays open when another span is selected.
        await first.Locator("a.tree-toggle").ClickAsync();
        await page.Locator(".tree-row[data-depth='2'] a.span-link").Nth(1).ClickAsync();
        await Assertions.Expect(page.Locator("#span-title")).ToHaveTextAsync("grandchild-1");
        await Assertions.Expect(page.Locator(".tree-row[data-depth='2']")).ToHaveCountAsync(3);
        Assert.True(await spanRows.CountAsync() <= 1 + 200 + 3);

        // Without script, "load more" is a link the server answers with the next page of that level.
        var next = await page.Locator("#span-tree-rows a.load-more").GetAttributeAsync("href");
        Assert.NotNull(next);
        using var noScript = await fixture.Server.Client.GetAsync(next, Ct);
        Assert.Equal(200, (int)noScript.StatusCode);
        var html = await noScript.Content.ReadAsStringAsync(Ct);
        Assert.Contains("step-00200", html, StringComparison.Ordinal);
        Assert.DoesNotContain("step-00199", html, StringComparison.Ordinal);

        // Warm, the server renders the large trace's first page quickly (logged, not asserted).
        var server = Stopwatch.StartNew();
        using (var warm = await fixture.Server.Client.GetAsync($"/traces/{fixture.BulkTraceId}", Ct))
        {
            Assert.Equal(200, (int)warm.StatusCode);
            Assert.True((await warm.Content.ReadAsStringAsync(Ct)).Length < 1_000_000);
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"Server render of the large trace, warm: {server.ElapsedMilliseconds} ms");
        Assert.Empty(_scriptErrors);
    }

    [Fact]
    public async Task Sessions_ListAndConversation_ShowTurnsInOrder()
    {
        var page = await NewPageAsync();
        await page.GotoAsync(Url("/sessions"));
        var rows = page.Locator("#sessions tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(2);
        await Assertions.Expect(rows.First).ToContainTextAsync("s-2");
        await Assertions.Expect(page.Locator("#sessions")).ToContainTextAsync("alice");
        await page.ScreenshotAsync(new() { Path = Screenshot("sessions.png"), FullPage = true });

        await page.Locator("#session-filters input[name=user]").FillAsync("bob");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await Assertions.Expect(rows.First).ToContainTextAsync("s-2");

        await page.GotoAsync(Url("/sessions"));
        await page.GetByRole(AriaRole.Link, new() { Name = "s-1", Exact = true }).ClickAsync();
        var turns = page.Locator("#session-conversation .turn");
        await Assertions.Expect(turns).ToHaveCountAsync(2);
        await Assertions.Expect(turns.Nth(0).Locator(".bubble.role-user")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("What is Cairn\\?"));
        await Assertions.Expect(turns.Nth(0).Locator(".bubble.role-assistant")).ToContainTextAsync("An LLMOps platform.");
        await Assertions.Expect(turns.Nth(1).Locator(".bubble.role-user")).ToContainTextAsync("Summarize the doc");
        await Assertions.Expect(turns.Nth(1).Locator(".bubble.role-user")).Not.ToContainTextAsync("You summarize.");
        await Assertions.Expect(turns.Nth(1).Locator(".bubble.role-assistant")).ToContainTextAsync("A short summary.");
        await Assertions.Expect(page.Locator("#session-stats")).ToContainTextAsync("$0.052");
        await page.ScreenshotAsync(new() { Path = Screenshot("session.png"), FullPage = true });

        await turns.Nth(1).Locator(".turn-head a").ClickAsync();
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("summarize-doc");

        await page.GotoAsync(Url("/sessions/s-2"));
        await Assertions.Expect(page.Locator("#session-conversation .turn .bubble.role-user")).ToContainTextAsync("run batch 7");
        await Assertions.Expect(page.Locator("#session-conversation .turn-failed")).ToBeVisibleAsync();

        // Users: each user with their traces and sessions; the user links to their traces, the count to their sessions.
        await page.GotoAsync(Url("/users"));
        var users = page.Locator("#users tbody tr");
        await Assertions.Expect(users.Filter(new() { HasText = "alice" })).ToHaveCountAsync(1);
        await Assertions.Expect(users.Filter(new() { HasText = "bob" })).ToHaveCountAsync(1);
        await page.ScreenshotAsync(new() { Path = Screenshot("users.png"), FullPage = true });
        await page.GetByRole(AriaRole.Link, new() { Name = "bob", Exact = true }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/traces\\?.*user=bob"));
        await Assertions.Expect(page.Locator("#traces tbody tr").First).ToContainTextAsync("bob");
    }

    [Fact]
    public async Task BadInput_RendersPagesWith400And404()
    {
        var page = await NewPageAsync();
        foreach (var path in new[]
        {
            "/traces?page=not-a-token!",
            "/traces?min_latency=fast",
            "/traces?min_cost=-1",
            "/traces?attribute=nocolon",
            "/sessions?page=%25%25",
            "/users?page=%25%25",
            $"/traces/{fixture.BulkTraceId}?level={fixture.BulkRootId}&after=garbage!",
        })
        {
            var response = await page.GotoAsync(Url(path));
            Assert.True(response!.Status == 400, $"{path} answered {response.Status}");
            await Assertions.Expect(page.Locator("#filter-error")).ToBeVisibleAsync();
        }

        // The tree still renders from the first page when its page token is refused.
        await Assertions.Expect(page.Locator("#span-tree-rows .tree-row[data-span-id]")).ToHaveCountAsync(201);

        foreach (var path in new[] { "/traces/0123456789abcdef0123456789abcdef", "/traces/nope", $"/traces/{fixture.RagTraceId}?project=other", "/sessions/no-such-session" })
        {
            var response = await page.GotoAsync(Url(path));
            Assert.True(response!.Status == 404, $"{path} answered {response.Status}");
            await Assertions.Expect(page.Locator("#not-found")).ToBeVisibleAsync();
        }

        var missingSpan = await page.GotoAsync(Url($"/traces/{fixture.RagTraceId}?span=ffffffffffffffff"));
        Assert.Equal(404, missingSpan!.Status);
        await Assertions.Expect(page.Locator("#not-found")).ToContainTextAsync("ffffffffffffffff");
    }

    private async Task<IPage> NewPageAsync()
    {
        Directory.CreateDirectory(s_screenshots);
        _context ??= await fixture.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1440, Height = 900 } });
        var page = await _context.NewPageAsync();
        page.PageError += (_, error) =>
        {
            lock (_scriptErrors)
            {
                _scriptErrors.Add(error);
            }
        };
        return page;
    }

    private string Url(string path) => new Uri(fixture.Server.BaseAddress, path).ToString();

    private static string Screenshot(string name) => Path.Combine(s_screenshots, name);
}
