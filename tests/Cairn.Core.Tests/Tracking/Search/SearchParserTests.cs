using Cairn.Core.Tracking;
using Cairn.Core.Tracking.Search;

namespace Cairn.Core.Tests.Tracking.Search;

public sealed class SearchParserTests
{
    private static Comparison Single(string filter)
    {
        var parsed = SearchParser.ParseRunFilter(filter);
        return Assert.Single(parsed.Clauses);
    }

    private static TrackingException RunFilterError(string filter)
    {
        var error = Assert.Throws<TrackingException>(() => SearchParser.ParseRunFilter(filter));
        Assert.Equal(TrackingErrorCode.InvalidParameterValue, error.Code);
        Assert.StartsWith($"Invalid filter '{filter}': ", error.Message, StringComparison.Ordinal);
        return error;
    }

    private static void AssertPosition(TrackingException error, int position) =>
        Assert.EndsWith($" at position {position}", error.Message, StringComparison.Ordinal);

    // ---- empty filters ----

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   \t\n ")]
    public void ParseRunFilter_NullOrBlank_ReturnsEmpty(string? filter)
    {
        Assert.Same(SearchFilter.Empty, SearchParser.ParseRunFilter(filter));
        Assert.Same(SearchFilter.Empty, SearchParser.ParseExperimentFilter(filter));
    }

    // ---- operators ----

    [Theory]
    [InlineData("metrics.acc = 1", ComparisonOperator.Equal)]
    [InlineData("metrics.acc != 1", ComparisonOperator.NotEqual)]
    [InlineData("metrics.acc < 1", ComparisonOperator.Less)]
    [InlineData("metrics.acc > 1", ComparisonOperator.Greater)]
    [InlineData("metrics.acc <= 1", ComparisonOperator.LessOrEqual)]
    [InlineData("metrics.acc >= 1", ComparisonOperator.GreaterOrEqual)]
    [InlineData("metrics.acc>=1", ComparisonOperator.GreaterOrEqual)]
    public void ParseRunFilter_MetricOperators_ParsesOperatorAndNumber(string filter, ComparisonOperator expected)
    {
        var clause = Single(filter);

        Assert.Equal(new Comparison(EntityKind.Metric, "acc", expected) { Number = 1 }, clause);
    }

    [Theory]
    [InlineData("params.model = 'cnn'", ComparisonOperator.Equal)]
    [InlineData("params.model != 'cnn'", ComparisonOperator.NotEqual)]
    [InlineData("params.model LIKE 'cnn'", ComparisonOperator.Like)]
    [InlineData("params.model ILIKE 'cnn'", ComparisonOperator.ILike)]
    [InlineData("params.model like 'cnn'", ComparisonOperator.Like)]
    [InlineData("params.model iLike 'cnn'", ComparisonOperator.ILike)]
    [InlineData("params.model='cnn'", ComparisonOperator.Equal)]
    [InlineData("params.model LIKE'cnn'", ComparisonOperator.Like)]
    public void ParseRunFilter_StringOperators_ParsesOperatorAndText(string filter, ComparisonOperator expected)
    {
        var clause = Single(filter);

        Assert.Equal(new Comparison(EntityKind.Param, "model", expected) { Text = "cnn" }, clause);
    }

    [Theory]
    [InlineData("attributes.status IN ('RUNNING', 'FINISHED')", ComparisonOperator.In)]
    [InlineData("attributes.status in ('RUNNING','FINISHED')", ComparisonOperator.In)]
    [InlineData("attributes.status NOT IN ('RUNNING', \"FINISHED\")", ComparisonOperator.NotIn)]
    [InlineData("attributes.status not   in('RUNNING' ,  'FINISHED' )", ComparisonOperator.NotIn)]
    public void ParseRunFilter_InLists_ParsesList(string filter, ComparisonOperator expected)
    {
        var clause = Single(filter);

        Assert.Equal(EntityKind.Attribute, clause.Kind);
        Assert.Equal("status", clause.Key);
        Assert.Equal(expected, clause.Operator);
        Assert.Equal(["RUNNING", "FINISHED"], clause.List);
        Assert.Null(clause.Text);
        Assert.Null(clause.Number);
    }

    [Fact]
    public void ParseRunFilter_SingleElementList_ParsesList()
    {
        Assert.Equal(["abc"], Single("run_id IN ('abc')").List);
    }

    [Theory]
    [InlineData("tags.team IN ('a', 'b')", EntityKind.Tag)]
    [InlineData("params.lr NOT IN ('a', 'b')", EntityKind.Param)]
    [InlineData("datasets.name IN ('a', 'b')", EntityKind.Dataset)]
    public void ParseRunFilter_InListOnStringEntities_IsAccepted(string filter, EntityKind kind)
    {
        var clause = Single(filter);

        Assert.Equal(kind, clause.Kind);
        Assert.Equal(["a", "b"], clause.List);
    }

    // ---- entity kinds and prefixes ----

    [Theory]
    [InlineData("metrics.rmse < 1", EntityKind.Metric)]
    [InlineData("metric.rmse < 1", EntityKind.Metric)]
    [InlineData("METRICS.rmse < 1", EntityKind.Metric)]
    [InlineData("params.rmse = 'x'", EntityKind.Param)]
    [InlineData("param.rmse = 'x'", EntityKind.Param)]
    [InlineData("parameter.rmse = 'x'", EntityKind.Param)]
    [InlineData("parameters.rmse = 'x'", EntityKind.Param)]
    [InlineData("tags.rmse = 'x'", EntityKind.Tag)]
    [InlineData("tag.rmse = 'x'", EntityKind.Tag)]
    public void ParseRunFilter_PrefixAliases_ResolveEntityKind(string filter, EntityKind kind)
    {
        var clause = Single(filter);

        Assert.Equal(kind, clause.Kind);
        Assert.Equal("rmse", clause.Key);
    }

    [Theory]
    [InlineData("attributes.status = 'FINISHED'")]
    [InlineData("attribute.status = 'FINISHED'")]
    [InlineData("attr.status = 'FINISHED'")]
    [InlineData("run.status = 'FINISHED'")]
    [InlineData("status = 'FINISHED'")]
    [InlineData("`status` = 'FINISHED'")]
    [InlineData("\"status\" = 'FINISHED'")]
    [InlineData("attributes.`status` = 'FINISHED'")]
    public void ParseRunFilter_AttributePrefixes_ResolveAttribute(string filter)
    {
        var clause = Single(filter);

        Assert.Equal(new Comparison(EntityKind.Attribute, "status", ComparisonOperator.Equal) { Text = "FINISHED" }, clause);
    }

    [Theory]
    [InlineData("run_id = 'x'", "run_id")]
    [InlineData("run_name = 'x'", "run_name")]
    [InlineData("user_id = 'x'", "user_id")]
    [InlineData("artifact_uri = 'x'", "artifact_uri")]
    [InlineData("`run name` = 'x'", "run_name")]
    [InlineData("\"Run Name\" = 'x'", "run_name")]
    [InlineData("attributes.`Run name` = 'x'", "run_name")]
    [InlineData("runName = 'x'", "run_name")]
    public void ParseRunFilter_StringAttributes_AreCanonical(string filter, string key)
    {
        var clause = Single(filter);

        Assert.Equal(EntityKind.Attribute, clause.Kind);
        Assert.Equal(key, clause.Key);
        Assert.Equal("x", clause.Text);
    }

    [Theory]
    [InlineData("start_time > 1700000000000", "start_time")]
    [InlineData("end_time <= 1700000000000", "end_time")]
    [InlineData("created > 1700000000000", "start_time")]
    [InlineData("Created > 1700000000000", "start_time")]
    [InlineData("attributes.created > 1700000000000", "start_time")]
    public void ParseRunFilter_NumericAttributes_AreCanonical(string filter, string key)
    {
        var clause = Single(filter);

        Assert.Equal(EntityKind.Attribute, clause.Kind);
        Assert.Equal(key, clause.Key);
        Assert.Equal(1700000000000d, clause.Number);
    }

    [Theory]
    [InlineData("datasets.name = 'train'", "name")]
    [InlineData("datasets.digest = 'train'", "digest")]
    [InlineData("dataset.context = 'train'", "context")]
    [InlineData("datasets.context LIKE 'train'", "context")]
    public void ParseRunFilter_Datasets_ParseKey(string filter, string key)
    {
        var clause = Single(filter);

        Assert.Equal(EntityKind.Dataset, clause.Kind);
        Assert.Equal(key, clause.Key);
        Assert.Equal("train", clause.Text);
    }

    // ---- keys ----

    [Theory]
    [InlineData("tags.mlflow.runName = 'x'", EntityKind.Tag, "mlflow.runName")]
    [InlineData("metrics.val.loss < 1", EntityKind.Metric, "val.loss")]
    [InlineData("metrics.`my metric` < 1", EntityKind.Metric, "my metric")]
    [InlineData("params.\"a b\" = 'x'", EntityKind.Param, "a b")]
    [InlineData("tags.'x' = 'x'", EntityKind.Tag, "x")]
    [InlineData("tags.`mlflow.source.name` = 'x'", EntityKind.Tag, "mlflow.source.name")]
    [InlineData("metrics.`a``b` < 1", EntityKind.Metric, "a`b")]
    [InlineData("params.learning-rate = 'x'", EntityKind.Param, "learning-rate")]
    [InlineData("metrics.train/loss < 1", EntityKind.Metric, "train/loss")]
    [InlineData("metrics.1st < 1", EntityKind.Metric, "1st")]
    [InlineData("tags.Ünïcode = 'x'", EntityKind.Tag, "Ünïcode")]
    public void ParseRunFilter_Keys_ParseQuotedAndDotted(string filter, EntityKind kind, string key)
    {
        var clause = Single(filter);

        Assert.Equal(kind, clause.Kind);
        Assert.Equal(key, clause.Key);
    }

    // ---- values ----

    [Theory]
    [InlineData("params.a = 'x y'", "x y")]
    [InlineData("params.a = \"x y\"", "x y")]
    [InlineData("params.a = ''", "")]
    [InlineData("params.a = 'it''s'", "it's")]
    [InlineData("params.a = 'it\\'s'", "it's")]
    [InlineData("params.a = \"say \"\"hi\"\"\"", "say \"hi\"")]
    [InlineData("params.a = \"say \\\"hi\\\"\"", "say \"hi\"")]
    [InlineData("params.a = \"it's\"", "it's")]
    [InlineData("params.a = 'C:\\temp'", "C:\\temp")]
    [InlineData("params.a = 'a\\\\b'", "a\\b")]
    [InlineData("params.a = 'AND OR'", "AND OR")]
    [InlineData("params.a LIKE '%cnn_%'", "%cnn_%")]
    public void ParseRunFilter_QuotedStrings_AreUnquotedAndUnescaped(string filter, string expected)
    {
        Assert.Equal(expected, Single(filter).Text);
    }

    [Theory]
    [InlineData("metrics.a > 0", 0d)]
    [InlineData("metrics.a > 42", 42d)]
    [InlineData("metrics.a > -1", -1d)]
    [InlineData("metrics.a > +1", 1d)]
    [InlineData("metrics.a > 0.5", 0.5)]
    [InlineData("metrics.a > .5", 0.5)]
    [InlineData("metrics.a > -.5", -0.5)]
    [InlineData("metrics.a > 5.", 5d)]
    [InlineData("metrics.a > 1e3", 1000d)]
    [InlineData("metrics.a > 1.5E-3", 0.0015)]
    [InlineData("metrics.a > -2e+2", -200d)]
    [InlineData("metrics.a>-1", -1d)]
    public void ParseRunFilter_Numbers_ParseInvariant(string filter, double expected)
    {
        Assert.Equal(expected, Single(filter).Number);
    }

    [Fact]
    public void ParseRunFilter_NumberUnderCommaCulture_ParsesInvariant()
    {
        var previous = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            Assert.Equal(0.25, Single("metrics.a < 0.25").Number);
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = previous;
        }
    }

    // ---- conjunctions ----

    [Fact]
    public void ParseRunFilter_AndedClauses_KeepsOrder()
    {
        var filter = SearchParser.ParseRunFilter(
            "metrics.rmse < 1 and params.model = 'cnn' AND tags.`team name` != \"ml\" And status IN ('RUNNING') AND datasets.name LIKE 'd%'");

        Assert.Equal(
            [
                new Comparison(EntityKind.Metric, "rmse", ComparisonOperator.Less) { Number = 1 },
                new Comparison(EntityKind.Param, "model", ComparisonOperator.Equal) { Text = "cnn" },
                new Comparison(EntityKind.Tag, "team name", ComparisonOperator.NotEqual) { Text = "ml" },
                new Comparison(EntityKind.Attribute, "status", ComparisonOperator.In) { List = ["RUNNING"] },
                new Comparison(EntityKind.Dataset, "name", ComparisonOperator.Like) { Text = "d%" },
            ],
            filter.Clauses,
            new ComparisonComparer());
    }

    [Fact]
    public void ParseRunFilter_SurroundingWhitespace_IsIgnored()
    {
        var filter = SearchParser.ParseRunFilter("  \n metrics.a\t>\t1\r\nAND\tparams.b='c'  ");

        Assert.Equal(2, filter.Clauses.Count);
    }

    // ---- errors ----

    [Fact]
    public void ParseRunFilter_MissingValue_ReportsPosition()
    {
        var error = RunFilterError("metrics.acc > ");

        Assert.Equal("Invalid filter 'metrics.acc > ': expected a value at position 14", error.Message);
    }

    [Fact]
    public void ParseRunFilter_MissingOperator_ReportsPosition()
    {
        var error = RunFilterError("metrics.acc");

        Assert.Contains("expected a comparison operator", error.Message, StringComparison.Ordinal);
        AssertPosition(error, 11);
    }

    [Theory]
    [InlineData("metrics.acc == 1", 12, "'=='")]
    [InlineData("metrics.acc <> 1", 12, "'<>'")]
    [InlineData("metrics.acc ! 1", 12, "'!'")]
    [InlineData("params.a CONTAINS 'x'", 9, "'CONTAINS'")]
    public void ParseRunFilter_UnknownOperator_ReportsPosition(string filter, int position, string shown)
    {
        var error = RunFilterError(filter);

        Assert.Contains($"unknown comparison operator {shown}", error.Message, StringComparison.Ordinal);
        AssertPosition(error, position);
    }

    [Fact]
    public void ParseRunFilter_NotWithoutIn_ReportsPosition()
    {
        var error = RunFilterError("params.a NOT LIKE 'x'");

        Assert.Contains("expected IN after NOT", error.Message, StringComparison.Ordinal);
        AssertPosition(error, 13);
    }

    [Theory]
    [InlineData("metrics.a > 1 OR metrics.b > 2", 14)]
    [InlineData("metrics.a > 1 or metrics.b > 2", 14)]
    public void ParseRunFilter_Or_IsRejected(string filter, int position)
    {
        var error = RunFilterError(filter);

        Assert.Contains("OR is not supported", error.Message, StringComparison.Ordinal);
        AssertPosition(error, position);
    }

    [Theory]
    [InlineData("params.a = 'abc", 11, "unterminated string literal")]
    [InlineData("params.a = \"abc", 11, "unterminated string literal")]
    [InlineData("params.a = 'it''s", 11, "unterminated string literal")]
    [InlineData("params.a = 'abc\\'", 11, "unterminated string literal")]
    [InlineData("metrics.`abc > 1", 8, "unterminated quoted identifier")]
    [InlineData("status IN ('a', 'b", 16, "unterminated string literal")]
    public void ParseRunFilter_UnterminatedString_ReportsOpeningQuote(string filter, int position, string problem)
    {
        var error = RunFilterError(filter);

        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        AssertPosition(error, position);
    }

    [Theory]
    [InlineData("metrics.acc > '0.5'", 14)]
    [InlineData("metrics.acc > \"0.5\"", 14)]
    [InlineData("metrics.acc > high", 14)]
    public void ParseRunFilter_MetricWithNonNumber_ReportsValuePosition(string filter, int position)
    {
        var error = RunFilterError(filter);

        Assert.Contains("expected a numeric value for metric 'acc'", error.Message, StringComparison.Ordinal);
        AssertPosition(error, position);
    }

    [Theory]
    [InlineData("params.alpha = 0.5", 15, "param 'alpha'")]
    [InlineData("tags.team = ml", 12, "tag 'team'")]
    [InlineData("status = 1", 9, "attribute 'status'")]
    [InlineData("datasets.name = 1", 16, "dataset field 'name'")]
    [InlineData("params.alpha = `x`", 15, "param 'alpha'")]
    public void ParseRunFilter_StringFieldWithNonString_ReportsValuePosition(string filter, int position, string field)
    {
        var error = RunFilterError(filter);

        Assert.Contains($"expected a quoted string value for {field}", error.Message, StringComparison.Ordinal);
        AssertPosition(error, position);
    }

    [Theory]
    [InlineData("start_time > '1'", 13)]
    [InlineData("created >= 'yesterday'", 11)]
    public void ParseRunFilter_NumericAttributeWithString_ReportsValuePosition(string filter, int position)
    {
        var error = RunFilterError(filter);

        Assert.Contains("expected a numeric value for attribute 'start_time'", error.Message, StringComparison.Ordinal);
        AssertPosition(error, position);
    }

    [Theory]
    [InlineData("metrics.acc LIKE 1", 12)]
    [InlineData("metrics.acc IN ('1')", 12)]
    [InlineData("params.a > 'x'", 9)]
    [InlineData("tags.a <= 'x'", 7)]
    [InlineData("status < 'x'", 7)]
    [InlineData("start_time LIKE '1%'", 11)]
    [InlineData("start_time IN ('1')", 11)]
    [InlineData("datasets.digest >= 'x'", 16)]
    public void ParseRunFilter_OperatorNotAllowedForField_ReportsOperatorPosition(string filter, int position)
    {
        var error = RunFilterError(filter);

        Assert.Contains("is not supported for", error.Message, StringComparison.Ordinal);
        AssertPosition(error, position);
    }

    [Fact]
    public void ParseRunFilter_UnknownAttribute_ListsValidAttributes()
    {
        var error = RunFilterError("metrics.a > 1 AND colour = 'red'");

        Assert.Contains("unknown run attribute 'colour'", error.Message, StringComparison.Ordinal);
        Assert.Contains("run_id", error.Message, StringComparison.Ordinal);
        Assert.Contains("start_time", error.Message, StringComparison.Ordinal);
        AssertPosition(error, 18);
    }

    [Theory]
    [InlineData("attributes.experiment_id = '1'", 0)]
    [InlineData("STATUS = 'x'", 0)]
    [InlineData("run name = 'x'", 0)]
    [InlineData("'x' = status", 0)]
    public void ParseRunFilter_InvalidAttributeName_IsRejected(string filter, int position)
    {
        var error = RunFilterError(filter);

        Assert.Contains("unknown run attribute", error.Message, StringComparison.Ordinal);
        AssertPosition(error, position);
    }

    [Fact]
    public void ParseRunFilter_UnknownDatasetField_IsRejected()
    {
        var error = RunFilterError("datasets.size = 'x'");

        Assert.Contains("unknown dataset field 'size'", error.Message, StringComparison.Ordinal);
        AssertPosition(error, 0);
    }

    [Fact]
    public void ParseRunFilter_UnknownPrefix_IsRejected()
    {
        var error = RunFilterError("metrics.a > 1 AND foo.bar = 'x'");

        Assert.Contains("unknown entity type 'foo'", error.Message, StringComparison.Ordinal);
        AssertPosition(error, 18);
    }

    [Theory]
    [InlineData("metrics. > 1", 8)]
    [InlineData("metrics. `a` > 1", 8)]
    [InlineData("tags.", 5)]
    public void ParseRunFilter_MissingKey_ReportsPosition(string filter, int position)
    {
        var error = RunFilterError(filter);

        Assert.Contains("expected a key after", error.Message, StringComparison.Ordinal);
        AssertPosition(error, position);
    }

    [Fact]
    public void ParseRunFilter_EmptyQuotedKey_IsRejected()
    {
        var error = RunFilterError("metrics.`` > 1");

        Assert.Contains("empty metric key", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("metrics.a > 1 metrics.b > 2", 14)]
    [InlineData("metrics.a > 1 )", 14)]
    [InlineData("metrics.a > 1;", 13)]
    [InlineData("params.a = 'x' 'y'", 15)]
    public void ParseRunFilter_TrailingGarbage_ReportsPosition(string filter, int position)
    {
        var error = RunFilterError(filter);

        Assert.Contains("expected AND or the end of the filter", error.Message, StringComparison.Ordinal);
        AssertPosition(error, position);
    }

    [Theory]
    [InlineData("metrics.a > 1 AND", 17)]
    [InlineData("metrics.a > 1 AND AND params.b = 'x'", 18)]
    [InlineData("(metrics.a > 1)", 0)]
    public void ParseRunFilter_MissingIdentifier_ReportsPosition(string filter, int position)
    {
        var error = RunFilterError(filter);

        AssertPosition(error, position);
    }

    [Theory]
    [InlineData("metrics.a > 1abc", 12, "malformed number '1abc'")]
    [InlineData("metrics.a > 1.2.3", 12, "malformed number '1.2.3'")]
    [InlineData("metrics.a > 1e999", 12, "out of range")]
    [InlineData("metrics.a > -", 12, "found '-'")]
    public void ParseRunFilter_BadNumbers_ReportPosition(string filter, int position, string problem)
    {
        var error = RunFilterError(filter);

        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        AssertPosition(error, position);
    }

    [Theory]
    [InlineData("status IN 'a'", 10, "expected a parenthesised list")]
    [InlineData("status IN ()", 11, "is empty")]
    [InlineData("status IN ('a',)", 15, "expected a quoted string in the list")]
    [InlineData("status IN ('a' 'b')", 15, "expected ',' or ')'")]
    [InlineData("status IN ('a', 1)", 16, "expected a quoted string in the list")]
    [InlineData("status IN ('a'", 14, "expected ',' or ')'")]
    [InlineData("status IN", 9, "expected a value")]
    public void ParseRunFilter_BadLists_ReportPosition(string filter, int position, string problem)
    {
        var error = RunFilterError(filter);

        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        AssertPosition(error, position);
    }

    [Fact]
    public void ParseRunFilter_ListForScalarOperator_IsRejected()
    {
        var error = RunFilterError("run_id = ('a')");

        Assert.Contains("expected a quoted string value", error.Message, StringComparison.Ordinal);
        AssertPosition(error, 9);
    }

    // ---- experiment filters ----

    [Theory]
    [InlineData("name = 'prod'", ComparisonOperator.Equal)]
    [InlineData("attributes.name != 'prod'", ComparisonOperator.NotEqual)]
    [InlineData("attribute.name LIKE 'prod'", ComparisonOperator.Like)]
    [InlineData("attr.name ILIKE 'prod'", ComparisonOperator.ILike)]
    public void ParseExperimentFilter_Name_ParsesString(string filter, ComparisonOperator op)
    {
        var clause = Assert.Single(SearchParser.ParseExperimentFilter(filter).Clauses);

        Assert.Equal(new Comparison(EntityKind.Attribute, "name", op) { Text = "prod" }, clause);
    }

    [Theory]
    [InlineData("creation_time > 100", "creation_time", ComparisonOperator.Greater)]
    [InlineData("attributes.last_update_time <= 100", "last_update_time", ComparisonOperator.LessOrEqual)]
    public void ParseExperimentFilter_Times_ParseNumbers(string filter, string key, ComparisonOperator op)
    {
        var clause = Assert.Single(SearchParser.ParseExperimentFilter(filter).Clauses);

        Assert.Equal(new Comparison(EntityKind.Attribute, key, op) { Number = 100 }, clause);
    }

    [Fact]
    public void ParseExperimentFilter_TagsAndIds_Parse()
    {
        var filter = SearchParser.ParseExperimentFilter("tags.`team name` = 'ml' AND tag.x LIKE '%a' AND experiment_id IN ('1', '2')");

        Assert.Equal(3, filter.Clauses.Count);
        Assert.Equal(new Comparison(EntityKind.Tag, "team name", ComparisonOperator.Equal) { Text = "ml" }, filter.Clauses[0]);
        Assert.Equal(new Comparison(EntityKind.Tag, "x", ComparisonOperator.Like) { Text = "%a" }, filter.Clauses[1]);
        Assert.Equal(EntityKind.Attribute, filter.Clauses[2].Kind);
        Assert.Equal("experiment_id", filter.Clauses[2].Key);
        Assert.Equal(["1", "2"], filter.Clauses[2].List);
    }

    [Theory]
    [InlineData("metrics.a > 1", "metrics cannot be used to search experiments")]
    [InlineData("params.a = 'x'", "params cannot be used to search experiments")]
    [InlineData("datasets.name = 'x'", "dataset fields cannot be used to search experiments")]
    [InlineData("run.name = 'x'", "unknown entity type 'run'")]
    [InlineData("status = 'x'", "unknown experiment attribute 'status'")]
    [InlineData("name > 'x'", "operator '>' is not supported for attribute 'name'")]
    [InlineData("name IN ('x')", "operator 'IN' is not supported for attribute 'name'")]
    [InlineData("name = 1", "expected a quoted string value for attribute 'name'")]
    [InlineData("creation_time = '1'", "expected a numeric value for attribute 'creation_time'")]
    public void ParseExperimentFilter_InvalidClauses_AreRejected(string filter, string problem)
    {
        var error = Assert.Throws<TrackingException>(() => SearchParser.ParseExperimentFilter(filter));

        Assert.Equal(TrackingErrorCode.InvalidParameterValue, error.Code);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.Matches(" at position [0-9]+$", error.Message);
    }

    // ---- run order-by ----

    [Fact]
    public void ParseRunOrderBy_NullOrEmpty_ReturnsEmpty()
    {
        Assert.Empty(SearchParser.ParseRunOrderBy(null));
        Assert.Empty(SearchParser.ParseRunOrderBy([]));
    }

    [Theory]
    [InlineData("metrics.rmse DESC", EntityKind.Metric, "rmse", false)]
    [InlineData("metrics.rmse desc", EntityKind.Metric, "rmse", false)]
    [InlineData("metrics.val.loss", EntityKind.Metric, "val.loss", true)]
    [InlineData("params.alpha", EntityKind.Param, "alpha", true)]
    [InlineData("param.alpha asc", EntityKind.Param, "alpha", true)]
    [InlineData("tags.`a b` ASC", EntityKind.Tag, "a b", true)]
    [InlineData("tags.\"a b\" DESC", EntityKind.Tag, "a b", false)]
    [InlineData("attributes.start_time", EntityKind.Attribute, "start_time", true)]
    [InlineData("start_time DESC", EntityKind.Attribute, "start_time", false)]
    [InlineData("run_name", EntityKind.Attribute, "run_name", true)]
    [InlineData("created", EntityKind.Attribute, "start_time", true)]
    [InlineData("attr.end_time DESC", EntityKind.Attribute, "end_time", false)]
    [InlineData("  status  ", EntityKind.Attribute, "status", true)]
    public void ParseRunOrderBy_Clauses_ParseKindKeyAndDirection(string clause, EntityKind kind, string key, bool ascending)
    {
        var orderBy = Assert.Single(SearchParser.ParseRunOrderBy([clause]));

        Assert.Equal(new OrderBy(kind, key, ascending), orderBy);
    }

    [Fact]
    public void ParseRunOrderBy_SeveralClauses_KeepsOrder()
    {
        var orderBy = SearchParser.ParseRunOrderBy(["metrics.rmse DESC", "start_time"]);

        Assert.Equal([new OrderBy(EntityKind.Metric, "rmse", false), new OrderBy(EntityKind.Attribute, "start_time", true)], orderBy);
    }

    [Theory]
    [InlineData("", 0, "expected an identifier")]
    [InlineData("metrics.rmse UP", 13, "expected ASC, DESC")]
    [InlineData("metrics.rmse DESC ASC", 18, "expected the end of the clause")]
    [InlineData("metrics.rmse, params.a", 12, "expected ASC, DESC")]
    [InlineData("colour", 0, "unknown run attribute 'colour'")]
    [InlineData("datasets.name", 0, "runs cannot be ordered by dataset fields")]
    [InlineData("foo.bar", 0, "unknown entity type 'foo'")]
    [InlineData("tags.`a b", 5, "unterminated quoted identifier")]
    public void ParseRunOrderBy_InvalidClause_QuotesClauseAndPosition(string clause, int position, string problem)
    {
        var error = Assert.Throws<TrackingException>(() => SearchParser.ParseRunOrderBy(["start_time", clause]));

        Assert.Equal(TrackingErrorCode.InvalidParameterValue, error.Code);
        Assert.StartsWith($"Invalid order_by clause '{clause}': ", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        AssertPosition(error, position);
    }

    // ---- experiment order-by ----

    [Theory]
    [InlineData("name", "name", true)]
    [InlineData("experiment_id DESC", "experiment_id", false)]
    [InlineData("attributes.creation_time ASC", "creation_time", true)]
    [InlineData("attributes.last_update_time desc", "last_update_time", false)]
    [InlineData("attribute.name", "name", true)]
    public void ParseExperimentOrderBy_Clauses_ParseKeyAndDirection(string clause, string key, bool ascending)
    {
        var orderBy = Assert.Single(SearchParser.ParseExperimentOrderBy([clause]));

        Assert.Equal(new OrderBy(EntityKind.Attribute, key, ascending), orderBy);
    }

    [Theory]
    [InlineData("tags.team", "experiments cannot be ordered by tags")]
    [InlineData("start_time", "unknown experiment attribute 'start_time'")]
    [InlineData("name SIDEWAYS", "expected ASC, DESC")]
    public void ParseExperimentOrderBy_InvalidClause_IsRejected(string clause, string problem)
    {
        var error = Assert.Throws<TrackingException>(() => SearchParser.ParseExperimentOrderBy([clause]));

        Assert.Equal(TrackingErrorCode.InvalidParameterValue, error.Code);
        Assert.StartsWith($"Invalid order_by clause '{clause}': ", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseExperimentOrderBy_Metric_IsRejected()
    {
        var error = Assert.Throws<TrackingException>(() => SearchParser.ParseExperimentOrderBy(["metrics.rmse"]));

        Assert.Contains("experiments cannot be ordered by metrics", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Compares comparisons by value, including the list contents (records compare lists by reference).</summary>
    private sealed class ComparisonComparer : IEqualityComparer<Comparison>
    {
        public bool Equals(Comparison? x, Comparison? y) =>
            x is not null && y is not null
            && x.Kind == y.Kind && x.Key == y.Key && x.Operator == y.Operator
            && x.Number == y.Number && x.Text == y.Text
            && (x.List is null ? y.List is null : y.List is not null && x.List.SequenceEqual(y.List));

        public int GetHashCode(Comparison obj) => HashCode.Combine(obj.Kind, obj.Key, obj.Operator);
    }
}
