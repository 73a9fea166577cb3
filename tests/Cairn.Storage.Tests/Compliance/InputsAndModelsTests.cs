using Cairn.Core.Tracking.Search;
using System.Text.RegularExpressions;
using Cairn.Core.Registry;
using Cairn.Core.Tracking;

namespace Cairn.Storage.Tests.Compliance;

public abstract partial class TrackingStoreComplianceTests
{
    [Fact]
    public async Task LogInputs_Datasets_AppearOnRunOnceWithTags()
    {
        var run = await NewRunAsync(await NewExperimentAsync());
        var dataset = new Dataset("iris", "abc123", "local", "{\"uri\": \"/data/iris.csv\"}", "{\"mlflow_colspec\": []}", "{\"num_rows\": 150}");
        var input = new DatasetInput(dataset, [Kv("mlflow.data.context", "training")]);

        await Runs.LogInputsAsync(run.Info.RunId, [input, input], [], Ct);
        await Runs.LogInputsAsync(run.Info.RunId, [input], [], Ct);

        var inputs = (await Runs.GetRunAsync(run.Info.RunId, Ct)).Inputs;
        Assert.Equivalent(new[] { input }, inputs.DatasetInputs, strict: true);
        Assert.Empty(inputs.ModelInputs);
    }

    [Fact]
    public async Task LogInputsAndOutputs_Models_AppearOnRunWithSteps()
    {
        var experimentId = await NewExperimentAsync();
        var run = await NewRunAsync(experimentId);
        var model = await LoggedModels.CreateLoggedModelAsync(new NewLoggedModel(experimentId, "model", run.Info.RunId, "sklearn", [], []), Ct);

        await Runs.LogInputsAsync(run.Info.RunId, [], [new ModelReference(model.ModelId, 0)], Ct);
        await Runs.LogOutputsAsync(run.Info.RunId, [new ModelReference(model.ModelId, 7)], Ct);

        var read = await Runs.GetRunAsync(run.Info.RunId, Ct);
        Assert.Equal([new ModelReference(model.ModelId, 0)], read.Inputs.ModelInputs);
        Assert.Equal([new ModelReference(model.ModelId, 7)], read.Outputs.ModelOutputs);
        var searched = (await SearchAsync(experimentId)).Items.Single();
        Assert.Equal(read.Outputs.ModelOutputs, searched.Outputs.ModelOutputs);
    }

    [Fact]
    public async Task LogInputs_DeletedRun_ThrowsInvalid()
    {
        var run = await NewRunAsync(await NewExperimentAsync());
        await Runs.DeleteRunAsync(run.Info.RunId, Ct);

        await AssertTrackingErrorAsync(
            TrackingErrorCode.InvalidParameterValue,
            () => Runs.LogInputsAsync(run.Info.RunId, [new DatasetInput(new Dataset("d", "1", "local", "{}", null, null), [])], [], Ct));
    }

    [Fact]
    public async Task CreateLoggedModel_Defaults_FollowMlflowFormats()
    {
        var experimentId = await NewExperimentAsync();

        var model = await LoggedModels.CreateLoggedModelAsync(
            new NewLoggedModel(experimentId, null, null, null!, [Kv("b", "2"), Kv("a", "1")], [Kv("z", "1"), Kv("mlflow.user", "x")]), Ct);

        Assert.Matches(new Regex("^m-[0-9a-f]{32}$"), model.ModelId);
        Assert.Matches(new Regex("^[a-z]+-[a-z]+-[0-9]+$"), model.Name);
        Assert.Equal($"mlflow-artifacts:/{experimentId}/models/{model.ModelId}/artifacts", model.ArtifactUri);
        Assert.Equal(LoggedModelStatus.Pending, model.Status);
        Assert.Equal(string.Empty, model.ModelType);
        Assert.Equal(NowMs, model.CreationTimestampMs);
        Assert.Equal([Kv("a", "1"), Kv("b", "2")], model.Params);
        Assert.Equal([Kv("mlflow.user", "x"), Kv("z", "1")], model.Tags);
        Assert.Equivalent(model, await LoggedModels.GetLoggedModelAsync(model.ModelId, Ct), strict: true);
    }

    [Fact]
    public async Task CreateLoggedModel_UnknownExperimentOrBadName_Throws()
    {
        await AssertTrackingErrorAsync(
            TrackingErrorCode.ResourceDoesNotExist, () => LoggedModels.CreateLoggedModelAsync(new NewLoggedModel("765432", "m", null, "", [], []), Ct));
        var experimentId = await NewExperimentAsync();
        await AssertTrackingErrorAsync(
            TrackingErrorCode.InvalidParameterValue, () => LoggedModels.CreateLoggedModelAsync(new NewLoggedModel(experimentId, "a/b", null, "", [], []), Ct));
    }

    [Fact]
    public async Task GetLoggedModel_Unknown_ThrowsNotFound()
    {
        var e = await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => LoggedModels.GetLoggedModelAsync("m-missing", Ct));
        Assert.Equal("Logged model with ID 'm-missing' not found.", e.Message);
    }

    [Fact]
    public async Task FinalizeLoggedModel_ReadyOrFailed_UpdatesStatusAndTime()
    {
        var model = await LoggedModels.CreateLoggedModelAsync(new NewLoggedModel(await NewExperimentAsync(), "m", null, "", [], []), Ct);
        Fixture.Time.Advance(TimeSpan.FromSeconds(2));

        var ready = await LoggedModels.FinalizeLoggedModelAsync(model.ModelId, LoggedModelStatus.Ready, Ct);

        Assert.Equal(LoggedModelStatus.Ready, ready.Status);
        Assert.Equal(NowMs, ready.LastUpdatedTimestampMs);
        Assert.Equal(model.CreationTimestampMs, ready.CreationTimestampMs);
        await AssertTrackingErrorAsync(
            TrackingErrorCode.InvalidParameterValue, () => LoggedModels.FinalizeLoggedModelAsync(model.ModelId, LoggedModelStatus.Pending, Ct));
        Assert.Equal(LoggedModelStatus.Failed, (await LoggedModels.FinalizeLoggedModelAsync(model.ModelId, LoggedModelStatus.Failed, Ct)).Status);
    }

    [Fact]
    public async Task DeleteLoggedModel_ThenGet_ThrowsNotFound()
    {
        var model = await LoggedModels.CreateLoggedModelAsync(new NewLoggedModel(await NewExperimentAsync(), "m", null, "", [], []), Ct);

        await LoggedModels.DeleteLoggedModelAsync(model.ModelId, Ct);

        await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => LoggedModels.GetLoggedModelAsync(model.ModelId, Ct));
        await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => LoggedModels.DeleteLoggedModelAsync(model.ModelId, Ct));
    }

    [Fact]
    public async Task SetAndDeleteLoggedModelTags_UpsertAndRemove()
    {
        var model = await LoggedModels.CreateLoggedModelAsync(new NewLoggedModel(await NewExperimentAsync(), "m", null, "", [], [Kv("a", "1")]), Ct);

        await LoggedModels.SetLoggedModelTagsAsync(model.ModelId, [Kv("a", "2"), Kv("b", "3")], Ct);
        await LoggedModels.DeleteLoggedModelTagAsync(model.ModelId, "b", Ct);

        Assert.Equal([Kv("a", "2")], (await LoggedModels.GetLoggedModelAsync(model.ModelId, Ct)).Tags);
        var e = await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => LoggedModels.DeleteLoggedModelTagAsync(model.ModelId, "b", Ct));
        Assert.Equal($"No tag with key 'b' found for model with ID '{model.ModelId}'.", e.Message);
    }

    [Fact]
    public async Task LoggedModel_MetricsLoggedWithModelIdAcrossRuns_AreReturned()
    {
        var experimentId = await NewExperimentAsync();
        var model = await LoggedModels.CreateLoggedModelAsync(new NewLoggedModel(experimentId, "m", null, "", [], []), Ct);
        var first = await NewRunAsync(experimentId);
        var second = await NewRunAsync(experimentId);

        await Runs.LogBatchAsync(first.Info.RunId, [new Metric("acc", 0.8, 1, 0) { ModelId = model.ModelId, DatasetName = "iris", DatasetDigest = "d" }, M("unrelated", 1)], [], [], Ct);
        await Runs.LogBatchAsync(second.Info.RunId, [new Metric("acc", 0.9, 2, 0) { ModelId = model.ModelId }], [], [], Ct);

        var metrics = (await LoggedModels.GetLoggedModelAsync(model.ModelId, Ct)).Metrics;
        Assert.Equal(
            [
                new Metric("acc", 0.8, 1, 0) { ModelId = model.ModelId, DatasetName = "iris", DatasetDigest = "d", RunId = first.Info.RunId },
                new Metric("acc", 0.9, 2, 0) { ModelId = model.ModelId, RunId = second.Info.RunId },
            ],
            metrics);
    }

    [Fact]
    public async Task SearchLoggedModels_Filter_MatchesAttributesTagsParamsAndMetrics()
    {
        var experimentId = await NewExperimentAsync();
        var run = await NewRunAsync(experimentId);
        var wanted = await LoggedModels.CreateLoggedModelAsync(new NewLoggedModel(experimentId, "model", run.Info.RunId, "sklearn", [Kv("alpha", "0.5")], [Kv("team", "a")]), Ct);
        var other = await LoggedModels.CreateLoggedModelAsync(new NewLoggedModel(experimentId, "model", null, "", [Kv("alpha", "0.1")], [Kv("team", "b")]), Ct);
        await LoggedModels.CreateLoggedModelAsync(new NewLoggedModel(experimentId, "another", run.Info.RunId, "", [], []), Ct);
        await Runs.LogBatchAsync(run.Info.RunId, [M("accuracy", 0.9) with { ModelId = wanted.ModelId }], [], [], Ct);

        async Task<string[]> FindAsync(string filter) =>
            [.. (await LoggedModels.SearchLoggedModelsAsync(new LoggedModelQuery([experimentId], 100, null) { Filter = SearchParser.ParseLoggedModelFilter(filter) }, Ct)).Items.Select(m => m.ModelId).Order(StringComparer.Ordinal)];

        Assert.Equal([wanted.ModelId], await FindAsync($"name = 'model' AND source_run_id = '{run.Info.RunId}'"));
        Assert.Equal(new[] { other.ModelId, wanted.ModelId }.Order(StringComparer.Ordinal), await FindAsync("name = 'model'"));
        Assert.Equal([wanted.ModelId], await FindAsync("tags.team = 'a'"));
        Assert.Equal([other.ModelId], await FindAsync("params.alpha = '0.1'"));
        Assert.Equal([wanted.ModelId], await FindAsync("metrics.accuracy > 0.5"));
        Assert.Equal([wanted.ModelId], await FindAsync("model_type = 'sklearn' AND status = 'LOGGED_MODEL_PENDING'"));
        Assert.Empty(await FindAsync("name LIKE 'nothing%'"));
    }

    [Fact]
    public async Task LogLoggedModelParams_NewAndSame_AreKeptAndChangedValueThrows()
    {
        var experimentId = await NewExperimentAsync();
        var model = await LoggedModels.CreateLoggedModelAsync(new NewLoggedModel(experimentId, "m", null, "", [Kv("a", "1")], []), Ct);

        await LoggedModels.LogLoggedModelParamsAsync(model.ModelId, [Kv("a", "1"), Kv("b", "2")], Ct);
        var error = await Assert.ThrowsAsync<TrackingException>(() => LoggedModels.LogLoggedModelParamsAsync(model.ModelId, [Kv("a", "9"), Kv("c", "3")], Ct));
        Assert.Equal(TrackingErrorCode.InvalidParameterValue, error.Code);

        var reloaded = await LoggedModels.GetLoggedModelAsync(model.ModelId, Ct);
        Assert.Equal(["a=1", "b=2"], reloaded.Params.Select(p => $"{p.Key}={p.Value}"));
        var missing = await Assert.ThrowsAsync<TrackingException>(() => LoggedModels.LogLoggedModelParamsAsync("m-00000000000000000000000000000000", [Kv("a", "1")], Ct));
        Assert.Equal(TrackingErrorCode.ResourceDoesNotExist, missing.Code);
    }

    [Fact]
    public async Task SearchLoggedModels_Paged_ReturnsNewestFirstAndSkipsDeleted()
    {
        var experimentId = await NewExperimentAsync();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            Fixture.Time.Advance(TimeSpan.FromSeconds(1));
            ids.Add((await LoggedModels.CreateLoggedModelAsync(new NewLoggedModel(experimentId, $"m{i}", null, "", [], []), Ct)).ModelId);
        }

        var deleted = await LoggedModels.CreateLoggedModelAsync(new NewLoggedModel(experimentId, "gone", null, "", [], []), Ct);
        await LoggedModels.DeleteLoggedModelAsync(deleted.ModelId, Ct);

        var first = await LoggedModels.SearchLoggedModelsAsync(new LoggedModelQuery([experimentId], 2, null), Ct);
        var second = await LoggedModels.SearchLoggedModelsAsync(new LoggedModelQuery([experimentId], 2, first.NextPageToken), Ct);

        Assert.Equal([ids[2], ids[1], ids[0]], [.. first.Items.Select(m => m.ModelId), .. second.Items.Select(m => m.ModelId)]);
        Assert.NotNull(first.NextPageToken);
        Assert.Null(second.NextPageToken);
    }

    [Fact]
    public async Task CreateRegisteredModel_ThenGet_ReturnsIt()
    {
        var name = UniqueName("model");

        var created = await Registry.CreateRegisteredModelAsync(name, "desc", [Kv("b", "2"), Kv("a", "1")], Ct);

        var read = await Registry.GetRegisteredModelAsync(name, Ct);
        Assert.Equal(name, read.Name);
        Assert.Equal("desc", read.Description);
        Assert.Equal(NowMs, read.CreationTimestamp);
        Assert.Equal([Kv("a", "1"), Kv("b", "2")], read.Tags);
        Assert.Empty(read.LatestVersions);
        Assert.Empty(read.Aliases);
        Assert.Equal(created.Tags, read.Tags);
    }

    [Fact]
    public async Task CreateRegisteredModel_Duplicate_ThrowsAlreadyExists()
    {
        var name = UniqueName("model");
        await Registry.CreateRegisteredModelAsync(name, null, [], Ct);

        var e = await AssertTrackingErrorAsync(TrackingErrorCode.ResourceAlreadyExists, () => Registry.CreateRegisteredModelAsync(name, null, [], Ct));
        Assert.Equal($"Registered Model (name={name}) already exists.", e.Message);
    }

    [Fact]
    public async Task GetRegisteredModel_Unknown_ThrowsNotFound()
    {
        var e = await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Registry.GetRegisteredModelAsync("no-such-model", Ct));
        Assert.Equal("Registered Model with name=no-such-model not found", e.Message);
    }

    [Fact]
    public async Task CreateModelVersion_Twice_NumbersVersionsWithDefaults()
    {
        var name = UniqueName("model");
        await Registry.CreateRegisteredModelAsync(name, null, [], Ct);
        Fixture.Time.Advance(TimeSpan.FromSeconds(1));

        var v1 = await Registry.CreateModelVersionAsync(new NewModelVersion(name, "s3://b/1", null, null, null, null!, [Kv("k", "v")]), Ct);
        var v2 = await Registry.CreateModelVersionAsync(new NewModelVersion(name, "s3://b/2", "run1", null, "second", "http://link", []), Ct);

        Assert.Equal("1", v1.Version);
        Assert.Equal("2", v2.Version);
        Assert.Equal("None", v1.CurrentStage);
        Assert.Equal("READY", v1.Status);
        Assert.Equal(string.Empty, v1.Description);
        Assert.Equal(string.Empty, v1.RunLink);
        Assert.Null(v1.RunId);
        Assert.Equal([Kv("k", "v")], v1.Tags);
        Assert.Equivalent(v2, await Registry.GetModelVersionAsync(name, "2", Ct), strict: true);
        var model = await Registry.GetRegisteredModelAsync(name, Ct);
        Assert.Equivalent(new[] { v2 }, model.LatestVersions, strict: true);
        Assert.Equal(NowMs, model.LastUpdatedTimestamp);
    }

    [Fact]
    public async Task CreateModelVersion_FromLoggedModel_DefaultsRunIdAndAppendsModelVersionsTag()
    {
        var experimentId = await NewExperimentAsync();
        var run = await NewRunAsync(experimentId);
        var model = await LoggedModels.CreateLoggedModelAsync(new NewLoggedModel(experimentId, "iris", run.Info.RunId, "", [], []), Ct);
        var name = UniqueName("iris_lr_model");
        await Registry.CreateRegisteredModelAsync(name, null, [], Ct);

        var v1 = await Registry.CreateModelVersionAsync(new NewModelVersion(name, model.ArtifactUri, null, model.ModelId, null, "", []), Ct);

        Assert.Equal(run.Info.RunId, v1.RunId);
        Assert.Equal(model.ModelId, v1.ModelId);
        var tag = (await LoggedModels.GetLoggedModelAsync(model.ModelId, Ct)).Tags.Single(t => t.Key == "mlflow.modelVersions");
        Assert.Equal($"[{{\"name\": \"{name}\", \"version\": 1}}]", tag.Value);

        await Registry.CreateModelVersionAsync(new NewModelVersion(name, model.ArtifactUri, null, model.ModelId, null, "", []), Ct);

        tag = (await LoggedModels.GetLoggedModelAsync(model.ModelId, Ct)).Tags.Single(t => t.Key == "mlflow.modelVersions");
        Assert.Equal($"[{{\"name\": \"{name}\", \"version\": 1}}, {{\"name\": \"{name}\", \"version\": 2}}]", tag.Value);
    }

    [Fact]
    public async Task CreateModelVersion_UnknownModelOrLoggedModel_ThrowsNotFound()
    {
        await AssertTrackingErrorAsync(
            TrackingErrorCode.ResourceDoesNotExist, () => Registry.CreateModelVersionAsync(new NewModelVersion("missing-model", "s", null, null, null, "", []), Ct));
        var name = UniqueName("model");
        await Registry.CreateRegisteredModelAsync(name, null, [], Ct);
        await AssertTrackingErrorAsync(
            TrackingErrorCode.ResourceDoesNotExist, () => Registry.CreateModelVersionAsync(new NewModelVersion(name, "s", null, "m-missing", null, "", []), Ct));
    }

    [Fact]
    public async Task GetModelVersion_UnknownOrMalformed_Throws()
    {
        var name = UniqueName("model");
        await Registry.CreateRegisteredModelAsync(name, null, [], Ct);

        var e = await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Registry.GetModelVersionAsync(name, "3", Ct));
        Assert.Equal($"Model Version (name={name}, version=3) not found", e.Message);
        await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => Registry.GetModelVersionAsync(name, "x", Ct));
    }
}
