using System.Net;
using System.Text.Json;
using Cairn.Client.Tests.TestDoubles;
using Cairn.Contracts.Mlflow;

namespace Cairn.Client.Tests;

public sealed class CairnClientTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CreateExperimentAsync_WithTags_PostsSnakeCaseJson()
    {
        var handler = new RecordingHandler { Respond = _ => RecordingHandler.Json("""{"experiment_id":"42"}""") };
        using var client = TestClients.Create(handler);

        var id = await client.CreateExperimentAsync("exp", artifactLocation: null, tags: [new("team", "ml")], Ct);

        Assert.Equal("42", id);
        var request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("/api/2.0/mlflow/experiments/create", request.Path);
        Assert.Equal("application/json", request.ContentType);
        Assert.Equal(request.Body.Length, request.ContentLength);
        Assert.Equal("""{"name":"exp","tags":[{"key":"team","value":"ml"}]}""", request.BodyText);
    }

    [Fact]
    public async Task CreateRunAsync_Always_SendsExperimentIdStartTimeAndTags()
    {
        var handler = new RecordingHandler();
        using var client = TestClients.Create(handler);

        var run = await client.CreateRunAsync("7", runName: "r1", tags: [new("k", "v")], cancellationToken: Ct);

        Assert.Equal(RecordingHandler.RunId, run.Info!.RunId);
        var body = Assert.Single(handler.RequestsTo("/runs/create")).Json;
        Assert.Equal("7", body.GetProperty("experiment_id").GetString());
        Assert.Equal("r1", body.GetProperty("run_name").GetString());
        Assert.Equal(TestClients.Start.ToUnixTimeMilliseconds(), body.GetProperty("start_time").GetInt64());
        Assert.Equal("k", body.GetProperty("tags")[0].GetProperty("key").GetString());
        Assert.False(body.TryGetProperty("user_id", out _));
    }

    [Fact]
    public async Task LogBatchAsync_WithMetricsParamsAndTags_PostsRunIdAndLists()
    {
        var handler = new RecordingHandler();
        using var client = TestClients.Create(handler);

        await client.LogBatchAsync(
            "r",
            metrics: [new MetricDto { Key = "loss", Value = 0.5, Timestamp = 10, Step = 3 }],
            parameters: [new KeyValueDto { Key = "lr", Value = "0.1" }],
            tags: [new KeyValueDto { Key = "t", Value = "x" }],
            cancellationToken: Ct);

        var request = Assert.Single(handler.Requests);
        Assert.Equal("/api/2.0/mlflow/runs/log-batch", request.Path);
        Assert.Equal(
            """{"run_id":"r","metrics":[{"key":"loss","value":0.5,"timestamp":10,"step":3}],"params":[{"key":"lr","value":"0.1"}],"tags":[{"key":"t","value":"x"}]}""",
            request.BodyText);
    }

    [Fact]
    public async Task LogMetricAsync_WithoutTimestamp_UsesTimeProviderAndRunIdAndRunUuid()
    {
        var handler = new RecordingHandler();
        using var client = TestClients.Create(handler);

        await client.LogMetricAsync("r", "acc", 0.9, step: 2, cancellationToken: Ct);

        var body = Assert.Single(handler.Requests).Json;
        Assert.Equal("r", body.GetProperty("run_id").GetString());
        Assert.Equal("r", body.GetProperty("run_uuid").GetString());
        Assert.Equal(0.9, body.GetProperty("value").GetDouble());
        Assert.Equal(2, body.GetProperty("step").GetInt64());
        Assert.Equal(TestClients.Start.ToUnixTimeMilliseconds(), body.GetProperty("timestamp").GetInt64());
    }

    [Fact]
    public async Task SearchRunsAsync_WithFilterOrderAndPaging_PostsSearchRequest()
    {
        var handler = new RecordingHandler
        {
            Respond = _ => RecordingHandler.Json("""{"runs":[{"info":{"run_id":"a"}}],"next_page_token":"tok2"}"""),
        };
        using var client = TestClients.Create(handler);

        var page = await client.SearchRunsAsync(["1", "2"], "metrics.loss < 1", ["metrics.loss ASC"], maxResults: 10, pageToken: "tok1", cancellationToken: Ct);

        Assert.Equal("tok2", page.NextPageToken);
        Assert.Equal("a", Assert.Single(page.Runs!).Info!.RunId);
        var request = Assert.Single(handler.Requests);
        Assert.Equal("/api/2.0/mlflow/runs/search", request.Path);
        Assert.Equal(
            """{"experiment_ids":["1","2"],"filter":"metrics.loss \u003C 1","max_results":10,"order_by":["metrics.loss ASC"],"page_token":"tok1"}""",
            request.BodyText);
    }

    [Fact]
    public async Task GetRunAsync_Always_SendsEscapedRunIdQuery()
    {
        var handler = new RecordingHandler { Respond = _ => RecordingHandler.Json("""{"run":{"info":{"run_id":"a b"}}}""") };
        using var client = TestClients.Create(handler);

        var run = await client.GetRunAsync("a b", Ct);

        Assert.Equal("a b", run.Info!.RunId);
        var request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Get, request.Method);
        Assert.Equal("/api/2.0/mlflow/runs/get", request.Path);
        Assert.Equal("?run_id=a%20b", request.Uri.Query);
    }

    [Fact]
    public async Task GetExperimentByNameAsync_NotFound_ReturnsNull()
    {
        var handler = new RecordingHandler
        {
            Respond = _ => RecordingHandler.Error(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", "Could not find experiment with name 'x'"),
        };
        using var client = TestClients.Create(handler);

        var experiment = await client.GetExperimentByNameAsync("x", Ct);

        Assert.Null(experiment);
        Assert.Equal("x", Assert.Single(handler.Requests).Query("experiment_name"));
    }

    [Fact]
    public async Task GetExperimentByNameAsync_OtherError_Throws()
    {
        var handler = new RecordingHandler { Respond = _ => RecordingHandler.Error(HttpStatusCode.InternalServerError, "INTERNAL_ERROR", "boom") };
        using var client = TestClients.Create(handler);

        var e = await Assert.ThrowsAsync<CairnApiException>(() => client.GetExperimentByNameAsync("x", Ct));

        Assert.Equal(HttpStatusCode.InternalServerError, e.StatusCode);
    }

    [Fact]
    public async Task LogParamAsync_ServerError_ThrowsCairnApiExceptionWithCodeAndMessage()
    {
        var handler = new RecordingHandler
        {
            Respond = _ => RecordingHandler.Error(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", "Changing param values is not allowed."),
        };
        using var client = TestClients.Create(handler);

        var e = await Assert.ThrowsAsync<CairnApiException>(() => client.LogParamAsync("r", "lr", "0.2", Ct));

        Assert.Equal(HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Equal("INVALID_PARAMETER_VALUE", e.ErrorCode);
        Assert.Equal("Changing param values is not allowed.", e.ServerMessage);
        Assert.Equal("POST api/2.0/mlflow/runs/log-parameter", e.Request);
        Assert.Contains("Changing param values is not allowed.", e.Message, StringComparison.Ordinal);
        Assert.Contains("INVALID_PARAMETER_VALUE", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetRunAsync_NonJsonErrorBody_ThrowsWithBodyAsMessage()
    {
        var handler = new RecordingHandler
        {
            Respond = _ => new HttpResponseMessage(HttpStatusCode.BadGateway) { Content = new StringContent("upstream down") },
        };
        using var client = TestClients.Create(handler);

        var e = await Assert.ThrowsAsync<CairnApiException>(() => client.GetRunAsync("r", Ct));

        Assert.Equal(HttpStatusCode.BadGateway, e.StatusCode);
        Assert.Null(e.ErrorCode);
        Assert.Equal("upstream down", e.ServerMessage);
    }

    [Fact]
    public async Task EnumerateMetricHistoryAsync_SeveralPages_FollowsPageTokens()
    {
        var handler = new RecordingHandler
        {
            Respond = r => r.Query("page_token") switch
            {
                null => RecordingHandler.Json("""{"metrics":[{"key":"m","value":1,"step":0}],"next_page_token":"p2"}"""),
                "p2" => RecordingHandler.Json("""{"metrics":[{"key":"m","value":2,"step":1}],"next_page_token":"p3"}"""),
                _ => RecordingHandler.Json("""{"metrics":[{"key":"m","value":3,"step":2}]}"""),
            },
        };
        using var client = TestClients.Create(handler);

        var values = new List<double>();
        await foreach (var metric in client.EnumerateMetricHistoryAsync("r", "m", pageSize: 1, Ct))
        {
            values.Add(metric.Value!.Value);
        }

        Assert.Equal([1, 2, 3], values);
        Assert.Equal(3, handler.Requests.Count);
        Assert.All(handler.Requests, r => Assert.Equal("/api/2.0/mlflow/metrics/get-history", r.Path));
        Assert.All(handler.Requests, r => Assert.Equal("1", r.Query("max_results")));
        Assert.Equal([null, "p2", "p3"], handler.Requests.Select(r => r.Query("page_token")));
    }

    [Fact]
    public async Task Constructor_BaseAddressWithPath_KeepsPrefix()
    {
        var handler = new RecordingHandler();
        using var client = TestClients.Create(handler, baseAddress: new Uri("http://host/mlflow"));

        await client.DeleteRunAsync("r", Ct);

        Assert.Equal(new Uri("http://host/mlflow/"), client.BaseAddress);
        Assert.Equal("http://host/mlflow/api/2.0/mlflow/runs/delete", Assert.Single(handler.Requests).Uri.ToString());
    }

    [Fact]
    public void Constructor_HttpClientWithoutBaseAddress_Throws()
    {
        using var http = new HttpClient();

        Assert.Throws<ArgumentException>(() => new CairnClient(http));
    }

    [Fact]
    public async Task Dispose_InjectedHttpClient_LeavesItUsable()
    {
        var handler = new RecordingHandler();
        using var http = new HttpClient(handler) { BaseAddress = TestClients.BaseAddress };
        var client = new CairnClient(http);

        client.Dispose();

        using var response = await http.GetAsync(new Uri("api/2.0/mlflow/runs/get", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData(null, null, "http://127.0.0.1:5000/")]
    [InlineData(null, "http://mlflow:5000", "http://mlflow:5000/")]
    [InlineData("http://cairn:8080/", "http://mlflow:5000", "http://cairn:8080/")]
    [InlineData(" ", "https://mlflow/prefix", "https://mlflow/prefix/")]
    public void FromEnvironment_Variables_PrefersCairnThenMlflowThenDefault(string? cairn, string? mlflow, string expected)
    {
        var variables = new Dictionary<string, string?> { ["CAIRN_TRACKING_URI"] = cairn, ["MLFLOW_TRACKING_URI"] = mlflow };

        using var client = CairnClient.FromEnvironment(name => variables.GetValueOrDefault(name), timeProvider: null);

        Assert.Equal(new Uri(expected), client.BaseAddress);
    }

    [Fact]
    public void FromEnvironment_FileUri_Throws()
    {
        Assert.Throws<InvalidOperationException>(() => CairnClient.FromEnvironment(_ => "file:///tmp/mlruns", timeProvider: null));
    }

    [Fact]
    public async Task GetOrCreateExperimentIdAsync_CreateRace_ReadsTheWinnersExperiment()
    {
        var gets = 0;
        var handler = new RecordingHandler
        {
            Respond = r =>
            {
                if (r.Path.EndsWith("/experiments/get-by-name", StringComparison.Ordinal) && Interlocked.Increment(ref gets) == 1)
                {
                    return RecordingHandler.Error(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", "no");
                }

                return r.Path.EndsWith("/experiments/create", StringComparison.Ordinal)
                    ? RecordingHandler.Error(HttpStatusCode.BadRequest, "RESOURCE_ALREADY_EXISTS", "Experiment 'e' already exists.")
                    : null;
            },
        };
        using var client = TestClients.Create(handler);

        var id = await client.GetOrCreateExperimentIdAsync("e", Ct);

        Assert.Equal(RecordingHandler.ExperimentId, id);
        Assert.Equal(
            ["experiments/get-by-name", "experiments/create", "experiments/get-by-name"],
            handler.Requests.Select(r => r.Path["/api/2.0/mlflow/".Length..]));
    }

    [Fact]
    public async Task GetOrCreateExperimentIdAsync_Missing_CreatesIt()
    {
        var handler = new RecordingHandler
        {
            Respond = r => r.Path.EndsWith("/get-by-name", StringComparison.Ordinal)
                ? RecordingHandler.Error(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", "no")
                : RecordingHandler.Json("""{"experiment_id":"9"}"""),
        };
        using var client = TestClients.Create(handler);

        Assert.Equal("9", await client.GetOrCreateExperimentIdAsync("e", Ct));
        Assert.Equal("e", handler.RequestsTo("/experiments/create")[0].Json.GetProperty("name").GetString());
    }

    [Fact]
    public async Task GetOrCreateExperimentIdAsync_Deleted_Throws()
    {
        var handler = new RecordingHandler
        {
            Respond = _ => RecordingHandler.Json("""{"experiment":{"experiment_id":"3","name":"e","lifecycle_stage":"deleted"}}"""),
        };
        using var client = TestClients.Create(handler);

        await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetOrCreateExperimentIdAsync("e", Ct));
    }

    [Fact]
    public async Task StartRunAsync_ExistingExperiment_CreatesRunWithSystemTagsAndUserTags()
    {
        var handler = new RecordingHandler();
        using var client = TestClients.Create(handler);

        await using var run = await client.StartRunAsync("my-exp", runName: "r1", tags: [new("mlflow.source.type", "JOB"), new("team", "ml")], Ct);

        Assert.Equal(RecordingHandler.RunId, run.RunId);
        Assert.Equal(RecordingHandler.ExperimentId, run.ExperimentId);
        Assert.Equal("brave-owl-1", run.RunName);
        Assert.Equal(RecordingHandler.ArtifactUri, run.ArtifactUri);
        var body = Assert.Single(handler.RequestsTo("/runs/create")).Json;
        Assert.Equal(RecordingHandler.ExperimentId, body.GetProperty("experiment_id").GetString());
        Assert.Equal(TestClients.Start.ToUnixTimeMilliseconds(), body.GetProperty("start_time").GetInt64());
        var tags = body.GetProperty("tags").EnumerateArray().ToDictionary(t => t.GetProperty("key").GetString()!, t => t.GetProperty("value").GetString());
        Assert.Equal(Environment.UserName, tags["mlflow.user"]);
        Assert.Equal("JOB", tags["mlflow.source.type"]);
        Assert.Equal("ml", tags["team"]);
        Assert.False(string.IsNullOrEmpty(tags["mlflow.source.name"]));
    }

    [Fact]
    public async Task StartRunByExperimentIdAsync_Always_SkipsExperimentLookup()
    {
        var handler = new RecordingHandler();
        using var client = TestClients.Create(handler);

        await using var run = await client.StartRunByExperimentIdAsync("5", cancellationToken: Ct);

        Assert.Equal("/api/2.0/mlflow/runs/create", handler.Requests[0].Path);
        Assert.Equal("5", handler.Requests[0].Json.GetProperty("experiment_id").GetString());
        Assert.False(handler.Requests[0].Json.TryGetProperty("run_name", out _));
    }

    [Fact]
    public async Task GetRunAsync_ServerTooSlow_ThrowsTimeoutException()
    {
        using var client = new CairnClient(new HttpClient(new HangingHandler()) { BaseAddress = TestClients.BaseAddress })
        {
            RequestTimeout = TimeSpan.FromMilliseconds(50),
        };

        await Assert.ThrowsAsync<TimeoutException>(() => client.GetRunAsync("r", Ct));
    }

    [Fact]
    public async Task GetRunAsync_CallerCancels_ThrowsOperationCanceled()
    {
        using var client = new CairnClient(new HttpClient(new HangingHandler()) { BaseAddress = TestClients.BaseAddress });
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromMilliseconds(50));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetRunAsync("r", cts.Token));
    }

    [Fact]
    public void RunOptions_NonPositiveInterval_Throws()
    {
        using var client = TestClients.Create(new RecordingHandler());

        Assert.Throws<ArgumentOutOfRangeException>(() => client.RunOptions = new CairnRunOptions { FlushInterval = TimeSpan.Zero });
    }

    [Fact]
    public void MetricDto_NaNValue_SerializesAsNamedLiteral()
    {
        var json = JsonSerializer.Serialize(new MetricDto { Key = "m", Value = double.NaN }, MlflowJsonContext.Default.MetricDto);

        Assert.Equal("""{"key":"m","value":"NaN"}""", json);
    }
}
