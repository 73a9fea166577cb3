namespace Cairn.Core.Tracking.Search;

/// <summary>Parses MLflow search filters and order-by clauses into <see cref="SearchFilter"/> and <see cref="OrderBy"/>.</summary>
/// <remarks>
/// <para>The grammar follows MLflow's <c>SearchUtils</c> / <c>SearchExperimentsUtils</c>:</para>
/// <code>
/// filter     := comparison (AND comparison)*
/// comparison := identifier operator value
/// identifier := prefix '.' key | attribute          (key: unquoted, or quoted with ` " ')
/// operator   := = | != | &lt; | &gt; | &lt;= | &gt;= | LIKE | ILIKE | IN | NOT IN
/// value      := number | 'string' | "string" | '(' string (',' string)* ')'
/// order_by   := identifier (ASC | DESC)?
/// </code>
/// <para>Keywords are case-insensitive; <c>OR</c> is rejected. Every error is a <see cref="TrackingException"/> with
/// <see cref="TrackingErrorCode.InvalidParameterValue"/> naming the problem and its 0-based position in the input.</para>
/// <para>Deviations from MLflow, all more lenient: <c>IN</c>/<c>NOT IN</c> are accepted for params, tags and every string
/// attribute (MLflow allows lists only for <c>run_id</c> and datasets; matching a value against a list is harmless);
/// entity prefixes are case-insensitive; quoted strings may escape their quote by doubling it or with a backslash; MLflow's
/// dropping of upper-case run ids from <c>run_id IN (...)</c> lists is left to the stores.</para>
/// </remarks>
public static class SearchParser
{
    private const string FilterSubject = "filter";
    private const string OrderBySubject = "order_by clause";
    private const string OperatorList = "=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN";

    private static readonly ComparisonOperator[] s_operators =
    [
        ComparisonOperator.Equal, ComparisonOperator.NotEqual,
        ComparisonOperator.Less, ComparisonOperator.LessOrEqual, ComparisonOperator.Greater, ComparisonOperator.GreaterOrEqual,
        ComparisonOperator.Like, ComparisonOperator.ILike, ComparisonOperator.In, ComparisonOperator.NotIn,
    ];

    /// <summary>Parses a run search filter such as <c>metrics.rmse &lt; 1 AND params.model = 'cnn'</c>; null or blank matches everything.</summary>
    public static SearchFilter ParseRunFilter(string? filter) => ParseFilter(filter, SearchGrammar.Runs);

    /// <summary>Parses an experiment search filter such as <c>name LIKE 'prod-%' AND tags.team = 'ml'</c>; null or blank matches everything.</summary>
    public static SearchFilter ParseExperimentFilter(string? filter) => ParseFilter(filter, SearchGrammar.Experiments);

    /// <summary>Parses a logged-model filter such as <c>name = 'model' AND source_run_id = '…'</c> (attributes, <c>tags.</c>, <c>params.</c>, <c>metrics.</c>).</summary>
    public static SearchFilter ParseLoggedModelFilter(string? filter) => ParseFilter(filter, SearchGrammar.LoggedModels);

    /// <summary>Parses run order-by clauses such as <c>metrics.rmse DESC</c> or <c>start_time</c> (ascending unless DESC).</summary>
    public static IReadOnlyList<OrderBy> ParseRunOrderBy(IReadOnlyList<string>? orderBy) => ParseOrderBy(orderBy, SearchGrammar.Runs);

    /// <summary>Parses experiment order-by clauses such as <c>name</c> or <c>attributes.creation_time DESC</c> (ascending unless DESC).</summary>
    public static IReadOnlyList<OrderBy> ParseExperimentOrderBy(IReadOnlyList<string>? orderBy) => ParseOrderBy(orderBy, SearchGrammar.Experiments);

    /// <summary>Parses a registered-model filter such as <c>name LIKE 'fraud-%' AND tags.team = 'ml'</c> (<c>name</c> and <c>tags.</c>, each = != LIKE ILIKE).</summary>
    public static SearchFilter ParseRegisteredModelFilter(string? filter) => ParseFilter(filter, SearchGrammar.RegisteredModels);

    /// <summary>Parses registered-model order-by clauses: <c>name</c>, <c>creation_timestamp</c>, <c>last_updated_timestamp</c> (or <c>timestamp</c>), ASC or DESC.</summary>
    public static IReadOnlyList<OrderBy> ParseRegisteredModelOrderBy(IReadOnlyList<string>? orderBy) => ParseOrderBy(orderBy, SearchGrammar.RegisteredModelOrder);

    /// <summary>
    /// Parses a model-version filter such as <c>name = 'm' AND version_number &gt; 2</c>: <c>name</c>, <c>source_path</c> (= != LIKE ILIKE),
    /// <c>run_id</c> (= != IN NOT IN), <c>version_number</c> (numeric) and <c>tags.</c> (= != LIKE ILIKE).
    /// </summary>
    public static SearchFilter ParseModelVersionFilter(string? filter) => ParseFilter(filter, SearchGrammar.ModelVersions);

    /// <summary>Parses model-version order-by clauses: <c>name</c>, <c>version_number</c>, <c>creation_timestamp</c>, <c>last_updated_timestamp</c>, ASC or DESC.</summary>
    public static IReadOnlyList<OrderBy> ParseModelVersionOrderBy(IReadOnlyList<string>? orderBy) => ParseOrderBy(orderBy, SearchGrammar.ModelVersionOrder);

    private static SearchFilter ParseFilter(string? filter, SearchGrammar grammar)
    {
        if (string.IsNullOrWhiteSpace(filter))
        {
            return SearchFilter.Empty;
        }

        var scanner = new SearchScanner(filter, FilterSubject);
        var clauses = new List<Comparison>();
        while (true)
        {
            clauses.Add(ParseComparison(scanner, grammar));
            var token = scanner.Next();
            if (token.Kind == SearchTokenKind.End)
            {
                return new SearchFilter(clauses);
            }

            if (scanner.IsKeyword(token, "OR"))
            {
                throw scanner.Error("OR is not supported, combine clauses with AND", token.Start);
            }

            if (!scanner.IsKeyword(token, "AND"))
            {
                throw scanner.Error($"expected AND or the end of the filter but found {scanner.Describe(token)}", token.Start);
            }
        }
    }

    private static Comparison ParseComparison(SearchScanner scanner, SearchGrammar grammar)
    {
        var identifierStart = scanner.Peek().Start;
        var target = ParseIdentifier(scanner, grammar);
        if (!grammar.CanFilter(target.Kind))
        {
            throw scanner.Error(
                $"{SearchGrammar.KindName(target.Kind)}s cannot be used to search {grammar.Entity}s (valid prefixes: {grammar.ValidPrefixes})",
                identifierStart);
        }

        var (op, opStart) = ParseOperator(scanner);
        var allowed = target.Field.Operators;
        if ((allowed & GroupOf(op)) == 0)
        {
            throw scanner.Error(
                $"operator '{OperatorText(op)}' is not supported for {SearchGrammar.Describe(target.Kind, target.Key)} (supported: {OperatorTexts(allowed)})",
                opStart);
        }

        var comparison = new Comparison(target.Kind, target.Key, op);
        if (op is ComparisonOperator.In or ComparisonOperator.NotIn)
        {
            return comparison with { List = ParseList(scanner, op) };
        }

        var token = scanner.Next();
        if (token.Kind == SearchTokenKind.End)
        {
            throw scanner.Error("expected a value", token.Start);
        }

        if (target.Field.Numeric)
        {
            if (token.Kind != SearchTokenKind.Number)
            {
                throw scanner.Error(
                    $"expected a numeric value for {SearchGrammar.Describe(target.Kind, target.Key)} but found {scanner.Describe(token)}",
                    token.Start);
            }

            return comparison with { Number = token.Number };
        }

        if (!IsStringLiteral(token))
        {
            throw scanner.Error(
                $"expected a quoted string value for {SearchGrammar.Describe(target.Kind, target.Key)} (e.g. 'my-value') but found {scanner.Describe(token)}",
                token.Start);
        }

        return comparison with { Text = token.Text };
    }

    /// <summary>Reads <c>prefix.key</c>, <c>prefix.`quoted key`</c>, a bare attribute name or a quoted attribute name, and resolves it.</summary>
    private static SearchTarget ParseIdentifier(SearchScanner scanner, SearchGrammar grammar)
    {
        var token = scanner.Next();
        if (token.Kind == SearchTokenKind.Quoted)
        {
            // A quoted identifier without prefix names an attribute, e.g. "run name" or `start_time`.
            return grammar.Resolve(scanner, EntityKind.Attribute, token.Text, token.Start);
        }

        if (token.Kind != SearchTokenKind.Word)
        {
            var expected = $"expected an identifier such as metrics.<key>, params.<key>, tags.<key> or a {grammar.Entity} attribute";
            throw scanner.Error(
                token.Kind == SearchTokenKind.End ? expected : $"{expected} but found {scanner.Describe(token)}",
                token.Start);
        }

        var word = scanner.Slice(token);
        var dot = word.IndexOf('.');
        if (dot < 0)
        {
            return grammar.Resolve(scanner, EntityKind.Attribute, word, token.Start);
        }

        var prefix = word[..dot];
        if (!grammar.TryGetPrefix(prefix, out var kind))
        {
            throw scanner.Error($"unknown entity type '{prefix}' (valid prefixes: {grammar.ValidPrefixes})", token.Start);
        }

        if (dot < word.Length - 1)
        {
            // Everything after the first dot is the key: tags.mlflow.runName has key mlflow.runName.
            return grammar.Resolve(scanner, kind, word[(dot + 1)..], token.Start);
        }

        var quoted = scanner.Peek();
        if (quoted.Kind != SearchTokenKind.Quoted || quoted.Start != token.End)
        {
            throw scanner.Error($"expected a key after '{word}'", token.End);
        }

        scanner.Next();
        return grammar.Resolve(scanner, kind, quoted.Text, token.Start);
    }

    private static (ComparisonOperator Operator, int Start) ParseOperator(SearchScanner scanner)
    {
        var token = scanner.Next();
        switch (token.Kind)
        {
            case SearchTokenKind.Operator:
                ComparisonOperator? symbol = scanner.Slice(token) switch
                {
                    "=" => ComparisonOperator.Equal,
                    "!=" => ComparisonOperator.NotEqual,
                    "<" => ComparisonOperator.Less,
                    ">" => ComparisonOperator.Greater,
                    "<=" => ComparisonOperator.LessOrEqual,
                    ">=" => ComparisonOperator.GreaterOrEqual,
                    _ => null,
                };
                return symbol is { } op
                    ? (op, token.Start)
                    : throw scanner.Error($"unknown comparison operator {scanner.Describe(token)} (valid operators: {OperatorList})", token.Start);

            case SearchTokenKind.Word:
                if (scanner.IsKeyword(token, "LIKE"))
                {
                    return (ComparisonOperator.Like, token.Start);
                }

                if (scanner.IsKeyword(token, "ILIKE"))
                {
                    return (ComparisonOperator.ILike, token.Start);
                }

                if (scanner.IsKeyword(token, "IN"))
                {
                    return (ComparisonOperator.In, token.Start);
                }

                if (scanner.IsKeyword(token, "NOT"))
                {
                    var next = scanner.Next();
                    return scanner.IsKeyword(next, "IN")
                        ? (ComparisonOperator.NotIn, token.Start)
                        : throw scanner.Error($"expected IN after NOT but found {scanner.Describe(next)}", next.Start);
                }

                throw scanner.Error($"unknown comparison operator {scanner.Describe(token)} (valid operators: {OperatorList})", token.Start);

            case SearchTokenKind.End:
                throw scanner.Error($"expected a comparison operator ({OperatorList})", token.Start);

            default:
                throw scanner.Error($"expected a comparison operator ({OperatorList}) but found {scanner.Describe(token)}", token.Start);
        }
    }

    /// <summary>Reads <c>('a', "b", ...)</c>: a non-empty, parenthesised, comma-separated list of quoted strings.</summary>
    private static List<string> ParseList(SearchScanner scanner, ComparisonOperator op)
    {
        var open = scanner.Next();
        if (open.Kind == SearchTokenKind.End)
        {
            throw scanner.Error("expected a value", open.Start);
        }

        if (open.Kind != SearchTokenKind.OpenParen)
        {
            throw scanner.Error(
                $"expected a parenthesised list of quoted strings after {OperatorText(op)}, e.g. ('a', 'b'), but found {scanner.Describe(open)}",
                open.Start);
        }

        var values = new List<string>();
        while (true)
        {
            var item = scanner.Next();
            if (!IsStringLiteral(item))
            {
                var problem = item.Kind == SearchTokenKind.CloseParen && values.Count == 0
                    ? $"the list after {OperatorText(op)} is empty"
                    : $"expected a quoted string in the list but found {scanner.Describe(item)}";
                throw scanner.Error(problem, item.Start);
            }

            values.Add(item.Text!);
            var separator = scanner.Next();
            if (separator.Kind == SearchTokenKind.CloseParen)
            {
                return values;
            }

            if (separator.Kind != SearchTokenKind.Comma)
            {
                throw scanner.Error($"expected ',' or ')' in the list but found {scanner.Describe(separator)}", separator.Start);
            }
        }
    }

    private static IReadOnlyList<OrderBy> ParseOrderBy(IReadOnlyList<string>? orderBy, SearchGrammar grammar)
    {
        if (orderBy is null || orderBy.Count == 0)
        {
            return [];
        }

        var result = new OrderBy[orderBy.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = ParseOrderByClause(orderBy[i] ?? string.Empty, grammar);
        }

        return result;
    }

    private static OrderBy ParseOrderByClause(string clause, SearchGrammar grammar)
    {
        var scanner = new SearchScanner(clause, OrderBySubject);
        var identifierStart = scanner.Peek().Start;
        var target = ParseIdentifier(scanner, grammar);
        if (!grammar.CanOrder(target.Kind))
        {
            throw scanner.Error($"{grammar.Entity}s cannot be ordered by {SearchGrammar.KindName(target.Kind)}s", identifierStart);
        }

        var ascending = true;
        var token = scanner.Next();
        if (scanner.IsKeyword(token, "ASC") || scanner.IsKeyword(token, "DESC"))
        {
            ascending = scanner.IsKeyword(token, "ASC");
            token = scanner.Next();
        }
        else if (token.Kind != SearchTokenKind.End)
        {
            throw scanner.Error($"expected ASC, DESC or the end of the clause but found {scanner.Describe(token)}", token.Start);
        }

        if (token.Kind != SearchTokenKind.End)
        {
            throw scanner.Error($"expected the end of the clause but found {scanner.Describe(token)}", token.Start);
        }

        return new OrderBy(target.Kind, target.Key, ascending);
    }

    /// <summary>A string value: quoted with <c>'</c> or <c>"</c> (backticks quote identifiers only).</summary>
    private static bool IsStringLiteral(in SearchToken token) => token.Kind == SearchTokenKind.Quoted && token.Quote != '`';

    private static OperatorSet GroupOf(ComparisonOperator op) => op switch
    {
        ComparisonOperator.Equal or ComparisonOperator.NotEqual => OperatorSet.Equality,
        ComparisonOperator.Like or ComparisonOperator.ILike => OperatorSet.Like,
        ComparisonOperator.In or ComparisonOperator.NotIn => OperatorSet.List,
        _ => OperatorSet.Ordering,
    };

    private static string OperatorText(ComparisonOperator op) => op.ToFilterText();

    private static string OperatorTexts(OperatorSet set)
    {
        var names = new List<string>(10);
        foreach (var op in s_operators)
        {
            if ((set & GroupOf(op)) != 0)
            {
                names.Add(OperatorText(op));
            }
        }

        return string.Join(", ", names);
    }
}
