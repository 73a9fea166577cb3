using System.Net;
using System.Security.Cryptography;

namespace Cairn.Client.Tests.Integration;

public sealed class TrackingIntegrationTests(CairnServerFixture server) : IClassFixture<CairnServerFixture>, IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("cairn-client-it-files-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static string NewName(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    [Fact]
    public async Task StartRunAsync_FullRun_IsReadableThroughLowLevelClient()
    {
        using var client = server.CreateClient();
        const int Steps = 1250;
        var modelBytes = RandomNumberGenerator.GetBytes(300_000);
        var modelFile = Path.Combine(_temp, "weights.bin");
        await File.WriteAllBytesAsync(modelFile, modelBytes, Ct);
        var folder = Path.Combine(_temp, "dataset");
        Directory.CreateDirectory(Path.Combine(folder, "nested", "deeper"));
        await File.WriteAllTextAsync(Path.Combine(folder, "a.txt"), "alpha", Ct);
        await File.WriteAllTextAsync(Path.Combine(folder, "nested", "b.txt"), "bravo!", Ct);
        await File.WriteAllTextAsync(Path.Combine(folder, "nested", "deeper", "c.csv"), "x,y\n1,2\n", Ct);
        var experimentName = NewName("sdk-it");

        string runId;
        string experimentId;
        await using (var run = await client.StartRunAsync(experimentName, runName: "it-run", tags: [new("team", "ml")], Ct))
        {
            runId = run.RunId;
            experimentId = run.ExperimentId;
            Assert.Equal("it-run", run.RunName);
            Assert.StartsWith("mlflow-artifacts:", run.ArtifactUri, StringComparison.Ordinal);

            await run.LogParamsAsync([new("lr", "0.01"), new("batch_size", "32")], Ct);
            await run.LogParamAsync("optimizer", "adam", Ct);
            await run.SetTagAsync("stage", "test", Ct);
            for (var step = 0; step < Steps; step++)
            {
                await run.LogMetricsAsync(new Dictionary<string, double> { ["loss"] = 1.0 / (step + 1), ["acc"] = step / (double)Steps }, step, cancellationToken: Ct);
            }

            await run.LogArtifactAsync(modelFile, "model", Ct);
            await run.LogArtifactsAsync(folder, "data", Ct);
            await run.EndAsync(cancellationToken: Ct);
        }

        var fetched = await client.GetRunAsync(runId, Ct);
        var info = fetched.Info!;
        Assert.Equal("FINISHED", info.Status);
        Assert.NotNull(info.EndTime);
        Assert.True(info.EndTime >= info.StartTime);
        Assert.Equal(experimentId, info.ExperimentId);
        Assert.Equal(experimentId, (await client.GetExperimentByNameAsync(experimentName, Ct))!.ExperimentId);

        var data = fetched.Data!;
        Assert.Equal(
            new Dictionary<string, string?> { ["lr"] = "0.01", ["batch_size"] = "32", ["optimizer"] = "adam" },
            data.Params!.ToDictionary(p => p.Key!, p => p.Value));
        var tags = data.Tags!.ToDictionary(t => t.Key!, t => t.Value);
        Assert.Equal("ml", tags["team"]);
        Assert.Equal("test", tags["stage"]);
        Assert.Equal("LOCAL", tags["mlflow.source.type"]);
        Assert.Equal(Environment.UserName, tags["mlflow.user"]);
        Assert.True(tags.ContainsKey("mlflow.source.name"));
        var latest = data.Metrics!.ToDictionary(m => m.Key!);
        Assert.Equal(1.0 / Steps, latest["loss"].Value);
        Assert.Equal(Steps - 1, latest["loss"].Step);
        Assert.Equal((Steps - 1) / (double)Steps, latest["acc"].Value);

        var firstPage = await client.GetMetricHistoryAsync(runId, "loss", maxResults: 500, cancellationToken: Ct);
        Assert.Equal(500, firstPage.Metrics!.Count);
        Assert.False(string.IsNullOrEmpty(firstPage.NextPageToken));
        var history = new List<Contracts.Mlflow.MetricDto>();
        await foreach (var metric in client.EnumerateMetricHistoryAsync(runId, "loss", pageSize: 500, Ct))
        {
            history.Add(metric);
        }

        Assert.Equal(Steps, history.Count);
        Assert.Equal(Enumerable.Range(0, Steps).Select(s => (long)s), history.Select(m => m.Step!.Value).Order());
        Assert.All(history, m => Assert.Equal(1.0 / (m.Step!.Value + 1), m.Value));

        var rootListing = await client.ListArtifactsAsync(runId, cancellationToken: Ct);
        Assert.Equal(["data", "model"], rootListing.Files!.Select(f => f.Path).Order());
        Assert.All(rootListing.Files!, f => Assert.True(f.IsDir));
        var model = Assert.Single((await client.ListArtifactsAsync(runId, "model", cancellationToken: Ct)).Files!);
        Assert.Equal("model/weights.bin", model.Path);
        Assert.Equal(modelBytes.Length, model.FileSize);
        var dataListing = (await client.ListArtifactsAsync(runId, "data", cancellationToken: Ct)).Files!.ToDictionary(f => f.Path!);
        Assert.Equal(["data/a.txt", "data/nested"], dataListing.Keys.Order());
        Assert.True(dataListing["data/nested"].IsDir);
        var deeper = Assert.Single((await client.ListArtifactsAsync(runId, "data/nested/deeper", cancellationToken: Ct)).Files!);
        Assert.Equal("data/nested/deeper/c.csv", deeper.Path);

        var downloaded = Path.Combine(_temp, "download", "weights.bin");
        await client.DownloadArtifactAsync(info.ArtifactUri!, "model/weights.bin", downloaded, Ct);
        Assert.Equal(modelBytes, await File.ReadAllBytesAsync(downloaded, Ct));
        using var nested = new MemoryStream();
        await client.DownloadArtifactAsync(info.ArtifactUri!, "data/nested/b.txt", nested, Ct);
        Assert.Equal("bravo!", System.Text.Encoding.UTF8.GetString(nested.ToArray()));

        var found = await client.SearchRunsAsync([experimentId], "params.lr = '0.01' and metrics.loss < 0.01", ["metrics.loss ASC"], maxResults: 10, cancellationToken: Ct);
        Assert.Equal(runId, Assert.Single(found.Runs!).Info!.RunId);
    }

    [Fact]
    public async Task LogParamAsync_ChangedValue_ThrowsInvalidParameterValue()
    {
        using var client = server.CreateClient();
        await using var run = await client.StartRunAsync(NewName("sdk-it-param"), cancellationToken: Ct);
        await run.LogParamAsync("lr", "0.1", Ct);
        await run.LogParamAsync("lr", "0.1", Ct);

        var single = await Assert.ThrowsAsync<CairnApiException>(() => run.LogParamAsync("lr", "0.2", Ct));
        var batched = await Assert.ThrowsAsync<CairnApiException>(() => run.LogParamsAsync([new("lr", "0.3")], Ct));

        Assert.Equal("INVALID_PARAMETER_VALUE", single.ErrorCode);
        Assert.Equal(HttpStatusCode.BadRequest, single.StatusCode);
        Assert.False(string.IsNullOrEmpty(single.ServerMessage));
        Assert.Equal("INVALID_PARAMETER_VALUE", batched.ErrorCode);
        var stored = await client.GetRunAsync(run.RunId, Ct);
        Assert.Equal("0.1", Assert.Single(stored.Data!.Params!).Value);
    }

    [Fact]
    public async Task EndAsync_FailedStatus_IsStored()
    {
        using var client = server.CreateClient();
        var run = await client.StartRunAsync(NewName("sdk-it-failed"), cancellationToken: Ct);
        await run.LogMetricAsync("m", double.NaN, cancellationToken: Ct);

        await run.EndAsync(CairnRunStatus.Failed, Ct);
        await run.DisposeAsync();

        var stored = await client.GetRunAsync(run.RunId, Ct);
        Assert.Equal("FAILED", stored.Info!.Status);
        Assert.True(double.IsNaN(Assert.Single(stored.Data!.Metrics!).Value!.Value));
    }

    [Fact]
    public async Task StartRunAsync_ConcurrentStartsInNewExperiment_ShareOneExperiment()
    {
        using var client = server.CreateClient();
        var name = NewName("sdk-it-race");

        var runs = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => client.StartRunAsync(name, cancellationToken: Ct)));
        foreach (var run in runs)
        {
            await run.DisposeAsync();
        }

        Assert.Single(runs.Select(r => r.ExperimentId).Distinct());
        Assert.Equal(6, runs.Select(r => r.RunId).Distinct().Count());
    }

    [Fact]
    public async Task ExperimentCalls_Lifecycle_RoundTrip()
    {
        using var client = server.CreateClient();
        var name = NewName("sdk-it-exp");
        Assert.Null(await client.GetExperimentByNameAsync(name, Ct));

        var id = await client.CreateExperimentAsync(name, tags: [new("owner", "sdk")], cancellationToken: Ct);
        var duplicate = await Assert.ThrowsAsync<CairnApiException>(() => client.CreateExperimentAsync(name, cancellationToken: Ct));
        await client.SetExperimentTagAsync(id, "k", "v", Ct);
        await client.UpdateExperimentAsync(id, name + "-renamed", Ct);

        Assert.Equal("RESOURCE_ALREADY_EXISTS", duplicate.ErrorCode);
        var experiment = await client.GetExperimentAsync(id, Ct);
        Assert.Equal(name + "-renamed", experiment.Name);
        Assert.Equal("v", experiment.Tags!.Single(t => t.Key == "k").Value);
        Assert.Equal("sdk", experiment.Tags!.Single(t => t.Key == "owner").Value);
        var search = await client.SearchExperimentsAsync(filter: $"name = '{name}-renamed'", cancellationToken: Ct);
        Assert.Equal(id, Assert.Single(search.Experiments!).ExperimentId);

        await client.DeleteExperimentAsync(id, Ct);
        Assert.Equal("deleted", (await client.GetExperimentAsync(id, Ct)).LifecycleStage);
        await Assert.ThrowsAsync<InvalidOperationException>(() => client.StartRunAsync(name + "-renamed", cancellationToken: Ct));
        await client.RestoreExperimentAsync(id, Ct);
        Assert.Equal("active", (await client.GetExperimentAsync(id, Ct)).LifecycleStage);
    }

    [Fact]
    public async Task RunCalls_UpdateDeleteRestore_RoundTrip()
    {
        using var client = server.CreateClient();
        var experimentId = await client.GetOrCreateExperimentIdAsync(NewName("sdk-it-runs"), Ct);
        var created = await client.CreateRunAsync(experimentId, runName: "first", cancellationToken: Ct);
        var runId = created.Info!.RunId!;
        await client.LogMetricAsync(runId, "m", 2.5, step: 3, cancellationToken: Ct);
        await client.SetTagAsync(runId, "t", "1", Ct);
        await client.DeleteTagAsync(runId, "t", Ct);

        var updated = await client.UpdateRunAsync(runId, runName: "second", cancellationToken: Ct);
        await client.DeleteRunAsync(runId, Ct);
        var active = await client.SearchRunsAsync([experimentId], cancellationToken: Ct);
        var deleted = await client.SearchRunsAsync([experimentId], runViewType: "DELETED_ONLY", cancellationToken: Ct);
        await client.RestoreRunAsync(runId, Ct);

        Assert.Equal("second", updated.RunName);
        Assert.Null(active.Runs);
        Assert.Equal(runId, Assert.Single(deleted.Runs!).Info!.RunId);
        var run = await client.GetRunAsync(runId, Ct);
        Assert.Equal("active", run.Info!.LifecycleStage);
        Assert.DoesNotContain(run.Data!.Tags ?? [], t => t.Key == "t");
        Assert.Equal(2.5, Assert.Single(run.Data!.Metrics!).Value);
    }

    [Fact]
    public async Task GetRunAsync_UnknownRun_ThrowsResourceDoesNotExist()
    {
        using var client = server.CreateClient();

        var e = await Assert.ThrowsAsync<CairnApiException>(() => client.GetRunAsync("ffffffffffffffffffffffffffffffff", Ct));

        Assert.Equal(HttpStatusCode.NotFound, e.StatusCode);
        Assert.Equal("RESOURCE_DOES_NOT_EXIST", e.ErrorCode);
    }

    [Fact]
    public async Task DownloadArtifactAsync_MissingFile_ThrowsNotFound()
    {
        using var client = server.CreateClient();
        await using var run = await client.StartRunAsync(NewName("sdk-it-missing"), cancellationToken: Ct);

        var e = await Assert.ThrowsAsync<CairnApiException>(() => run.DownloadArtifactAsync("nope.txt", Path.Combine(_temp, "nope.txt"), Ct));

        Assert.Equal(HttpStatusCode.NotFound, e.StatusCode);
        Assert.False(File.Exists(Path.Combine(_temp, "nope.txt")));
    }
}
