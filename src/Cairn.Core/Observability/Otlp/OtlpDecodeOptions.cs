using Cairn.Core.Gateway;

namespace Cairn.Core.Observability.Otlp;

/// <summary>How <see cref="OtlpTraceDecoder"/> turns OTLP spans into <see cref="SpanRecord"/>s.</summary>
public sealed class OtlpDecodeOptions
{
    /// <summary>The project every span goes to; null to take the resource attribute <c>cairn.project</c>, else <see cref="ObservabilityDefaults.Project"/>.</summary>
    public string? Project { get; init; }

    /// <summary>The longest attribute value kept, in characters (strings, and arrays or maps as JSON); longer ones are cut.</summary>
    public int MaxAttributeValueLength { get; init; } = 32 * 1024;

    /// <summary>The longest <see cref="SpanRecord.Input"/> or <see cref="SpanRecord.Output"/> kept, in characters.</summary>
    public int MaxInputOutputLength { get; init; } = 1024 * 1024;

    /// <summary>The prices used for spans that report tokens but no cost.</summary>
    public PriceTable Prices { get; init; } = PriceTable.Default;
}
