namespace Cairn.Server.Web.Gateway;

/// <summary>The time ranges the gateway pages offer.</summary>
public static class UiRanges
{
    /// <summary>Range keys and labels, in menu order.</summary>
    public static IReadOnlyList<(string Value, string Label)> Options { get; } =
        [("1h", "Last hour"), ("24h", "Last 24 hours"), ("7d", "Last 7 days"), ("30d", "Last 30 days"), ("all", "All time")];

    /// <summary>A known range key, <c>24h</c> by default.</summary>
    public static string Normalize(string? value) => Options.Any(o => o.Value == value) ? value! : "24h";

    /// <summary>The length of a range, or null for all time.</summary>
    public static TimeSpan? Length(string range) => range switch
    {
        "1h" => TimeSpan.FromHours(1),
        "24h" => TimeSpan.FromDays(1),
        "7d" => TimeSpan.FromDays(7),
        "30d" => TimeSpan.FromDays(30),
        _ => null,
    };

    /// <summary>The start of a range ending now (Unix ms), or null for all time.</summary>
    public static long? From(string range, DateTimeOffset now) => Length(range) is { } length ? (now - length).ToUnixTimeMilliseconds() : null;
}
