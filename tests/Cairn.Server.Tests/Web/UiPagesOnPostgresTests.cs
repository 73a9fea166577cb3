using System.Net;
using System.Text.RegularExpressions;

namespace Cairn.Server.Tests.Web;

/// <summary>
/// Every UI page renders on PostgreSQL, whose store is truly asynchronous: Blazor renders a page once before its data has
/// loaded, which SQLite's synchronous completions hid (issue #3).
/// </summary>
public sealed class UiPagesOnPostgresTests
{
    [Theory]
    [InlineData(Backend.Postgres)]
    [InlineData(Backend.Sqlite)]
    public async Task Pages_WithSeededData_RenderWithStatus200(Backend backend)
    {
        await using var server = await CairnTestServer.StartAsync(backend);
        var experimentId = (await server.PostJsonAsync("/api/2.0/mlflow/experiments/create", """{"name":"pg-ui"}"""))["experiment_id"]!.GetValue<string>();
        var run = await server.PostJsonAsync("/api/2.0/mlflow/runs/create", $$"""{"experiment_id":"{{experimentId}}","run_name":"pg-run"}""");
        var runId = run["run"]!["info"]!["run_id"]!.GetValue<string>();
        await server.PostJsonAsync("/api/2.0/mlflow/runs/log-batch", $$"""{"run_id":"{{runId}}","params":[{"key":"lr","value":"0.1"}],"metrics":[{"key":"acc","value":0.9,"timestamp":1,"step":0},{"key":"acc","value":0.95,"timestamp":2,"step":1}]}""");
        await server.PostJsonAsync("/api/2.0/mlflow/registered-models/create", """{"name":"pg-model"}""");
        await server.PostJsonAsync("/api/2.0/mlflow/model-versions/create", $$"""{"name":"pg-model","source":"runs:/{{runId}}/model","run_id":"{{runId}}"}""");

        foreach (var (path, expected) in new[]
        {
            ("/", "pg-ui"),
            ($"/experiments/{experimentId}", "pg-run"),
            ($"/runs/{runId}", "0.95"),
            ("/models", "pg-model"),
            ("/models/pg-model", "pg-model"),
            ("/models/pg-model/versions/1", runId),
            ($"/compare-runs?runs={runId}", "Comparing 1 run"),
            ("/gateway/requests", "No requests match."),
            ("/gateway/usage?range=7d&split=user", "No requests in this period."),
        })
        {
            using var response = await server.Client.GetAsync(path);
            var html = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: HTTP {(int)response.StatusCode}");
            Assert.Contains(expected, html, StringComparison.Ordinal);
            Assert.DoesNotContain("Something went wrong", html, StringComparison.Ordinal);
        }

        using var missing = await server.Client.GetAsync("/runs/0123456789abcdef0123456789abcdef");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        // A form post is handled after the page's data has loaded, then redirects (post/redirect/get).
        var page = await server.Client.GetStringAsync("/models/pg-model/versions/1");
        var token = Regex.Match(page, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        Assert.NotEmpty(token);
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "version-description",
            ["__RequestVerificationToken"] = token,
            ["Description"] = "edited on " + backend,
        });
        using var posted = await server.Client.PostAsync("/models/pg-model/versions/1", form);
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        Assert.Equal("/models/pg-model/versions/1", posted.RequestMessage!.RequestUri!.AbsolutePath);
        var version = await server.GetAsync("/api/2.0/mlflow/model-versions/get?name=pg-model&version=1");
        Assert.Equal("edited on " + backend, version["model_version"]!["description"]!.GetValue<string>());

        // Without the antiforgery token the post is refused and nothing changes.
        using var forged = new FormUrlEncodedContent(new Dictionary<string, string> { ["_handler"] = "version-description", ["Description"] = "forged" });
        using var refused = await server.Client.PostAsync("/models/pg-model/versions/1", forged);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        version = await server.GetAsync("/api/2.0/mlflow/model-versions/get?name=pg-model&version=1");
        Assert.Equal("edited on " + backend, version["model_version"]!["description"]!.GetValue<string>());
    }
}
