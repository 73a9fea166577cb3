namespace Cairn.Core.Observability.Otlp;

/// <summary>The body of an OTLP trace export cannot be read at all (single bad spans are rejected instead).</summary>
public sealed class OtlpFormatException : Exception
{
    /// <summary>Creates the exception with a generic message.</summary>
    public OtlpFormatException()
        : base("The body is not a valid OTLP ExportTraceServiceRequest.")
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    public OtlpFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/> and the parser's error.</summary>
    public OtlpFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
