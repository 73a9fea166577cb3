using Cairn.Core.Tracking;
using Cairn.Core.Tracking.Search;

namespace Cairn.Storage.Tests.Compliance;

public abstract partial class TrackingStoreComplianceTests
{
    [Theory]
    [InlineData("metrics.m > 1 and params.model = 'linear-tree'", "r3")]
    [InlineData("attributes.run_name LIKE 'r%' AND tags.team = 'vision'", "r1,r2")]
    [InlineData("run_name = 'r3'", "r3")]
    [InlineData("`Run Name` ILIKE 'R4'", "r4")]
    [InlineData("created > 1003", "r4,r5")]
    [InlineData("attributes.status != 'RUNNING'", "r2")]
    [InlineData("params.n IN ('1', '2')", "r1,r2")]
    [InlineData("tags.`team` != 'nlp'", "r1,r2")]
    [InlineData("metrics.`m` <= 2.0", "r1,r2")]
    public async Task SearchRuns_ParsedFilterStrings_MatchExpectedRuns(string filterString, string expected)
    {
        var (experimentId, _) = await SeedSearchAsync();

        var page = await SearchAsync(experimentId, SearchParser.ParseRunFilter(filterString));

        Assert.Equal(expected.Split(','), SortedNames(page));
    }

    [Fact]
    public async Task SearchRuns_ParsedOrderBy_SortsLikeMlflow()
    {
        var (experimentId, _) = await SeedSearchAsync();

        var page = await SearchAsync(experimentId, orderBy: SearchParser.ParseRunOrderBy(["metrics.m DESC", "attributes.start_time ASC"]));

        Assert.Equal(["r3", "r2", "r1", "r4", "r5"], Names(page));
    }

    [Fact]
    public async Task SearchExperiments_ParsedFilterAndOrder_MatchExpected()
    {
        var prefix = UniqueName("parsed");
        var a = await NewExperimentAsync(prefix + "-a", [Kv("team", "x")]);
        var b = await NewExperimentAsync(prefix + "-b");

        var page = await Experiments.SearchExperimentsAsync(
            new ExperimentQuery(
                SearchParser.ParseExperimentFilter($"name LIKE '{prefix}%' AND experiment_id IN ('{a}', '{b}')"),
                SearchParser.ParseExperimentOrderBy(["name DESC"]),
                ViewType.ActiveOnly,
                10,
                null),
            Ct);
        var tagged = await Experiments.SearchExperimentsAsync(
            new ExperimentQuery(SearchParser.ParseExperimentFilter($"tags.team = 'x' AND name LIKE '{prefix}%'"), [], ViewType.ActiveOnly, 10, null), Ct);

        Assert.Equal([b, a], page.Items.Select(e => e.ExperimentId));
        Assert.Equal([a], tagged.Items.Select(e => e.ExperimentId));
    }
}
