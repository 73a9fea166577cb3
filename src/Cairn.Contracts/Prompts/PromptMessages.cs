using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Cairn.Contracts.Prompts;

/// <summary>One chat message of a chat prompt: a role and a templated content.</summary>
public sealed class PromptMessage
{
    /// <summary><c>system</c>, <c>user</c>, <c>assistant</c> (or another role the model knows).</summary>
    public string Role { get; set; } = "";

    /// <summary>The content, with <c>{{variable}}</c> placeholders.</summary>
    public string Content { get; set; } = "";
}

/// <summary>
/// The body of <c>POST /api/cairn/prompts</c>: a new version of a prompt (the prompt is created with its first version).
/// Give either <see cref="Template"/> (a text prompt) or <see cref="Messages"/> (a chat prompt).
/// </summary>
public sealed class CreatePromptVersionRequest
{
    /// <summary>The prompt's name; folders with <c>/</c> (<c>support/triage</c>).</summary>
    public string? Name { get; set; }

    /// <summary>A text template.</summary>
    public string? Template { get; set; }

    /// <summary>A chat template.</summary>
    public List<PromptMessage>? Messages { get; set; }

    /// <summary>
    /// The model configuration, stored as MLflow stores it: <c>model_name</c> (a model or gateway route),
    /// <c>provider</c>, <c>temperature</c>, <c>max_tokens</c>, <c>top_p</c>, <c>top_k</c>, <c>frequency_penalty</c>,
    /// <c>presence_penalty</c>, <c>stop_sequences</c>, and any other key (<c>tools</c>, ...) kept as given.
    /// </summary>
    public JsonObject? ModelConfig { get; set; }

    /// <summary>The expected response format (a JSON schema object), or null.</summary>
    public JsonObject? ResponseFormat { get; set; }

    /// <summary>What changed in this version.</summary>
    public string? CommitMessage { get; set; }

    /// <summary>Who made it.</summary>
    public string? Author { get; set; }

    /// <summary>Labels to point at the new version (<c>staging</c>).</summary>
    public List<string>? Labels { get; set; }

    /// <summary>The prompt's description (set when the prompt is created, or changed by a later version that gives one).</summary>
    public string? Description { get; set; }
}

/// <summary>One version of a prompt.</summary>
public sealed class PromptVersionInfo
{
    /// <summary>The prompt's name.</summary>
    public string Name { get; set; } = "";

    /// <summary>The version number (1, 2, ...).</summary>
    public int Version { get; set; }

    /// <summary><c>text</c> or <c>chat</c>.</summary>
    public string Type { get; set; } = "text";

    /// <summary>The text template (text prompts).</summary>
    public string? Template { get; set; }

    /// <summary>The chat template (chat prompts).</summary>
    public List<PromptMessage>? Messages { get; set; }

    /// <summary>The variables the template uses, in order of first use.</summary>
    public List<string> Variables { get; set; } = [];

    /// <summary>The model configuration, or null.</summary>
    public JsonObject? ModelConfig { get; set; }

    /// <summary>The response format, or null.</summary>
    public JsonObject? ResponseFormat { get; set; }

    /// <summary>The commit message, or null.</summary>
    public string? CommitMessage { get; set; }

    /// <summary>The author, or null.</summary>
    public string? Author { get; set; }

    /// <summary>Creation time, Unix milliseconds.</summary>
    public long CreatedAt { get; set; }

    /// <summary>The labels pointing at this version (<c>latest</c> included when it is the newest).</summary>
    public List<string> Labels { get; set; } = [];

    /// <summary>Other version tags.</summary>
    public Dictionary<string, string> Tags { get; set; } = [];
}

/// <summary>A prompt in a list.</summary>
public sealed class PromptInfo
{
    /// <summary>The name.</summary>
    public string Name { get; set; } = "";

    /// <summary>The description, or null.</summary>
    public string? Description { get; set; }

    /// <summary>The newest version number.</summary>
    public int LatestVersion { get; set; }

    /// <summary>Labels and the versions they point at (<c>latest</c> included).</summary>
    public Dictionary<string, int> Labels { get; set; } = [];

    /// <summary>Creation time, Unix milliseconds.</summary>
    public long CreatedAt { get; set; }

    /// <summary>Last change, Unix milliseconds.</summary>
    public long UpdatedAt { get; set; }
}

/// <summary>The answer of <c>GET /api/cairn/prompts</c>.</summary>
public sealed class ListPromptsResponse
{
    /// <summary>The prompts of this page, by name.</summary>
    public List<PromptInfo> Prompts { get; set; } = [];

    /// <summary>The token for the next page, or null at the end.</summary>
    public string? NextPageToken { get; set; }
}

/// <summary>The answer of <c>GET /api/cairn/prompt-versions/{name}</c>.</summary>
public sealed class ListPromptVersionsResponse
{
    /// <summary>Every version, newest first.</summary>
    public List<PromptVersionInfo> Versions { get; set; } = [];
}

/// <summary>The body of <c>POST /api/cairn/prompt-labels/{name}</c>: point a label at a version.</summary>
public sealed class SetPromptLabelRequest
{
    /// <summary>The label (letters, digits, <c>_</c> and <c>-</c>; not <c>latest</c>).</summary>
    public string? Label { get; set; }

    /// <summary>The version.</summary>
    public int? Version { get; set; }
}

/// <summary>The body of <c>POST /api/cairn/prompt-render/{name}</c>.</summary>
public sealed class RenderPromptRequest
{
    /// <summary>The version, or null for the label's (or the latest).</summary>
    public int? Version { get; set; }

    /// <summary>The label, or null.</summary>
    public string? Label { get; set; }

    /// <summary>The variables: strings, numbers, booleans, arrays and objects (for sections and dotted names).</summary>
    public Dictionary<string, JsonElement>? Variables { get; set; }
}

/// <summary>A rendered prompt.</summary>
public sealed class RenderPromptResponse
{
    /// <summary>The prompt's name.</summary>
    public string Name { get; set; } = "";

    /// <summary>The version rendered.</summary>
    public int Version { get; set; }

    /// <summary><c>text</c> or <c>chat</c>.</summary>
    public string Type { get; set; } = "text";

    /// <summary>The rendered text (text prompts).</summary>
    public string? Text { get; set; }

    /// <summary>The rendered messages (chat prompts).</summary>
    public List<PromptMessage>? Messages { get; set; }

    /// <summary>The version's model configuration, or null.</summary>
    public JsonObject? ModelConfig { get; set; }
}

/// <summary>One line of a diff.</summary>
public sealed class DiffLine
{
    /// <summary><c>=</c> unchanged, <c>-</c> only in the older version, <c>+</c> only in the newer.</summary>
    public string Op { get; set; } = "=";

    /// <summary>The line's text.</summary>
    public string Text { get; set; } = "";
}

/// <summary>The answer of <c>GET /api/cairn/prompt-diff/{name}?from=&amp;to=</c>.</summary>
public sealed class PromptDiffResponse
{
    /// <summary>The prompt.</summary>
    public string Name { get; set; } = "";

    /// <summary>The older version.</summary>
    public int From { get; set; }

    /// <summary>The newer version.</summary>
    public int To { get; set; }

    /// <summary>The template, line by line (chat messages as <c>[role] content</c> lines).</summary>
    public List<DiffLine> Template { get; set; } = [];

    /// <summary>The model configuration and response format as indented JSON, line by line.</summary>
    public List<DiffLine> Config { get; set; } = [];
}

/// <summary>One version's production figures (<c>GET /api/cairn/prompt-usage/{name}</c>).</summary>
public sealed class PromptVersionUsageInfo
{
    /// <summary>The version.</summary>
    public int Version { get; set; }

    /// <summary>Gateway requests sent with <c>Cairn-Prompt: name@version</c>.</summary>
    public long Calls { get; set; }

    /// <summary>Failed or cancelled requests over calls.</summary>
    public double ErrorRate { get; set; }

    /// <summary>Median latency in milliseconds.</summary>
    public double P50LatencyMs { get; set; }

    /// <summary>95th percentile latency in milliseconds.</summary>
    public double P95LatencyMs { get; set; }

    /// <summary>Input tokens.</summary>
    public long InputTokens { get; set; }

    /// <summary>Output tokens.</summary>
    public long OutputTokens { get; set; }

    /// <summary>Cost in US dollars.</summary>
    public decimal CostUsd { get; set; }

    /// <summary>Mean feedback score (booleans as 0/1), or null.</summary>
    public double? FeedbackScore { get; set; }

    /// <summary>Scores counted.</summary>
    public long FeedbackCount { get; set; }
}

/// <summary>The answer of <c>GET /api/cairn/prompt-usage/{name}</c>.</summary>
public sealed class PromptUsageResponse
{
    /// <summary>The prompt.</summary>
    public string Name { get; set; } = "";

    /// <summary>The start of the period (Unix ms).</summary>
    public long From { get; set; }

    /// <summary>Per version, in version order; versions without calls are absent.</summary>
    public List<PromptVersionUsageInfo> Versions { get; set; } = [];
}

/// <summary>System.Text.Json metadata for Cairn's prompt API (snake_case).</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CreatePromptVersionRequest))]
[JsonSerializable(typeof(PromptVersionInfo))]
[JsonSerializable(typeof(ListPromptsResponse))]
[JsonSerializable(typeof(ListPromptVersionsResponse))]
[JsonSerializable(typeof(SetPromptLabelRequest))]
[JsonSerializable(typeof(RenderPromptRequest))]
[JsonSerializable(typeof(RenderPromptResponse))]
[JsonSerializable(typeof(PromptDiffResponse))]
[JsonSerializable(typeof(PromptUsageResponse))]
public sealed partial class PromptJsonContext : JsonSerializerContext;
