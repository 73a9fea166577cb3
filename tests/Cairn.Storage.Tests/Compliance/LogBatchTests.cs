using Cairn.Core.Tracking;

namespace Cairn.Storage.Tests.Compliance;

public abstract partial class TrackingStoreComplianceTests
{
    [Fact]
    public async Task LogBatch_ParamsMetricsTags_ReadBackInInsertionOrder()
    {
        var run = await NewRunAsync(await NewExperimentAsync(), "r");

        await Runs.LogBatchAsync(run.Info.RunId, [M("z", 1), M("a", 2)], [Kv("lr", "0.1"), Kv("depth", "3")], [Kv("t2", "x"), Kv("t1", "y")], Ct);
        await Runs.LogBatchAsync(run.Info.RunId, [M("b", 3)], [Kv("alpha", "1")], [Kv("t2", "updated")], Ct);

        var data = (await Runs.GetRunAsync(run.Info.RunId, Ct)).Data;
        Assert.Equal(["z", "a", "b"], data.Metrics.Select(m => m.Key));
        Assert.Equal([Kv("lr", "0.1"), Kv("depth", "3"), Kv("alpha", "1")], data.Params);
        Assert.Equal([Kv("mlflow.runName", "r"), Kv("t2", "updated"), Kv("t1", "y")], data.Tags);
    }

    [Fact]
    public async Task LogBatch_ChangedParamValue_ThrowsAndWritesNothing()
    {
        var run = await NewRunAsync(await NewExperimentAsync(), "r");
        await Runs.LogBatchAsync(run.Info.RunId, [], [Kv("x", "a")], [], Ct);

        var e = await AssertTrackingErrorAsync(
            TrackingErrorCode.InvalidParameterValue,
            () => Runs.LogBatchAsync(run.Info.RunId, [M("m", 1)], [Kv("y", "1"), Kv("x", "b")], [Kv("t", "v")], Ct));

        Assert.Equal(
            $"Changing param values is not allowed. Param with key='x' was already logged with value='a' for run ID='{run.Info.RunId}'. Attempted logging new value 'b'.",
            e.Message);
        var data = (await Runs.GetRunAsync(run.Info.RunId, Ct)).Data;
        Assert.Equal([Kv("x", "a")], data.Params);
        Assert.Empty(data.Metrics);
        Assert.Equal([Kv("mlflow.runName", "r")], data.Tags);
        Assert.Empty((await Runs.GetMetricHistoryAsync(run.Info.RunId, "m", 0, null, Ct)).Items);
    }

    [Fact]
    public async Task LogBatch_SameParamValueAgain_IsAccepted()
    {
        var run = await NewRunAsync(await NewExperimentAsync());
        await Runs.LogBatchAsync(run.Info.RunId, [], [Kv("x", "a")], [], Ct);

        await Runs.LogBatchAsync(run.Info.RunId, [], [Kv("x", "a"), Kv("y", "b")], [], Ct);

        Assert.Equal([Kv("x", "a"), Kv("y", "b")], (await Runs.GetRunAsync(run.Info.RunId, Ct)).Data.Params);
    }

    [Fact]
    public async Task LogBatch_DuplicateParamKeysInBatch_ThrowsInvalid()
    {
        var run = await NewRunAsync(await NewExperimentAsync());

        var e = await AssertTrackingErrorAsync(
            TrackingErrorCode.InvalidParameterValue, () => Runs.LogBatchAsync(run.Info.RunId, [], [Kv("x", "a"), Kv("x", "b")], [], Ct));

        Assert.Equal(
            "Duplicate parameter keys have been submitted: ['x']. Please ensure the request contains only one param value per param key.", e.Message);
        Assert.Empty((await Runs.GetRunAsync(run.Info.RunId, Ct)).Data.Params);
    }

    [Theory]
    [InlineData(1001, 0, 0, "A batch logging request can contain at most 1000 metrics. Got 1001 metrics. Please split up metrics across multiple requests and try again.")]
    [InlineData(0, 101, 0, "A batch logging request can contain at most 100 params. Got 101 params. Please split up params across multiple requests and try again.")]
    [InlineData(0, 0, 101, "A batch logging request can contain at most 100 tags. Got 101 tags. Please split up tags across multiple requests and try again.")]
    [InlineData(901, 100, 0, "A batch logging request can contain at most 1000 metrics, params, and tags. Got 1001 metrics, params, and tags. Please split up metrics, params, and tags across multiple requests and try again.")]
    public async Task LogBatch_OverLimits_ThrowsInvalidWithMlflowMessage(int metrics, int parameters, int tags, string message)
    {
        var run = await NewRunAsync(await NewExperimentAsync());

        var e = await AssertTrackingErrorAsync(
            TrackingErrorCode.InvalidParameterValue,
            () => Runs.LogBatchAsync(
                run.Info.RunId,
                Enumerable.Range(0, metrics).Select(i => M("m", i, step: i)).ToList(),
                Enumerable.Range(0, parameters).Select(i => Kv($"p{i}", "v")).ToList(),
                Enumerable.Range(0, tags).Select(i => Kv($"t{i}", "v")).ToList(),
                Ct));

        Assert.Equal(message, e.Message);
    }

    [Fact]
    public async Task LogBatch_ExactlyAtLimits_IsAccepted()
    {
        var run = await NewRunAsync(await NewExperimentAsync());

        await Runs.LogBatchAsync(
            run.Info.RunId,
            Enumerable.Range(0, 800).Select(i => M("m", i, step: i)).ToList(),
            Enumerable.Range(0, 100).Select(i => Kv($"p{i}", "v")).ToList(),
            Enumerable.Range(0, 100).Select(i => Kv($"t{i}", "v")).ToList(),
            Ct);

        Assert.Equal(800, (await Runs.GetMetricHistoryAsync(run.Info.RunId, "m", 0, null, Ct)).Items.Count);
    }

    [Theory]
    [InlineData("bad$key")]
    [InlineData("../escape")]
    [InlineData("/absolute")]
    [InlineData("trailing/")]
    [InlineData("")]
    public async Task LogBatch_InvalidKeys_ThrowsInvalid(string key)
    {
        var run = await NewRunAsync(await NewExperimentAsync());

        await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => Runs.LogBatchAsync(run.Info.RunId, [M(key, 1)], [], [], Ct));
        await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => Runs.LogBatchAsync(run.Info.RunId, [], [Kv(key, "v")], [], Ct));
        await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => Runs.LogBatchAsync(run.Info.RunId, [], [], [Kv(key, "v")], Ct));
    }

    [Fact]
    public async Task LogBatch_KeysWithAllowedPunctuation_AreAccepted()
    {
        var run = await NewRunAsync(await NewExperimentAsync());

        await Runs.LogBatchAsync(run.Info.RunId, [M("train/loss-1.a b_c", 1)], [Kv("nested/param.x", "v")], [Kv("mlflow.source.git.commit", "abc")], Ct);

        Assert.Single((await Runs.GetRunAsync(run.Info.RunId, Ct)).Data.Metrics);
    }

    [Fact]
    public async Task LogBatch_OverlongValues_ThrowsInvalid()
    {
        var run = await NewRunAsync(await NewExperimentAsync());

        var e = await AssertTrackingErrorAsync(
            TrackingErrorCode.InvalidParameterValue, () => Runs.LogBatchAsync(run.Info.RunId, [], [Kv("p", new string('x', 6001))], [], Ct));
        Assert.EndsWith("had length 6001, which exceeded length limit of 6000", e.Message, StringComparison.Ordinal);
        await AssertTrackingErrorAsync(
            TrackingErrorCode.InvalidParameterValue, () => Runs.LogBatchAsync(run.Info.RunId, [], [], [Kv("t", new string('x', 8001))], Ct));
        await AssertTrackingErrorAsync(
            TrackingErrorCode.InvalidParameterValue, () => Runs.LogBatchAsync(run.Info.RunId, [M(new string('k', 251), 1)], [], [], Ct));
        await Runs.LogBatchAsync(run.Info.RunId, [], [Kv("p", new string('x', 6000))], [Kv("t", new string('x', 8000))], Ct);
    }

    [Fact]
    public async Task LogBatch_NegativeTimestamp_ThrowsInvalid()
    {
        var run = await NewRunAsync(await NewExperimentAsync());

        await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => Runs.LogBatchAsync(run.Info.RunId, [M("m", 1, timestamp: -1)], [], [], Ct));
    }

    [Fact]
    public async Task LogBatch_UnknownRun_ThrowsNotFound()
    {
        var e = await AssertTrackingErrorAsync(
            TrackingErrorCode.ResourceDoesNotExist, () => Runs.LogBatchAsync("abcdefabcdefabcdefabcdefabcdefab", [M("m", 1)], [], [], Ct));
        Assert.Equal("Run with id=abcdefabcdefabcdefabcdefabcdefab not found", e.Message);
    }
}
