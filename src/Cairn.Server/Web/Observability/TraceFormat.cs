using System.Globalization;
using Cairn.Core.Observability;

namespace Cairn.Server.Web.Observability;

/// <summary>Formatting and query helpers of the trace pages.</summary>
internal static class TraceFormat
{
    /// <summary>A Unix-nanosecond time as UTC text.</summary>
    public static string Time(long unixNano) => UiFormat.Time(unixNano / 1_000_000);

    /// <summary>A token count, or empty when there is none.</summary>
    public static string Tokens(long? tokens) => tokens is { } t ? t.ToString("N0", CultureInfo.InvariantCulture) : "";

    /// <summary>The one-letter icon of a span type.</summary>
    public static string TypeIcon(string type) => type switch
    {
        SpanTypes.Generation => "G",
        SpanTypes.Embedding => "E",
        SpanTypes.Tool => "T",
        SpanTypes.Retrieval => "R",
        SpanTypes.Agent => "A",
        SpanTypes.Chain => "C",
        _ => "S",
    };

    /// <summary>The CSS class of a span type (unknown types look like plain spans).</summary>
    public static string TypeClass(string type) => type switch
    {
        SpanTypes.Generation or SpanTypes.Embedding or SpanTypes.Tool or SpanTypes.Retrieval or SpanTypes.Agent or SpanTypes.Chain => "type-" + type,
        _ => "type-span",
    };

    /// <summary>A status code as the lowercase word the API uses.</summary>
    public static string Status(SpanStatusCode code) => code switch
    {
        SpanStatusCode.Error => "error",
        SpanStatusCode.Ok => "ok",
        _ => "unset",
    };

    /// <summary>A percentage for an inline style, with a dot as the decimal separator.</summary>
    public static string Percent(double value) => Math.Clamp(value, 0, 100).ToString("0.###", CultureInfo.InvariantCulture) + "%";

    /// <summary>A comma-separated list of ids from the query, without blanks and duplicates.</summary>
    public static HashSet<string> IdSet(string? list) =>
        new((list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.Ordinal);

    /// <summary>A set of ids as a comma-separated list (null when empty).</summary>
    public static string? IdList(IEnumerable<string> ids)
    {
        var joined = string.Join(',', ids.Order(StringComparer.Ordinal));
        return joined.Length == 0 ? null : joined;
    }

    /// <summary>Blank text as null, else trimmed.</summary>
    public static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary>The project from the query (the default project when none is given).</summary>
    public static string Project(string? value) => Blank(value) ?? ObservabilityDefaults.Project;

    /// <summary>Parses an optional non-negative number from the query; false (with a message) when it is not one.</summary>
    public static bool TryNumber(string? text, string label, out double? value, ref string? error)
    {
        value = null;
        if (Blank(text) is not { } t)
        {
            return true;
        }

        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number) && number >= 0)
        {
            value = number;
            return true;
        }

        error ??= $"{label} must be a number of at least 0, got '{t}'.";
        return false;
    }
}
