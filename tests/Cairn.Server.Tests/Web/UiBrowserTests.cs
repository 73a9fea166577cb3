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
                new JsonObject { ["key"] = "model", ["value"] = name.Split('-')[0] }),
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
