using System.Text;
using Cairn.Server.Tests.Gateway;
using Microsoft.Playwright;

namespace Cairn.Server.Tests.Web;

/// <summary>
/// A gateway server seeded once over the REST API with a few prompts (text and chat, in folders, with labels) and some
/// production traffic sent with <c>Cairn-Prompt: name@version</c>, plus a headless Chromium.
/// </summary>
public sealed class PromptsUiFixture : IAsyncLifetime
{
    private IPlaywright _playwright = null!;

    public GatewayHarness Gateway { get; private set; } = null!;

    public CairnTestServer Server => Gateway.Server;

    public IBrowser Browser { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Gateway = await GatewayHarness.StartAsync();
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
        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }
    }

    private async Task SeedAsync()
    {
        await Server.PostJsonAsync("/api/cairn/prompts", """
            {"name":"support/triage","template":"Answer briefly.\nCustomer: {{customer}}\nQuestion: {{question}}","commit_message":"first cut","author":"ana",
             "model_config":{"model_name":"fast","temperature":0.2,"max_tokens":256},"labels":["staging"],"description":"Triage incoming questions"}
            """, 201);
        await Server.PostJsonAsync("/api/cairn/prompts", """
            {"name":"support/triage","template":"Answer in detail, with references.\nCustomer: {{customer}}\nQuestion: {{question}}","commit_message":"more detail","author":"ben",
             "model_config":{"model_name":"smart","temperature":0.7}}
            """, 201);
        await Server.PostJsonAsync("/api/cairn/prompt-labels/support/triage", """{"label":"production","version":1}""");
        await Server.PostJsonAsync("/api/cairn/prompts", """
            {"name":"support/refund","messages":[{"role":"system","content":"You handle refunds for {{shop}}."},{"role":"user","content":"{{request}}"}],
             "commit_message":"chat version","description":"Refund requests"}
            """, 201);
        await Server.PostJsonAsync("/api/cairn/prompts", """{"name":"sales/pitch","template":"Pitch {{product}} to {{persona}}.","labels":["production"]}""", 201);

        for (var i = 0; i < 3; i++)
        {
            await CallAsync("support/triage@1");
        }

        Gateway.Upstream.Enqueue(FakeBehavior.BadRequest);
        await CallAsync("support/triage@2");
        await CallAsync("support/triage@2");
        await Gateway.RecordsAsync(5);
    }

    private async Task CallAsync(string prompt)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"fast","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Cairn-Prompt", prompt);
        using var response = await Server.Client.SendAsync(request);
        await response.Content.ReadAsStringAsync();
    }
}

/// <summary>The prompt registry's pages in headless Chromium: list, prompt page, labels, diff, production figures and the version editor.</summary>
public sealed class PromptsUiBrowserTests(PromptsUiFixture fixture) : IClassFixture<PromptsUiFixture>
{
    private static readonly string s_screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");

    private string Url(string path) => new Uri(fixture.Server.BaseAddress, path).ToString();

    private async Task<IPage> NewPageAsync()
    {
        Directory.CreateDirectory(s_screenshots);
        var context = await fixture.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1360, Height = 900 } });
        var page = await context.NewPageAsync();
        page.Dialog += (_, dialog) => _ = dialog.AcceptAsync();
        return page;
    }

    [Fact]
    public async Task List_ShowsLabelBadges_FiltersByFolderAndName_AndPages()
    {
        var page = await NewPageAsync();
        var response = await page.GotoAsync(Url("/"));
        Assert.Equal(200, response!.Status);
        await page.Locator(".sidebar").GetByRole(AriaRole.Link, new() { Name = "Prompts" }).ClickAsync();
        Assert.EndsWith("/prompts", page.Url, StringComparison.Ordinal);

        // Other tests add prompts in other folders; the seeded ones are all listed.
        var rows = page.Locator("#prompts tbody tr");
        foreach (var name in new[] { "support/triage", "support/refund", "sales/pitch" })
        {
            await Assertions.Expect(page.Locator($"#prompts tr[data-prompt='{name}']")).ToHaveCountAsync(1);
        }

        var triage = page.Locator("#prompts tr[data-prompt='support/triage']");
        await Assertions.Expect(triage).ToContainTextAsync("production → v1");
        await Assertions.Expect(triage).ToContainTextAsync("staging → v1");
        await Assertions.Expect(triage).ToContainTextAsync("Triage incoming questions");
        await Assertions.Expect(triage.Locator("td").Nth(2)).ToHaveTextAsync("v2");
        await page.ScreenshotAsync(new() { Path = Path.Combine(s_screenshots, "prompts.png"), FullPage = true });

        await page.Locator("#prompt-filters input[name=folder]").FillAsync("support");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        Assert.Contains("folder=support", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(rows).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("#prompts")).Not.ToContainTextAsync("pitch");

        await page.GotoAsync(Url("/prompts?q=PITCH"));
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await Assertions.Expect(rows.First).ToContainTextAsync("production → v1");

        // A folder link in a row filters to that folder.
        await page.GotoAsync(Url("/prompts"));
        await page.Locator("#prompts tr[data-prompt='sales/pitch'] a", new() { HasText = "sales/" }).ClickAsync();
        Assert.Contains("folder=sales", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(rows).ToHaveCountAsync(1);

        await page.GotoAsync(Url("/prompts?folder=support&max_results=1"));
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await Assertions.Expect(rows.First).ToContainTextAsync("refund");
        await page.Locator("#next-page").ClickAsync();
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await Assertions.Expect(rows.First).ToContainTextAsync("triage");
        await Assertions.Expect(page.Locator("#next-page")).ToHaveCountAsync(0);

        var bad = await page.GotoAsync(Url("/prompts?page=%25%25not-a-token"));
        Assert.Equal(400, bad!.Status);
        await Assertions.Expect(page.Locator("#filter-error")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task PromptPage_ShowsVersionsTemplateDiffAndProduction()
    {
        var page = await NewPageAsync();
        var response = await page.GotoAsync(Url("/prompts/support/triage"));
        Assert.Equal(200, response!.Status);
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("support/triage");
        await Assertions.Expect(page.Locator("#prompt-description")).ToHaveTextAsync("Triage incoming questions");
        await Assertions.Expect(page.Locator("#versions tbody tr")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("#versions tr[data-version='1']")).ToContainTextAsync("first cut");
        await Assertions.Expect(page.Locator("#versions tr[data-version='1']")).ToContainTextAsync("customer, question");
        await Assertions.Expect(page.Locator("#template-text")).ToContainTextAsync("Answer in detail, with references.");
        await Assertions.Expect(page.Locator("#model-config")).ToContainTextAsync("\"smart\"");
        await Assertions.Expect(page.Locator("#variables li")).ToHaveTextAsync(["customer", "question"]);

        // The production table: three calls on v1, two on v2 (one failed).
        var production = page.Locator("#production tbody tr");
        await Assertions.Expect(production).ToHaveCountAsync(2);
        await Assertions.Expect(production.Nth(0).Locator("td").Nth(1)).ToHaveTextAsync("3");
        await Assertions.Expect(production.Nth(0).Locator("td").Nth(6)).ToHaveTextAsync("0 %");
        await Assertions.Expect(production.Nth(1).Locator("td").Nth(1)).ToHaveTextAsync("2");
        await Assertions.Expect(production.Nth(1).Locator("td").Nth(6)).ToHaveTextAsync("50 %");
        await page.ScreenshotAsync(new() { Path = Path.Combine(s_screenshots, "prompt.png"), FullPage = true });

        // Selecting version 1 shows its template.
        await page.Locator("#versions tr[data-version='1'] a", new() { HasText = "v1" }).ClickAsync();
        Assert.EndsWith("/prompts/support/triage?version=1", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.Locator("#template-text")).ToContainTextAsync("Answer briefly.");
        await Assertions.Expect(page.Locator("#selected-version")).ToContainTextAsync("ana");

        // The diff between the two versions.
        await page.Locator("#diff-chooser select[name=from]").SelectOptionAsync("1");
        await page.Locator("#diff-chooser select[name=to]").SelectOptionAsync("2");
        await page.Locator("#diff-chooser").GetByRole(AriaRole.Button, new() { Name = "Compare" }).ClickAsync();
        Assert.Contains("from=1", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.Locator("#template-diff .op-del")).ToHaveTextAsync(["-Answer briefly."]);
        await Assertions.Expect(page.Locator("#template-diff .op-add")).ToHaveTextAsync(["+Answer in detail, with references."]);
        await Assertions.Expect(page.Locator("#template-diff .diff-line:not(.op-add):not(.op-del)").First).ToContainTextAsync("Customer: {{customer}}");
        await Assertions.Expect(page.Locator("#config-diff .op-add", new() { HasText = "smart" })).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#config-diff .op-del", new() { HasText = "max_tokens" })).ToHaveCountAsync(1);
        await page.ScreenshotAsync(new() { Path = Path.Combine(s_screenshots, "prompt-diff.png"), FullPage = true });

        var badDiff = await page.GotoAsync(Url("/prompts/support/triage?from=1&to=9"));
        Assert.Equal(400, badDiff!.Status);
        await Assertions.Expect(page.Locator("#diff-error")).ToContainTextAsync("no version 9");

        // A chat prompt shows its messages by role, and no traffic yet.
        await page.GotoAsync(Url("/prompts/support/refund"));
        var bubbles = page.Locator("#template-messages .bubble");
        await Assertions.Expect(bubbles).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("#template-messages .role-system")).ToContainTextAsync("You handle refunds for {{shop}}.");
        await Assertions.Expect(page.Locator("#template-messages .role-user")).ToContainTextAsync("{{request}}");
        await Assertions.Expect(page.Locator("#variables li")).ToHaveTextAsync(["shop", "request"]);
        await Assertions.Expect(page.Locator("#no-traffic")).ToContainTextAsync("Cairn-Prompt: support/refund@");
        await Assertions.Expect(page.Locator("#versions tr[data-version='1']")).ToContainTextAsync("chat");

        // The folder crumb leads back to the filtered list.
        await page.Locator(".crumbs a", new() { HasText = "support" }).ClickAsync();
        await Assertions.Expect(page.Locator("#prompts tbody tr")).ToHaveCountAsync(2);
    }

    [Fact]
    public async Task LabelForms_MoveAndRemoveLabels_UpdateTheBadges()
    {
        await fixture.Server.PostJsonAsync("/api/cairn/prompts", """{"name":"labels/demo","template":"One {{a}}","labels":["production","beta"]}""", 201);
        await fixture.Server.PostJsonAsync("/api/cairn/prompts", """{"name":"labels/demo","template":"Two {{a}}"}""", 201);
        var page = await NewPageAsync();
        await page.GotoAsync(Url("/prompts/labels/demo"));
        var production = page.Locator("#prompt-labels .label-chip[data-label=production]");
        await Assertions.Expect(production).ToContainTextAsync("production → v1");

        await page.Locator("#move-label input[name=MoveLabel]").FillAsync("production");
        await page.Locator("#move-label select[name=MoveVersion]").SelectOptionAsync("2");
        await page.Locator("#move-label").GetByRole(AriaRole.Button, new() { Name = "Move label" }).ClickAsync();
        await Assertions.Expect(production).ToContainTextAsync("production → v2");
        Assert.EndsWith("/prompts/labels/demo", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.Locator("#versions tr[data-version='2']")).ToContainTextAsync("production");
        var fetched = await fixture.Server.GetAsync("/api/cairn/prompts/labels/demo?label=production");
        Assert.Equal(2, fetched["version"]!.GetValue<int>());

        // A label the registry refuses is reported next to the form with HTTP 400, and nothing moves.
        await page.Locator("#move-label input[name=MoveLabel]").FillAsync("latest");
        var refused = await page.RunAndWaitForResponseAsync(
            () => page.Locator("#move-label").GetByRole(AriaRole.Button, new() { Name = "Move label" }).ClickAsync(),
            r => r.Request.Method == "POST");
        Assert.Equal(400, refused.Status);
        await Assertions.Expect(page.Locator("#prompt-labels .form-error")).ToContainTextAsync("latest");
        await Assertions.Expect(production).ToContainTextAsync("production → v2");

        // Removing a label.
        await page.Locator("#prompt-labels").GetByRole(AriaRole.Button, new() { Name = "Remove label beta" }).ClickAsync();
        await Assertions.Expect(page.Locator("#prompt-labels .label-chip[data-label=beta]")).ToHaveCountAsync(0);
        await Assertions.Expect(production).ToHaveCountAsync(1);
        await fixture.Server.GetAsync("/api/cairn/prompts/labels/demo?label=beta", 404);
    }

    [Fact]
    public async Task Editor_CreatesTextAndChatVersions_AndShowsTheirVariables()
    {
        var page = await NewPageAsync();
        await page.GotoAsync(Url("/prompts"));
        await page.Locator("#new-prompt").ClickAsync();
        Assert.Contains("/prompt-editor", page.Url, StringComparison.Ordinal);
        // The variables panel's script runs at the end of the page: wait for it before typing.
        await page.WaitForLoadStateAsync(LoadState.Load);
        var editor = page.Locator("#prompt-editor");
        await editor.Locator("input[name='Draft.Name']").FillAsync("ui/welcome");
        await editor.Locator("textarea[name='Draft.Template']").FillAsync("Hello {{user}}, here is news about {{topic}}. {{! not a variable }}");

        // The variables panel follows the template as it is typed.
        await Assertions.Expect(page.Locator("#detected-variables li")).ToHaveTextAsync(["user", "topic"]);
        await editor.Locator("input[name='Draft.ModelName']").FillAsync("gpt-4o-mini");
        await editor.Locator("input[name='Draft.Temperature']").FillAsync("0.3");
        await editor.Locator("input[name='Draft.MaxTokens']").FillAsync("300");
        await editor.Locator("textarea[name='Draft.ResponseFormat']").FillAsync("""{"type":"json_object"}""");
        await editor.Locator("input[name='Draft.CommitMessage']").FillAsync("first draft");
        await editor.Locator("input[name='Draft.Author']").FillAsync("carla");
        await editor.Locator("input[name='Draft.Labels']").FillAsync("staging, beta");
        await editor.Locator("textarea[name='Draft.Description']").FillAsync("Greets users");
        await page.ScreenshotAsync(new() { Path = Path.Combine(s_screenshots, "prompt-editor.png"), FullPage = true });
        var saved = await page.RunAndWaitForResponseAsync(() => page.Locator("#save-version").ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(302, saved.Status);

        await page.WaitForURLAsync("**/prompts/ui/welcome?version=1");
        await Assertions.Expect(page.Locator("#template-text")).ToContainTextAsync("Hello {{user}}");
        await Assertions.Expect(page.Locator("#variables li")).ToHaveTextAsync(["user", "topic"]);
        await Assertions.Expect(page.Locator("#model-config")).ToContainTextAsync("0.3");
        await Assertions.Expect(page.Locator("#model-config")).ToContainTextAsync("300");
        await Assertions.Expect(page.Locator("#response-format")).ToContainTextAsync("json_object");
        await Assertions.Expect(page.Locator("#prompt-labels .label-chip[data-label=staging]")).ToContainTextAsync("v1");
        await Assertions.Expect(page.Locator("#prompt-description")).ToHaveTextAsync("Greets users");
        await Assertions.Expect(page.Locator("#selected-version")).ToContainTextAsync("carla");

        // A new version starts from the selected one; switched to a chat prompt.
        await page.Locator("#new-version").ClickAsync();
        await page.WaitForLoadStateAsync(LoadState.Load);
        await Assertions.Expect(editor.Locator("input[name='Draft.Name']")).ToHaveValueAsync("ui/welcome");
        await Assertions.Expect(editor.Locator("input[name='Draft.Name']")).ToHaveAttributeAsync("readonly", "");
        await Assertions.Expect(editor.Locator("textarea[name='Draft.Template']")).ToHaveValueAsync("Hello {{user}}, here is news about {{topic}}. {{! not a variable }}");
        await Assertions.Expect(editor.Locator("input[name='Draft.Temperature']")).ToHaveValueAsync("0.3");
        await editor.Locator("input[name='Draft.Type'][value=chat]").CheckAsync();
        await Assertions.Expect(editor.Locator("textarea[name='Draft.Template']")).ToBeHiddenAsync();
        await editor.Locator("select[name='Draft.Roles[0]']").SelectOptionAsync("system");
        await editor.Locator("textarea[name='Draft.Contents[0]']").FillAsync("You are {{persona}}.");
        await editor.Locator("select[name='Draft.Roles[1]']").SelectOptionAsync("user");
        await editor.Locator("textarea[name='Draft.Contents[1]']").FillAsync("{{question}}");
        await Assertions.Expect(page.Locator("#detected-variables li")).ToHaveTextAsync(["persona", "question"]);
        await editor.Locator("input[name='Draft.CommitMessage']").FillAsync("as chat");
        await page.Locator("#save-version").ClickAsync();

        await page.WaitForURLAsync("**/prompts/ui/welcome?version=2");
        await Assertions.Expect(page.Locator("#template-messages .bubble")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("#template-messages .role-system")).ToContainTextAsync("You are {{persona}}.");
        await Assertions.Expect(page.Locator("#variables li")).ToHaveTextAsync(["persona", "question"]);
        await Assertions.Expect(page.Locator("#versions tr[data-version='2']")).ToContainTextAsync("chat");
        var stored = await fixture.Server.GetAsync("/api/cairn/prompts/ui/welcome?version=2");
        Assert.Equal("chat", stored["type"]!.GetValue<string>());
        Assert.Equal(["system", "user"], stored["messages"]!.AsArray().Select(m => m!["role"]!.GetValue<string>()));
        Assert.Equal(0.3, stored["model_config"]!["temperature"]!.GetValue<double>());

        // The chat version's editor lists its messages back.
        await page.Locator("#new-version").ClickAsync();
        await Assertions.Expect(editor.Locator("input[name='Draft.Type'][value=chat]")).ToBeCheckedAsync();
        await Assertions.Expect(editor.Locator("textarea[name='Draft.Contents[1]']")).ToHaveValueAsync("{{question}}");
        await Assertions.Expect(page.Locator("#detected-variables li")).ToHaveTextAsync(["persona", "question"]);
    }

    [Fact]
    public async Task Editor_InvalidInput_ShowsTheErrorWith400_AndKeepsTheInput()
    {
        var page = await NewPageAsync();
        await page.GotoAsync(Url("/prompt-editor"));
        var editor = page.Locator("#prompt-editor");
        await editor.Locator("input[name='Draft.Name']").FillAsync("ui/broken");
        await editor.Locator("textarea[name='Draft.Template']").FillAsync("Hello {{#items}} never closed");
        await editor.Locator("input[name='Draft.CommitMessage']").FillAsync("keep me");
        var refused = await page.RunAndWaitForResponseAsync(() => page.Locator("#save-version").ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(400, refused.Status);
        await Assertions.Expect(page.Locator(".form-error")).ToContainTextAsync("Invalid template");
        await Assertions.Expect(page.Locator("#variables-error")).ToBeVisibleAsync();
        await Assertions.Expect(editor.Locator("textarea[name='Draft.Template']")).ToHaveValueAsync("Hello {{#items}} never closed");
        await Assertions.Expect(editor.Locator("input[name='Draft.CommitMessage']")).ToHaveValueAsync("keep me");
        await Assertions.Expect(editor.Locator("input[name='Draft.Name']")).ToHaveValueAsync("ui/broken");
        await page.ScreenshotAsync(new() { Path = Path.Combine(s_screenshots, "prompt-editor-error.png"), FullPage = true });

        await editor.Locator("textarea[name='Draft.Template']").FillAsync("Hello {{name}}");
        await editor.Locator("input[name='Draft.Temperature']").FillAsync("warm");
        refused = await page.RunAndWaitForResponseAsync(() => page.Locator("#save-version").ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(400, refused.Status);
        await Assertions.Expect(page.Locator(".form-error")).ToContainTextAsync("Temperature must be a number");
        await Assertions.Expect(editor.Locator("input[name='Draft.Temperature']")).ToHaveValueAsync("warm");

        await editor.Locator("input[name='Draft.Temperature']").FillAsync("");
        await editor.Locator("input[name='Draft.Name']").FillAsync("has space");
        refused = await page.RunAndWaitForResponseAsync(() => page.Locator("#save-version").ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(400, refused.Status);
        await Assertions.Expect(page.Locator(".form-error")).ToContainTextAsync("whitespace");

        await editor.Locator("input[name='Draft.Name']").FillAsync("ui/chat-broken");
        await editor.Locator("input[name='Draft.Type'][value=chat]").CheckAsync();
        await editor.Locator("textarea[name='Draft.Contents[0]']").FillAsync("Fine {{a}}");
        await editor.Locator("textarea[name='Draft.Contents[1]']").FillAsync("Broken {{/b}}");
        refused = await page.RunAndWaitForResponseAsync(() => page.Locator("#save-version").ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(400, refused.Status);
        await Assertions.Expect(page.Locator(".form-error")).ToContainTextAsync("'{{/b}}' has no section to close");
        await Assertions.Expect(editor.Locator("input[name='Draft.Type'][value=chat]")).ToBeCheckedAsync();
        await Assertions.Expect(editor.Locator("textarea[name='Draft.Contents[1]']")).ToHaveValueAsync("Broken {{/b}}");

        await fixture.Server.GetAsync("/api/cairn/prompts/ui/broken", 404);
        await fixture.Server.GetAsync("/api/cairn/prompts/ui/chat-broken", 404);
    }

    [Fact]
    public async Task UnknownPromptOrVersion_Returns404()
    {
        var page = await NewPageAsync();
        foreach (var path in new[] { "/prompts/nope/missing", "/prompts/support/triage?version=99", "/prompts/support/triage?label=gone", "/prompt-editor?name=nope", "/prompts/bad%20name" })
        {
            var response = await page.GotoAsync(Url(path));
            Assert.True(response!.Status == 404, $"{path}: HTTP {response.Status}");
            await Assertions.Expect(page.Locator("#not-found")).ToBeVisibleAsync();
        }

        // A registered model that is not a prompt is not shown as one.
        await fixture.Server.PostJsonAsync("/api/2.0/mlflow/registered-models/create", """{"name":"plain-model"}""");
        var model = await page.GotoAsync(Url("/prompts/plain-model"));
        Assert.Equal(404, model!.Status);
    }
}
