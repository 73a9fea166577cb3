namespace Cairn.Contracts.Prompts;

/// <summary>A prompt that cannot be rendered because variables it uses were not given.</summary>
public sealed class PromptRenderException : Exception
{
    /// <summary>Creates an exception with no message.</summary>
    public PromptRenderException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public PromptRenderException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and its cause.</summary>
    public PromptRenderException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception naming every missing variable.</summary>
    public PromptRenderException(string message, IReadOnlyList<string> missingVariables)
        : base(message)
    {
        ArgumentNullException.ThrowIfNull(missingVariables);
        MissingVariables = missingVariables;
    }

    /// <summary>
    /// Every variable that was needed and not given, in order of first use, distinct: the name itself (<c>question</c>),
    /// or the dotted name when the object was given but lacks the member (<c>user.name</c>).
    /// </summary>
    public IReadOnlyList<string> MissingVariables { get; } = [];
}
