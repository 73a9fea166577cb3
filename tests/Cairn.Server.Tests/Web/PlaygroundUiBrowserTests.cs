using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cairn.Core.Gateway;
using Cairn.Core.Prompts;
using Cairn.Server.Tests.Gateway;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Cairn.Server.Tests.Web;

/// <summary>
/// A gateway server with two fake OpenAI upstreams (providers <c>fake</c> and <c>fake2</c>, answering different texts) and
/// a prompt with two versions seeded over the REST API, plus a headless Chromium.
/// </summary>
public sealed class PlaygroundUiFixture : IAsyncLifetime
{
    public const string Prompt = "playground/qa";

    public const string FirstAnswer = "Hello from the fake upstream.";

    public const string SecondAnswer = "Greetings from the second fake.";

    private IPlaywright _playwright = null!;

    public GatewayHarness Gateway { get; private set; } = null!;

    public FakeOpenAiUpstream Second { get; private set; } = null!;

    public CairnTestServer Server => Gateway.Server;

    public IBrowser Browser { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Second = await FakeOpenAiUpstream.StartAsync();
        Second.AnswerText = SecondAnswer;
        Gateway = await GatewayHarness.StartAsync(gateway => gateway["Providers"]!["fake2"] = new JsonObject
        {
            ["Kind"] = "OpenAI",
            ["BaseUrl"] = Second.BaseUrl,
            ["ApiKey"] = "sk-second",
            ["Models"] = new JsonArray("gpt-4o-mini"),
        });
        Gateway.Upstream.AnswerText = FirstAnswer;
        await Server.PostJsonAsync("/api/cairn/prompts", $$$"""
            {"name":"{{{Prompt}}}","template":"Answer briefly.\nQuestion: {{question}}","commit_message":"brief",
             "model_config":{"model_name":"fake/gpt-4o-mini","temperature":0.2,"max_tokens":64}}
            """, 201);
        await Server.PostJsonAsync("/api/cairn/prompts", $$$"""
            {"name":"{{{Prompt}}}","template":"Answer in detail.\nQuestion: {{question}}","commit_message":"detailed",
             "model_config":{"model_name":"fake/gpt-4o-mini","temperature":0.7}}
            """, 201);
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
        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }

        if (Second is not null)
        {
            await Second.DisposeAsync();
        }
    }
}

/// <summary>The prompt playground in headless Chromium: streamed runs against two models, drafts, saving, and the compare grid.</summary>
public sealed class PlaygroundUiBrowserTests(PlaygroundUiFixture fixture) : IClassFixture<PlaygroundUiFixture>
{
    private const string First = "fake/gpt-4o-mini";
    private const string Second = "fake2/gpt-4o-mini";

    private static readonly string s_screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");
    private static readonly Regex s_cost = new(@"^\$0\.\d*[1-9]");

    private string Url(string path) => new Uri(fixture.Server.BaseAddress, path).ToString();

    private async Task<IPage> NewPageAsync(bool javaScript = true)
    {
        Directory.CreateDirectory(s_screenshots);
        var context = await fixture.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1440, Height = 1000 }, JavaScriptEnabled = javaScript });
        return await context.NewPageAsync();
    }

    private static ILocator Column(IPage page, string model) => page.Locator($"#run-results .run-cell[data-model='{model}']");

    /// <summary>Waits for a finished cell's figures and returns the id of its request record (from its link).</summary>
    private static async Task<string> AssertFinishedAsync(ILocator cell, string answer)
    {
        await Assertions.Expect(cell.Locator(".run-output")).ToHaveTextAsync(answer);
        await Assertions.Expect(cell.Locator("dd[data-metric=cost]")).ToHaveTextAsync(s_cost);
        await Assertions.Expect(cell.Locator("dd[data-metric=tokens]")).ToHaveTextAsync(new Regex(@"^12 / \d+$"));
        await Assertions.Expect(cell.Locator("dd[data-metric=latency]")).ToHaveTextAsync(new Regex(@"\d+(\.\d+)? m?s"));
        await Assertions.Expect(cell.Locator("dd[data-metric=browser-ttft]")).ToHaveTextAsync(new Regex(@"\d+(\.\d+)? m?s"));
        await Assertions.Expect(cell.Locator(".run-error")).ToBeHiddenAsync();
        var href = await cell.Locator("a.run-record").GetAttributeAsync("href");
        Assert.StartsWith("/gateway/requests/", href, StringComparison.Ordinal);
        return Uri.UnescapeDataString(href!["/gateway/requests/".Length..]);
    }

    [Fact]
    public async Task SavedVersion_RunsOnTwoModels_StreamsBothColumns_AndLogsThePromptVersion()
    {
        var page = await NewPageAsync();
        await page.GotoAsync(Url("/prompts"));
        await page.Locator(".sidebar").GetByRole(AriaRole.Link, new() { Name = "Playground" }).ClickAsync();
        Assert.EndsWith("/playground", page.Url, StringComparison.Ordinal);
        // The picker reloads the page on change from the page's script, which runs at the end of the body: wait for it.
        await page.WaitForLoadStateAsync(LoadState.Load);

        // Picking a prompt loads its latest version (which another test of this class may have added: any version has the question).
        await page.Locator("#pick-prompt").SelectOptionAsync(PlaygroundUiFixture.Prompt);
        await page.WaitForURLAsync(new Regex("name=playground%2Fqa"));
        await Assertions.Expect(page.Locator("#playground-form textarea[name='Draft.Template']")).ToHaveValueAsync(new Regex(@"Question: \{\{question\}\}"));

        // From the prompt's page, for the selected version.
        await page.GotoAsync(Url($"/prompts/{PlaygroundUiFixture.Prompt}?version=1"));
        await page.Locator("#open-playground").ClickAsync();
        Assert.EndsWith($"/playground?name={Uri.EscapeDataString(PlaygroundUiFixture.Prompt)}&version=1", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.Locator("#playground-form textarea[name='Draft.Template']")).ToHaveValueAsync("Answer briefly.\nQuestion: {{question}}");
        await Assertions.Expect(page.Locator("#playground-form input[name='Draft.Temperature']")).ToHaveValueAsync("0.2");
        await Assertions.Expect(page.Locator("#playground")).ToHaveAttributeAsync("data-source-version", "1");

        // The model the version names is ticked; tick a second one.
        var variables = page.Locator("#variable-inputs [data-variable]");
        await Assertions.Expect(variables).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#variables-error")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("#compare-picker select[name=a]")).ToHaveValueAsync("1");
        await Assertions.Expect(page.Locator("#compare-picker select[name=b]")).ToHaveValueAsync("2");
        await page.Locator("#variable-inputs [data-variable=question] textarea").FillAsync("Where is my invoice?");
        await Assertions.Expect(page.Locator($"input.model-choice[value='{First}']")).ToBeCheckedAsync();
        await page.Locator($"input.model-choice[value='{Second}']").CheckAsync();
        await page.Locator("#run").ClickAsync();

        await Assertions.Expect(page.Locator("#run-results .run-cell")).ToHaveCountAsync(2);
        var firstId = await AssertFinishedAsync(Column(page, First), PlaygroundUiFixture.FirstAnswer);
        var secondId = await AssertFinishedAsync(Column(page, Second), PlaygroundUiFixture.SecondAnswer);
        await Assertions.Expect(page.Locator("#run-status")).ToHaveTextAsync("Finished 2 calls.");
        await page.ScreenshotAsync(new() { Path = Path.Combine(s_screenshots, "playground.png"), FullPage = true });

        // Both runs are in the request log, attributed to the saved version, rendered with its settings.
        foreach (var (id, provider) in new[] { (firstId, "fake"), (secondId, "fake2") })
        {
            var record = await fixture.Gateway.RecordAsync(id);
            Assert.Equal(PlaygroundUiFixture.Prompt, record.PromptName);
            Assert.Equal(1, record.PromptVersion);
            Assert.Equal(provider, record.Provider);
            Assert.Equal(RequestOutcome.Success, record.Outcome);
            Assert.True(record.CostUsd > 0);
        }

        var sent = fixture.Second.Requests.Last();
        Assert.Equal("Answer briefly.\nQuestion: Where is my invoice?", sent["messages"]![0]!["content"]!.GetValue<string>());
        Assert.Equal(0.2, sent["temperature"]!.GetValue<double>());
        Assert.Equal(64, sent["max_tokens"]!.GetValue<int>());

        // The record link opens the request's page.
        await Column(page, First).Locator("a.run-record").ClickAsync();
        Assert.Contains($"/gateway/requests/{firstId}", page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EditedDraft_DetectsVariables_ShowsMissingVariable_RunsAsDraft_AndSavesANewVersion()
    {
        var page = await NewPageAsync();
        await page.GotoAsync(Url($"/playground?name={Uri.EscapeDataString(PlaygroundUiFixture.Prompt)}&version=2"));
        var template = page.Locator("#playground-form textarea[name='Draft.Template']");
        await template.FillAsync("Reply in French.\nQuestion: {{question}}\nTone: {{tone}}");
        await Assertions.Expect(page.Locator("#variable-inputs [data-variable]")).ToHaveCountAsync(2);
        await page.Locator("#variable-inputs [data-variable=question] textarea").FillAsync("Où est ma facture ?");

        // A variable left blank: the server's message is shown in the column.
        await page.Locator("#run").ClickAsync();
        var column = Column(page, First);
        await Assertions.Expect(column.Locator(".run-error")).ToContainTextAsync("Missing variable: tone");
        await Assertions.Expect(column.Locator(".run-state")).ToHaveTextAsync("failed");

        await page.Locator("#variable-inputs [data-variable=tone] textarea").FillAsync("formal");
        await page.Locator("#run").ClickAsync();
        var id = await AssertFinishedAsync(Column(page, First), PlaygroundUiFixture.FirstAnswer);
        var record = await fixture.Gateway.RecordAsync(id);
        Assert.Null(record.PromptName);
        Assert.Contains(fixture.Gateway.Upstream.Requests, r => r.ToJsonString().Contains("Tone: formal", StringComparison.Ordinal));

        // Removing a variable from the template removes its input; putting it back restores the value typed.
        await template.FillAsync("Reply in French.\nQuestion: {{question}}");
        await Assertions.Expect(page.Locator("#variable-inputs [data-variable]")).ToHaveCountAsync(1);
        await template.FillAsync("Reply in French.\nQuestion: {{question}}\nTone: {{tone}}");
        await Assertions.Expect(page.Locator("#variable-inputs [data-variable=tone] textarea")).ToHaveValueAsync("formal");

        // Save as a new version (post/redirect/get to the prompt's page).
        var prompts = fixture.Server.Services.GetRequiredService<PromptRegistry>();
        var versionsBefore = (await prompts.ListVersionsAsync(PlaygroundUiFixture.Prompt, CancellationToken.None)).Count;
        await page.Locator("#save-panel input[name='Draft.CommitMessage']").FillAsync("french");
        await page.Locator("#save-version").ClickAsync();
        await page.WaitForURLAsync(new Regex($@"/prompts/{Regex.Escape(PlaygroundUiFixture.Prompt)}\?version={versionsBefore + 1}$"));
        await Assertions.Expect(page.Locator("#template-text")).ToContainTextAsync("Reply in French.");
        var saved = await prompts.GetAsync(PlaygroundUiFixture.Prompt, versionsBefore + 1, null, CancellationToken.None);
        Assert.Equal("french", saved.CommitMessage);
        Assert.Equal(0.7, saved.ModelConfig!["temperature"]!.GetValue<double>());
        Assert.Equal("fake/gpt-4o-mini", saved.ModelConfig!["model_name"]!.GetValue<string>());
        Assert.Equal(["question", "tone"], saved.Variables);
    }

    [Fact]
    public async Task BlankDraft_SaveWithoutName_Returns400AndKeepsTheInput_ThenCreatesAPrompt()
    {
        var page = await NewPageAsync();
        await page.GotoAsync(Url("/playground"));
        await Assertions.Expect(page.Locator("#playground")).Not.ToHaveAttributeAsync("data-source-name", new Regex("."));
        await page.Locator("#playground-form textarea[name='Draft.Template']").FillAsync("Summarise: {{text}}");
        await page.Locator("#variable-inputs [data-variable=text] textarea").FillAsync("a long story");
        var refused = await page.RunAndWaitForResponseAsync(() => page.Locator("#save-version").ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(400, refused.Status);
        await Assertions.Expect(page.Locator("#save-panel .form-error")).ToContainTextAsync("name");
        await Assertions.Expect(page.Locator("#playground-form textarea[name='Draft.Template']")).ToHaveValueAsync("Summarise: {{text}}");
        await Assertions.Expect(page.Locator("#variable-inputs [data-variable=text] textarea")).ToHaveValueAsync("a long story");

        // A draft runs too (by template, not by name).
        await page.Locator($"input.model-choice[value='{Second}']").CheckAsync();
        await page.Locator($"input.model-choice[value='{First}']").UncheckAsync();
        await page.Locator("#run").ClickAsync();
        await AssertFinishedAsync(Column(page, Second), PlaygroundUiFixture.SecondAnswer);

        await page.Locator("#save-panel input[name='Draft.Name']").FillAsync("playground/summary");
        await page.Locator("#save-version").ClickAsync();
        await page.WaitForURLAsync(new Regex(@"/prompts/playground/summary\?version=1$"));
        var summary = await fixture.Server.Services.GetRequiredService<PromptRegistry>().GetAsync("playground/summary", 1, null, CancellationToken.None);
        Assert.Equal("Summarise: {{text}}", summary.Text);
    }

    [Fact]
    public async Task ChatDraft_DetectsVariablesInMessages_AndRunsTheMessages()
    {
        var page = await NewPageAsync();
        await page.GotoAsync(Url("/playground"));
        await page.Locator("#playground-form input[name='Draft.Type'][value=chat]").CheckAsync();
        await Assertions.Expect(page.Locator("#playground-form textarea[name='Draft.Template']")).ToBeHiddenAsync();
        await page.Locator("#playground-form textarea[name='Draft.Contents[0]']").FillAsync("Be terse. Persona: {{persona}}");
        await page.Locator("#playground-form textarea[name='Draft.Contents[1]']").FillAsync("{{q}}");
        await Assertions.Expect(page.Locator("#variable-inputs [data-variable]")).ToHaveCountAsync(2);
        await page.Locator("#variable-inputs [data-variable=persona] textarea").FillAsync("pirate");
        await page.Locator("#variable-inputs [data-variable=q] textarea").FillAsync("chat-draft question");

        // Without a model_name the first model listed (the route) is ticked.
        await Assertions.Expect(page.Locator("input.model-choice[value=fast]")).ToBeCheckedAsync();
        await page.Locator("input.model-choice[value=fast]").UncheckAsync();
        await page.Locator($"input.model-choice[value='{First}']").CheckAsync();
        await page.Locator("#run").ClickAsync();
        await Assertions.Expect(page.Locator("#run-results .run-cell")).ToHaveCountAsync(1);
        await AssertFinishedAsync(Column(page, First), PlaygroundUiFixture.FirstAnswer);
        var sent = fixture.Gateway.Upstream.Requests.Last(r => r.ToJsonString().Contains("chat-draft question", StringComparison.Ordinal));
        Assert.Equal("system", sent["messages"]![0]!["role"]!.GetValue<string>());
        Assert.Equal("Be terse. Persona: pirate", sent["messages"]![0]!["content"]!.GetValue<string>());
        Assert.Equal("user", sent["messages"]![1]!["role"]!.GetValue<string>());
    }

    [Fact]
    public async Task Compare_TwoVersionsTimesTwoModels_RunsFourCells()
    {
        var page = await NewPageAsync();
        await page.GotoAsync(Url($"/playground?name={Uri.EscapeDataString(PlaygroundUiFixture.Prompt)}&version=2"));
        await page.Locator("#compare-picker select[name=a]").SelectOptionAsync("1");
        await page.Locator("#compare-picker select[name=b]").SelectOptionAsync("2");
        await page.Locator("#compare-picker").GetByRole(AriaRole.Button, new() { Name = "Compare" }).ClickAsync();
        Assert.Contains("compare=1", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.Locator("#template-a")).ToContainTextAsync("Answer briefly.");
        await Assertions.Expect(page.Locator("#template-b")).ToContainTextAsync("Answer in detail.");

        await page.Locator("#variable-inputs [data-variable=question] textarea").FillAsync("Can I get a refund?");
        await page.Locator($"input.model-choice[value='{Second}']").CheckAsync();
        await page.Locator("#run").ClickAsync();

        var cells = page.Locator("#compare-grid .run-cell");
        await Assertions.Expect(cells).ToHaveCountAsync(4);
        await Assertions.Expect(page.Locator("#compare-grid thead th")).ToHaveTextAsync(["Version", First, Second]);
        var ids = new List<string>();
        foreach (var version in new[] { 1, 2 })
        {
            var row = page.Locator($"#compare-grid tbody tr[data-version='{version}']");
            ids.Add(await AssertFinishedAsync(row.Locator($".run-cell[data-model='{First}']"), PlaygroundUiFixture.FirstAnswer));
            ids.Add(await AssertFinishedAsync(row.Locator($".run-cell[data-model='{Second}']"), PlaygroundUiFixture.SecondAnswer));
        }

        await page.ScreenshotAsync(new() { Path = Path.Combine(s_screenshots, "playground-compare.png"), FullPage = true });
        var versions = new List<int?>();
        foreach (var id in ids)
        {
            var record = await fixture.Gateway.RecordAsync(id);
            Assert.Equal(PlaygroundUiFixture.Prompt, record.PromptName);
            versions.Add(record.PromptVersion);
        }

        Assert.Equal([1, 1, 2, 2], versions);
        Assert.Contains(fixture.Second.Requests, r => r.ToJsonString().Contains("Answer in detail.\\nQuestion: Can I get a refund?", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithoutJavaScript_FormsStillWork_AndRunsSayTheyNeedScript()
    {
        var page = await NewPageAsync(javaScript: false);
        var response = await page.GotoAsync(Url("/playground"));
        Assert.Equal(200, response!.Status);
        await Assertions.Expect(page.Locator("#noscript-note")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#run")).ToBeDisabledAsync();
        await Assertions.Expect(page.Locator("#model-choices input.model-choice")).Not.ToHaveCountAsync(0);

        await page.Locator("#pick-prompt").SelectOptionAsync(PlaygroundUiFixture.Prompt);
        await page.Locator("#prompt-picker").GetByRole(AriaRole.Button, new() { Name = "Load" }).ClickAsync();
        Assert.Contains("name=playground%2Fqa", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.Locator("#playground-form textarea[name='Draft.Template']")).ToContainTextAsync("Question: {{question}}");
        await Assertions.Expect(page.Locator("#variable-inputs [data-variable=question]")).ToHaveCountAsync(1);

        var missing = await page.GotoAsync(Url("/playground?name=no/such-prompt"));
        Assert.Equal(404, missing!.Status);
    }
}
