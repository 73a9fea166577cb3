using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Contracts.Prompts;
using Cairn.Core.Prompts;
using Cairn.Core.Tracking;

namespace Cairn.Server.Web.Prompts;

/// <summary>The version editor's form, as posted: every field is kept as typed so that a refused save shows it again unchanged.</summary>
public sealed class PromptDraft
{
    /// <summary>The message rows the editor shows at least (empty rows are ignored on save).</summary>
    public const int MinimumRows = 6;

    private static readonly string[] s_configFields = ["model_name", "temperature", "max_tokens", "top_p"];

    /// <summary>The prompt's name (folders with <c>/</c>).</summary>
    public string? Name { get; set; }

    /// <summary><c>text</c> or <c>chat</c>.</summary>
    public string? Type { get; set; }

    /// <summary>The text template.</summary>
    public string? Template { get; set; }

    /// <summary>The chat messages' roles, row by row.</summary>
    public List<string?>? Roles { get; set; }

    /// <summary>The chat messages' contents, row by row.</summary>
    public List<string?>? Contents { get; set; }

    /// <summary>The model configuration's <c>model_name</c>.</summary>
    public string? ModelName { get; set; }

    /// <summary>The model configuration's <c>temperature</c>.</summary>
    public string? Temperature { get; set; }

    /// <summary>The model configuration's <c>max_tokens</c>.</summary>
    public string? MaxTokens { get; set; }

    /// <summary>The model configuration's <c>top_p</c>.</summary>
    public string? TopP { get; set; }

    /// <summary>Other model configuration keys, as a JSON object.</summary>
    public string? OtherConfig { get; set; }

    /// <summary>The response format, as a JSON object, or blank.</summary>
    public string? ResponseFormat { get; set; }

    /// <summary>The commit message.</summary>
    public string? CommitMessage { get; set; }

    /// <summary>The author.</summary>
    public string? Author { get; set; }

    /// <summary>Labels to point at the new version, comma-separated.</summary>
    public string? Labels { get; set; }

    /// <summary>The prompt's description (blank leaves it as it is).</summary>
    public string? Description { get; set; }

    /// <summary>Whether this is a chat prompt.</summary>
    public bool IsChat => string.Equals(Type, "chat", StringComparison.OrdinalIgnoreCase);

    /// <summary>A draft of the next version, filled from <paramref name="version"/>.</summary>
    internal static PromptDraft From(PromptVersion version, string? description)
    {
        var config = version.ModelConfig;
        var other = new JsonObject();
        if (config is not null)
        {
            foreach (var (key, value) in config)
            {
                if (!s_configFields.Contains(key))
                {
                    other[key] = value?.DeepClone();
                }
            }
        }

        return new PromptDraft
        {
            Name = version.Name,
            Type = PromptUi.Type(version),
            Template = version.Text,
            Roles = version.Messages?.Select(m => (string?)m.Role).ToList(),
            Contents = version.Messages?.Select(m => (string?)m.Content).ToList(),
            ModelName = ConfigText(config, "model_name"),
            Temperature = ConfigText(config, "temperature"),
            MaxTokens = ConfigText(config, "max_tokens"),
            TopP = ConfigText(config, "top_p"),
            OtherConfig = other.Count == 0 ? null : PromptUi.Json(other),
            ResponseFormat = version.ResponseFormat is { } format ? PromptUi.Json(format) : null,
            Author = version.Author,
            Description = description,
        };
    }

    /// <summary>The message rows to show: those posted or loaded, then empty ones up to at least <see cref="MinimumRows"/> and always two spare.</summary>
    internal IReadOnlyList<(string Role, string Content)> Rows()
    {
        var rows = new List<(string Role, string Content)>();
        var count = Math.Max(Roles?.Count ?? 0, Contents?.Count ?? 0);
        for (var i = 0; i < count; i++)
        {
            var role = Roles is { } roles && i < roles.Count ? roles[i] : null;
            var content = Contents is { } contents && i < contents.Count ? contents[i] : null;
            rows.Add((string.IsNullOrWhiteSpace(role) ? "user" : role.Trim(), content ?? ""));
        }

        // Trailing empty rows were padding: drop them, then pad again.
        while (rows.Count > 0 && rows[^1].Content.Length == 0)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        var target = Math.Max(MinimumRows, rows.Count + 2);
        while (rows.Count < target)
        {
            rows.Add((rows.Count == 0 ? "system" : "user", ""));
        }

        return rows;
    }

    /// <summary>The chat messages: rows with content, in order.</summary>
    internal List<PromptMessage> Messages() =>
        Rows().Where(static r => !string.IsNullOrWhiteSpace(r.Content)).Select(static r => new PromptMessage { Role = r.Role, Content = r.Content }).ToList();

    /// <summary>The variables the draft's template uses, or the parser's message when it is malformed.</summary>
    internal (IReadOnlyList<string> Variables, string? Error) DetectVariables()
    {
        try
        {
            return IsChat ? (ChatPromptTemplate.Parse(Messages()).Variables, null) : (PromptTemplate.Parse(Template ?? "").Variables, null);
        }
        catch (PromptTemplateException e)
        {
            return ([], e.Message);
        }
    }

    /// <summary>The version to register.</summary>
    /// <exception cref="TrackingException">A field is malformed (the message names it); the registry checks the rest.</exception>
    internal NewPromptVersion Build()
    {
        var config = ParseObject(OtherConfig, "Other model settings") ?? [];
        foreach (var key in s_configFields)
        {
            config.Remove(key);
        }

        if (Blank(ModelName) is { } model)
        {
            config["model_name"] = model;
        }

        if (Blank(Temperature) is { } temperature)
        {
            config["temperature"] = ParseNumber(temperature, "Temperature");
        }

        if (Blank(MaxTokens) is { } maxTokens)
        {
            // Parsed rather than JsonValue.Create(long): the registry reads numbers as double, which a long-backed JsonValue refuses.
            config["max_tokens"] = long.TryParse(maxTokens, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var tokens)
                ? JsonNode.Parse(tokens.ToString(CultureInfo.InvariantCulture))
                : throw TrackingException.Invalid($"Max tokens must be a whole number, not '{maxTokens}'.");
        }

        if (Blank(TopP) is { } topP)
        {
            config["top_p"] = ParseNumber(topP, "Top p");
        }

        string? text = null;
        List<PromptMessage>? messages = null;
        if (IsChat)
        {
            messages = Messages();
        }
        else if (string.IsNullOrWhiteSpace(Template))
        {
            throw TrackingException.Invalid("The template is empty.");
        }
        else
        {
            text = Template;
        }

        return new NewPromptVersion
        {
            Name = Name?.Trim() ?? "",
            Text = text,
            Messages = messages,
            ModelConfig = config.Count == 0 ? null : config,
            ResponseFormat = ParseObject(ResponseFormat, "Response format"),
            CommitMessage = Blank(CommitMessage),
            Author = Blank(Author),
            Labels = (Labels ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList(),
            Description = Blank(Description),
        };
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static string? ConfigText(JsonObject? config, string key) => config?[key] switch
    {
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
        JsonValue value => value.ToJsonString(),
        _ => null,
    };

    private static double ParseNumber(string text, string field) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value
            : throw TrackingException.Invalid($"{field} must be a number, not '{text}'.");

    private static JsonObject? ParseObject(string? text, string field)
    {
        if (Blank(text) is not { } json)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(json) as JsonObject ?? throw TrackingException.Invalid($"{field} must be a JSON object.");
        }
        catch (JsonException e)
        {
            throw TrackingException.Invalid($"{field} is not valid JSON: {e.Message}");
        }
    }
}
