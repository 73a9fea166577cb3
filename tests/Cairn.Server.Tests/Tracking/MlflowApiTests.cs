using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Cairn.Server.Tests.Tracking;

/// <summary>The MLflow REST API end to end over HTTP, including its error semantics (issue #2).</summary>
public sealed class MlflowApiTests : IAsyncLifetime
{
    private CairnTestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await CairnTestServer.StartAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Health_Get_AnswersOk()
    {
        var text = await _server.Client.GetStringAsync("/health");
        Assert.Equal("OK", text);
    }

    [Fact]
    public async Task GetExperiment_DefaultExperiment_ExistsWithIdZero()
    {
        var body = await _server.GetAsync("/api/2.0/mlflow/experiments/get?experiment_id=0");
        Assert.Equal("Default", body["experiment"]!["name"]!.GetValue<string>());
        Assert.Equal("mlflow-artifacts:/0", body["experiment"]!["artifact_location"]!.GetValue<string>());
        Assert.Equal("active", body["experiment"]!["lifecycle_stage"]!.GetValue<string>());
    }

    [Fact]
    public async Task Experiments_CreateRenameTagDeleteRestore_RoundTrips()
    {
        var id = (await _server.PostJsonAsync("/api/2.0/mlflow/experiments/create", """{"name":"exp-a","tags":[{"key":"team","value":"ml"}]}"""))["experiment_id"]!.GetValue<string>();
        await _server.PostJsonAsync("/api/2.0/mlflow/experiments/update", $$"""{"experiment_id":"{{id}}","new_name":"exp-b"}""");
        await _server.PostJsonAsync("/api/2.0/mlflow/experiments/set-experiment-tag", $$"""{"experiment_id":"{{id}}","key":"k","value":"v"}""");
        var byName = await _server.GetAsync("/api/2.0/mlflow/experiments/get-by-name?experiment_name=exp-b");
        Assert.Equal(id, byName["experiment"]!["experiment_id"]!.GetValue<string>());
        var tags = byName["experiment"]!["tags"]!.AsArray().Select(static t => t!["key"]!.GetValue<string>()).ToList();
        Assert.Contains("team", tags);
        Assert.Contains("k", tags);

        await _server.PostJsonAsync("/api/2.0/mlflow/experiments/delete-experiment-tag", $$"""{"experiment_id":"{{id}}","key":"k"}""");
        await _server.PostJsonAsync("/api/2.0/mlflow/experiments/delete", $$"""{"experiment_id":"{{id}}"}""");
        var deleted = await _server.GetAsync($"/api/2.0/mlflow/experiments/get?experiment_id={id}");
        Assert.Equal("deleted", deleted["experiment"]!["lifecycle_stage"]!.GetValue<string>());

        var active = await _server.PostJsonAsync("/api/2.0/mlflow/experiments/search", """{"max_results":10}""");
        Assert.DoesNotContain(active["experiments"]!.AsArray(), e => e!["experiment_id"]!.GetValue<string>() == id);
        var all = await _server.PostJsonAsync("/api/2.0/mlflow/experiments/search", """{"view_type":"ALL","filter":"name LIKE 'exp-%'"}""");
        Assert.Single(all["experiments"]!.AsArray());

        await _server.PostJsonAsync("/api/2.0/mlflow/experiments/restore", $$"""{"experiment_id":"{{id}}"}""");
        var restored = await _server.GetAsync($"/ajax-api/2.0/mlflow/experiments/get?experiment_id={id}");
        Assert.Equal("active", restored["experiment"]!["lifecycle_stage"]!.GetValue<string>());
    }

    [Fact]
    public async Task SearchExperiments_Paging_FollowsTokens()
    {
        for (var i = 0; i < 5; i++)
        {
            await _server.PostJsonAsync("/api/2.0/mlflow/experiments/create", $$"""{"name":"page-{{i}}"}""");
        }

        var seen = new HashSet<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var body = await _server.PostJsonAsync("/api/2.0/mlflow/experiments/search", token is null ? """{"max_results":2}""" : $$"""{"max_results":2,"page_token":"{{token}}"}""");
            foreach (var e in body["experiments"]!.AsArray())
            {
                Assert.True(seen.Add(e!["experiment_id"]!.GetValue<string>()));
            }

            token = body["next_page_token"]?.GetValue<string>();
            pages++;
        }
        while (token is not null);

        Assert.Equal(6, seen.Count);
        Assert.Equal(3, pages);
    }

    [Fact]
    public async Task CreateRun_WithoutName_GetsReadableName()
    {
        var run = await _server.PostJsonAsync("/api/2.0/mlflow/runs/create", """{"experiment_id":"0","start_time":1700000000000}""");
        var name = run["run"]!["info"]!["run_name"]!.GetValue<string>();
        Assert.Matches("^[a-z]+-[a-z]+-[0-9]{1,3}$", name);
        var info = run["run"]!["info"]!;
        Assert.Equal(info["run_id"]!.GetValue<string>(), info["run_uuid"]!.GetValue<string>());
        Assert.Equal("RUNNING", info["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task SearchRuns_MetricAndParamFilterWithOrderBy_ReturnsMatchingRunsInOrder()
    {
        for (var i = 0; i < 6; i++)
        {
            var runId = await CreateRunAsync();
            await _server.PostJsonAsync("/api/2.0/mlflow/runs/log-batch", $$"""
                {"run_id":"{{runId}}","params":[{"key":"solver","value":"{{(i % 2 == 0 ? "lbfgs" : "sgd")}}"}],
                 "metrics":[{"key":"acc","value":{{i / 10.0}},"timestamp":1,"step":0}],"tags":[{"key":"idx","value":"{{i}}"}]}
                """);
        }

        var body = await _server.PostJsonAsync("/api/2.0/mlflow/runs/search", """
            {"experiment_ids":["0"],"filter":"metrics.acc > 0.05 and params.solver = 'lbfgs'","order_by":["metrics.acc DESC"]}
            """);
        var runs = body["runs"]!.AsArray();
        var idx = runs.Select(static r => r!["data"]!["tags"]!.AsArray().Single(t => t!["key"]!.GetValue<string>() == "idx")!["value"]!.GetValue<string>()).ToList();
        Assert.Equal(["4", "2"], idx);
    }

    [Fact]
    public async Task SearchRuns_BadFilter_Returns400WithPosition()
    {
        using var response = await _server.Client.PostAsync("/api/2.0/mlflow/runs/search", Json("""{"experiment_ids":["0"],"filter":"metrics.acc >"}"""));
        var body = await CairnTestServer.ReadAsync(response, 400);
        Assert.Equal("INVALID_PARAMETER_VALUE", body["error_code"]!.GetValue<string>());
        Assert.Contains("position", body["message"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("/api/2.0/mlflow/runs/get?run_id=0123456789abcdef0123456789abcdef")]
    [InlineData("/api/2.0/mlflow/experiments/get?experiment_id=424242")]
    [InlineData("/api/2.0/mlflow/experiments/get-by-name?experiment_name=nope")]
    [InlineData("/api/2.0/mlflow/logged-models/m-0123456789abcdef0123456789abcdef")]
    [InlineData("/api/2.0/mlflow/registered-models/get?name=nope")]
    [InlineData("/api/2.0/mlflow/metrics/get-history?run_id=0123456789abcdef0123456789abcdef&metric_key=x")]
    public async Task Get_UnknownId_Returns404ResourceDoesNotExist(string path)
    {
        var body = await _server.GetAsync(path, 404);
        Assert.Equal("RESOURCE_DOES_NOT_EXIST", body["error_code"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(body["message"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("/api/2.0/mlflow/experiments/create", "{\"name\": ")]
    [InlineData("/api/2.0/mlflow/experiments/create", "[1,2]")]
    [InlineData("/api/2.0/mlflow/experiments/create", "{\"name\": {\"x\": 1}}")]
    [InlineData("/api/2.0/mlflow/experiments/create", "{}")]
    [InlineData("/api/2.0/mlflow/experiments/create", "{\"name\": \"\"}")]
    [InlineData("/api/2.0/mlflow/runs/create", "{\"experiment_id\": \"0\", \"start_time\": \"soon\"}")]
    [InlineData("/api/2.0/mlflow/runs/search", "{\"max_results\": 50001}")]
    [InlineData("/api/2.0/mlflow/runs/search", "{\"run_view_type\": \"SOMETIMES\"}")]
    public async Task Post_BadInput_Returns400InvalidParameterValue(string path, string json)
    {
        var body = await _server.PostJsonAsync(path, json, 400);
        Assert.Equal("INVALID_PARAMETER_VALUE", body["error_code"]!.GetValue<string>());
    }

    [Fact]
    public async Task CreateExperiment_Duplicate_Returns400ResourceAlreadyExists()
    {
        await _server.PostJsonAsync("/api/2.0/mlflow/experiments/create", """{"name":"dup"}""");
        var body = await _server.PostJsonAsync("/api/2.0/mlflow/experiments/create", """{"name":"dup"}""", 400);
        Assert.Equal("RESOURCE_ALREADY_EXISTS", body["error_code"]!.GetValue<string>());
    }

    [Fact]
    public async Task LogBatch_OverLimit_Returns400AndWritesNothing()
    {
        var runId = await CreateRunAsync();
        var metrics = string.Join(",", Enumerable.Range(0, 1001).Select(static i => $$"""{"key":"m","value":{{i}},"timestamp":1,"step":{{i}}}"""));
        var body = await _server.PostJsonAsync("/api/2.0/mlflow/runs/log-batch", $$"""{"run_id":"{{runId}}","metrics":[{{metrics}}],"params":[{"key":"p","value":"1"}]}""", 400);
        Assert.Equal("INVALID_PARAMETER_VALUE", body["error_code"]!.GetValue<string>());

        var run = await _server.GetAsync($"/api/2.0/mlflow/runs/get?run_id={runId}");
        Assert.Null(run["run"]!["data"]!["metrics"]);
        Assert.Null(run["run"]!["data"]!["params"]);
    }

    [Fact]
    public async Task LogBatch_ChangedParamValue_Returns400AndWritesNothingOfTheBatch()
    {
        var runId = await CreateRunAsync();
        await _server.PostJsonAsync("/api/2.0/mlflow/runs/log-parameter", $$"""{"run_id":"{{runId}}","key":"lr","value":"0.1"}""");
        var body = await _server.PostJsonAsync(
            "/api/2.0/mlflow/runs/log-batch",
            $$"""{"run_id":"{{runId}}","params":[{"key":"lr","value":"0.2"}],"metrics":[{"key":"loss","value":1,"timestamp":1,"step":0}],"tags":[{"key":"t","value":"v"}]}""",
            400);
        Assert.Equal("INVALID_PARAMETER_VALUE", body["error_code"]!.GetValue<string>());
        var run = await _server.GetAsync($"/api/2.0/mlflow/runs/get?run_id={runId}");
        Assert.Null(run["run"]!["data"]!["metrics"]);
        Assert.DoesNotContain(run["run"]!["data"]!["tags"]!.AsArray(), t => t!["key"]!.GetValue<string>() == "t");
    }

    [Fact]
    public async Task LogMetric_NaNValue_IsStoredAndReturnedAsNaN()
    {
        var runId = await CreateRunAsync();
        await _server.PostJsonAsync("/api/2.0/mlflow/runs/log-metric", $$"""{"run_id":"{{runId}}","key":"loss","value":"NaN","timestamp":5,"step":1}""");
        var history = await _server.GetAsync($"/api/2.0/mlflow/metrics/get-history?run_id={runId}&metric_key=loss");
        Assert.Equal("NaN", history["metrics"]![0]!["value"]!.ToJsonString().Trim('"'));
    }

    [Theory]
    [InlineData("""{"key":"loss","value":1,"timestamp":"NaN","step":1}""")]
    [InlineData("""{"key":"loss","value":1,"timestamp":1,"step":"NaN"}""")]
    [InlineData("""{"key":"loss","value":1}""")]
    [InlineData("""{"key":"bad key!","value":1,"timestamp":1}""")]
    public async Task LogMetric_InvalidField_Returns400(string fields)
    {
        var runId = await CreateRunAsync();
        var body = await _server.PostJsonAsync("/api/2.0/mlflow/runs/log-metric", "{\"run_id\":\"" + runId + "\"," + fields.TrimStart('{'), 400);
        Assert.Equal("INVALID_PARAMETER_VALUE", body["error_code"]!.GetValue<string>());
    }

    [Fact]
    public async Task LogBatch_EightConcurrentWriters_LoseNoValue()
    {
        var runId = await CreateRunAsync();
        await Parallel.ForEachAsync(Enumerable.Range(0, 8), async (writer, ct) =>
        {
            for (var batch = 0; batch < 10; batch++)
            {
                var metrics = string.Join(",", Enumerable.Range(0, 50).Select(i => $$"""{"key":"w{{writer}}","value":{{(batch * 50) + i}},"timestamp":1,"step":{{(batch * 50) + i}}}"""));
                await _server.PostJsonAsync("/api/2.0/mlflow/runs/log-batch", $$"""{"run_id":"{{runId}}","metrics":[{{metrics}}],"params":[{"key":"p{{writer}}-{{batch}}","value":"x"}]}""");
            }
        });

        var run = await _server.GetAsync($"/api/2.0/mlflow/runs/get?run_id={runId}");
        Assert.Equal(80, run["run"]!["data"]!["params"]!.AsArray().Count);
        for (var writer = 0; writer < 8; writer++)
        {
            var history = await _server.GetAsync($"/api/2.0/mlflow/metrics/get-history?run_id={runId}&metric_key=w{writer}");
            var steps = history["metrics"]!.AsArray().Select(static m => m!["step"]!.GetValue<long>()).ToList();
            Assert.Equal(Enumerable.Range(0, 500).Select(static s => (long)s), steps);
        }
    }

    [Fact]
    public async Task MetricHistory_Paged_ReturnsEveryPointOnce()
    {
        var runId = await CreateRunAsync();
        var metrics = string.Join(",", Enumerable.Range(0, 1000).Select(static i => $$"""{"key":"loss","value":{{i}},"timestamp":{{i}},"step":{{i}}}"""));
        await _server.PostJsonAsync("/api/2.0/mlflow/runs/log-batch", $$"""{"run_id":"{{runId}}","metrics":[{{metrics}}]}""");

        var steps = new List<long>();
        string? token = null;
        do
        {
            var page = await _server.GetAsync($"/api/2.0/mlflow/metrics/get-history?run_id={runId}&metric_key=loss&max_results=300" + (token is null ? string.Empty : "&page_token=" + Uri.EscapeDataString(token)));
            steps.AddRange(page["metrics"]!.AsArray().Select(static m => m!["step"]!.GetValue<long>()));
            token = page["next_page_token"]?.GetValue<string>();
        }
        while (token is not null);

        Assert.Equal(Enumerable.Range(0, 1000).Select(static s => (long)s), steps);

        var bulk = await _server.GetAsync($"/api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids={runId}&metric_key=loss&max_results=10");
        var sampled = bulk["metrics"]!.AsArray();
        Assert.InRange(sampled.Count, 2, 11);
        Assert.Equal(0, sampled[0]!["step"]!.GetValue<long>());
        Assert.Equal(999, sampled[^1]!["step"]!.GetValue<long>());
        Assert.Equal(runId, sampled[0]!["run_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task UnknownEndpoint_Returns404EndpointNotFound()
    {
        var body = await _server.GetAsync("/api/2.0/mlflow/nothing/here", 404);
        Assert.Equal("ENDPOINT_NOT_FOUND", body["error_code"]!.GetValue<string>());
    }

    [Fact]
    public async Task LogInputsAndOutputs_AppearOnTheRun()
    {
        var runId = await CreateRunAsync();
        await _server.PostJsonAsync("/api/2.0/mlflow/runs/log-inputs", $$$"""
            {"run_id":"{{{runId}}}","datasets":[{"tags":[{"key":"mlflow.data.context","value":"training"}],
              "dataset":{"name":"iris","digest":"abc123","source_type":"local","source":"{\"uri\": \"iris.csv\"}","schema":"{}"}}]}
            """);
        var model = await _server.PostJsonAsync("/api/2.0/mlflow/logged-models", """{"experiment_id":"0","name":"m"}""");
        var modelId = model["model"]!["info"]!["model_id"]!.GetValue<string>();
        await _server.PostJsonAsync("/api/2.0/mlflow/runs/outputs", $$"""{"run_id":"{{runId}}","models":[{"model_id":"{{modelId}}","step":3}]}""");

        var run = await _server.GetAsync($"/api/2.0/mlflow/runs/get?run_id={runId}");
        var input = run["run"]!["inputs"]!["dataset_inputs"]![0]!;
        Assert.Equal("iris", input["dataset"]!["name"]!.GetValue<string>());
        Assert.Equal("training", input["tags"]![0]!["value"]!.GetValue<string>());
        Assert.Equal(3, run["run"]!["outputs"]!["model_outputs"]![0]!["step"]!.GetValue<long>());

        var search = await _server.PostJsonAsync("/api/2.0/mlflow/runs/search", """{"experiment_ids":["0"],"filter":"datasets.name = 'iris'"}""");
        Assert.Single(search["runs"]!.AsArray());
    }

    [Fact]
    public async Task LoggedModels_Lifecycle_FinalizeTagSearchDelete()
    {
        var created = await _server.PostJsonAsync("/api/2.0/mlflow/logged-models", """{"experiment_id":"0","name":"clf","params":[{"key":"b","value":"2"},{"key":"a","value":"1"}]}""");
        var id = created["model"]!["info"]!["model_id"]!.GetValue<string>();
        Assert.StartsWith("m-", id, StringComparison.Ordinal);
        Assert.Equal("LOGGED_MODEL_PENDING", created["model"]!["info"]!["status"]!.GetValue<string>());

        using (var patch = await _server.Client.PatchAsync($"/api/2.0/mlflow/logged-models/{id}", Json("""{"status":"LOGGED_MODEL_READY"}""")))
        {
            var finalized = await CairnTestServer.ReadAsync(patch, 200);
            Assert.Equal("LOGGED_MODEL_READY", finalized["model"]!["info"]!["status"]!.GetValue<string>());
        }

        using (var tags = await _server.Client.PatchAsync($"/api/2.0/mlflow/logged-models/{id}/tags", Json("""{"tags":[{"key":"k","value":"v"}]}""")))
        {
            await CairnTestServer.ReadAsync(tags, 200);
        }

        var search = await _server.PostJsonAsync("/api/2.0/mlflow/logged-models/search", """{"experiment_ids":["0"]}""");
        Assert.Equal(id, search["models"]![0]!["info"]!["model_id"]!.GetValue<string>());

        using (var deleteTag = await _server.Client.DeleteAsync($"/api/2.0/mlflow/logged-models/{id}/tags/k"))
        {
            await CairnTestServer.ReadAsync(deleteTag, 200);
        }

        using (var delete = await _server.Client.DeleteAsync($"/api/2.0/mlflow/logged-models/{id}"))
        {
            await CairnTestServer.ReadAsync(delete, 200);
        }

        await _server.GetAsync($"/api/2.0/mlflow/logged-models/{id}", 404);
    }

    [Fact]
    public async Task SearchLoggedModels_ByNameAndSourceRun_FindsTheModelTheClientLooksUp()
    {
        // What MLflow 3's client sends to resolve runs:/<run>/<name> to a logged model (register_model, load_model).
        var runId = await CreateRunAsync();
        var created = await _server.PostJsonAsync("/api/2.0/mlflow/logged-models", $$"""{"experiment_id":"0","name":"model","source_run_id":"{{runId}}"}""");
        var modelId = created["model"]!["info"]!["model_id"]!.GetValue<string>();
        await _server.PostJsonAsync("/api/2.0/mlflow/logged-models", """{"experiment_id":"0","name":"model"}""");

        var found = await _server.PostJsonAsync(
            "/api/2.0/mlflow/logged-models/search",
            $$"""{"experiment_ids":["0"],"filter":"name = 'model' AND source_run_id = '{{runId}}'","order_by":[{"field_name":"creation_time","ascending":false}],"max_results":2}""");
        Assert.Equal(modelId, Assert.Single(found["models"]!.AsArray())!["info"]!["model_id"]!.GetValue<string>());

        var bad = await _server.PostJsonAsync("/api/2.0/mlflow/logged-models/search", """{"experiment_ids":["0"],"filter":"name = "}""", 400);
        Assert.Equal("INVALID_PARAMETER_VALUE", bad["error_code"]!.GetValue<string>());
    }

    [Fact]
    public async Task LoggedModelParamsAndSlashedTagKeys_AreSupported()
    {
        var created = await _server.PostJsonAsync("/api/2.0/mlflow/logged-models", """{"experiment_id":"0","name":"m","tags":[{"key":"a/b","value":"1"}]}""");
        var modelId = created["model"]!["info"]!["model_id"]!.GetValue<string>();
        await _server.PostJsonAsync($"/api/2.0/mlflow/logged-models/{modelId}/params", """{"params":[{"key":"lr","value":"0.1"}]}""");

        using (var delete = await _server.Client.DeleteAsync($"/api/2.0/mlflow/logged-models/{modelId}/tags/a/b"))
        {
            await CairnTestServer.ReadAsync(delete, 200);
        }

        var model = await _server.GetAsync($"/api/2.0/mlflow/logged-models/{modelId}");
        Assert.Equal("lr", model["model"]!["data"]!["params"]![0]!["key"]!.GetValue<string>());
        Assert.Null(model["model"]!["info"]!["tags"]);
    }

    [Fact]
    public async Task LogModel_Legacy_AppendsToHistoryTag()
    {
        var runId = await CreateRunAsync();
        await _server.PostJsonAsync("/api/2.0/mlflow/runs/log-model", $$$"""{"run_id":"{{{runId}}}","model_json":"{\"artifact_path\": \"model\", \"flavors\": {}}"}""");
        var run = await _server.GetAsync($"/api/2.0/mlflow/runs/get?run_id={runId}");
        var history = run["run"]!["data"]!["tags"]!.AsArray().Single(t => t!["key"]!.GetValue<string>() == "mlflow.log-model.history")!["value"]!.GetValue<string>();
        Assert.Equal("model", JsonNode.Parse(history)![0]!["artifact_path"]!.GetValue<string>());
    }

    [Fact]
    public async Task UpdateRun_FinishedWithEndTime_IsReturned()
    {
        var runId = await CreateRunAsync();
        var body = await _server.PostJsonAsync("/api/2.0/mlflow/runs/update", $$"""{"run_id":"{{runId}}","status":"FINISHED","end_time":1700000009999,"run_name":"renamed"}""");
        Assert.Equal("FINISHED", body["run_info"]!["status"]!.GetValue<string>());
        Assert.Equal(1700000009999, body["run_info"]!["end_time"]!.GetValue<long>());
        var run = await _server.GetAsync($"/api/2.0/mlflow/runs/get?run_id={runId}");
        Assert.Equal("renamed", run["run"]!["info"]!["run_name"]!.GetValue<string>());
        var bad = await _server.PostJsonAsync("/api/2.0/mlflow/runs/update", $$"""{"run_id":"{{runId}}","status":"DONE"}""", 400);
        Assert.Equal("INVALID_PARAMETER_VALUE", bad["error_code"]!.GetValue<string>());
    }

    [Fact]
    public async Task DeleteAndRestoreRun_ChangesLifecycleAndSearchViews()
    {
        var runId = await CreateRunAsync();
        await _server.PostJsonAsync("/api/2.0/mlflow/runs/delete", $$"""{"run_id":"{{runId}}"}""");
        var deleted = await _server.PostJsonAsync("/api/2.0/mlflow/runs/search", """{"experiment_ids":["0"],"run_view_type":"DELETED_ONLY"}""");
        Assert.Equal(runId, deleted["runs"]![0]!["info"]!["run_id"]!.GetValue<string>());
        await _server.PostJsonAsync("/api/2.0/mlflow/runs/restore", $$"""{"run_id":"{{runId}}"}""");
        var run = await _server.GetAsync($"/api/2.0/mlflow/runs/get?run_id={runId}");
        Assert.Equal("active", run["run"]!["info"]!["lifecycle_stage"]!.GetValue<string>());
    }

    private async Task<string> CreateRunAsync()
    {
        var run = await _server.PostJsonAsync("/api/2.0/mlflow/runs/create", """{"experiment_id":"0","start_time":1700000000000}""");
        return run["run"]!["info"]!["run_id"]!.GetValue<string>();
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
