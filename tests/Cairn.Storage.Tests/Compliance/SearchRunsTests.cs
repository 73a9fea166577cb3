using System.Text;
using Cairn.Core.Tracking;
using Cairn.Core.Tracking.Search;

namespace Cairn.Storage.Tests.Compliance;

public abstract partial class TrackingStoreComplianceTests
{
    /// <summary>Five runs: r1..r3 with metric m = 1..3, r4 with m = NaN, r5 without m; params, tags and statuses vary.</summary>
    private async Task<(string ExperimentId, Dictionary<string, string> Ids)> SeedSearchAsync()
    {
        var experimentId = await NewExperimentAsync();
        var ids = new Dictionary<string, string>();
        for (var i = 1; i <= 5; i++)
        {
            var run = await NewRunAsync(experimentId, $"r{i}", startTime: 1000 + i, user: i % 2 == 0 ? "bob" : "alice");
            ids[$"r{i}"] = run.Info.RunId;
            var metrics = i switch
            {
                <= 3 => new List<Metric> { M("m", i), M("other", 10 - i) },
                4 => [M("m", double.NaN)],
                _ => [],
            };
            var parameters = i <= 4 ? new List<KeyValue> { Kv("model", i % 2 == 0 ? "Linear" : "linear-tree"), Kv("n", $"{i}") } : [];
            var tags = i != 3 ? new List<KeyValue> { Kv("team", i <= 2 ? "vision" : "nlp") } : [];
            await Runs.LogBatchAsync(run.Info.RunId, metrics, parameters, tags, Ct);
        }

        await Runs.UpdateRunAsync(ids["r2"], RunStatus.Finished, 5000, null, Ct);
        return (experimentId, ids);
    }

    private static string[] Names(Page<Run> page) => page.Items.Select(r => r.Info.RunName).ToArray();

    private static string[] SortedNames(Page<Run> page) => Names(page).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task SearchRuns_MetricComparisons_UseLatestValueAndSkipNaN()
    {
        var (experimentId, _) = await SeedSearchAsync();

        async Task<string[]> FindAsync(ComparisonOperator op, double value) =>
            SortedNames(await SearchAsync(experimentId, Filter(Num(EntityKind.Metric, "m", op, value))));

        Assert.Equal(["r2", "r3"], await FindAsync(ComparisonOperator.Greater, 1));
        Assert.Equal(["r1", "r2"], await FindAsync(ComparisonOperator.LessOrEqual, 2));
        Assert.Equal(["r1"], await FindAsync(ComparisonOperator.Less, 2));
        Assert.Equal(["r2", "r3"], await FindAsync(ComparisonOperator.GreaterOrEqual, 2));
        Assert.Equal(["r2"], await FindAsync(ComparisonOperator.Equal, 2));
        Assert.Equal(["r1", "r3", "r4"], await FindAsync(ComparisonOperator.NotEqual, 2));
    }

    [Fact]
    public async Task SearchRuns_ParamAndTagComparisons_MatchMlflowStringSemantics()
    {
        var (experimentId, _) = await SeedSearchAsync();

        async Task<string[]> FindAsync(Comparison clause) => SortedNames(await SearchAsync(experimentId, Filter(clause)));

        Assert.Equal(["r1", "r3"], await FindAsync(Text(EntityKind.Param, "model", ComparisonOperator.Equal, "linear-tree")));
        Assert.Equal(["r2", "r4"], await FindAsync(Text(EntityKind.Param, "model", ComparisonOperator.NotEqual, "linear-tree")));
        Assert.Equal(["r1", "r3"], await FindAsync(Text(EntityKind.Param, "model", ComparisonOperator.Like, "lin%")));
        Assert.Equal(["r1", "r2", "r3", "r4"], await FindAsync(Text(EntityKind.Param, "model", ComparisonOperator.ILike, "lin%")));
        Assert.Equal(["r2", "r4"], await FindAsync(Text(EntityKind.Param, "model", ComparisonOperator.Like, "L_near")));
        Assert.Equal(["r1", "r4"], await FindAsync(List(EntityKind.Param, "n", ComparisonOperator.In, "1", "4")));
        Assert.Equal(["r2", "r3"], await FindAsync(List(EntityKind.Param, "n", ComparisonOperator.NotIn, "1", "4")));
        Assert.Equal(["r1", "r2"], await FindAsync(Text(EntityKind.Tag, "team", ComparisonOperator.Equal, "vision")));
        Assert.Equal(["r4", "r5"], await FindAsync(Text(EntityKind.Tag, "team", ComparisonOperator.NotEqual, "vision")));
        Assert.Equal(["r4", "r5"], await FindAsync(Text(EntityKind.Tag, "team", ComparisonOperator.ILike, "NL%")));
        Assert.Empty(await FindAsync(Text(EntityKind.Tag, "team", ComparisonOperator.Like, "NL%")));
    }

    [Fact]
    public async Task SearchRuns_AttributeComparisons_FilterRunColumns()
    {
        var (experimentId, ids) = await SeedSearchAsync();

        async Task<string[]> FindAsync(Comparison clause) => SortedNames(await SearchAsync(experimentId, Filter(clause)));

        Assert.Equal(["r2"], await FindAsync(Text(EntityKind.Attribute, "status", ComparisonOperator.Equal, RunStatus.Finished)));
        Assert.Equal(["r1", "r3", "r4", "r5"], await FindAsync(Text(EntityKind.Attribute, "status", ComparisonOperator.NotEqual, RunStatus.Finished)));
        Assert.Equal(["r3"], await FindAsync(Text(EntityKind.Attribute, "run_name", ComparisonOperator.Equal, "r3")));
        Assert.Equal(["r1", "r2", "r3", "r4", "r5"], await FindAsync(Text(EntityKind.Attribute, "run_name", ComparisonOperator.Like, "r%")));
        Assert.Equal(["r1", "r5"], await FindAsync(List(EntityKind.Attribute, "run_id", ComparisonOperator.In, ids["r1"], ids["r5"])));
        Assert.Equal(["r4", "r5"], await FindAsync(Num(EntityKind.Attribute, "start_time", ComparisonOperator.Greater, 1003)));
        Assert.Equal(["r2"], await FindAsync(Num(EntityKind.Attribute, "end_time", ComparisonOperator.GreaterOrEqual, 5000)));
        Assert.Equal(["r2", "r4"], await FindAsync(Text(EntityKind.Attribute, "user_id", ComparisonOperator.Equal, "bob")));
        Assert.Equal(["r1"], await FindAsync(Text(EntityKind.Attribute, "artifact_uri", ComparisonOperator.Like, $"%{ids["r1"]}%")));
    }

    [Fact]
    public async Task SearchRuns_SeveralClauses_AreJoinedWithAnd()
    {
        var (experimentId, _) = await SeedSearchAsync();

        var page = await SearchAsync(
            experimentId,
            Filter(Num(EntityKind.Metric, "m", ComparisonOperator.GreaterOrEqual, 1), Text(EntityKind.Param, "model", ComparisonOperator.Equal, "linear-tree"), Text(EntityKind.Tag, "team", ComparisonOperator.Equal, "vision")));

        Assert.Equal(["r1"], Names(page));
    }

    [Fact]
    public async Task SearchRuns_UnknownAttribute_ThrowsInvalid()
    {
        var (experimentId, _) = await SeedSearchAsync();

        await AssertTrackingErrorAsync(
            TrackingErrorCode.InvalidParameterValue, () => SearchAsync(experimentId, Filter(Text(EntityKind.Attribute, "color", ComparisonOperator.Equal, "x"))));
    }

    [Fact]
    public async Task SearchRuns_DefaultOrder_IsStartTimeDescending()
    {
        var (experimentId, _) = await SeedSearchAsync();

        Assert.Equal(["r5", "r4", "r3", "r2", "r1"], Names(await SearchAsync(experimentId)));
    }

    [Fact]
    public async Task SearchRuns_OrderByMetric_PutsNaNThenMissingLastInBothDirections()
    {
        var (experimentId, _) = await SeedSearchAsync();

        Assert.Equal(["r1", "r2", "r3", "r4", "r5"], Names(await SearchAsync(experimentId, orderBy: [new OrderBy(EntityKind.Metric, "m", true)])));
        Assert.Equal(["r3", "r2", "r1", "r4", "r5"], Names(await SearchAsync(experimentId, orderBy: [new OrderBy(EntityKind.Metric, "m", false)])));
    }

    [Fact]
    public async Task SearchRuns_FilterOnTheOrderByMetric_KeepsOnlyMatchingValuesInOrder()
    {
        var (experimentId, _) = await SeedSearchAsync();
        OrderBy[] descending = [new OrderBy(EntityKind.Metric, "m", false)];
        OrderBy[] ascending = [new OrderBy(EntityKind.Metric, "m", true)];

        Assert.Equal(["r3", "r2"], Names(await SearchAsync(experimentId, Filter(Num(EntityKind.Metric, "m", ComparisonOperator.Greater, 1)), descending)));
        Assert.Equal(["r1", "r2"], Names(await SearchAsync(experimentId, Filter(Num(EntityKind.Metric, "m", ComparisonOperator.LessOrEqual, 2)), ascending)));
        Assert.Equal(["r2"], Names(await SearchAsync(experimentId, Filter(Num(EntityKind.Metric, "m", ComparisonOperator.Greater, 1), Num(EntityKind.Metric, "m", ComparisonOperator.Less, 3)), descending)));
        Assert.Equal(["r3", "r1", "r4"], Names(await SearchAsync(experimentId, Filter(Num(EntityKind.Metric, "m", ComparisonOperator.NotEqual, 2)), descending)));
        Assert.Equal(["r3"], Names(await SearchAsync(experimentId, Filter(Num(EntityKind.Metric, "m", ComparisonOperator.Greater, 1), Text(EntityKind.Param, "model", ComparisonOperator.Equal, "linear-tree")), descending)));

        var first = await SearchAsync(experimentId, Filter(Num(EntityKind.Metric, "m", ComparisonOperator.Greater, 0)), descending, maxResults: 2);
        Assert.Equal(["r3", "r2"], Names(first));
        var second = await SearchAsync(experimentId, Filter(Num(EntityKind.Metric, "m", ComparisonOperator.Greater, 0)), descending, maxResults: 2, pageToken: first.NextPageToken);
        Assert.Equal(["r1"], Names(second));
        Assert.Null(second.NextPageToken);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task SearchRuns_OrderByMetricPaged_WalksValuesThenNaNThenMissing(int pageSize)
    {
        var (experimentId, _) = await SeedSearchAsync();
        OrderBy[] order = [new OrderBy(EntityKind.Metric, "m", false), new OrderBy(EntityKind.Attribute, "run_name", true)];

        var names = new List<string>();
        string? token = null;
        do
        {
            var page = await SearchAsync(experimentId, orderBy: order, maxResults: pageSize, pageToken: token);
            names.AddRange(Names(page));
            token = page.NextPageToken;
        }
        while (token is not null);

        Assert.Equal(["r3", "r2", "r1", "r4", "r5"], names);
    }

    [Fact]
    public async Task SearchRuns_OrderByParamTagAndAttributes_SortsWithMissingLast()
    {
        var (experimentId, _) = await SeedSearchAsync();

        Assert.Equal(["r4", "r2", "r3", "r1", "r5"], Names(await SearchAsync(experimentId, orderBy: [new OrderBy(EntityKind.Param, "model", true), new OrderBy(EntityKind.Param, "n", false)])));
        Assert.Equal(["r5", "r4", "r2", "r1", "r3"], Names(await SearchAsync(experimentId, orderBy: [new OrderBy(EntityKind.Tag, "team", true)])));
        Assert.Equal(["r1", "r2", "r3", "r4", "r5"], Names(await SearchAsync(experimentId, orderBy: [new OrderBy(EntityKind.Attribute, "start_time", true)])));
        Assert.Equal(["r5", "r4", "r3", "r2", "r1"], Names(await SearchAsync(experimentId, orderBy: [new OrderBy(EntityKind.Attribute, "run_name", false)])));
        Assert.Equal("r2", Names(await SearchAsync(experimentId, orderBy: [new OrderBy(EntityKind.Attribute, "end_time", false)]))[0]);
        Assert.Equal("r2", Names(await SearchAsync(experimentId, orderBy: [new OrderBy(EntityKind.Attribute, "end_time", true)]))[0]);
    }

    [Fact]
    public async Task SearchRuns_DuplicateOrderBy_ThrowsInvalid()
    {
        var experimentId = await NewExperimentAsync();

        await AssertTrackingErrorAsync(
            TrackingErrorCode.InvalidParameterValue,
            () => SearchAsync(experimentId, orderBy: [new OrderBy(EntityKind.Metric, "m", true), new OrderBy(EntityKind.Metric, "m", false)]));
    }

    [Fact]
    public async Task SearchRuns_Paged_ReturnsEveryRunOnceWithMlflowTokens()
    {
        var (experimentId, _) = await SeedSearchAsync();

        var first = await SearchAsync(experimentId, maxResults: 2);
        var second = await SearchAsync(experimentId, maxResults: 2, pageToken: first.NextPageToken);
        var third = await SearchAsync(experimentId, maxResults: 2, pageToken: second.NextPageToken);

        Assert.Equal("{\"offset\": 2}", Encoding.UTF8.GetString(Convert.FromBase64String(first.NextPageToken!)));
        Assert.Equal(["r5", "r4", "r3", "r2", "r1"], [.. Names(first), .. Names(second), .. Names(third)]);
        Assert.Null(third.NextPageToken);
    }

    [Fact]
    public async Task SearchRuns_InvalidPageToken_ThrowsInvalid()
    {
        var experimentId = await NewExperimentAsync();

        await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => SearchAsync(experimentId, pageToken: "%%%"));
    }

    [Fact]
    public async Task SearchRuns_ViewTypes_SelectLifecycleStages()
    {
        var (experimentId, ids) = await SeedSearchAsync();
        await Runs.DeleteRunAsync(ids["r1"], Ct);

        Assert.Equal(["r2", "r3", "r4", "r5"], SortedNames(await SearchAsync(experimentId)));
        Assert.Equal(["r1"], SortedNames(await SearchAsync(experimentId, viewType: ViewType.DeletedOnly)));
        Assert.Equal(5, (await SearchAsync(experimentId, viewType: ViewType.All)).Items.Count);
    }

    [Fact]
    public async Task SearchRuns_Results_CarryFullRunData()
    {
        var (experimentId, ids) = await SeedSearchAsync();

        var run = (await SearchAsync(experimentId, Filter(Text(EntityKind.Attribute, "run_name", ComparisonOperator.Equal, "r1")))).Items.Single();

        Assert.Equal(await Runs.GetRunAsync(ids["r1"], Ct) is { } expected ? expected.Data.Tags : null, run.Data.Tags);
        Assert.Equal([new Metric("m", 1, 100, 0), new Metric("other", 9, 100, 0)], run.Data.Metrics);
        Assert.Equal([Kv("model", "linear-tree"), Kv("n", "1")], run.Data.Params);
    }

    [Fact]
    public async Task SearchRuns_SeveralExperiments_SearchesAllOfThem()
    {
        var a = await NewExperimentAsync();
        var b = await NewExperimentAsync();
        await NewRunAsync(a, "in-a");
        await NewRunAsync(b, "in-b");

        var page = await Runs.SearchRunsAsync(new RunQuery([a, b, "424242"], SearchFilter.Empty, [], ViewType.ActiveOnly, 10, null), Ct);

        Assert.Equal(["in-a", "in-b"], SortedNames(page));
    }

    [Fact]
    public async Task SearchRuns_DatasetFilters_MatchNameDigestAndContext()
    {
        var experimentId = await NewExperimentAsync();
        var train = await NewRunAsync(experimentId, "train");
        var eval = await NewRunAsync(experimentId, "eval");
        await Runs.LogInputsAsync(train.Info.RunId, [new DatasetInput(new Dataset("iris", "d1", "local", "{}", null, null), [Kv("mlflow.data.context", "training")])], [], Ct);
        await Runs.LogInputsAsync(eval.Info.RunId, [new DatasetInput(new Dataset("iris", "d2", "local", "{}", null, null), [Kv("mlflow.data.context", "eval")])], [], Ct);

        async Task<string[]> FindAsync(Comparison clause) => SortedNames(await SearchAsync(experimentId, Filter(clause)));

        Assert.Equal(["eval", "train"], await FindAsync(Text(EntityKind.Dataset, "name", ComparisonOperator.Equal, "iris")));
        Assert.Equal(["eval"], await FindAsync(Text(EntityKind.Dataset, "digest", ComparisonOperator.Equal, "d2")));
        Assert.Equal(["train"], await FindAsync(Text(EntityKind.Dataset, "context", ComparisonOperator.Equal, "training")));
        Assert.Equal(["eval", "train"], await FindAsync(List(EntityKind.Dataset, "digest", ComparisonOperator.In, "d1", "d2")));
    }
}
