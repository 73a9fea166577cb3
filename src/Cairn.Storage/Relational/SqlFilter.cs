using System.Data.Common;
using System.Globalization;
using Cairn.Core.Tracking;
using Cairn.Core.Tracking.Search;

namespace Cairn.Storage.Relational;

/// <summary>Collects SQL conditions and the parameters they reference, numbering parameters as it goes.</summary>
internal sealed class SqlFilter(SqlDialect dialect)
{
    private readonly List<(string Name, object? Value)> _values = [];
    private readonly List<(string Name, IReadOnlyCollection<string> Values)> _textArrays = [];
    private readonly List<(string Name, IReadOnlyCollection<long> Values)> _intArrays = [];

    public SqlDialect Dialect { get; } = dialect;

    public List<string> Conditions { get; } = [];

    public string Where => Conditions.Count == 0 ? "1 = 1" : string.Join(" AND ", Conditions);

    public string Parameter(object? value)
    {
        var name = $"@p{_values.Count}";
        _values.Add((name, value));
        return name;
    }

    public string TextArray(IReadOnlyCollection<string> values)
    {
        var name = $"@ta{_textArrays.Count}";
        _textArrays.Add((name, values));
        return name;
    }

    public string IntArray(IReadOnlyCollection<long> values)
    {
        var name = $"@ia{_intArrays.Count}";
        _intArrays.Add((name, values));
        return name;
    }

    public void ApplyTo(DbCommand command)
    {
        foreach (var (name, value) in _values)
        {
            command.Add(name, value);
        }

        foreach (var (name, values) in _textArrays)
        {
            Dialect.AddArray(command, name, values);
        }

        foreach (var (name, values) in _intArrays)
        {
            Dialect.AddArray(command, name, values);
        }
    }

    /// <summary>Translates a string comparison (=, !=, LIKE, ILIKE, IN, NOT IN) of <paramref name="column"/>.</summary>
    public string CompareText(string column, Comparison clause)
    {
        switch (clause.Operator)
        {
            case ComparisonOperator.In:
            case ComparisonOperator.NotIn:
                IReadOnlyList<string> list = clause.List
                    ?? (clause.Text is not null ? [clause.Text] : throw TrackingException.Invalid($"Expected a list of values for '{clause.Key}' {Symbol(clause.Operator)}."));
                return Dialect.InArray(column, TextArray(list.ToArray()), negate: clause.Operator == ComparisonOperator.NotIn);
        }

        var text = clause.Text ?? (clause.Number is { } n ? n.ToString("R", CultureInfo.InvariantCulture) : null)
            ?? throw TrackingException.Invalid($"Expected a string value for '{clause.Key}'.");
        return clause.Operator switch
        {
            ComparisonOperator.Equal => $"{column} = {Parameter(text)}",
            ComparisonOperator.NotEqual => $"{column} <> {Parameter(text)}",
            ComparisonOperator.Like => Dialect.Like(column, Parameter(Dialect.LikePatternValue(text))),
            ComparisonOperator.ILike => Dialect.ILike(column, Parameter(text)),
            _ => throw TrackingException.Invalid(
                $"Invalid comparator '{Symbol(clause.Operator)}' not one of '['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN']' for '{clause.Key}'."),
        };
    }

    /// <summary>Translates a numeric comparison (=, !=, &lt;, &gt;, &lt;=, &gt;=) of <paramref name="column"/>.</summary>
    public string CompareNumber(string column, Comparison clause, bool integral)
    {
        double number;
        if (clause.Number is { } n)
        {
            number = n;
        }
        else if (clause.Text is not null && double.TryParse(clause.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
        {
            number = parsed;
        }
        else
        {
            throw TrackingException.Invalid($"Expected a numeric value for '{clause.Key}' but got '{clause.Text}'.");
        }

        object value = integral && number == Math.Floor(number) && Math.Abs(number) < 9.2e18 ? (long)number : number;
        var op = clause.Operator switch
        {
            ComparisonOperator.Equal => "=",
            ComparisonOperator.NotEqual => "<>",
            ComparisonOperator.Less => "<",
            ComparisonOperator.Greater => ">",
            ComparisonOperator.LessOrEqual => "<=",
            ComparisonOperator.GreaterOrEqual => ">=",
            _ => throw TrackingException.Invalid(
                $"Invalid comparator '{Symbol(clause.Operator)}' not one of '['=', '!=', '>', '>=', '<', '<=']' for '{clause.Key}'."),
        };
        return $"{column} {op} {Parameter(value)}";
    }

    public static string Symbol(ComparisonOperator op) => op.ToFilterText();
}
