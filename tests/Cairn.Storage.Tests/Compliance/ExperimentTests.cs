using Cairn.Core.Tracking;
using Cairn.Core.Tracking.Search;

namespace Cairn.Storage.Tests.Compliance;

public abstract partial class TrackingStoreComplianceTests
{
    [Fact]
    public async Task GetExperiment_DefaultExperiment_ExistsWithIdZero()
    {
        var experiment = await Experiments.GetExperimentAsync("0", Ct);

        Assert.Equal("0", experiment.ExperimentId);
        Assert.Equal("Default", experiment.Name);
        Assert.Equal("mlflow-artifacts:/0", experiment.ArtifactLocation);
        Assert.Equal(LifecycleStage.Active, experiment.LifecycleStage);
        Assert.Equal(StorageFixture.Epoch.ToUnixTimeMilliseconds(), experiment.CreationTime);
    }

    [Fact]
    public async Task CreateExperiment_NewNames_ReturnsSequentialIdsAndArtifactLocations()
    {
        var first = await NewExperimentAsync();
        var second = await NewExperimentAsync();

        Assert.True(long.Parse(first, System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.Equal(long.Parse(first, System.Globalization.CultureInfo.InvariantCulture) + 1, long.Parse(second, System.Globalization.CultureInfo.InvariantCulture));
        var experiment = await Experiments.GetExperimentAsync(second, Ct);
        Assert.Equal($"mlflow-artifacts:/{second}", experiment.ArtifactLocation);
        Assert.Equal(NowMs, experiment.CreationTime);
        Assert.Equal(NowMs, experiment.LastUpdateTime);
    }

    [Fact]
    public async Task CreateExperiment_ExplicitArtifactLocation_KeepsIt()
    {
        var id = await Experiments.CreateExperimentAsync(UniqueName(), "s3://bucket/path", [], Ct);

        Assert.Equal("s3://bucket/path", (await Experiments.GetExperimentAsync(id, Ct)).ArtifactLocation);
    }

    [Fact]
    public async Task CreateExperiment_WithTags_ReturnsTagsInOrder()
    {
        var id = await NewExperimentAsync(tags: [Kv("b", "1"), Kv("a", "2")]);

        var experiment = await Experiments.GetExperimentAsync(id, Ct);

        Assert.Equal([Kv("b", "1"), Kv("a", "2")], experiment.Tags);
    }

    [Fact]
    public async Task CreateExperiment_DuplicateName_ThrowsAlreadyExists()
    {
        var name = UniqueName();
        await NewExperimentAsync(name);

        var e = await AssertTrackingErrorAsync(TrackingErrorCode.ResourceAlreadyExists, () => NewExperimentAsync(name));
        Assert.Equal($"Experiment(name={name}) already exists.", e.Message);
    }

    [Fact]
    public async Task CreateExperiment_NameOfDeletedExperiment_ThrowsAlreadyExists()
    {
        var name = UniqueName();
        await Experiments.DeleteExperimentAsync(await NewExperimentAsync(name), Ct);

        await AssertTrackingErrorAsync(TrackingErrorCode.ResourceAlreadyExists, () => NewExperimentAsync(name));
    }

    [Fact]
    public async Task CreateExperiment_EmptyName_ThrowsInvalid()
    {
        var e = await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => NewExperimentAsync(string.Empty));
        Assert.Equal("Invalid experiment name: ''", e.Message);
    }

    [Theory]
    [InlineData("999999")]
    [InlineData("not-a-number")]
    public async Task GetExperiment_Unknown_ThrowsNotFound(string id)
    {
        var e = await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Experiments.GetExperimentAsync(id, Ct));
        Assert.Equal($"No Experiment with id={id} exists", e.Message);
    }

    [Fact]
    public async Task GetExperimentByName_ExistingAndMissing_ReturnsExperimentOrNull()
    {
        var name = UniqueName();
        var id = await NewExperimentAsync(name);

        Assert.Equal(id, (await Experiments.GetExperimentByNameAsync(name, Ct))?.ExperimentId);
        Assert.Null(await Experiments.GetExperimentByNameAsync(UniqueName(), Ct));
    }

    [Fact]
    public async Task RenameExperiment_Active_ChangesNameAndLastUpdateTime()
    {
        var id = await NewExperimentAsync();
        Fixture.Time.Advance(TimeSpan.FromSeconds(5));
        var newName = UniqueName();

        await Experiments.RenameExperimentAsync(id, newName, Ct);

        var experiment = await Experiments.GetExperimentAsync(id, Ct);
        Assert.Equal(newName, experiment.Name);
        Assert.Equal(NowMs, experiment.LastUpdateTime);
        Assert.True(experiment.LastUpdateTime > experiment.CreationTime);
    }

    [Fact]
    public async Task RenameExperiment_Deleted_ThrowsInvalid()
    {
        var id = await NewExperimentAsync();
        await Experiments.DeleteExperimentAsync(id, Ct);

        var e = await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => Experiments.RenameExperimentAsync(id, UniqueName(), Ct));
        Assert.Equal("Cannot rename a non-active experiment.", e.Message);
    }

    [Fact]
    public async Task RenameExperiment_ToTakenName_ThrowsAlreadyExists()
    {
        var taken = UniqueName();
        await NewExperimentAsync(taken);
        var id = await NewExperimentAsync();

        await AssertTrackingErrorAsync(TrackingErrorCode.ResourceAlreadyExists, () => Experiments.RenameExperimentAsync(id, taken, Ct));
    }

    [Fact]
    public async Task DeleteExperiment_Default_ThrowsInvalid()
    {
        var e = await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => Experiments.DeleteExperimentAsync("0", Ct));
        Assert.Equal("Cannot delete the default experiment '0'. This is an internally reserved experiment.", e.Message);
    }

    [Fact]
    public async Task DeleteExperiment_WithRuns_MarksRunsDeletedAndRestoreBringsThemBack()
    {
        var id = await NewExperimentAsync();
        var run = await NewRunAsync(id);
        Fixture.Time.Advance(TimeSpan.FromSeconds(1));

        await Experiments.DeleteExperimentAsync(id, Ct);

        var deleted = await Experiments.GetExperimentAsync(id, Ct);
        Assert.Equal(LifecycleStage.Deleted, deleted.LifecycleStage);
        Assert.Equal(NowMs, deleted.LastUpdateTime);
        Assert.Equal(LifecycleStage.Deleted, (await Runs.GetRunAsync(run.Info.RunId, Ct)).Info.LifecycleStage);

        Fixture.Time.Advance(TimeSpan.FromSeconds(1));
        await Experiments.RestoreExperimentAsync(id, Ct);

        var restored = await Experiments.GetExperimentAsync(id, Ct);
        Assert.Equal(LifecycleStage.Active, restored.LifecycleStage);
        Assert.Equal(NowMs, restored.LastUpdateTime);
        Assert.Equal(LifecycleStage.Active, (await Runs.GetRunAsync(run.Info.RunId, Ct)).Info.LifecycleStage);
    }

    [Fact]
    public async Task DeleteExperiment_AlreadyDeleted_ThrowsNotFound()
    {
        var id = await NewExperimentAsync();
        await Experiments.DeleteExperimentAsync(id, Ct);

        await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Experiments.DeleteExperimentAsync(id, Ct));
        await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Experiments.DeleteExperimentAsync("987654", Ct));
    }

    [Fact]
    public async Task RestoreExperiment_Active_ThrowsNotFound()
    {
        var id = await NewExperimentAsync();

        await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Experiments.RestoreExperimentAsync(id, Ct));
    }

    [Fact]
    public async Task SetExperimentTag_NewAndExistingKey_UpsertsAndTouchesLastUpdateTime()
    {
        var id = await NewExperimentAsync(tags: [Kv("a", "1")]);
        Fixture.Time.Advance(TimeSpan.FromSeconds(3));

        await Experiments.SetExperimentTagAsync(id, Kv("b", "2"), Ct);
        await Experiments.SetExperimentTagAsync(id, Kv("a", "3"), Ct);

        var experiment = await Experiments.GetExperimentAsync(id, Ct);
        Assert.Equal([Kv("a", "3"), Kv("b", "2")], experiment.Tags);
        Assert.Equal(NowMs, experiment.LastUpdateTime);
    }

    [Fact]
    public async Task SetExperimentTag_DeletedExperiment_ThrowsInvalid()
    {
        var id = await NewExperimentAsync();
        await Experiments.DeleteExperimentAsync(id, Ct);

        var e = await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => Experiments.SetExperimentTagAsync(id, Kv("a", "1"), Ct));
        Assert.Equal($"The experiment {id} must be in the 'active' state. Current state is deleted.", e.Message);
    }

    [Fact]
    public async Task SetExperimentTag_InvalidKey_ThrowsInvalid()
    {
        var id = await NewExperimentAsync();

        await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => Experiments.SetExperimentTagAsync(id, Kv("bad$key", "1"), Ct));
    }

    [Fact]
    public async Task DeleteExperimentTag_ExistingAndMissing_RemovesOrThrowsNotFound()
    {
        var id = await NewExperimentAsync(tags: [Kv("a", "1"), Kv("b", "2")]);

        await Experiments.DeleteExperimentTagAsync(id, "a", Ct);

        Assert.Equal([Kv("b", "2")], (await Experiments.GetExperimentAsync(id, Ct)).Tags);
        await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Experiments.DeleteExperimentTagAsync(id, "a", Ct));
    }

    [Fact]
    public async Task SearchExperiments_NamePrefixWithPaging_ReturnsNewestFirstInPages()
    {
        var prefix = UniqueName("page");
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            Fixture.Time.Advance(TimeSpan.FromSeconds(1));
            ids.Add(await NewExperimentAsync($"{prefix}-{i}"));
        }

        var filter = Filter(Text(EntityKind.Attribute, "name", ComparisonOperator.Like, prefix + "%"));
        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await Experiments.SearchExperimentsAsync(new ExperimentQuery(filter, [], ViewType.ActiveOnly, 2, token), Ct);
            seen.AddRange(page.Items.Select(e => e.ExperimentId));
            token = page.NextPageToken;
            pages++;
        }
        while (token is not null);

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Reverse(ids), seen);
    }

    [Fact]
    public async Task SearchExperiments_ExactPageSize_ReturnsNoNextToken()
    {
        var prefix = UniqueName("exact");
        await NewExperimentAsync(prefix + "-a");
        await NewExperimentAsync(prefix + "-b");

        var page = await Experiments.SearchExperimentsAsync(
            new ExperimentQuery(Filter(Text(EntityKind.Attribute, "name", ComparisonOperator.Like, prefix + "%")), [], ViewType.ActiveOnly, 2, null), Ct);

        Assert.Equal(2, page.Items.Count);
        Assert.Null(page.NextPageToken);
    }

    [Fact]
    public async Task SearchExperiments_ViewTypes_SelectLifecycleStages()
    {
        var prefix = UniqueName("view");
        var active = await NewExperimentAsync(prefix + "-active");
        var deleted = await NewExperimentAsync(prefix + "-deleted");
        await Experiments.DeleteExperimentAsync(deleted, Ct);
        var filter = Filter(Text(EntityKind.Attribute, "name", ComparisonOperator.Like, prefix + "%"));

        async Task<string[]> SearchAsync(ViewType viewType) =>
            (await Experiments.SearchExperimentsAsync(new ExperimentQuery(filter, [], viewType, 100, null), Ct)).Items.Select(e => e.ExperimentId).Order().ToArray();

        Assert.Equal([active], await SearchAsync(ViewType.ActiveOnly));
        Assert.Equal([deleted], await SearchAsync(ViewType.DeletedOnly));
        Assert.Equal(new[] { active, deleted }.Order().ToArray(), await SearchAsync(ViewType.All));
    }

    [Fact]
    public async Task SearchExperiments_TagTimeAndCaseFilters_MatchMlflowSemantics()
    {
        var prefix = UniqueName("Filter");
        var a = await NewExperimentAsync(prefix + "-A", [Kv("team", "vision")]);
        Fixture.Time.Advance(TimeSpan.FromSeconds(10));
        var cutoff = NowMs;
        var b = await NewExperimentAsync(prefix + "-b", [Kv("team", "nlp")]);
        var byPrefix = Text(EntityKind.Attribute, "name", ComparisonOperator.Like, prefix + "%");

        async Task<string[]> SearchAsync(params Comparison[] clauses) =>
            (await Experiments.SearchExperimentsAsync(new ExperimentQuery(Filter([byPrefix, .. clauses]), [], ViewType.All, 100, null), Ct))
            .Items.Select(e => e.ExperimentId).Order().ToArray();

        Assert.Equal([a], await SearchAsync(Text(EntityKind.Tag, "team", ComparisonOperator.Equal, "vision")));
        Assert.Equal([b], await SearchAsync(Text(EntityKind.Tag, "team", ComparisonOperator.NotEqual, "vision")));
        Assert.Equal([b], await SearchAsync(Text(EntityKind.Tag, "team", ComparisonOperator.Like, "n%")));
        Assert.Equal([b], await SearchAsync(Num(EntityKind.Attribute, "creation_time", ComparisonOperator.GreaterOrEqual, cutoff)));
        Assert.Equal([a], await SearchAsync(Num(EntityKind.Attribute, "last_update_time", ComparisonOperator.Less, cutoff)));
        Assert.Equal([a], await SearchAsync(Text(EntityKind.Attribute, "name", ComparisonOperator.Like, "%-A")));
        Assert.Equal([a], await SearchAsync(Text(EntityKind.Attribute, "name", ComparisonOperator.ILike, "%-a")));
        Assert.Equal(new[] { a, b }.Order().ToArray(), await SearchAsync(Text(EntityKind.Attribute, "name", ComparisonOperator.ILike, prefix.ToUpperInvariant() + "%")));
        Assert.Empty(await SearchAsync(Text(EntityKind.Attribute, "name", ComparisonOperator.Like, prefix.ToUpperInvariant() + "%")));
    }

    [Fact]
    public async Task SearchExperiments_OrderByName_SortsByCodePoint()
    {
        var prefix = UniqueName("order");
        var b = await NewExperimentAsync(prefix + "-b");
        var a = await NewExperimentAsync(prefix + "-a");
        var upper = await NewExperimentAsync(prefix + "-C");
        var filter = Filter(Text(EntityKind.Attribute, "name", ComparisonOperator.Like, prefix + "%"));

        var page = await Experiments.SearchExperimentsAsync(
            new ExperimentQuery(filter, [new OrderBy(EntityKind.Attribute, "name", Ascending: true)], ViewType.ActiveOnly, 100, null), Ct);

        Assert.Equal([upper, a, b], page.Items.Select(e => e.ExperimentId));
    }

    [Fact]
    public async Task SearchExperiments_DefaultOrderWithEqualTimes_PutsDefaultExperimentLast()
    {
        var name = UniqueName();
        var id = await NewExperimentAsync(name);
        var filter = Filter(List(EntityKind.Attribute, "name", ComparisonOperator.In, "Default", name));

        var page = await Experiments.SearchExperimentsAsync(new ExperimentQuery(filter, [], ViewType.ActiveOnly, 100, null), Ct);

        Assert.Equal("0", page.Items[^1].ExperimentId);
        Assert.Contains(id, page.Items.Select(e => e.ExperimentId));
    }

    [Theory]
    [InlineData("not base64!")]
    [InlineData("eyJvZmZzZXQiOiAiYWJjIn0=")]
    [InlineData("bm90IGpzb24=")]
    public async Task SearchExperiments_InvalidPageToken_ThrowsInvalid(string token)
    {
        await AssertTrackingErrorAsync(
            TrackingErrorCode.InvalidParameterValue,
            () => Experiments.SearchExperimentsAsync(new ExperimentQuery(SearchFilter.Empty, [], ViewType.ActiveOnly, 10, token), Ct));
    }
}
