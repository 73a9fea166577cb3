using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Contracts.Prompts;
using Cairn.Core.Registry;
using Cairn.Core.Tracking;
using Cairn.Core.Tracking.Search;

namespace Cairn.Core.Prompts;

/// <summary>One version of a prompt as the registry keeps it.</summary>
public sealed record PromptVersion
{
    /// <summary>The prompt's name.</summary>
    public required string Name { get; init; }

    /// <summary>The version number.</summary>
    public required int Version { get; init; }

    /// <summary>The text template, for text prompts.</summary>
    public string? Text { get; init; }

    /// <summary>The chat template, for chat prompts.</summary>
    public IReadOnlyList<PromptMessage>? Messages { get; init; }

    /// <summary>The model configuration (MLflow's keys: <c>model_name</c>, <c>temperature</c>, ...), or null.</summary>
    public JsonObject? ModelConfig { get; init; }

    /// <summary>The response format, or null.</summary>
    public JsonObject? ResponseFormat { get; init; }

    /// <summary>The commit message, or null.</summary>
    public string? CommitMessage { get; init; }

    /// <summary>The author, or null.</summary>
    public string? Author { get; init; }

    /// <summary>Creation time, Unix milliseconds.</summary>
    public long CreatedAt { get; init; }

    /// <summary>Labels pointing at this version (not <c>latest</c>).</summary>
    public IReadOnlyList<string> Labels { get; init; } = [];

    /// <summary>Version tags other than the prompt's own.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>Whether this is a chat prompt.</summary>
    public bool IsChat => Messages is not null;

    /// <summary>The template's variables, in order of first use.</summary>
    public IReadOnlyList<string> Variables => IsChat ? ChatPromptTemplate.Parse(Messages!).Variables : PromptTemplate.Parse(Text ?? "").Variables;
}

/// <summary>A prompt and its labels.</summary>
public sealed record PromptSummary(string Name, string? Description, int LatestVersion, IReadOnlyDictionary<string, int> Labels, long CreatedAt, long UpdatedAt);

/// <summary>A new version to register.</summary>
public sealed record NewPromptVersion
{
    /// <summary>The prompt's name (folders with <c>/</c>).</summary>
    public required string Name { get; init; }

    /// <summary>A text template, or null for a chat prompt.</summary>
    public string? Text { get; init; }

    /// <summary>A chat template, or null for a text prompt.</summary>
    public IReadOnlyList<PromptMessage>? Messages { get; init; }

    /// <summary>The model configuration, or null.</summary>
    public JsonObject? ModelConfig { get; init; }

    /// <summary>The response format, or null.</summary>
    public JsonObject? ResponseFormat { get; init; }

    /// <summary>The commit message.</summary>
    public string? CommitMessage { get; init; }

    /// <summary>The author.</summary>
    public string? Author { get; init; }

    /// <summary>Labels to point at the new version.</summary>
    public IReadOnlyList<string> Labels { get; init; } = [];

    /// <summary>The prompt's description, or null to leave it.</summary>
    public string? Description { get; init; }
}

/// <summary>
/// Cairn's prompt registry, kept in the model registry the way MLflow 3 keeps prompts, so that MLflow's client and Cairn
/// see the same prompts: a prompt is a registered model tagged <c>mlflow.prompt.is_prompt = true</c>, a version is a
/// model version whose tag <c>mlflow.prompt.text</c> holds the template (chat prompts: the JSON of their messages, with
/// <c>_mlflow_prompt_type = chat</c>), <c>_mlflow_prompt_model_config</c> and <c>_mlflow_prompt_response_format</c> hold
/// the configuration, the description is the commit message, and labels are aliases (<c>latest</c> is the newest
/// version). Version numbers come from the registry, which hands out each number once, so two versions saved at the same
/// moment get two numbers.
/// </summary>
public sealed class PromptRegistry(IModelRegistryStore registry)
{
    /// <summary>The registered-model and version tag that marks a prompt.</summary>
    public const string IsPromptTag = "mlflow.prompt.is_prompt";

    /// <summary>The version tag that holds the template.</summary>
    public const string TextTag = "mlflow.prompt.text";

    /// <summary>The version tag that says <c>chat</c> for chat prompts.</summary>
    public const string TypeTag = "_mlflow_prompt_type";

    /// <summary>The version tag with the model configuration (JSON).</summary>
    public const string ModelConfigTag = "_mlflow_prompt_model_config";

    /// <summary>The version tag with the response format (JSON).</summary>
    public const string ResponseFormatTag = "_mlflow_prompt_response_format";

    /// <summary>The version tag with the author.</summary>
    public const string AuthorTag = "cairn.prompt.author";

    /// <summary>The label that always means the newest version.</summary>
    public const string Latest = "latest";

    private const string Source = "cairn-prompt-registry";

    /// <summary>Registers a new version (and the prompt with its first one); returns it.</summary>
    public async Task<PromptVersion> CreateVersionAsync(NewPromptVersion version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        ValidateName(version.Name);
        if ((version.Text is null) == (version.Messages is null))
        {
            throw TrackingException.Invalid("Give either 'template' (a text prompt) or 'messages' (a chat prompt).");
        }

        string text;
        try
        {
            if (version.Messages is { } messages)
            {
                if (messages.Count == 0 || messages.Any(m => string.IsNullOrWhiteSpace(m.Role)))
                {
                    throw TrackingException.Invalid("A chat prompt needs at least one message, each with a 'role'.");
                }

                ChatPromptTemplate.Parse(messages);
                text = JsonSerializer.Serialize(messages.ToList(), PromptStorageJson.Default.ListPromptMessage);
            }
            else
            {
                PromptTemplate.Parse(version.Text!);
                text = version.Text!;
            }
        }
        catch (PromptTemplateException e)
        {
            throw TrackingException.Invalid("Invalid template: " + e.Message);
        }

        ValidateModelConfig(version.ModelConfig);
        foreach (var label in version.Labels)
        {
            ValidateLabel(label);
        }

        await EnsurePromptAsync(version.Name, version.Description, cancellationToken).ConfigureAwait(false);
        var tags = new List<KeyValue> { new(IsPromptTag, "true"), new(TextTag, text) };
        if (version.Messages is not null)
        {
            tags.Add(new(TypeTag, "chat"));
        }

        if (version.ModelConfig is { } config)
        {
            tags.Add(new(ModelConfigTag, config.ToJsonString()));
        }

        if (version.ResponseFormat is { } format)
        {
            tags.Add(new(ResponseFormatTag, format.ToJsonString()));
        }

        if (!string.IsNullOrWhiteSpace(version.Author))
        {
            tags.Add(new(AuthorTag, version.Author.Trim()));
        }

        var created = await registry.CreateModelVersionAsync(
            new NewModelVersion(version.Name, Source, null, null, version.CommitMessage ?? "", "", tags), cancellationToken).ConfigureAwait(false);
        foreach (var label in version.Labels)
        {
            await registry.SetAliasAsync(version.Name, label, created.Version, cancellationToken).ConfigureAwait(false);
        }

        return ToPrompt(version.Labels.Count == 0 ? created : await registry.GetModelVersionAsync(version.Name, created.Version, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>A version by number, by label, or the newest when both are null.</summary>
    public async Task<PromptVersion> GetAsync(string name, int? version, string? label, CancellationToken cancellationToken)
    {
        ValidateName(name);
        var model = await GetPromptModelAsync(name, cancellationToken).ConfigureAwait(false);
        ModelVersion found;
        if (version is { } number)
        {
            found = await registry.GetModelVersionAsync(name, number.ToString(CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
        }
        else if (label is not null && !string.Equals(label, Latest, StringComparison.OrdinalIgnoreCase))
        {
            ValidateLabel(label);
            try
            {
                found = await registry.GetModelVersionByAliasAsync(name, label, cancellationToken).ConfigureAwait(false);
            }
            catch (TrackingException e) when (e.Code == TrackingErrorCode.InvalidParameterValue)
            {
                throw TrackingException.NotFound($"Prompt '{name}' has no label '{label}'.");
            }
        }
        else
        {
            found = Newest(model) is { } newest
                ? await registry.GetModelVersionAsync(name, newest.ToString(CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false)
                : throw TrackingException.NotFound($"Prompt '{name}' has no versions.");
        }

        return ToPrompt(found);
    }

    /// <summary>Every version of a prompt, newest first.</summary>
    public async Task<IReadOnlyList<PromptVersion>> ListVersionsAsync(string name, CancellationToken cancellationToken)
    {
        ValidateName(name);
        await GetPromptModelAsync(name, cancellationToken).ConfigureAwait(false);
        var versions = await AllVersionsAsync(name, cancellationToken).ConfigureAwait(false);
        return versions.OrderByDescending(v => int.Parse(v.Version, CultureInfo.InvariantCulture)).Select(ToPrompt).ToList();
    }

    /// <summary>Prompts, by name; <paramref name="nameContains"/> filters (case-insensitive), <paramref name="folder"/> keeps one folder's.</summary>
    public async Task<Page<PromptSummary>> SearchAsync(string? nameContains, string? folder, int maxResults, string? pageToken, CancellationToken cancellationToken)
    {
        var filter = $"tags.`{IsPromptTag}` = 'true'";
        if (!string.IsNullOrEmpty(folder))
        {
            filter += $" AND name LIKE '{Quote(folder.TrimEnd('/'))}/%'";
        }

        if (!string.IsNullOrEmpty(nameContains))
        {
            filter += $" AND name ILIKE '%{Quote(nameContains)}%'";
        }

        var page = await registry.SearchRegisteredModelsAsync(
            new RegistryQuery(SearchParser.ParseRegisteredModelFilter(filter), SearchParser.ParseRegisteredModelOrderBy(["name ASC"]), maxResults, pageToken), cancellationToken).ConfigureAwait(false);
        var prompts = new List<PromptSummary>(page.Items.Count);
        foreach (var model in page.Items)
        {
            var latest = Newest(model) ?? 0;
            var labels = model.Aliases.ToDictionary(a => a.Key, a => int.Parse(a.Value, CultureInfo.InvariantCulture), StringComparer.Ordinal);
            if (latest > 0)
            {
                labels[Latest] = latest;
            }

            prompts.Add(new PromptSummary(model.Name, model.Description, latest, labels, model.CreationTimestamp, model.LastUpdatedTimestamp));
        }

        return new Page<PromptSummary>(prompts, page.NextPageToken);
    }

    /// <summary>Points <paramref name="label"/> at <paramref name="version"/> (moving it from wherever it was).</summary>
    public async Task<PromptVersion> SetLabelAsync(string name, string label, int version, CancellationToken cancellationToken)
    {
        ValidateName(name);
        ValidateLabel(label);
        await GetPromptModelAsync(name, cancellationToken).ConfigureAwait(false);
        var number = version.ToString(CultureInfo.InvariantCulture);
        try
        {
            await registry.GetModelVersionAsync(name, number, cancellationToken).ConfigureAwait(false);
        }
        catch (TrackingException e) when (e.Code == TrackingErrorCode.ResourceDoesNotExist)
        {
            throw TrackingException.Invalid($"Prompt '{name}' has no version {version}: the label '{label}' was not moved.");
        }

        await registry.SetAliasAsync(name, label, number, cancellationToken).ConfigureAwait(false);
        return ToPrompt(await registry.GetModelVersionAsync(name, number, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Removes a label.</summary>
    public async Task DeleteLabelAsync(string name, string label, CancellationToken cancellationToken)
    {
        ValidateName(name);
        ValidateLabel(label);
        var model = await GetPromptModelAsync(name, cancellationToken).ConfigureAwait(false);
        if (!model.Aliases.Any(a => a.Key == label))
        {
            throw TrackingException.NotFound($"Prompt '{name}' has no label '{label}'.");
        }

        await registry.DeleteAliasAsync(name, label, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes one version, or the whole prompt when <paramref name="version"/> is null.</summary>
    public async Task DeleteAsync(string name, int? version, CancellationToken cancellationToken)
    {
        ValidateName(name);
        await GetPromptModelAsync(name, cancellationToken).ConfigureAwait(false);
        if (version is { } number)
        {
            await registry.DeleteModelVersionAsync(name, number.ToString(CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await registry.DeleteRegisteredModelAsync(name, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Whether a registered model is a prompt (MLflow's tag).</summary>
    public static bool IsPrompt(IReadOnlyList<KeyValue> tags) =>
        tags.Any(t => t.Key == IsPromptTag && string.Equals(t.Value, "true", StringComparison.OrdinalIgnoreCase));

    /// <summary>Checks a prompt name (folders allowed); throws an invalid-parameter error naming the problem.</summary>
    public static void ValidateName(string? name)
    {
        if (!PromptName.TryValidate(name, out var error))
        {
            throw TrackingException.Invalid(error!);
        }
    }

    private static void ValidateLabel(string label)
    {
        if (string.IsNullOrWhiteSpace(label) || label.Length > 256 || !label.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
        {
            throw TrackingException.Invalid($"Invalid label '{label}': labels are 1 to 256 letters, digits, '_' and '-'.");
        }

        if (string.Equals(label, Latest, StringComparison.OrdinalIgnoreCase))
        {
            throw TrackingException.Invalid("The label 'latest' is automatic (the newest version) and cannot be set.");
        }
    }

    private static void ValidateModelConfig(JsonObject? config)
    {
        if (config is null)
        {
            return;
        }

        static bool IsNumber(JsonNode? node, out double value)
        {
            // Read through the JSON text: a value built in code (JsonValue.Create(256L)) holds a long, not a double.
            value = 0;
            return node is JsonValue v && v.GetValueKind() == JsonValueKind.Number
                && double.TryParse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        }

        foreach (var (key, node) in config)
        {
            var ok = key switch
            {
                "model_name" or "provider" => node is JsonValue s && s.GetValueKind() == JsonValueKind.String,
                "temperature" => IsNumber(node, out var t) && t >= 0,
                "max_tokens" or "top_k" => IsNumber(node, out var n) && n > 0 && n == Math.Floor(n),
                "top_p" => IsNumber(node, out var p) && p is >= 0 and <= 1,
                "frequency_penalty" or "presence_penalty" => IsNumber(node, out _),
                "stop_sequences" => node is JsonArray array && array.All(i => i is JsonValue s && s.GetValueKind() == JsonValueKind.String),
                _ => true,
            };
            if (!ok)
            {
                throw TrackingException.Invalid(
                    $"Invalid model_config.{key}: model_name and provider are strings, temperature ≥ 0, max_tokens and top_k positive integers, top_p between 0 and 1, stop_sequences a list of strings.");
            }
        }
    }

    private async Task EnsurePromptAsync(string name, string? description, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var model = await registry.GetRegisteredModelAsync(name, cancellationToken).ConfigureAwait(false);
                if (!IsPrompt(model.Tags))
                {
                    throw TrackingException.AlreadyExists($"A registered model named '{name}' exists and is not a prompt.");
                }

                if (description is not null && description != model.Description)
                {
                    await registry.UpdateRegisteredModelAsync(name, description, cancellationToken).ConfigureAwait(false);
                }

                return;
            }
            catch (TrackingException e) when (e.Code == TrackingErrorCode.ResourceDoesNotExist)
            {
                try
                {
                    await registry.CreateRegisteredModelAsync(name, description, [new(IsPromptTag, "true")], cancellationToken).ConfigureAwait(false);
                    return;
                }
                catch (TrackingException again) when (again.Code == TrackingErrorCode.ResourceAlreadyExists && attempt < 3)
                {
                    // Created by a concurrent first version: use it.
                }
            }
        }
    }

    private async Task<RegisteredModel> GetPromptModelAsync(string name, CancellationToken cancellationToken)
    {
        RegisteredModel model;
        try
        {
            model = await registry.GetRegisteredModelAsync(name, cancellationToken).ConfigureAwait(false);
        }
        catch (TrackingException e) when (e.Code == TrackingErrorCode.ResourceDoesNotExist)
        {
            throw TrackingException.NotFound($"Prompt '{name}' not found.");
        }

        return IsPrompt(model.Tags) ? model : throw TrackingException.NotFound($"Prompt '{name}' not found ('{name}' is a registered model, not a prompt).");
    }

    /// <summary>
    /// The newest version number, from the model's latest version per stage (the newest version is the latest of its
    /// stage), so no version list is read; null when there are none.
    /// </summary>
    private static int? Newest(RegisteredModel model) =>
        model.LatestVersions.Count == 0 ? null : model.LatestVersions.Max(static v => int.Parse(v.Version, CultureInfo.InvariantCulture));

    private async Task<List<ModelVersion>> AllVersionsAsync(string name, CancellationToken cancellationToken)
    {
        var filter = SearchParser.ParseModelVersionFilter($"name = '{Quote(name)}'");
        var all = new List<ModelVersion>();
        string? token = null;
        do
        {
            var page = await registry.SearchModelVersionsAsync(new RegistryQuery(filter, [], 1000, token), cancellationToken).ConfigureAwait(false);
            all.AddRange(page.Items);
            token = page.NextPageToken;
        }
        while (token is not null);
        return all;
    }

    private static string Quote(string text) => text.Replace("'", "\\'", StringComparison.Ordinal);

    private PromptVersion ToPrompt(ModelVersion version)
    {
        string? text = null;
        IReadOnlyList<PromptMessage>? messages = null;
        JsonObject? config = null;
        JsonObject? format = null;
        string? author = null;
        var other = new Dictionary<string, string>(StringComparer.Ordinal);
        var isChat = version.Tags.Any(t => t.Key == TypeTag && t.Value == "chat");
        foreach (var tag in version.Tags)
        {
            switch (tag.Key)
            {
                case TextTag when isChat:
                    messages = ParseMessages(tag.Value);
                    break;
                case TextTag:
                    text = tag.Value;
                    break;
                case ModelConfigTag:
                    config = ParseObject(tag.Value);
                    break;
                case ResponseFormatTag:
                    format = ParseObject(tag.Value);
                    break;
                case AuthorTag:
                    author = tag.Value;
                    break;
                case IsPromptTag or TypeTag:
                    break;
                default:
                    other[tag.Key] = tag.Value;
                    break;
            }
        }

        return new PromptVersion
        {
            Name = version.Name,
            Version = int.Parse(version.Version, CultureInfo.InvariantCulture),
            Text = messages is null ? text ?? "" : null,
            Messages = messages,
            ModelConfig = config,
            ResponseFormat = format,
            CommitMessage = string.IsNullOrEmpty(version.Description) ? null : version.Description,
            Author = author,
            CreatedAt = version.CreationTimestamp,
            Labels = version.Aliases,
            Tags = other,
        };
    }

    private static List<PromptMessage> ParseMessages(string json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, PromptStorageJson.Default.ListPromptMessage) ?? [];
        }
        catch (JsonException)
        {
            // MLflow accepts messages whose content is not a string; keep what can be read.
            return [];
        }
    }

    private static JsonObject? ParseObject(string json)
    {
        try
        {
            return JsonNode.Parse(json) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>How chat templates are stored in the version tag (MLflow's <c>[{"role": ..., "content": ...}]</c>).</summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
[System.Text.Json.Serialization.JsonSerializable(typeof(List<PromptMessage>))]
internal sealed partial class PromptStorageJson : System.Text.Json.Serialization.JsonSerializerContext;
