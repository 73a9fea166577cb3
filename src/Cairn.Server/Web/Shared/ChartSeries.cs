using Cairn.Core.Tracking;

namespace Cairn.Server.Web.Shared;

/// <summary>One line of a <see cref="MetricChart"/>: a run's history of the chart's metric.</summary>
/// <param name="Label">The legend and tooltip text (the run name).</param>
/// <param name="Color">A CSS colour.</param>
/// <param name="Points">The metric's values in step order.</param>
public sealed record ChartSeries(string Label, string Color, IReadOnlyList<Metric> Points)
{
    /// <summary>Distinct colours for overlaid runs, assigned in order and repeated after the last.</summary>
    public static IReadOnlyList<string> Palette { get; } =
        ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#4b5563", "#ea580c"];

    /// <summary>The colour of the <paramref name="index"/>th run.</summary>
    public static string ColorAt(int index) => Palette[index % Palette.Count];
}
