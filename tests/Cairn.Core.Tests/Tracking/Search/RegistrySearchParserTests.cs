using Cairn.Core.Tracking;
using Cairn.Core.Tracking.Search;

namespace Cairn.Core.Tests.Tracking.Search;

public sealed class RegistrySearchParserTests
{
    private static TrackingException Error(Action parse)
    {
        var error = Assert.Throws<TrackingException>(parse);
        Assert.Equal(TrackingErrorCode.InvalidParameterValue, error.Code);
        return error;
    }

    // ---- registered models ----

    [Theory]
    [InlineData(null)]
    [InlineData("  ")]
    public void ParseRegisteredModelFilter_NullOrBlank_ReturnsEmpty(string? filter)
    {
        Assert.Same(SearchFilter.Empty, SearchParser.ParseRegisteredModelFilter(filter));
        Assert.Same(SearchFilter.Empty, SearchParser.ParseModelVersionFilter(filter));
    }

    [Theory]
    [InlineData("name = 'm'", ComparisonOperator.Equal)]
    [InlineData("name != 'm'", ComparisonOperator.NotEqual)]
    [InlineData("name LIKE 'm'", ComparisonOperator.Like)]
    [InlineData("attributes.name ILIKE 'm'", ComparisonOperator.ILike)]
    public void ParseRegisteredModelFilter_NameOperators_ParsesClause(string filter, ComparisonOperator op)
    {
        var clause = Assert.Single(SearchParser.ParseRegisteredModelFilter(filter).Clauses);

        Assert.Equal(new Comparison(EntityKind.Attribute, "name", op) { Text = "m" }, clause);
    }

    [Fact]
    public void ParseRegisteredModelFilter_NameAndTags_ParsesConjunction()
    {
        var parsed = SearchParser.ParseRegisteredModelFilter("name LIKE 'fraud-%' AND tags.team = 'ml' AND tag.`my key` ILIKE '%x%'");

        Assert.Equal(
            [
                new Comparison(EntityKind.Attribute, "name", ComparisonOperator.Like) { Text = "fraud-%" },
                new Comparison(EntityKind.Tag, "team", ComparisonOperator.Equal) { Text = "ml" },
                new Comparison(EntityKind.Tag, "my key", ComparisonOperator.ILike) { Text = "%x%" },
            ],
            parsed.Clauses);
    }

    [Theory]
    [InlineData("name IN ('a')", "operator 'IN' is not supported for attribute 'name'")]
    [InlineData("tags.t IN ('a')", "operator 'IN' is not supported for tag 't'")]
    [InlineData("name > 'a'", "operator '>' is not supported for attribute 'name'")]
    [InlineData("run_id = 'a'", "unknown registered model attribute 'run_id' (valid attributes: name)")]
    [InlineData("creation_timestamp > 1", "unknown registered model attribute 'creation_timestamp'")]
    [InlineData("metrics.acc > 1", "unknown entity type 'metrics' (valid prefixes: tags, attributes)")]
    [InlineData("name = 'a' OR name = 'b'", "OR is not supported")]
    public void ParseRegisteredModelFilter_Unsupported_ThrowsInvalid(string filter, string expected)
    {
        var error = Error(() => SearchParser.ParseRegisteredModelFilter(filter));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseRegisteredModelOrderBy_Keys_ParsesCanonicalKeysAndDirections()
    {
        var parsed = SearchParser.ParseRegisteredModelOrderBy(["name", "creation_timestamp DESC", "last_updated_timestamp asc"]);
        var timestamp = SearchParser.ParseRegisteredModelOrderBy(["timestamp DESC"]);

        Assert.Equal(
            [
                new OrderBy(EntityKind.Attribute, "name", true),
                new OrderBy(EntityKind.Attribute, "creation_timestamp", false),
                new OrderBy(EntityKind.Attribute, "last_updated_timestamp", true),
            ],
            parsed);
        Assert.Equal([new OrderBy(EntityKind.Attribute, "last_updated_timestamp", false)], timestamp);
        Assert.Empty(SearchParser.ParseRegisteredModelOrderBy(null));
        Assert.Empty(SearchParser.ParseRegisteredModelOrderBy([]));
    }

    [Theory]
    [InlineData("version_number")]
    [InlineData("tags.team")]
    [InlineData("name SIDEWAYS")]
    public void ParseRegisteredModelOrderBy_Unsupported_ThrowsInvalid(string clause)
    {
        Error(() => SearchParser.ParseRegisteredModelOrderBy([clause]));
    }

    // ---- model versions ----

    [Fact]
    public void ParseModelVersionFilter_AllAttributes_ParsesClauses()
    {
        var parsed = SearchParser.ParseModelVersionFilter(
            "name = 'm' AND run_id IN ('a', 'b') AND run_id != 'c' AND source_path LIKE 's3://%' AND version_number >= 2 AND tags.env ILIKE 'PROD'");

        Assert.Equal(6, parsed.Clauses.Count);
        Assert.Equal(new Comparison(EntityKind.Attribute, "name", ComparisonOperator.Equal) { Text = "m" }, parsed.Clauses[0]);
        Assert.Equal((EntityKind.Attribute, "run_id", ComparisonOperator.In), (parsed.Clauses[1].Kind, parsed.Clauses[1].Key, parsed.Clauses[1].Operator));
        Assert.Equal(["a", "b"], parsed.Clauses[1].List!);
        Assert.Equal(new Comparison(EntityKind.Attribute, "run_id", ComparisonOperator.NotEqual) { Text = "c" }, parsed.Clauses[2]);
        Assert.Equal(new Comparison(EntityKind.Attribute, "source_path", ComparisonOperator.Like) { Text = "s3://%" }, parsed.Clauses[3]);
        Assert.Equal(new Comparison(EntityKind.Attribute, "version_number", ComparisonOperator.GreaterOrEqual) { Number = 2 }, parsed.Clauses[4]);
        Assert.Equal(new Comparison(EntityKind.Tag, "env", ComparisonOperator.ILike) { Text = "PROD" }, parsed.Clauses[5]);
    }

    [Theory]
    [InlineData("run_id LIKE 'a%'", "operator 'LIKE' is not supported for attribute 'run_id'")]
    [InlineData("source_path IN ('a')", "operator 'IN' is not supported for attribute 'source_path'")]
    [InlineData("version_number = '2'", "expected a numeric value for attribute 'version_number'")]
    [InlineData("tags.env IN ('a')", "operator 'IN' is not supported for tag 'env'")]
    [InlineData("version = 2", "unknown model version attribute 'version'")]
    [InlineData("params.p = 'a'", "unknown entity type 'params'")]
    public void ParseModelVersionFilter_Unsupported_ThrowsInvalid(string filter, string expected)
    {
        var error = Error(() => SearchParser.ParseModelVersionFilter(filter));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseModelVersionOrderBy_Keys_ParsesDirections()
    {
        var parsed = SearchParser.ParseModelVersionOrderBy(["name", "version_number DESC", "creation_timestamp", "last_updated_timestamp DESC"]);

        Assert.Equal(
            [
                new OrderBy(EntityKind.Attribute, "name", true),
                new OrderBy(EntityKind.Attribute, "version_number", false),
                new OrderBy(EntityKind.Attribute, "creation_timestamp", true),
                new OrderBy(EntityKind.Attribute, "last_updated_timestamp", false),
            ],
            parsed);
        Assert.Empty(SearchParser.ParseModelVersionOrderBy(null));
    }

    [Theory]
    [InlineData("run_id")]
    [InlineData("timestamp")]
    [InlineData("tags.env DESC")]
    public void ParseModelVersionOrderBy_Unsupported_ThrowsInvalid(string clause)
    {
        Error(() => SearchParser.ParseModelVersionOrderBy([clause]));
    }
}
