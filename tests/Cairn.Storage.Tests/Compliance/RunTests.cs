using System.Text.RegularExpressions;
using Cairn.Core.Tracking;

namespace Cairn.Storage.Tests.Compliance;

public abstract partial class TrackingStoreComplianceTests
{
    [Fact]
    public async Task CreateRun_NoName_GeneratesNameAndAppendsRunNameTag()
    {
        var experimentId = await NewExperimentAsync();
        var tags = new[] { Kv("mlflow.user", "alice"), Kv("mlflow.source.name", "train.py"), Kv("mlflow.source.type", "LOCAL") };

        var run = await NewRunAsync(experimentId, name: null, startTime: 1234, tags: tags);

        Assert.Matches(new Regex("^[a-z]+-[a-z]+-[0-9]+$"), run.Info.RunName);
        Assert.Equal([.. tags, Kv("mlflow.runName", run.Info.RunName)], run.Data.Tags);
        var read = await Runs.GetRunAsync(run.Info.RunId, Ct);
        Assert.Equal(run.Data.Tags, read.Data.Tags);
        Assert.Equal(run.Info, read.Info);
    }

    [Fact]
    public async Task CreateRun_Fields_FollowMlflowFormats()
    {
        var experimentId = await NewExperimentAsync();

        var run = await NewRunAsync(experimentId, "my-run", startTime: 1234, user: "bob");

        Assert.Matches(new Regex("^[0-9a-f]{32}$"), run.Info.RunId);
        Assert.Equal(experimentId, run.Info.ExperimentId);
        Assert.Equal("my-run", run.Info.RunName);
        Assert.Equal("bob", run.Info.UserId);
        Assert.Equal(RunStatus.Running, run.Info.Status);
        Assert.Equal(1234, run.Info.StartTime);
        Assert.Null(run.Info.EndTime);
        Assert.Equal($"mlflow-artifacts:/{experimentId}/{run.Info.RunId}/artifacts", run.Info.ArtifactUri);
        Assert.Equal(LifecycleStage.Active, run.Info.LifecycleStage);
        Assert.Equal([Kv("mlflow.runName", "my-run")], run.Data.Tags);
        Assert.Empty(run.Data.Metrics);
        Assert.Empty(run.Data.Params);
        Assert.Empty(run.Inputs.DatasetInputs);
        Assert.Empty(run.Outputs.ModelOutputs);
    }

    [Fact]
    public async Task CreateRun_RunNameTagOnly_UsesTagValueInItsPosition()
    {
        var experimentId = await NewExperimentAsync();

        var run = await NewRunAsync(experimentId, tags: [Kv("mlflow.runName", "from-tag"), Kv("x", "1")]);

        Assert.Equal("from-tag", run.Info.RunName);
        Assert.Equal([Kv("mlflow.runName", "from-tag"), Kv("x", "1")], (await Runs.GetRunAsync(run.Info.RunId, Ct)).Data.Tags);
    }

    [Fact]
    public async Task CreateRun_NameDiffersFromRunNameTag_ThrowsInvalid()
    {
        var experimentId = await NewExperimentAsync();

        await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => NewRunAsync(experimentId, "a", tags: [Kv("mlflow.runName", "b")]));
    }

    [Fact]
    public async Task CreateRun_UnknownExperiment_ThrowsNotFound()
    {
        var e = await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => NewRunAsync("876543"));
        Assert.Equal("No Experiment with id=876543 exists", e.Message);
    }

    [Fact]
    public async Task CreateRun_DeletedExperiment_ThrowsInvalid()
    {
        var experimentId = await NewExperimentAsync();
        await Experiments.DeleteExperimentAsync(experimentId, Ct);

        var e = await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => NewRunAsync(experimentId));
        Assert.Equal($"The experiment {experimentId} must be in the 'active' state. Current state is deleted.", e.Message);
    }

    [Fact]
    public async Task GetRun_Unknown_ThrowsNotFound()
    {
        var e = await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Runs.GetRunAsync("0123456789abcdef0123456789abcdef", Ct));
        Assert.Equal("Run with id=0123456789abcdef0123456789abcdef not found", e.Message);
    }

    [Fact]
    public async Task UpdateRun_StatusEndTimeAndName_UpdatesInfoAndRunNameTag()
    {
        var run = await NewRunAsync(await NewExperimentAsync(), "before");

        var info = await Runs.UpdateRunAsync(run.Info.RunId, RunStatus.Finished, 5678, "after", Ct);

        Assert.Equal(RunStatus.Finished, info.Status);
        Assert.Equal(5678, info.EndTime);
        Assert.Equal("after", info.RunName);
        var read = await Runs.GetRunAsync(run.Info.RunId, Ct);
        Assert.Equal(info, read.Info);
        Assert.Equal([Kv("mlflow.runName", "after")], read.Data.Tags);
    }

    [Fact]
    public async Task UpdateRun_OnlyStatus_KeepsOtherFields()
    {
        var run = await NewRunAsync(await NewExperimentAsync(), "keep");

        var info = await Runs.UpdateRunAsync(run.Info.RunId, RunStatus.Failed, null, null, Ct);

        Assert.Equal(run.Info with { Status = RunStatus.Failed }, info);
    }

    [Fact]
    public async Task UpdateRun_InvalidStatus_ThrowsInvalid()
    {
        var run = await NewRunAsync(await NewExperimentAsync());

        await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => Runs.UpdateRunAsync(run.Info.RunId, "DONE", null, null, Ct));
    }

    [Fact]
    public async Task DeleteRun_ThenRestore_TogglesLifecycleStage()
    {
        var run = await NewRunAsync(await NewExperimentAsync());

        await Runs.DeleteRunAsync(run.Info.RunId, Ct);
        Assert.Equal(LifecycleStage.Deleted, (await Runs.GetRunAsync(run.Info.RunId, Ct)).Info.LifecycleStage);

        await Runs.RestoreRunAsync(run.Info.RunId, Ct);
        Assert.Equal(LifecycleStage.Active, (await Runs.GetRunAsync(run.Info.RunId, Ct)).Info.LifecycleStage);
    }

    [Fact]
    public async Task DeleteRun_Unknown_ThrowsNotFound()
    {
        await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Runs.DeleteRunAsync("ffffffffffffffffffffffffffffffff", Ct));
    }

    [Fact]
    public async Task LogBatch_DeletedRun_ThrowsInvalidWithMlflowMessage()
    {
        var run = await NewRunAsync(await NewExperimentAsync());
        await Runs.DeleteRunAsync(run.Info.RunId, Ct);

        var e = await AssertTrackingErrorAsync(
            TrackingErrorCode.InvalidParameterValue, () => Runs.LogBatchAsync(run.Info.RunId, [M("m", 1)], [], [], Ct));
        Assert.Equal($"The run {run.Info.RunId} must be in the 'active' state. Current state is deleted.", e.Message);
    }

    [Fact]
    public async Task DeleteTag_ExistingAndMissing_RemovesOrThrowsNotFound()
    {
        var run = await NewRunAsync(await NewExperimentAsync(), "r", tags: [Kv("a", "1")]);

        await Runs.DeleteTagAsync(run.Info.RunId, "a", Ct);

        Assert.Equal([Kv("mlflow.runName", "r")], (await Runs.GetRunAsync(run.Info.RunId, Ct)).Data.Tags);
        var e = await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Runs.DeleteTagAsync(run.Info.RunId, "a", Ct));
        Assert.Equal($"No tag with name: a in run with id {run.Info.RunId}", e.Message);
    }

    [Fact]
    public async Task LogBatch_RunNameTag_RenamesRun()
    {
        var run = await NewRunAsync(await NewExperimentAsync(), "old");

        await Runs.LogBatchAsync(run.Info.RunId, [], [], [Kv("mlflow.runName", "new")], Ct);

        var read = await Runs.GetRunAsync(run.Info.RunId, Ct);
        Assert.Equal("new", read.Info.RunName);
        Assert.Equal([Kv("mlflow.runName", "new")], read.Data.Tags);
    }
}
