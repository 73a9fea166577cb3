using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Contracts.Prompts;
using Cairn.Core.Prompts;

namespace Cairn.Server.Web.Prompts;

/// <summary>URLs and formatting shared by the prompt registry's pages.</summary>
internal static class PromptUi
{
    /// <summary>The page of the version editor.</summary>
    public const string EditorPath = "/prompt-editor";

    /// <summary>How many days the production table looks back.</summary>
    public const int UsageDays = 30;

    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true };

    /// <summary>The prompt's page (its name keeps its folders as path segments), with query parameters.</summary>
    public static string PageUrl(string name, params (string Name, string? Value)[] query) =>
        UiFormat.Url("/prompts/" + UiFormat.EscapePath(name), query);

    /// <summary>The page of one version of a prompt.</summary>
    public static string VersionUrl(string name, int version) => PageUrl(name, ("version", Number(version)));

    /// <summary>The editor for a new prompt, or for a new version of <paramref name="name"/> prefilled from <paramref name="from"/>.</summary>
    public static string EditorUrl(string? name = null, int? from = null) =>
        UiFormat.Url(EditorPath, ("name", name), ("from", from is { } v ? Number(v) : null));

    /// <summary>The list filtered to a folder.</summary>
    public static string FolderUrl(string folder) => UiFormat.Url("/prompts", ("folder", folder));

    /// <summary>The folder part of a name (<c>support</c> for <c>support/triage</c>), or null at the top level.</summary>
    public static string? Folder(string name)
    {
        var slash = name.LastIndexOf('/');
        return slash <= 0 ? null : name[..slash];
    }

    /// <summary>The last segment of a name (<c>triage</c> for <c>support/triage</c>).</summary>
    public static string Leaf(string name) => name[(name.LastIndexOf('/') + 1)..];

    /// <summary>A version number as text.</summary>
    public static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A whole count with thousands separators.</summary>
    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A rate as a percentage.</summary>
    public static string Percent(double rate) => (rate * 100).ToString(rate is > 0 and < 0.1 ? "0.#" : "0", CultureInfo.InvariantCulture) + " %";

    /// <summary>An optional version number from a query string; false when the text is not a positive integer.</summary>
    public static bool TryVersion(string? text, out int? version)
    {
        version = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        if (int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number > 0)
        {
            version = number;
            return true;
        }

        return false;
    }

    /// <summary><c>chat</c> or <c>text</c>.</summary>
    public static string Type(PromptVersion version) => version.IsChat ? "chat" : "text";

    /// <summary>A JSON object as indented text, or empty for null.</summary>
    public static string Json(JsonNode? node) => node is null ? "" : node.ToJsonString(s_indented);

    /// <summary>The variables of a stored version; a template the parser rejects (written by another client) has none, with the reason.</summary>
    public static (IReadOnlyList<string> Variables, string? Error) Variables(PromptVersion version)
    {
        try
        {
            return (version.Variables, null);
        }
        catch (PromptTemplateException e)
        {
            return ([], e.Message);
        }
    }

    /// <summary>The CSS class of a chat message's role (known roles only, so a stored role never becomes an arbitrary class).</summary>
    public static string RoleClass(string? role) => role?.ToLowerInvariant() switch
    {
        "system" or "developer" => "bubble role-system",
        "assistant" => "bubble role-assistant",
        "tool" => "bubble role-tool",
        _ => "bubble role-user",
    };

    /// <summary>The CSS class of a label badge (production and staging get their colours).</summary>
    public static string LabelClass(string label) => label.ToLowerInvariant() switch
    {
        "production" or "prod" => "prompt-label label-production",
        "staging" => "prompt-label label-staging",
        PromptRegistry.Latest => "prompt-label label-latest",
        _ => "prompt-label",
    };

    /// <summary>The CSS class of a diff line.</summary>
    public static string DiffClass(char op) => op switch
    {
        '+' => "diff-line op-add",
        '-' => "diff-line op-del",
        _ => "diff-line",
    };
}
