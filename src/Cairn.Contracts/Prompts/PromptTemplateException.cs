namespace Cairn.Contracts.Prompts;

/// <summary>A prompt template that cannot be parsed; the message names the problem and where it is.</summary>
public sealed class PromptTemplateException : FormatException
{
    /// <summary>Creates an exception with no message.</summary>
    public PromptTemplateException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public PromptTemplateException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and its cause.</summary>
    public PromptTemplateException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception for the problem <paramref name="message"/> found at <paramref name="position"/> of a template.</summary>
    public PromptTemplateException(string message, int position, int line, int column, int? messageIndex = null)
        : base(message)
    {
        Position = position;
        Line = line;
        Column = column;
        MessageIndex = messageIndex;
    }

    /// <summary>The zero-based index in the template's text where the problem starts.</summary>
    public int Position { get; }

    /// <summary>The one-based line of <see cref="Position"/>.</summary>
    public int Line { get; }

    /// <summary>The one-based column of <see cref="Position"/> (in UTF-16 code units).</summary>
    public int Column { get; }

    /// <summary>For a chat template, the zero-based index of the message whose content failed; null for a text template.</summary>
    public int? MessageIndex { get; }
}
