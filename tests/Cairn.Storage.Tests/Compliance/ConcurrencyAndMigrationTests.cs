using Cairn.Core.Tracking;
using Cairn.Storage.Relational;

namespace Cairn.Storage.Tests.Compliance;

public abstract partial class TrackingStoreComplianceTests
{
    [Fact]
    public async Task LogBatch_EightConcurrentWriters_LoseNoValue()
    {
        var run = await NewRunAsync(await NewExperimentAsync());
        const int Writers = 8;
        const int Batches = 10;
        const int MetricsPerBatch = 20;

        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            for (var b = 0; b < Batches; b++)
            {
                var metrics = Enumerable.Range(0, MetricsPerBatch)
                    .Select(i => M("shared", w, step: (w * Batches * MetricsPerBatch) + (b * MetricsPerBatch) + i))
                    .Append(M($"writer{w}", b, step: b))
                    .ToList();
                await Runs.LogBatchAsync(run.Info.RunId, metrics, [Kv($"p{w}-{b}", "v"), Kv("common", "same")], [Kv($"t{w}", $"{b}")], Ct);
            }
        }, Ct)));

        var history = await Runs.GetMetricHistoryAsync(run.Info.RunId, "shared", 0, null, Ct);
        Assert.Equal(Writers * Batches * MetricsPerBatch, history.Items.Count);
        Assert.Equal(Enumerable.Range(0, Writers * Batches * MetricsPerBatch).Select(i => (long)i), history.Items.Select(m => m.Step));
        var data = (await Runs.GetRunAsync(run.Info.RunId, Ct)).Data;
        Assert.Equal(Writers - 1, data.Metrics.Single(m => m.Key == "shared").Value);
        Assert.All(Enumerable.Range(0, Writers), w => Assert.Equal(Batches - 1, data.Metrics.Single(m => m.Key == $"writer{w}").Value));
        Assert.Equal((Writers * Batches) + 1, data.Params.Count);
        Assert.All(Enumerable.Range(0, Writers), w => Assert.Equal($"{Batches - 1}", data.Tags.Single(t => t.Key == $"t{w}").Value));
    }

    [Fact]
    public async Task Open_ExistingDatabaseAgain_IsIdempotent()
    {
        var name = UniqueName();
        var id = await NewExperimentAsync(name);

        await using (var again = await Fixture.OpenAsync(Fixture.BackendStoreUri))
        {
            Assert.Equal(name, (await again.Experiments.GetExperimentAsync(id, Ct)).Name);
            var defaults = await again.Experiments.SearchExperimentsAsync(
                new ExperimentQuery(Filter(Text(Core.Tracking.Search.EntityKind.Attribute, "name", Core.Tracking.Search.ComparisonOperator.Equal, "Default")), [], ViewType.All, 10, null), Ct);
            Assert.Equal("0", defaults.Items.Single().ExperimentId);
            var applied = await MigrationRunner.GetAppliedVersionsAsync(again.Dialect, Ct);
            Assert.Equal(again.Dialect.Migrations.Select(m => m.Version).Order(), applied.Order());
        }

        Assert.Equal(name, (await Experiments.GetExperimentAsync(id, Ct)).Name);
    }

    [Fact]
    public async Task Open_VersionOneDatabase_UpgradesInPlaceKeepingData()
    {
        var uri = await Fixture.CreateDatabaseAsync();
        string experimentId;
        string runId;
        await using (var v1 = await Fixture.OpenAsync(uri, targetVersion: 1))
        {
            Assert.Equal([1], await MigrationRunner.GetAppliedVersionsAsync(v1.Dialect, Ct));
            experimentId = await v1.Experiments.CreateExperimentAsync("old", null, [Kv("k", "v")], Ct);
            var run = await v1.Runs.CreateRunAsync(new NewRun(experimentId, "old-run", "alice", 1, []), Ct);
            runId = run.Info.RunId;
            await v1.Runs.LogBatchAsync(runId, [M("m", 1, step: 1)], [Kv("p", "1")], [Kv("t", "1")], Ct);
        }

        await using var upgraded = await Fixture.OpenAsync(uri);

        var applied = await MigrationRunner.GetAppliedVersionsAsync(upgraded.Dialect, Ct);
        Assert.Equal(upgraded.Dialect.Migrations.Select(m => m.Version).Order(), applied.Order());
        Assert.True(applied.Count > 1);
        var read = await upgraded.Runs.GetRunAsync(runId, Ct);
        Assert.Equal("old-run", read.Info.RunName);
        Assert.Equal([Kv("p", "1")], read.Data.Params);
        Assert.Equal([new Metric("m", 1, 100, 1)], read.Data.Metrics);
        Assert.Equal([Kv("k", "v")], (await upgraded.Experiments.GetExperimentAsync(experimentId, Ct)).Tags);
        var model = await upgraded.LoggedModels.CreateLoggedModelAsync(new NewLoggedModel(experimentId, "after-upgrade", runId, "", [], []), Ct);
        Assert.Equal(LoggedModelStatus.Pending, model.Status);
        await upgraded.Registry.CreateRegisteredModelAsync("after-upgrade", null, [], Ct);
        var next = await upgraded.Experiments.CreateExperimentAsync("new", null, [], Ct);
        Assert.Equal(long.Parse(experimentId, System.Globalization.CultureInfo.InvariantCulture) + 1, long.Parse(next, System.Globalization.CultureInfo.InvariantCulture));
    }
}
