namespace Cairn.Core.Observability;

/// <summary>Trace ingest and retention settings (configuration section <c>Cairn:Traces</c>).</summary>
public sealed class TracesOptions
{
    /// <summary>The configuration section under <c>Cairn</c>.</summary>
    public const string SectionName = "Traces";

    /// <summary>The largest OTLP request body accepted, after gzip decompression (413 above it).</summary>
    public long MaxBodyBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>Longest attribute value kept; longer values are cut and the span is flagged.</summary>
    public int MaxAttributeValueLength { get; set; } = 32 * 1024;

    /// <summary>Longest input or output kept per span; longer ones are cut and the span is flagged.</summary>
    public int MaxInputOutputLength { get; set; } = 1024 * 1024;

    /// <summary>
    /// Spans waiting to be stored before ingest answers 503 with <c>Retry-After</c> (back-pressure). It bounds how long an
    /// accepted span can wait before it is queryable: 50,000 spans is about 2.5 s of a 20,000 spans/s stream.
    /// </summary>
    public int QueueCapacity { get; set; } = 50_000;

    /// <summary>Most spans stored per transaction.</summary>
    public int BatchSize { get; set; } = 2_000;

    /// <summary>How long spans may gather before they are written, in milliseconds (they are queryable after about this long).</summary>
    public int FlushIntervalMs { get; set; } = 50;

    /// <summary>Days to keep traces (by start time) in projects without their own setting; 0 keeps them forever.</summary>
    public double RetentionDays { get; set; }

    /// <summary>Per-project settings, by project name.</summary>
    public Dictionary<string, ProjectTracesOptions> Projects { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How often the retention job runs, in minutes.</summary>
    public double RetentionIntervalMinutes { get; set; } = 60;

    /// <summary>The retention period of <paramref name="project"/>, or null to keep its traces.</summary>
    public TimeSpan? RetentionFor(string project)
    {
        var days = Projects.TryGetValue(project, out var own) && own.RetentionDays is { } d ? d : RetentionDays;
        return days > 0 ? TimeSpan.FromDays(days) : null;
    }
}

/// <summary>Settings of one project's traces.</summary>
public sealed class ProjectTracesOptions
{
    /// <summary>Days to keep this project's traces; 0 keeps them forever; null uses <see cref="TracesOptions.RetentionDays"/>.</summary>
    public double? RetentionDays { get; set; }
}
