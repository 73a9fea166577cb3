using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;

namespace Cairn.Core.Prompts;

/// <summary>Line diffs between two versions of a prompt (its template, or its configuration as indented JSON).</summary>
public static class PromptDiff
{
    /// <summary>Compares <paramref name="older"/> with <paramref name="newer"/> line by line, whitespace and case significant.</summary>
    /// <returns>
    /// Every line in order, as <c>=</c> (in both), <c>-</c> (only in <paramref name="older"/>) or <c>+</c> (only in
    /// <paramref name="newer"/>); a changed line is a <c>-</c> followed, after the other removed lines of its block, by a <c>+</c>.
    /// </returns>
    public static IReadOnlyList<(char Op, string Text)> Lines(string older, string newer)
    {
        ArgumentNullException.ThrowIfNull(older);
        ArgumentNullException.ThrowIfNull(newer);
        var model = InlineDiffBuilder.Diff(older, newer, ignoreWhiteSpace: false, ignoreCase: false);
        var lines = new List<(char Op, string Text)>(model.Lines.Count);
        foreach (var line in model.Lines)
        {
            var op = line.Type switch
            {
                ChangeType.Deleted => '-',
                ChangeType.Inserted => '+',
                _ => '=',
            };
            lines.Add((op, line.Text ?? ""));
        }

        return lines;
    }
}
