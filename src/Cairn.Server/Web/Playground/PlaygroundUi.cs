using Cairn.Core.Prompts;
using Cairn.Server.Web.Prompts;

namespace Cairn.Server.Web.Playground;

/// <summary>URLs and decisions shared by the prompt playground's views.</summary>
internal static class PlaygroundUi
{
    /// <summary>The playground's page.</summary>
    public const string Path = "/playground";

    /// <summary>How many prompts the prompt picker lists (by name).</summary>
    public const int PickerSize = 200;

    /// <summary>The playground with a saved version loaded (the latest when <paramref name="version"/> is null), or a blank draft.</summary>
    public static string Url(string? name = null, int? version = null) =>
        UiFormat.Url(Path, ("name", name), ("version", version is { } v ? PromptUi.Number(v) : null));

    /// <summary>The compare view of two versions of a prompt.</summary>
    public static string CompareUrl(string name, int a, int b) =>
        UiFormat.Url(Path, ("compare", "1"), ("name", name), ("a", PromptUi.Number(a)), ("b", PromptUi.Number(b)));

    /// <summary>Whether <paramref name="draft"/>'s template is still exactly <paramref name="source"/>'s (so a run can name the version).</summary>
    /// <remarks>Browsers post text areas with CRLF line breaks, so line breaks are compared normalised.</remarks>
    public static bool IsUnchanged(PromptDraft draft, PromptVersion source)
    {
        if (draft.IsChat != source.IsChat)
        {
            return false;
        }

        if (source.Messages is not { } messages)
        {
            return string.Equals(Lines(draft.Template), Lines(source.Text), StringComparison.Ordinal);
        }

        var posted = draft.Messages();
        return posted.Count == messages.Count && posted.Zip(messages).All(static pair =>
            string.Equals(pair.First.Role, pair.Second.Role, StringComparison.Ordinal)
            && string.Equals(Lines(pair.First.Content), Lines(pair.Second.Content), StringComparison.Ordinal));
    }

    /// <summary>
    /// The models ticked when the page opens: the one the prompt's <c>model_name</c> names (a route, a
    /// <c>provider/model</c>, or a bare model some provider serves), else the first one listed.
    /// </summary>
    public static IReadOnlySet<string> DefaultModels(IReadOnlyList<(string Id, string OwnedBy)> models, string? modelName)
    {
        if (models.Count == 0)
        {
            return new HashSet<string>(StringComparer.Ordinal);
        }

        var wanted = modelName?.Trim();
        var match = string.IsNullOrEmpty(wanted)
            ? null
            : models.Select(static m => m.Id).FirstOrDefault(id => string.Equals(id, wanted, StringComparison.Ordinal))
              ?? models.Select(static m => m.Id).FirstOrDefault(id => id.EndsWith("/" + wanted, StringComparison.Ordinal));
        return new HashSet<string>([match ?? models[0].Id], StringComparer.Ordinal);
    }

    private static string Lines(string? text) => (text ?? "").ReplaceLineEndings("\n");
}
