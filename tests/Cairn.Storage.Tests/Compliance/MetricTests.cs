using Cairn.Core.Tracking;

namespace Cairn.Storage.Tests.Compliance;

public abstract partial class TrackingStoreComplianceTests
{
    [Fact]
    public async Task LogBatch_OlderStep_DoesNotReplaceLatestMetric()
    {
        var run = await NewRunAsync(await NewExperimentAsync());

        await Runs.LogBatchAsync(run.Info.RunId, [M("loss", 0.5, step: 5, timestamp: 10)], [], [], Ct);
        await Runs.LogBatchAsync(run.Info.RunId, [M("loss", 0.9, step: 3, timestamp: 99)], [], [], Ct);

        Assert.Equal([new Metric("loss", 0.5, 10, 5)], (await Runs.GetRunAsync(run.Info.RunId, Ct)).Data.Metrics);
    }

    [Fact]
    public async Task LogBatch_SameStep_LaterTimestampOrGreaterValueWins()
    {
        var run = await NewRunAsync(await NewExperimentAsync());

        await Runs.LogBatchAsync(run.Info.RunId, [M("m", 5, step: 1, timestamp: 10)], [], [], Ct);
        await Runs.LogBatchAsync(run.Info.RunId, [M("m", 1, step: 1, timestamp: 11)], [], [], Ct);
        Assert.Equal(1, (await Runs.GetRunAsync(run.Info.RunId, Ct)).Data.Metrics[0].Value);

        await Runs.LogBatchAsync(run.Info.RunId, [M("m", 0.5, step: 1, timestamp: 11)], [], [], Ct);
        Assert.Equal(1, (await Runs.GetRunAsync(run.Info.RunId, Ct)).Data.Metrics[0].Value);

        await Runs.LogBatchAsync(run.Info.RunId, [M("m", 2, step: 1, timestamp: 11)], [], [], Ct);
        Assert.Equal(2, (await Runs.GetRunAsync(run.Info.RunId, Ct)).Data.Metrics[0].Value);
    }

    [Fact]
    public async Task LogBatch_SeveralValuesOfOneKeyInBatch_KeepsGreatestTupleAsLatest()
    {
        var run = await NewRunAsync(await NewExperimentAsync());

        await Runs.LogBatchAsync(run.Info.RunId, [M("m", 3, step: 2, timestamp: 5), M("m", 9, step: 7, timestamp: 1), M("m", 4, step: 7, timestamp: 0)], [], [], Ct);

        Assert.Equal([new Metric("m", 9, 1, 7)], (await Runs.GetRunAsync(run.Info.RunId, Ct)).Data.Metrics);
        Assert.Equal(3, (await Runs.GetMetricHistoryAsync(run.Info.RunId, "m", 0, null, Ct)).Items.Count);
    }

    [Fact]
    public async Task LogBatch_NaNAndInfinity_RoundTrip()
    {
        var run = await NewRunAsync(await NewExperimentAsync());

        await Runs.LogBatchAsync(
            run.Info.RunId,
            [M("nan", double.NaN, step: 1), M("inf", double.PositiveInfinity, step: 1), M("ninf", double.NegativeInfinity, step: 1)],
            [],
            [],
            Ct);

        var metrics = (await Runs.GetRunAsync(run.Info.RunId, Ct)).Data.Metrics.ToDictionary(m => m.Key, m => m.Value);
        Assert.True(double.IsNaN(metrics["nan"]));
        Assert.Equal(double.PositiveInfinity, metrics["inf"]);
        Assert.Equal(double.NegativeInfinity, metrics["ninf"]);
        Assert.True(double.IsNaN((await Runs.GetMetricHistoryAsync(run.Info.RunId, "nan", 0, null, Ct)).Items.Single().Value));
    }

    [Fact]
    public async Task LogBatch_NaNAfterRealValueAtLaterStep_BecomesLatest()
    {
        var run = await NewRunAsync(await NewExperimentAsync());

        await Runs.LogBatchAsync(run.Info.RunId, [M("m", 1, step: 1)], [], [], Ct);
        await Runs.LogBatchAsync(run.Info.RunId, [M("m", double.NaN, step: 2)], [], [], Ct);

        Assert.True(double.IsNaN((await Runs.GetRunAsync(run.Info.RunId, Ct)).Data.Metrics.Single().Value));
    }

    [Fact]
    public async Task GetMetricHistory_OutOfOrderLogging_ReturnsByStepThenTimestamp()
    {
        var run = await NewRunAsync(await NewExperimentAsync());
        await Runs.LogBatchAsync(run.Info.RunId, [M("m", 3, step: 2, timestamp: 5), M("m", 1, step: 0, timestamp: 9)], [], [], Ct);
        await Runs.LogBatchAsync(run.Info.RunId, [M("m", 2, step: 2, timestamp: 1), M("other", 7)], [], [], Ct);

        var history = await Runs.GetMetricHistoryAsync(run.Info.RunId, "m", 0, null, Ct);

        Assert.Equal([new Metric("m", 1, 9, 0), new Metric("m", 2, 1, 2), new Metric("m", 3, 5, 2)], history.Items);
        Assert.Null(history.NextPageToken);
    }

    [Fact]
    public async Task GetMetricHistory_Paged_ReturnsEveryValueOnce()
    {
        var run = await NewRunAsync(await NewExperimentAsync());
        await Runs.LogBatchAsync(run.Info.RunId, Enumerable.Range(0, 7).Select(i => M("m", i, step: i)).ToList(), [], [], Ct);

        var values = new List<double>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await Runs.GetMetricHistoryAsync(run.Info.RunId, "m", 3, token, Ct);
            values.AddRange(page.Items.Select(m => m.Value));
            token = page.NextPageToken;
            pages++;
        }
        while (token is not null);

        Assert.Equal(3, pages);
        Assert.Equal([0, 1, 2, 3, 4, 5, 6], values);
    }

    [Fact]
    public async Task GetMetricHistory_IdenticalValuesLoggedTwice_StoredOnce()
    {
        var run = await NewRunAsync(await NewExperimentAsync());

        await Runs.LogBatchAsync(run.Info.RunId, [M("m", 1, step: 1, timestamp: 1), M("m", 1, step: 1, timestamp: 1)], [], [], Ct);
        await Runs.LogBatchAsync(run.Info.RunId, [M("m", 1, step: 1, timestamp: 1)], [], [], Ct);

        Assert.Single((await Runs.GetMetricHistoryAsync(run.Info.RunId, "m", 0, null, Ct)).Items);
    }

    [Fact]
    public async Task GetMetricHistory_ModelAndDatasetFields_AreReturned()
    {
        var run = await NewRunAsync(await NewExperimentAsync());
        var metric = new Metric("acc", 0.9, 5, 1) { ModelId = "m-0123", DatasetName = "iris", DatasetDigest = "abc" };

        await Runs.LogBatchAsync(run.Info.RunId, [metric], [], [], Ct);

        Assert.Equal([metric], (await Runs.GetMetricHistoryAsync(run.Info.RunId, "acc", 0, null, Ct)).Items);
    }

    [Fact]
    public async Task GetMetricHistory_UnknownKey_ReturnsEmpty()
    {
        var run = await NewRunAsync(await NewExperimentAsync());

        Assert.Empty((await Runs.GetMetricHistoryAsync(run.Info.RunId, "nothing", 0, null, Ct)).Items);
    }

    [Fact]
    public async Task GetMetricHistory_UnknownRun_ThrowsNotFound()
    {
        var error = await Assert.ThrowsAsync<TrackingException>(() => Runs.GetMetricHistoryAsync("00000000000000000000000000000000", "m", 0, null, Ct));
        Assert.Equal(TrackingErrorCode.ResourceDoesNotExist, error.Code);
    }

    [Fact]
    public async Task LogBatch_MetricWithModelId_IsAlsoTheLoggedModelsMetric()
    {
        var experimentId = await NewExperimentAsync();
        var run = await NewRunAsync(experimentId);
        var model = await LoggedModels.CreateLoggedModelAsync(new NewLoggedModel(experimentId, "m", run.Info.RunId, string.Empty, [], []), Ct);
        await Runs.LogBatchAsync(run.Info.RunId, [M("accuracy", 0.9, step: 0)], [], [], Ct);
        await Runs.LogBatchAsync(run.Info.RunId, [M("accuracy", 0.9, step: 0) with { ModelId = model.ModelId }], [], [], Ct);

        var history = await Runs.GetMetricHistoryAsync(run.Info.RunId, "accuracy", 0, null, Ct);
        Assert.Single(history.Items);
        var metric = Assert.Single((await LoggedModels.GetLoggedModelAsync(model.ModelId, Ct)).Metrics);
        Assert.Equal(run.Info.RunId, metric.RunId);
        Assert.Equal(model.ModelId, metric.ModelId);
        Assert.Equal(0.9, metric.Value);
    }

    [Fact]
    public async Task GetMetricHistoryBulkInterval_NoRange_SamplesEvenlyAndKeepsEachRunsEnds()
    {
        var experimentId = await NewExperimentAsync();
        var a = await NewRunAsync(experimentId);
        var b = await NewRunAsync(experimentId);
        await Runs.LogBatchAsync(a.Info.RunId, Enumerable.Range(0, 100).Select(i => M("m", i, step: i)).ToList(), [], [], Ct);
        await Runs.LogBatchAsync(b.Info.RunId, Enumerable.Range(0, 50).Select(i => M("m", -i, step: i)).ToList(), [], [], Ct);

        var metrics = await Runs.GetMetricHistoryBulkIntervalAsync([b.Info.RunId, a.Info.RunId], "m", null, null, 10, Ct);

        long[] sampled = [0, 10, 20, 30, 40, 49, 50, 60, 70, 80, 90, 99];
        Assert.Equal(
            [.. sampled.Where(s => s < 50).Select(s => (b.Info.RunId, s)), .. sampled.Select(s => (a.Info.RunId, s))],
            metrics.Select(m => (m.RunId!, m.Step)));
        Assert.All(metrics.Where(m => m.RunId == b.Info.RunId), m => Assert.Equal(-m.Step, m.Value));
    }

    [Fact]
    public async Task GetMetricHistoryBulkInterval_StepRange_SamplesWithinRange()
    {
        var run = await NewRunAsync(await NewExperimentAsync());
        await Runs.LogBatchAsync(run.Info.RunId, Enumerable.Range(0, 100).Select(i => M("m", i, step: i)).ToList(), [], [], Ct);

        var metrics = await Runs.GetMetricHistoryBulkIntervalAsync([run.Info.RunId], "m", 20, 40, 5, Ct);

        Assert.Equal([20L, 24, 28, 32, 36, 40], metrics.Select(m => m.Step));
    }

    [Fact]
    public async Task GetMetricHistoryBulkInterval_FewSteps_ReturnsAllValues()
    {
        var run = await NewRunAsync(await NewExperimentAsync());
        await Runs.LogBatchAsync(run.Info.RunId, [M("m", 1, step: 3, timestamp: 2), M("m", 2, step: 3, timestamp: 1), M("m", 3, step: 8)], [], [], Ct);

        var metrics = await Runs.GetMetricHistoryBulkIntervalAsync([run.Info.RunId], "m", null, null, 100, Ct);

        Assert.Equal([2.0, 1, 3], metrics.Select(m => m.Value));
        Assert.All(metrics, m => Assert.Equal(run.Info.RunId, m.RunId));
    }

    [Fact]
    public async Task GetMetricHistoryBulkInterval_InvalidRange_ThrowsInvalid()
    {
        var run = await NewRunAsync(await NewExperimentAsync());

        await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => Runs.GetMetricHistoryBulkIntervalAsync([run.Info.RunId], "m", 5, null, 10, Ct));
        await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => Runs.GetMetricHistoryBulkIntervalAsync([run.Info.RunId], "m", 5, 1, 10, Ct));
    }
}
