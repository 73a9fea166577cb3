namespace Cairn.Core.Gateway.Translation;

/// <summary>A request that cannot be expressed in the upstream's protocol; the gateway answers it with HTTP 400.</summary>
public sealed class TranslationException : Exception
{
    /// <summary>Creates an exception with no message.</summary>
    public TranslationException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public TranslationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and its cause.</summary>
    public TranslationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception naming the offending request field (such as <c>messages[2].content[0]</c>).</summary>
    public TranslationException(string message, string? param)
        : base(message)
    {
        Param = param;
    }

    /// <summary>The request field at fault, as a path such as <c>messages[2].content[0]</c>, when known.</summary>
    public string? Param { get; }
}
