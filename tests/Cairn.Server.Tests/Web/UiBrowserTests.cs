using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace Cairn.Server.Tests.Web;

/// <summary>Drives the web UI in a real headless Chromium (Debian's, through Playwright) against a real seeded server.</summary>
public sealed class UiBrowserTests : IAsyncLifetime
{
    private const string ChromiumPath = "/usr/bin/chromium";
    private static readonly string s_screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");

    private CairnTestServer _server = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private string _experimentId = "";
    private string _runId = "";
    private bool _acceptDialogs;

    public async ValueTask InitializeAsync()
    {
        _server = await CairnTestServer.StartAsync();
        await SeedAsync();
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        Directory.CreateDirectory(s_screenshots);
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task ClickThrough_ExperimentsRunsArtifactsAndModels_ShowsEverything()
    {
        var page = await NewPageAsync();
        var dialogs = 0;
        page.Dialog += (_, dialog) =>
        {
            dialogs++;
            _ = dialog.DismissAsync();
        };

        var response = await page.GotoAsync(_server.BaseAddress.ToString());
        Assert.Equal(200, response!.Status);
        await Assertions.Expect(page.Locator("#experiments")).ToContainTextAsync("iris-ui");
        await page.ScreenshotAsync(new() { Path = Path.Combine(s_screenshots, "experiments.png"), FullPage = true });

        await page.GetByRole(AriaRole.Link, new() { Name = "iris-ui", Exact = true }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Uri(_server.BaseAddress, $"/experiments/{_experimentId}").ToString());
        var runs = page.Locator("#runs");
        await Assertions.Expect(runs).ToContainTextAsync("lr-run");
        await Assertions.Expect(runs).ToContainTextAsync("tree-run");
        await Assertions.Expect(runs).ToContainTextAsync("FINISHED");
        await Assertions.Expect(runs.Locator("thead")).ToContainTextAsync("accuracy");
        await page.ScreenshotAsync(new() { Path = Path.Combine(s_screenshots, "experiment.png"), FullPage = true });

        // Sorting by clicking a header keeps a shareable URL.
        await runs.Locator("thead").GetByRole(AriaRole.Link, new() { Name = "accuracy" }).ClickAsync();
        Assert.Contains("order=", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(runs.Locator("tbody tr").First).ToContainTextAsync("lr-run");

        await page.GetByRole(AriaRole.Link, new() { Name = "lr-run", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("lr-run");
        await Assertions.Expect(page.Locator("#params")).ToContainTextAsync("learning_rate");
        await Assertions.Expect(page.Locator("#params")).ToContainTextAsync("0.01");
        await Assertions.Expect(page.Locator("#metrics")).ToContainTextAsync("accuracy");
        await Assertions.Expect(page.Locator("#metrics")).ToContainTextAsync("0.95");
        await Assertions.Expect(page.Locator("#overview")).ToContainTextAsync("train.py");
        await Assertions.Expect(page.Locator("svg.metric-chart").First).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("svg.metric-chart polyline").First).ToHaveAttributeAsync("points", new System.Text.RegularExpressions.Regex(@"\d"));

        var tree = page.Locator("#artifact-tree");
        await Assertions.Expect(tree).ToContainTextAsync("model.pkl");
        await Assertions.Expect(tree).ToContainTextAsync("metrics.json");
        await tree.GetByRole(AriaRole.Link, new() { Name = "MLmodel" }).ClickAsync();
        await Assertions.Expect(page.Locator("#artifact-text")).ToContainTextAsync("flavors:");
        await page.ScreenshotAsync(new() { Path = Path.Combine(s_screenshots, "run.png"), FullPage = true });

        await page.Locator("#artifact-tree").GetByRole(AriaRole.Link, new() { Name = "page.html" }).ClickAsync();
        await Assertions.Expect(page.Locator("#artifact-text")).ToContainTextAsync("<script>alert('xss')</script>");
        Assert.Equal(0, await page.Locator("#artifact-preview script").CountAsync());

        await page.Locator("#artifact-tree").GetByRole(AriaRole.Link, new() { Name = "model.pkl" }).ClickAsync();
        var download = page.Locator("#artifact-preview a[download]");
        Assert.Equal(
            $"/api/2.0/mlflow-artifacts/artifacts/{_experimentId}/{_runId}/artifacts/model/model.pkl",
            await download.GetAttributeAsync("href"));

        await page.GetByRole(AriaRole.Link, new() { Name = "Models", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("#models")).ToContainTextAsync("iris_lr_model");
        await Assertions.Expect(page.Locator("#models")).ToContainTextAsync("champion");
        await page.ScreenshotAsync(new() { Path = Path.Combine(s_screenshots, "models.png"), FullPage = true });

        await page.GetByRole(AriaRole.Link, new() { Name = "iris_lr_model", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("#versions")).ToContainTextAsync("Version 1");
        await page.GetByRole(AriaRole.Link, new() { Name = "Version 1", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("#aliases")).ToContainTextAsync("champion");
        await Assertions.Expect(page.Locator("#version-overview")).ToContainTextAsync($"runs:/{_runId}/model");
        await page.ScreenshotAsync(new() { Path = Path.Combine(s_screenshots, "model-version.png"), FullPage = true });

        await page.Locator("#source-run").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Uri(_server.BaseAddress, $"/runs/{_runId}").ToString());
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("lr-run");
        Assert.Equal(0, dialogs);
    }

    [Fact]
    public async Task CompareRuns_SelectedInRunTable_ShowsDifferencesAndOverlaidCharts()
    {
        var page = await NewPageAsync();
        await page.GotoAsync(new Uri(_server.BaseAddress, $"/experiments/{_experimentId}").ToString());
        await page.GetByRole(AriaRole.Checkbox, new() { Name = "Select lr-run" }).CheckAsync();
        await page.GetByRole(AriaRole.Checkbox, new() { Name = "Select tree-run" }).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Compare selected runs" }).ClickAsync();

        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Comparing 2 runs");
        Assert.Contains("/compare-runs?runs=", page.Url, StringComparison.Ordinal);
        Assert.Contains(_runId, page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.Locator("#compare-runs thead")).ToContainTextAsync("lr-run");
        await Assertions.Expect(page.Locator("#compare-runs thead")).ToContainTextAsync("tree-run");

        var parameters = page.Locator("#compare-params");
        var learningRate = parameters.Locator("tbody tr", new() { HasText = "learning_rate" });
        await Assertions.Expect(learningRate).ToHaveClassAsync("diff");
        await Assertions.Expect(learningRate).ToContainTextAsync("0.01");
        await Assertions.Expect(learningRate).ToContainTextAsync("0.1");
        var seed = parameters.Locator("tbody tr", new() { HasText = "seed" });
        await Assertions.Expect(seed).Not.ToHaveClassAsync("diff");
        await Assertions.Expect(page.Locator("#compare-metrics tbody tr", new() { HasText = "accuracy" })).ToContainTextAsync("0.88");

        // One chart per metric, with one line per run.
        var charts = page.Locator("#compare-charts .chart");
        await Assertions.Expect(charts).ToHaveCountAsync(2);
        await Assertions.Expect(charts.First.Locator("polyline")).ToHaveCountAsync(2);
        var strokes = await charts.First.Locator("polyline").EvaluateAllAsync<string[]>("lines => lines.map(l => l.getAttribute('stroke'))");
        Assert.Equal(2, strokes.Distinct().Count());
        await page.ScreenshotAsync(new() { Path = Path.Combine(s_screenshots, "compare-runs.png"), FullPage = true });

        // The URL is shareable, and the differences-only view drops equal parameters.
        await page.Locator("#diff-toggle").ClickAsync();
        Assert.Contains("diff=only", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(parameters.Locator("tbody tr", new() { HasText = "seed" })).ToHaveCountAsync(0);
        await Assertions.Expect(parameters.Locator("tbody tr", new() { HasText = "learning_rate" })).ToHaveCountAsync(1);

        var reopened = await NewPageAsync();
        var response = await reopened.GotoAsync(page.Url);
        Assert.Equal(200, response!.Status);
        await Assertions.Expect(reopened.Locator("h1")).ToHaveTextAsync("Comparing 2 runs");

        var unknown = await reopened.GotoAsync(new Uri(_server.BaseAddress, $"/compare-runs?runs={_runId}&runs=nope").ToString());
        Assert.Equal(404, unknown!.Status);
        var none = await reopened.GotoAsync(new Uri(_server.BaseAddress, "/compare-runs").ToString());
        Assert.Equal(200, none!.Status);
        await Assertions.Expect(reopened.Locator("#nothing-selected")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Experiments_CreateRenameDelete_FromTheUi()
    {
        var page = await NewPageAsync();
        await page.GotoAsync(_server.BaseAddress.ToString());
        await page.GetByText("New experiment").ClickAsync();
        await page.Locator("#create-experiment input[name=NewName]").FillAsync("churn-model");
        await page.Locator("#create-experiment").GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("churn-model");
        Assert.Matches(@"/experiments/\d+$", page.Url);
        var experimentUrl = page.Url;

        // A duplicate name is refused next to the form, and nothing is created.
        await page.GotoAsync(_server.BaseAddress.ToString());
        await page.GetByText("New experiment").ClickAsync();
        await page.Locator("#create-experiment input[name=NewName]").FillAsync("iris-ui");
        var refused = await page.RunAndWaitForResponseAsync(
            () => page.Locator("#create-experiment").GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync(),
            r => r.Request.Method == "POST");
        Assert.Equal(400, refused.Status);
        await Assertions.Expect(page.Locator(".form-error")).ToContainTextAsync("iris-ui");
        await Assertions.Expect(page.Locator("#experiments tbody tr", new() { HasText = "iris-ui" })).ToHaveCountAsync(1);

        await page.GotoAsync(experimentUrl);
        await page.GetByText("Rename").ClickAsync();
        await page.Locator("#rename-experiment input[name=NewName]").FillAsync("churn-model-v2");
        await page.Locator("#rename-experiment").GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("churn-model-v2");
        Assert.Equal(experimentUrl, page.Url);

        // Delete asks first; dismissing keeps the experiment.
        page.Dialog += (_, dialog) => _ = dialog.Message.Contains("churn-model-v2", StringComparison.Ordinal) && _acceptDialogs ? dialog.AcceptAsync() : dialog.DismissAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("churn-model-v2");
        _acceptDialogs = true;
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(_server.BaseAddress.ToString());
        await Assertions.Expect(page.Locator("#experiments")).Not.ToContainTextAsync("churn-model");

        var experiments = await _server.PostJsonAsync("/api/2.0/mlflow/experiments/search", """{"max_results":10,"view_type":"DELETED_ONLY"}""");
        Assert.Contains(experiments["experiments"]!.AsArray(), e => e!["name"]!.GetValue<string>() == "churn-model-v2");
    }

    [Fact]
    public async Task ModelVersionPage_EditsDescriptionStageAliasesAndTags()
    {
        var page = await NewPageAsync();
        page.Dialog += (_, dialog) => _ = dialog.AcceptAsync();
        var url = new Uri(_server.BaseAddress, "/models/iris_lr_model/versions/1").ToString();
        await page.GotoAsync(url);

        await page.Locator("#edit-description textarea").FillAsync("Logistic regression, 95% test accuracy.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save description" }).ClickAsync();
        await Assertions.Expect(page.Locator("#description")).ToHaveTextAsync("Logistic regression, 95% test accuracy.");
        Assert.Equal(url, page.Url);

        await page.Locator("#transition-stage select").SelectOptionAsync("Staging");
        await page.GetByRole(AriaRole.Button, new() { Name = "Change stage" }).ClickAsync();
        await Assertions.Expect(page.Locator("#version-overview")).ToContainTextAsync("Staging");

        await page.Locator("#set-alias input[name=Alias]").FillAsync("challenger");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add alias" }).ClickAsync();
        await Assertions.Expect(page.Locator("#aliases")).ToContainTextAsync("challenger");
        await page.GetByRole(AriaRole.Button, new() { Name = "Remove alias champion" }).ClickAsync();
        await Assertions.Expect(page.Locator("#aliases")).Not.ToContainTextAsync("champion");
        await Assertions.Expect(page.Locator("#aliases")).ToContainTextAsync("challenger");

        // MLflow reserves aliases shaped like versions; the message shows next to the form.
        await page.Locator("#set-alias input[name=Alias]").FillAsync("v7");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add alias" }).ClickAsync();
        await Assertions.Expect(page.Locator(".form-error")).ToBeVisibleAsync();

        await page.GotoAsync(url);
        await page.Locator("#set-tag input[name=TagKey]").FillAsync("validated_by");
        await page.Locator("#set-tag input[name=TagValue]").FillAsync("qa-team");
        await page.GetByRole(AriaRole.Button, new() { Name = "Set tag" }).ClickAsync();
        await Assertions.Expect(page.Locator("#version-tags")).ToContainTextAsync("qa-team");
        await page.ScreenshotAsync(new() { Path = Path.Combine(s_screenshots, "model-version-edited.png"), FullPage = true });
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete tag validated_by" }).ClickAsync();
        await Assertions.Expect(page.Locator("#version-tags")).Not.ToContainTextAsync("qa-team");

        // What the page did is what the registry API reports.
        var version = (await _server.GetAsync("/api/2.0/mlflow/model-versions/get?name=iris_lr_model&version=1"))["model_version"]!;
        Assert.Equal("Logistic regression, 95% test accuracy.", version["description"]!.GetValue<string>());
        Assert.Equal("Staging", version["current_stage"]!.GetValue<string>());
        Assert.Equal(["challenger"], version["aliases"]!.AsArray().Select(a => a!.GetValue<string>()));

        await page.GotoAsync(new Uri(_server.BaseAddress, "/models/iris_lr_model").ToString());
        await page.GetByText("Edit description").ClickAsync();
        await page.Locator("#edit-model-description textarea").FillAsync("Iris classifiers.");
        await page.Locator("#edit-model-description").GetByRole(AriaRole.Button, new() { Name = "Save description" }).ClickAsync();
        await Assertions.Expect(page.Locator("#model-description")).ToHaveTextAsync("Iris classifiers.");
    }

    [Fact]
    public async Task ExperimentPage_BadFilter_ShowsParserMessageInline()
    {
        var page = await NewPageAsync();
        await page.GotoAsync(new Uri(_server.BaseAddress, $"/experiments/{_experimentId}").ToString());
        await page.Locator("input[name=filter]").FillAsync("metrics.accuracy >> oops");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Assertions.Expect(page.Locator("#filter-error")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#filter-error")).ToContainTextAsync("filter");

        await page.Locator("input[name=filter]").FillAsync("params.learning_rate = '0.01'");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Assertions.Expect(page.Locator("#runs tbody tr")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#runs")).ToContainTextAsync("lr-run");
    }

    [Fact]
    public async Task UnknownIds_RenderNotFoundPageWith404()
    {
        var page = await NewPageAsync();
        foreach (var path in new[] { "/runs/doesnotexist", "/experiments/987654", "/models/nope", "/models/iris_lr_model/versions/42" })
        {
            var response = await page.GotoAsync(new Uri(_server.BaseAddress, path).ToString());
            Assert.Equal(404, response!.Status);
            await Assertions.Expect(page.Locator("#not-found")).ToBeVisibleAsync();
        }

        await page.GotoAsync(new Uri(_server.BaseAddress, "/runs/doesnotexist").ToString());
        await page.ScreenshotAsync(new() { Path = Path.Combine(s_screenshots, "not-found.png"), FullPage = true });
    }

    [Fact]
    public async Task ServerError_ShowsShortMessageWithoutStackTrace()
    {
        // Break the database under the running server: the run page's query fails.
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_server.DataDirectory, "cairn.db")};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "ALTER TABLE params RENAME TO params_moved";
            await command.ExecuteNonQueryAsync();
        }

        var page = await NewPageAsync();
        var response = await page.GotoAsync(new Uri(_server.BaseAddress, $"/runs/{_runId}").ToString());
        Assert.Equal(500, response!.Status);
        await Assertions.Expect(page.Locator(".notice.error")).ToContainTextAsync("Something went wrong");
        var text = await page.Locator("body").InnerTextAsync();
        Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("params", text, StringComparison.Ordinal);
        await page.ScreenshotAsync(new() { Path = Path.Combine(s_screenshots, "server-error.png"), FullPage = true });
    }

    [Fact]
    public async Task ApiRoutes_StillServedBesideTheUi()
    {
        Assert.Equal("OK", await _server.Client.GetStringAsync("/health"));
        var experiments = await _server.PostJsonAsync("/api/2.0/mlflow/experiments/search", """{"max_results":10}""");
        Assert.NotEmpty(experiments["experiments"]!.AsArray());
        using var ajax = await _server.Client.GetAsync($"/ajax-api/2.0/mlflow/experiments/get?experiment_id={_experimentId}");
        Assert.Equal(HttpStatusCode.OK, ajax.StatusCode);
    }

    private async Task<IPage> NewPageAsync()
    {
        var context = await _browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        return await context.NewPageAsync();
    }

    private async Task SeedAsync()
    {
        var created = await _server.PostJsonAsync("/api/2.0/mlflow/experiments/create", """{"name":"iris-ui"}""");
        _experimentId = created["experiment_id"]!.GetValue<string>();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        _runId = await CreateRunAsync("lr-run", now - 90_000, "0.01", 0.95, now);
        await CreateRunAsync("tree-run", now - 60_000, "0.1", 0.88, now);

        var root = $"/api/2.0/mlflow-artifacts/artifacts/{_experimentId}/{_runId}/artifacts";
        await PutAsync($"{root}/MLmodel", "artifact_path: model\nflavors:\n  sklearn:\n    pickled_model: model.pkl\n"u8.ToArray());
        await PutAsync($"{root}/model/model.pkl", [0x80, 0x04, 0x95, 0x00, 0x01, 0x02, 0xff, 0xfe]);
        await PutAsync($"{root}/metrics.json", """{"accuracy": 0.95, "loss": 0.12}"""u8.ToArray());
        await PutAsync($"{root}/page.html", "<html><body><script>alert('xss')</script><h1>hi</h1></body></html>"u8.ToArray());

        await _server.PostJsonAsync("/api/2.0/mlflow/registered-models/create", """{"name":"iris_lr_model"}""");
        await _server.PostJsonAsync("/api/2.0/mlflow/model-versions/create", new JsonObject
        {
            ["name"] = "iris_lr_model",
            ["source"] = $"runs:/{_runId}/model",
            ["run_id"] = _runId,
        }.ToJsonString());
        await _server.PostJsonAsync("/api/2.0/mlflow/registered-models/alias", """{"name":"iris_lr_model","alias":"champion","version":"1"}""");
    }

    private async Task<string> CreateRunAsync(string name, long start, string learningRate, double accuracy, long end)
    {
        var run = await _server.PostJsonAsync("/api/2.0/mlflow/runs/create", new JsonObject
        {
            ["experiment_id"] = _experimentId,
            ["run_name"] = name,
            ["start_time"] = start,
            ["tags"] = new JsonArray(new JsonObject { ["key"] = "mlflow.source.name", ["value"] = "train.py" }),
        }.ToJsonString());
        var runId = run["run"]!["info"]!["run_id"]!.GetValue<string>();

        var metrics = new JsonArray();
        for (var step = 0; step < 50; step++)
        {
            var value = accuracy - (0.5 * Math.Exp(-step / 8.0));
            metrics.Add(new JsonObject { ["key"] = "accuracy", ["value"] = step == 49 ? accuracy : value, ["timestamp"] = start + step, ["step"] = step });
            metrics.Add(new JsonObject { ["key"] = "loss", ["value"] = Math.Exp(-step / 10.0), ["timestamp"] = start + step, ["step"] = step });
        }

        await _server.PostJsonAsync("/api/2.0/mlflow/runs/log-batch", new JsonObject
        {
            ["run_id"] = runId,
            ["metrics"] = metrics,
            ["params"] = new JsonArray(
                new JsonObject { ["key"] = "learning_rate", ["value"] = learningRate },
                new JsonObject { ["key"] = "model", ["value"] = name.Split('-')[0] },
                new JsonObject { ["key"] = "seed", ["value"] = "42" }),
            ["tags"] = new JsonArray(new JsonObject { ["key"] = "team", ["value"] = "ml" }),
        }.ToJsonString());
        await _server.PostJsonAsync("/api/2.0/mlflow/runs/update", new JsonObject
        {
            ["run_id"] = runId,
            ["status"] = "FINISHED",
            ["end_time"] = end,
        }.ToJsonString());
        return runId;
    }

    private async Task PutAsync(string path, byte[] content)
    {
        using var body = new ByteArrayContent(content);
        using var response = await _server.Client.PutAsync(path, body);
        Assert.True(response.IsSuccessStatusCode, string.Create(CultureInfo.InvariantCulture, $"PUT {path}: {(int)response.StatusCode}"));
    }
}
