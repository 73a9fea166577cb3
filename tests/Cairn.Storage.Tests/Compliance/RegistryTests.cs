using Cairn.Core.Registry;
using Cairn.Core.Tracking;
using Cairn.Core.Tracking.Search;

namespace Cairn.Storage.Tests.Compliance;

/// <summary>Model registry behaviour beyond create/get: rename, update, delete, search, stages, aliases and tags.</summary>
public abstract partial class TrackingStoreComplianceTests
{
    private async Task<string> NewRegisteredModelAsync(string? name = null, int versions = 0, IReadOnlyList<KeyValue>? tags = null)
    {
        name ??= UniqueName("model");
        await Registry.CreateRegisteredModelAsync(name, null, tags ?? [], Ct);
        for (var i = 0; i < versions; i++)
        {
            await Registry.CreateModelVersionAsync(new NewModelVersion(name, $"s3://b/{i + 1}", null, null, null, "", []), Ct);
        }

        return name;
    }

    [Fact]
    public async Task ModelVersions_CreatedConcurrently_GetDistinctNumbers()
    {
        // Prompt versions are model versions: two people saving at the same moment must get two numbers, none lost.
        var name = await NewRegisteredModelAsync();
        var created = await Task.WhenAll(Enumerable.Range(0, 12).Select(i =>
            Task.Run(() => Registry.CreateModelVersionAsync(new NewModelVersion(name, $"s3://b/{i}", null, null, $"save {i}", "", []), Ct), Ct)));
        Assert.Equal(Enumerable.Range(1, 12).Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)), created.Select(v => v.Version).OrderBy(int.Parse));
        Assert.Equal(12, created.Select(v => v.Description).Distinct().Count());
    }

    private static RegistryQuery Query(SearchFilter filter, IReadOnlyList<OrderBy>? orderBy = null, int maxResults = 100, string? pageToken = null) =>
        new(filter, orderBy ?? [], maxResults, pageToken);

    private static SearchFilter NameLike(string prefix) => Filter(Text(EntityKind.Attribute, "name", ComparisonOperator.Like, prefix + "%"));

    [Fact]
    public async Task RenameRegisteredModel_Existing_MovesVersionsAndAliases()
    {
        var name = await NewRegisteredModelAsync(versions: 2);
        await Registry.SetAliasAsync(name, "champion", "1", Ct);
        Fixture.Time.Advance(TimeSpan.FromSeconds(1));
        var newName = UniqueName("renamed");

        var renamed = await Registry.RenameRegisteredModelAsync(name, newName, Ct);

        Assert.Equal(newName, renamed.Name);
        Assert.Equal(NowMs, renamed.LastUpdatedTimestamp);
        Assert.Equal([Kv("champion", "1")], renamed.Aliases);
        var v1 = await Registry.GetModelVersionAsync(newName, "1", Ct);
        Assert.Equal(newName, v1.Name);
        Assert.Equal(["champion"], v1.Aliases);
        Assert.Equal("1", (await Registry.GetModelVersionByAliasAsync(newName, "champion", Ct)).Version);
        await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Registry.GetRegisteredModelAsync(name, Ct));
    }

    [Fact]
    public async Task RenameRegisteredModel_ToExistingName_ThrowsAlreadyExists()
    {
        var name = await NewRegisteredModelAsync();
        var other = await NewRegisteredModelAsync();

        var e = await AssertTrackingErrorAsync(TrackingErrorCode.ResourceAlreadyExists, () => Registry.RenameRegisteredModelAsync(name, other, Ct));

        Assert.Equal($"Registered Model (name={other}) already exists.", e.Message);
        Assert.Equal(name, (await Registry.GetRegisteredModelAsync(name, Ct)).Name);
    }

    [Fact]
    public async Task RenameRegisteredModel_Unknown_ThrowsNotFound()
    {
        var e = await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Registry.RenameRegisteredModelAsync("no-such-model", UniqueName(), Ct));
        Assert.Equal("Registered Model with name=no-such-model not found", e.Message);
    }

    [Fact]
    public async Task UpdateRegisteredModel_Description_SetsItAndTouches()
    {
        var name = await NewRegisteredModelAsync();
        Fixture.Time.Advance(TimeSpan.FromSeconds(1));

        var updated = await Registry.UpdateRegisteredModelAsync(name, "new description", Ct);

        Assert.Equal("new description", updated.Description);
        Assert.Equal(NowMs, updated.LastUpdatedTimestamp);
        Assert.Equal("new description", (await Registry.GetRegisteredModelAsync(name, Ct)).Description);
        await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Registry.UpdateRegisteredModelAsync("no-such-model", "d", Ct));
    }

    [Fact]
    public async Task DeleteRegisteredModel_WithVersionsTagsAliases_RemovesEverything()
    {
        var name = await NewRegisteredModelAsync(versions: 2, tags: [Kv("t", "1")]);
        await Registry.SetAliasAsync(name, "champion", "2", Ct);
        await Registry.SetModelVersionTagAsync(name, "1", Kv("k", "v"), Ct);

        await Registry.DeleteRegisteredModelAsync(name, Ct);

        await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Registry.GetRegisteredModelAsync(name, Ct));
        await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Registry.GetModelVersionAsync(name, "1", Ct));
        Assert.Empty((await Registry.SearchModelVersionsAsync(Query(Filter(Text(EntityKind.Attribute, "name", ComparisonOperator.Equal, name))), Ct)).Items);

        // The name is free again, and the new model starts from scratch.
        await Registry.CreateRegisteredModelAsync(name, null, [], Ct);
        var fresh = await Registry.GetRegisteredModelAsync(name, Ct);
        Assert.Empty(fresh.Tags);
        Assert.Empty(fresh.Aliases);
        Assert.Empty(fresh.LatestVersions);
        await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Registry.DeleteRegisteredModelAsync("no-such-model", Ct));
    }

    [Fact]
    public async Task SearchRegisteredModels_FilterAndDefaultOrder_ReturnsByNameWithDetails()
    {
        var prefix = UniqueName("srm");
        var b = await NewRegisteredModelAsync(prefix + "-b", versions: 1, tags: [Kv("team", "ml")]);
        var a = await NewRegisteredModelAsync(prefix + "-a", tags: [Kv("team", "ops")]);
        var c = await NewRegisteredModelAsync(prefix + "-c", tags: [Kv("team", "ml")]);
        await Registry.SetAliasAsync(b, "prod", "1", Ct);

        var all = await Registry.SearchRegisteredModelsAsync(Query(NameLike(prefix)), Ct);
        var ml = await Registry.SearchRegisteredModelsAsync(
            Query(Filter(Text(EntityKind.Attribute, "name", ComparisonOperator.Like, prefix + "%"), Text(EntityKind.Tag, "team", ComparisonOperator.Equal, "ml"))), Ct);
        var exact = await Registry.SearchRegisteredModelsAsync(Query(Filter(Text(EntityKind.Attribute, "name", ComparisonOperator.Equal, a))), Ct);
        var ilike = await Registry.SearchRegisteredModelsAsync(Query(Filter(Text(EntityKind.Attribute, "name", ComparisonOperator.ILike, prefix.ToUpperInvariant() + "-C"))), Ct);

        Assert.Equal([a, b, c], all.Items.Select(m => m.Name));
        Assert.Null(all.NextPageToken);
        Assert.Equal([b, c], ml.Items.Select(m => m.Name));
        Assert.Equal([a], exact.Items.Select(m => m.Name));
        Assert.Equal([c], ilike.Items.Select(m => m.Name));
        var bModel = all.Items[1];
        Assert.Equal([Kv("team", "ml")], bModel.Tags);
        Assert.Equal([Kv("prod", "1")], bModel.Aliases);
        Assert.Equal(["1"], bModel.LatestVersions.Select(v => v.Version));
        Assert.Equal(["prod"], bModel.LatestVersions[0].Aliases);
    }

    [Fact]
    public async Task SearchRegisteredModels_OrderAndPaging_FollowsTokens()
    {
        var prefix = UniqueName("prm");
        var names = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            names.Add(await NewRegisteredModelAsync($"{prefix}-{i}"));
            Fixture.Time.Advance(TimeSpan.FromSeconds(1));
        }

        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await Registry.SearchRegisteredModelsAsync(
                Query(NameLike(prefix), [new OrderBy(EntityKind.Attribute, "creation_timestamp", Ascending: false)], maxResults: 2, pageToken: token), Ct);
            seen.AddRange(page.Items.Select(m => m.Name));
            token = page.NextPageToken;
            pages++;
        }
        while (token is not null);

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Reverse(names), seen);
        var byUpdate = await Registry.SearchRegisteredModelsAsync(
            Query(NameLike(prefix), [new OrderBy(EntityKind.Attribute, "last_updated_timestamp", Ascending: true)]), Ct);
        Assert.Equal(names, byUpdate.Items.Select(m => m.Name));
    }

    [Fact]
    public async Task SearchRegisteredModels_InvalidArguments_ThrowInvalid()
    {
        await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => Registry.SearchRegisteredModelsAsync(Query(SearchFilter.Empty, maxResults: 1001), Ct));
        await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => Registry.SearchRegisteredModelsAsync(Query(SearchFilter.Empty, maxResults: 0), Ct));
        await AssertTrackingErrorAsync(
            TrackingErrorCode.InvalidParameterValue,
            () => Registry.SearchRegisteredModelsAsync(Query(SearchFilter.Empty, [new OrderBy(EntityKind.Attribute, "name", true), new OrderBy(EntityKind.Attribute, "name", false)]), Ct));
        await AssertTrackingErrorAsync(
            TrackingErrorCode.InvalidParameterValue,
            () => Registry.SearchRegisteredModelsAsync(Query(Filter(Text(EntityKind.Attribute, "source_path", ComparisonOperator.Equal, "x"))), Ct));
        await AssertTrackingErrorAsync(
            TrackingErrorCode.InvalidParameterValue, () => Registry.SearchRegisteredModelsAsync(Query(SearchFilter.Empty, pageToken: "not base64!"), Ct));
    }

    [Fact]
    public async Task GetLatestVersions_Stages_ReturnsHighestPerStage()
    {
        var name = await NewRegisteredModelAsync(versions: 5);
        await Registry.TransitionModelVersionStageAsync(name, "1", "production", false, Ct);
        await Registry.TransitionModelVersionStageAsync(name, "2", "Production", false, Ct);
        await Registry.TransitionModelVersionStageAsync(name, "3", "STAGING", false, Ct);

        var all = await Registry.GetLatestVersionsAsync(name, [], Ct);
        var production = await Registry.GetLatestVersionsAsync(name, ["production"], Ct);
        var archived = await Registry.GetLatestVersionsAsync(name, ["Archived"], Ct);
        var model = await Registry.GetRegisteredModelAsync(name, Ct);

        Assert.Equal([("2", "Production"), ("3", "Staging"), ("5", "None")], all.Select(v => (v.Version, v.CurrentStage)));
        Assert.Equal(["2"], production.Select(v => v.Version));
        Assert.Empty(archived);
        Assert.Equal(["2", "3", "5"], model.LatestVersions.Select(v => v.Version).Order(StringComparer.Ordinal));
        var e = await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => Registry.GetLatestVersionsAsync(name, ["Prod"], Ct));
        Assert.Equal("Invalid Model Version stage: Prod. Value must be one of None, Staging, Production, Archived.", e.Message);
        await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Registry.GetLatestVersionsAsync("no-such-model", [], Ct));
    }

    [Fact]
    public async Task TransitionModelVersionStage_ArchiveExisting_ArchivesOthersInStage()
    {
        var name = await NewRegisteredModelAsync(versions: 3);
        await Registry.TransitionModelVersionStageAsync(name, "1", "Production", false, Ct);
        await Registry.TransitionModelVersionStageAsync(name, "2", "Staging", false, Ct);
        Fixture.Time.Advance(TimeSpan.FromSeconds(1));

        var moved = await Registry.TransitionModelVersionStageAsync(name, "3", "production", true, Ct);

        Assert.Equal("Production", moved.CurrentStage);
        Assert.Equal(NowMs, moved.LastUpdatedTimestamp);
        var v1 = await Registry.GetModelVersionAsync(name, "1", Ct);
        Assert.Equal("Archived", v1.CurrentStage);
        Assert.Equal(NowMs, v1.LastUpdatedTimestamp);
        Assert.Equal("Staging", (await Registry.GetModelVersionAsync(name, "2", Ct)).CurrentStage);
        Assert.Equal(NowMs, (await Registry.GetRegisteredModelAsync(name, Ct)).LastUpdatedTimestamp);
    }

    [Fact]
    public async Task TransitionModelVersionStage_InvalidArguments_Throw()
    {
        var name = await NewRegisteredModelAsync(versions: 1);

        var e = await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => Registry.TransitionModelVersionStageAsync(name, "1", "Live", false, Ct));
        Assert.Equal("Invalid Model Version stage: Live. Value must be one of None, Staging, Production, Archived.", e.Message);
        await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => Registry.TransitionModelVersionStageAsync(name, "1", "Archived", true, Ct));
        await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => Registry.TransitionModelVersionStageAsync(name, "one", "Staging", false, Ct));
        var missing = await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Registry.TransitionModelVersionStageAsync(name, "7", "Staging", false, Ct));
        Assert.Equal($"Model Version (name={name}, version=7) not found", missing.Message);
    }

    [Fact]
    public async Task RegisteredModelTags_SetOverwriteDelete_FollowMlflow()
    {
        var name = await NewRegisteredModelAsync(tags: [Kv("a", "1")]);

        await Registry.SetRegisteredModelTagAsync(name, Kv("b", "2"), Ct);
        await Registry.SetRegisteredModelTagAsync(name, Kv("a", "3"), Ct);
        Assert.Equal([Kv("a", "3"), Kv("b", "2")], (await Registry.GetRegisteredModelAsync(name, Ct)).Tags);

        await Registry.DeleteRegisteredModelTagAsync(name, "a", Ct);
        await Registry.DeleteRegisteredModelTagAsync(name, "never-set", Ct);
        Assert.Equal([Kv("b", "2")], (await Registry.GetRegisteredModelAsync(name, Ct)).Tags);

        await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Registry.SetRegisteredModelTagAsync("no-such-model", Kv("a", "1"), Ct));
        await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Registry.DeleteRegisteredModelTagAsync("no-such-model", "a", Ct));
        await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => Registry.SetRegisteredModelTagAsync(name, Kv("", "1"), Ct));
    }

    [Fact]
    public async Task Aliases_SetMoveDelete_ReflectedOnReads()
    {
        var name = await NewRegisteredModelAsync(versions: 2);

        await Registry.SetAliasAsync(name, "champion", "1", Ct);
        await Registry.SetAliasAsync(name, "challenger", "1", Ct);
        Assert.Equal(["challenger", "champion"], (await Registry.GetModelVersionAsync(name, "1", Ct)).Aliases);

        await Registry.SetAliasAsync(name, "champion", "2", Ct);
        var model = await Registry.GetRegisteredModelAsync(name, Ct);
        Assert.Equal([Kv("challenger", "1"), Kv("champion", "2")], model.Aliases);
        Assert.Equal(["challenger"], (await Registry.GetModelVersionAsync(name, "1", Ct)).Aliases);
        var champion = await Registry.GetModelVersionByAliasAsync(name, "champion", Ct);
        Assert.Equal("2", champion.Version);
        Assert.Equal(["champion"], champion.Aliases);

        await Registry.DeleteAliasAsync(name, "champion", Ct);
        await Registry.DeleteAliasAsync(name, "never-set", Ct);
        Assert.Equal([Kv("challenger", "1")], (await Registry.GetRegisteredModelAsync(name, Ct)).Aliases);
        var e = await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => Registry.GetModelVersionByAliasAsync(name, "champion", Ct));
        Assert.Equal("Registered model alias champion not found.", e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("latest")]
    [InlineData("LATEST")]
    [InlineData("v1")]
    [InlineData("V22")]
    [InlineData("has space")]
    [InlineData("a/b")]
    public async Task SetAlias_ReservedOrInvalidName_ThrowsInvalid(string alias)
    {
        var name = await NewRegisteredModelAsync(versions: 1);

        await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => Registry.SetAliasAsync(name, alias, "1", Ct));
    }

    [Fact]
    public async Task SetAlias_MissingVersionOrModel_ThrowsNotFound()
    {
        var name = await NewRegisteredModelAsync(versions: 1);

        var e = await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Registry.SetAliasAsync(name, "champion", "2", Ct));
        Assert.Equal($"Model Version (name={name}, version=2) not found", e.Message);
        await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Registry.SetAliasAsync("no-such-model", "champion", "1", Ct));
        await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Registry.DeleteAliasAsync("no-such-model", "champion", Ct));
        await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Registry.GetModelVersionByAliasAsync("no-such-model", "champion", Ct));
        await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => Registry.SetAliasAsync(name, "champion", "x", Ct));
    }

    [Fact]
    public async Task UpdateModelVersion_Description_SetsItAndTouchesVersion()
    {
        var name = await NewRegisteredModelAsync(versions: 1);
        Fixture.Time.Advance(TimeSpan.FromSeconds(1));

        var updated = await Registry.UpdateModelVersionAsync(name, "1", "better", Ct);

        Assert.Equal("better", updated.Description);
        Assert.Equal(NowMs, updated.LastUpdatedTimestamp);
        Assert.Equivalent(updated, await Registry.GetModelVersionAsync(name, "1", Ct), strict: true);
        await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Registry.UpdateModelVersionAsync(name, "2", "d", Ct));
        await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => Registry.UpdateModelVersionAsync(name, "abc", "d", Ct));
    }

    [Fact]
    public async Task DeleteModelVersion_WithTagsAndAliases_RemovesItAndNeverReusesNumber()
    {
        var name = await NewRegisteredModelAsync(versions: 2);
        await Registry.SetModelVersionTagAsync(name, "2", Kv("k", "v"), Ct);
        await Registry.SetAliasAsync(name, "champion", "2", Ct);
        await Registry.SetAliasAsync(name, "old", "1", Ct);

        await Registry.DeleteModelVersionAsync(name, "2", Ct);

        var e = await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Registry.GetModelVersionAsync(name, "2", Ct));
        Assert.Equal($"Model Version (name={name}, version=2) not found", e.Message);
        var model = await Registry.GetRegisteredModelAsync(name, Ct);
        Assert.Equal([Kv("old", "1")], model.Aliases);
        Assert.Equal(["1"], model.LatestVersions.Select(v => v.Version));
        Assert.Equal(["1"], (await Registry.SearchModelVersionsAsync(Query(Filter(Text(EntityKind.Attribute, "name", ComparisonOperator.Equal, name))), Ct)).Items.Select(v => v.Version));
        await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Registry.DeleteModelVersionAsync(name, "2", Ct));
        await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Registry.SetModelVersionTagAsync(name, "2", Kv("k", "v"), Ct));
        await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Registry.SetAliasAsync(name, "champion", "2", Ct));

        var v3 = await Registry.CreateModelVersionAsync(new NewModelVersion(name, "s3://b/3", null, null, null, "", []), Ct);
        Assert.Equal("3", v3.Version);
        Assert.Empty(v3.Tags);
        Assert.Empty(v3.Aliases);
    }

    [Fact]
    public async Task SearchModelVersions_Filters_MatchAttributesAndTags()
    {
        var prefix = UniqueName("smv");
        var m1 = await NewRegisteredModelAsync(prefix + "-1");
        var m2 = await NewRegisteredModelAsync(prefix + "-2");
        await Registry.CreateModelVersionAsync(new NewModelVersion(m1, "s3://bucket/a", "run-a", null, null, "", [Kv("env", "prod")]), Ct);
        await Registry.CreateModelVersionAsync(new NewModelVersion(m1, "s3://bucket/b", "run-b", null, null, "", [Kv("env", "dev")]), Ct);
        await Registry.CreateModelVersionAsync(new NewModelVersion(m2, "gs://other/c", "run-a", null, null, "", []), Ct);
        await Registry.SetAliasAsync(m1, "champion", "1", Ct);

        async Task<string[]> SearchAsync(params Comparison[] clauses)
        {
            var page = await Registry.SearchModelVersionsAsync(
                Query(Filter([Text(EntityKind.Attribute, "name", ComparisonOperator.Like, prefix + "%"), .. clauses]), [new OrderBy(EntityKind.Attribute, "name", true), new OrderBy(EntityKind.Attribute, "version_number", true)]),
                Ct);
            return page.Items.Select(v => $"{v.Name[(prefix.Length + 1)..]}/{v.Version}").ToArray();
        }

        Assert.Equal(["1/1", "1/2", "2/1"], await SearchAsync());
        Assert.Equal(["1/1", "2/1"], await SearchAsync(Text(EntityKind.Attribute, "run_id", ComparisonOperator.Equal, "run-a")));
        Assert.Equal(["1/2", "2/1"], await SearchAsync(List(EntityKind.Attribute, "run_id", ComparisonOperator.In, "run-b", "run-x", "run-a"), Text(EntityKind.Attribute, "source_path", ComparisonOperator.NotEqual, "s3://bucket/a")));
        Assert.Equal(["1/1", "1/2"], await SearchAsync(Text(EntityKind.Attribute, "source_path", ComparisonOperator.Like, "s3://bucket/%")));
        Assert.Equal(["2/1"], await SearchAsync(Text(EntityKind.Attribute, "source_path", ComparisonOperator.ILike, "GS://%")));
        Assert.Equal(["1/2"], await SearchAsync(Num(EntityKind.Attribute, "version_number", ComparisonOperator.Greater, 1)));
        Assert.Equal(["1/1"], await SearchAsync(Text(EntityKind.Tag, "env", ComparisonOperator.Equal, "prod")));
        Assert.Equal(["1/2"], await SearchAsync(Text(EntityKind.Tag, "env", ComparisonOperator.NotEqual, "prod")));
        Assert.Equal(["2/1"], await SearchAsync(Text(EntityKind.Attribute, "name", ComparisonOperator.Equal, m2)));
        var withAlias = await Registry.SearchModelVersionsAsync(Query(Filter(Text(EntityKind.Attribute, "name", ComparisonOperator.Equal, m1), Text(EntityKind.Tag, "env", ComparisonOperator.Equal, "prod"))), Ct);
        Assert.Equal(["champion"], withAlias.Items.Single().Aliases);
        Assert.Equal([Kv("env", "prod")], withAlias.Items.Single().Tags);
    }

    [Fact]
    public async Task SearchModelVersions_DefaultOrderAndPaging_NewestUpdateFirst()
    {
        var prefix = UniqueName("omv");
        var a = await NewRegisteredModelAsync(prefix + "-a", versions: 2);
        var b = await NewRegisteredModelAsync(prefix + "-b", versions: 2);
        Fixture.Time.Advance(TimeSpan.FromSeconds(1));
        await Registry.UpdateModelVersionAsync(b, "1", "touched", Ct);

        var seen = new List<string>();
        string? token = null;
        do
        {
            var page = await Registry.SearchModelVersionsAsync(Query(NameLike(prefix), maxResults: 3, pageToken: token), Ct);
            seen.AddRange(page.Items.Select(v => $"{v.Name}/{v.Version}"));
            token = page.NextPageToken;
        }
        while (token is not null);

        // last_updated_timestamp DESC, then name ASC, then version DESC.
        Assert.Equal([$"{b}/1", $"{a}/2", $"{a}/1", $"{b}/2"], seen);
        var byVersion = await Registry.SearchModelVersionsAsync(
            Query(NameLike(prefix), [new OrderBy(EntityKind.Attribute, "version_number", Ascending: false), new OrderBy(EntityKind.Attribute, "creation_timestamp", Ascending: true)]), Ct);
        Assert.Equal([$"{a}/2", $"{b}/2", $"{a}/1", $"{b}/1"], byVersion.Items.Select(v => $"{v.Name}/{v.Version}"));
        await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => Registry.SearchModelVersionsAsync(Query(SearchFilter.Empty, maxResults: 0), Ct));
        await AssertTrackingErrorAsync(
            TrackingErrorCode.InvalidParameterValue, () => Registry.SearchModelVersionsAsync(Query(SearchFilter.Empty, [new OrderBy(EntityKind.Attribute, "run_id", true)]), Ct));
    }

    [Fact]
    public async Task ModelVersionTags_SetOverwriteDelete_FollowMlflow()
    {
        var name = await NewRegisteredModelAsync(versions: 2);

        await Registry.SetModelVersionTagAsync(name, "1", Kv("b", "1"), Ct);
        await Registry.SetModelVersionTagAsync(name, "1", Kv("a", "2"), Ct);
        await Registry.SetModelVersionTagAsync(name, "1", Kv("b", "3"), Ct);
        Assert.Equal([Kv("a", "2"), Kv("b", "3")], (await Registry.GetModelVersionAsync(name, "1", Ct)).Tags);
        Assert.Empty((await Registry.GetModelVersionAsync(name, "2", Ct)).Tags);

        await Registry.DeleteModelVersionTagAsync(name, "1", "b", Ct);
        await Registry.DeleteModelVersionTagAsync(name, "1", "never-set", Ct);
        Assert.Equal([Kv("a", "2")], (await Registry.GetModelVersionAsync(name, "1", Ct)).Tags);

        await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Registry.SetModelVersionTagAsync(name, "9", Kv("a", "1"), Ct));
        await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Registry.DeleteModelVersionTagAsync(name, "9", "a", Ct));
        await AssertTrackingErrorAsync(TrackingErrorCode.ResourceDoesNotExist, () => Registry.DeleteModelVersionTagAsync("no-such-model", "1", "a", Ct));
        await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => Registry.SetModelVersionTagAsync(name, "1", Kv("", "x"), Ct));
    }
}
