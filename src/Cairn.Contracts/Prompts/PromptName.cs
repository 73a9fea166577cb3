using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Cairn.Contracts.Prompts;

/// <summary>
/// The rule for prompt names: 1 to 256 characters, segments separated by <c>/</c> (folders, as in <c>support/triage</c>), each
/// segment made of ASCII letters, digits, <c>_</c>, <c>-</c> and <c>.</c>, and neither <c>.</c> nor <c>..</c>.
/// </summary>
/// <remarks>
/// MLflow's own client accepts only <c>[a-zA-Z0-9_.-]+</c>: a name without folders is valid for both, a name with folders is a
/// Cairn extension that MLflow clients can read but not create.
/// </remarks>
public static class PromptName
{
    /// <summary>The longest name allowed, in characters.</summary>
    public const int MaxLength = 256;

    /// <summary>Checks <paramref name="name"/>; on failure <paramref name="error"/> says what is wrong with it.</summary>
    public static bool TryValidate([NotNullWhen(true)] string? name, [NotNullWhen(false)] out string? error)
    {
        error = Check(name);
        return error is null;
    }

    /// <summary>Checks <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">The name breaks the rule; the message says how.</exception>
    public static void Validate(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (Check(name) is { } error)
        {
            throw new ArgumentException(error, nameof(name));
        }
    }

    private static string? Check(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "The prompt name is empty.";
        }

        if (name.Length > MaxLength)
        {
            return Format($"The prompt name is {name.Length} characters long; the limit is {MaxLength}.");
        }

        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsControl(c))
            {
                return Format($"The prompt name contains a control character (U+{(int)c:X4}) at index {i}.");
            }

            if (char.IsWhiteSpace(c))
            {
                return Format($"The prompt name contains whitespace at index {i}.");
            }

            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '-' or '.' or '/'))
            {
                var shown = char.IsAscii(c) ? $"'{c}'" : Format($"U+{(int)c:X4}");
                return Format($"The prompt name contains {shown} at index {i}; allowed are letters, digits, '_', '-', '.' and '/' between folders.");
            }
        }

        if (name[0] == '/')
        {
            return "The prompt name must not start with '/'.";
        }

        if (name[^1] == '/')
        {
            return "The prompt name must not end with '/'.";
        }

        if (name.Contains("//", StringComparison.Ordinal))
        {
            return "The prompt name has an empty folder name ('//').";
        }

        foreach (var segment in name.AsSpan().Split('/'))
        {
            if (name.AsSpan(segment) is "." or "..")
            {
                return "The prompt name must not contain '.' or '..' as a folder or name.";
            }
        }

        return null;
    }

    private static string Format(FormattableString message) => message.ToString(CultureInfo.InvariantCulture);
}
