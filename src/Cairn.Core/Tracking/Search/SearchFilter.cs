namespace Cairn.Core.Tracking.Search;

/// <summary>What a filter or order-by clause addresses.</summary>
public enum EntityKind
{
    /// <summary><c>metrics.&lt;key&gt;</c>: a run's latest metric value (numeric).</summary>
    Metric,

    /// <summary><c>params.&lt;key&gt;</c> (string).</summary>
    Param,

    /// <summary><c>tags.&lt;key&gt;</c> (string).</summary>
    Tag,

    /// <summary><c>attributes.&lt;name&gt;</c> or a bare attribute name such as <c>status</c>, <c>start_time</c>, <c>name</c>.</summary>
    Attribute,

    /// <summary><c>datasets.name</c>, <c>datasets.digest</c>, <c>datasets.context</c> (runs only).</summary>
    Dataset,
}

/// <summary>A comparison operator of MLflow's search grammar.</summary>
public enum ComparisonOperator
{
    Equal,
    NotEqual,
    Less,
    Greater,
    LessOrEqual,
    GreaterOrEqual,
    Like,
    ILike,
    In,
    NotIn,
}

/// <summary>The text of comparison operators as MLflow's grammar writes them.</summary>
public static class ComparisonOperatorText
{
    /// <summary>Returns the operator as written in a filter, such as <c>&gt;=</c> or <c>NOT IN</c>.</summary>
    public static string ToFilterText(this ComparisonOperator op) => op switch
    {
        ComparisonOperator.Equal => "=",
        ComparisonOperator.NotEqual => "!=",
        ComparisonOperator.Less => "<",
        ComparisonOperator.Greater => ">",
        ComparisonOperator.LessOrEqual => "<=",
        ComparisonOperator.GreaterOrEqual => ">=",
        ComparisonOperator.Like => "LIKE",
        ComparisonOperator.ILike => "ILIKE",
        ComparisonOperator.In => "IN",
        _ => "NOT IN",
    };
}

/// <summary>One <c>key op value</c> clause; clauses of a filter are joined by AND.</summary>
/// <remarks>
/// Exactly one of <see cref="Number"/>, <see cref="Text"/> and <see cref="List"/> is set: <see cref="Number"/> for numeric
/// comparisons (metrics and numeric attributes), <see cref="List"/> for IN / NOT IN, <see cref="Text"/> otherwise.
/// Attribute keys are canonical: <c>run_id</c>, <c>run_name</c>, <c>status</c>, <c>user_id</c>, <c>artifact_uri</c>,
/// <c>start_time</c>, <c>end_time</c> for runs (<c>created</c> becomes <c>start_time</c>, <c>run name</c>/<c>runName</c>
/// become <c>run_name</c>); <c>name</c>, <c>creation_time</c>, <c>last_update_time</c>, <c>experiment_id</c> for experiments.
/// </remarks>
public sealed record Comparison(EntityKind Kind, string Key, ComparisonOperator Operator)
{
    public double? Number { get; init; }
    public string? Text { get; init; }
    public IReadOnlyList<string>? List { get; init; }
}

/// <summary>A parsed filter: the conjunction of its clauses. An empty list matches everything.</summary>
public sealed record SearchFilter(IReadOnlyList<Comparison> Clauses)
{
    /// <summary>The filter that matches everything.</summary>
    public static SearchFilter Empty { get; } = new([]);
}

/// <summary>One order-by term, such as <c>metrics.rmse DESC</c>.</summary>
public sealed record OrderBy(EntityKind Kind, string Key, bool Ascending);
