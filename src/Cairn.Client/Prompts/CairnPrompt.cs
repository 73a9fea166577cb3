using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Contracts.Prompts;
using Microsoft.Extensions.AI;

namespace Cairn.Client.Prompts;

/// <summary>One version of a prompt from Cairn's prompt registry, ready to render into the messages of a chat call.</summary>
/// <remarks>
/// Instances are immutable and thread-safe, and the client's cache hands the same instance to every caller: the raw JSON
/// objects (<see cref="PromptModelConfig.Raw"/>, <see cref="ResponseFormat"/>) and <see cref="Messages"/> must not be
/// changed. The template is parsed once, on first render.
/// </remarks>
public sealed class CairnPrompt
{
    /// <summary>The HTTP header that tells Cairn's gateway which prompt version a request was rendered from; its value is <see cref="HeaderValue"/>.</summary>
    public const string HeaderName = "Cairn-Prompt";

    private readonly Lazy<PromptTemplate>? _text;
    private readonly Lazy<ChatPromptTemplate>? _chat;
    private readonly IReadOnlyList<string> _serverVariables;
    private IReadOnlyList<string>? _variables;

    /// <summary>Creates a prompt from the wire form that Cairn's prompt API returns (or from one built by hand, such as a fallback for when Cairn cannot be reached).</summary>
    /// <param name="info">The prompt version; it is copied, so later changes to it do not show here.</param>
    public CairnPrompt(PromptVersionInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (string.IsNullOrEmpty(info.Name))
        {
            throw new ArgumentException("The prompt version has no name.", nameof(info));
        }

        Name = info.Name;
        Version = info.Version;
        if (info.Messages is not null || string.Equals(info.Type, "chat", StringComparison.OrdinalIgnoreCase))
        {
            Type = PromptType.Chat;
            var messages = (info.Messages ?? []).Select(static m => new PromptMessage { Role = m.Role, Content = m.Content }).ToArray();
            Messages = messages;
            _chat = new Lazy<ChatPromptTemplate>(() => ChatPromptTemplate.Parse(messages));
        }
        else
        {
            Type = PromptType.Text;
            var template = info.Template ?? string.Empty;
            Template = template;
            _text = new Lazy<PromptTemplate>(() => PromptTemplate.Parse(template));
        }

        _serverVariables = info.Variables is { Count: > 0 } variables ? [.. variables] : [];
        ModelConfig = new PromptModelConfig(Snapshot(info.ModelConfig) ?? []);
        ResponseFormat = Snapshot(info.ResponseFormat);
        CommitMessage = info.CommitMessage;
        Author = info.Author;
        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(info.CreatedAt);
        Labels = info.Labels is { } labels ? [.. labels] : [];
        Tags = info.Tags is { } tags ? new Dictionary<string, string>(tags, StringComparer.Ordinal) : new Dictionary<string, string>(StringComparer.Ordinal);
    }

    /// <summary>Gets the prompt's name, such as <c>support/triage</c>.</summary>
    public string Name { get; }

    /// <summary>Gets the version number (1, 2, ...).</summary>
    public int Version { get; }

    /// <summary>Gets whether this is a text prompt (<see cref="Template"/>) or a chat prompt (<see cref="Messages"/>).</summary>
    public PromptType Type { get; }

    /// <summary>Gets the template of a text prompt, with <c>{{variable}}</c> placeholders; null for a chat prompt.</summary>
    public string? Template { get; }

    /// <summary>Gets the role and content templates of a chat prompt; null for a text prompt.</summary>
    public IReadOnlyList<PromptMessage>? Messages { get; }

    /// <summary>Gets the top-level variables the template uses, in order of first use.</summary>
    public IReadOnlyList<string> Variables => _variables ??= _serverVariables.Count > 0 ? _serverVariables
        : _chat is not null ? _chat.Value.Variables
        : _text!.Value.Variables;

    /// <summary>Gets the model configuration stored with the version (empty when it has none).</summary>
    public PromptModelConfig ModelConfig { get; }

    /// <summary>Gets the expected response format (a JSON schema, or OpenAI's <c>response_format</c> object), or null.</summary>
    public JsonObject? ResponseFormat { get; }

    /// <summary>Gets what changed in this version, or null.</summary>
    public string? CommitMessage { get; }

    /// <summary>Gets who made this version, or null.</summary>
    public string? Author { get; }

    /// <summary>Gets when this version was created.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>Gets the labels that pointed at this version when it was fetched (<c>latest</c> included when it was the newest).</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>Gets the version's other tags.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; }

    /// <summary>Gets the value of the <see cref="HeaderName"/> header for requests rendered from this version: <c>name@version</c>.</summary>
    public string HeaderValue => string.Create(CultureInfo.InvariantCulture, $"{Name}@{Version}");

    /// <summary>Renders a text prompt.</summary>
    /// <param name="variables">The variables by name: strings, numbers, booleans, dates, and dictionaries, lists or JSON for dotted names and sections.</param>
    /// <returns>The rendered text.</returns>
    /// <exception cref="PromptRenderException">Variables the template uses are missing; <see cref="PromptRenderException.MissingVariables"/> names them all.</exception>
    /// <exception cref="PromptTemplateException">The template cannot be parsed.</exception>
    /// <exception cref="InvalidOperationException">This is a chat prompt: use <see cref="ToChatMessages(IReadOnlyDictionary{string, object?})"/> or <see cref="ToOpenAIMessages(IReadOnlyDictionary{string, object?})"/>.</exception>
    public string Render(IReadOnlyDictionary<string, object?> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var text = _text ?? throw new InvalidOperationException($"The prompt '{HeaderValue}' is a chat prompt: render it with ToChatMessages or ToOpenAIMessages.");
        return text.Value.Render(variables);
    }

    /// <summary>Renders a text prompt with variables given as name and value pairs, such as <c>Render(("question", q), ("lang", "en"))</c>.</summary>
    /// <inheritdoc cref="Render(IReadOnlyDictionary{string, object?})" path="/exception"/>
    /// <exception cref="ArgumentException">A name is given twice.</exception>
    public string Render(params ReadOnlySpan<(string Name, object? Value)> variables) => Render(ToDictionary(variables));

    /// <summary>Renders the prompt into Microsoft.Extensions.AI chat messages: a text prompt as one user message, a chat prompt message by message with its roles.</summary>
    /// <param name="variables">The variables by name (see <see cref="Render(IReadOnlyDictionary{string, object?})"/>).</param>
    /// <returns>New messages, for <see cref="IChatClient.GetResponseAsync(IEnumerable{ChatMessage}, ChatOptions?, CancellationToken)"/>.</returns>
    /// <exception cref="PromptRenderException">Variables the template uses are missing; <see cref="PromptRenderException.MissingVariables"/> names them all.</exception>
    /// <exception cref="PromptTemplateException">The template cannot be parsed.</exception>
    public IReadOnlyList<ChatMessage> ToChatMessages(IReadOnlyDictionary<string, object?> variables) =>
        ToOpenAIMessages(variables).Select(static m => new ChatMessage(new ChatRole(m.Role), m.Content)).ToArray();

    /// <summary>Renders the prompt into Microsoft.Extensions.AI chat messages, with variables given as name and value pairs.</summary>
    /// <inheritdoc cref="ToChatMessages(IReadOnlyDictionary{string, object?})" path="/returns"/>
    /// <inheritdoc cref="ToChatMessages(IReadOnlyDictionary{string, object?})" path="/exception"/>
    /// <exception cref="ArgumentException">A name is given twice.</exception>
    public IReadOnlyList<ChatMessage> ToChatMessages(params ReadOnlySpan<(string Name, object? Value)> variables) => ToChatMessages(ToDictionary(variables));

    /// <summary>Renders the prompt into OpenAI chat-completions messages (<c>role</c> and <c>content</c>): a text prompt as one <c>user</c> message, a chat prompt message by message.</summary>
    /// <param name="variables">The variables by name (see <see cref="Render(IReadOnlyDictionary{string, object?})"/>).</param>
    /// <returns>New messages; serialized (with <see cref="PromptJsonContext"/>) they are the <c>messages</c> array of <c>POST /v1/chat/completions</c>.</returns>
    /// <remarks>
    /// For the official OpenAI .NET package (which this SDK does not depend on), map each message to its role's type:
    /// <code>
    /// var messages = prompt.ToOpenAIMessages(variables).Select(m => m.Role switch
    /// {
    ///     "system" => (OpenAI.Chat.ChatMessage)new SystemChatMessage(m.Content),
    ///     "developer" => new DeveloperChatMessage(m.Content),
    ///     "assistant" => new AssistantChatMessage(m.Content),
    ///     _ => new UserChatMessage(m.Content),
    /// });
    /// ChatCompletion completion = await chatClient.CompleteChatAsync(messages);
    /// </code>
    /// </remarks>
    /// <exception cref="PromptRenderException">Variables the template uses are missing; <see cref="PromptRenderException.MissingVariables"/> names them all.</exception>
    /// <exception cref="PromptTemplateException">The template cannot be parsed.</exception>
    public IReadOnlyList<PromptMessage> ToOpenAIMessages(IReadOnlyDictionary<string, object?> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        return _chat is not null
            ? _chat.Value.Render(variables)
            : [new PromptMessage { Role = "user", Content = _text!.Value.Render(variables) }];
    }

    /// <summary>Renders the prompt into OpenAI chat-completions messages, with variables given as name and value pairs.</summary>
    /// <inheritdoc cref="ToOpenAIMessages(IReadOnlyDictionary{string, object?})" path="/returns"/>
    /// <inheritdoc cref="ToOpenAIMessages(IReadOnlyDictionary{string, object?})" path="/exception"/>
    /// <exception cref="ArgumentException">A name is given twice.</exception>
    public IReadOnlyList<PromptMessage> ToOpenAIMessages(params ReadOnlySpan<(string Name, object? Value)> variables) => ToOpenAIMessages(ToDictionary(variables));

    /// <summary>Creates Microsoft.Extensions.AI chat options from <see cref="ModelConfig"/> and <see cref="ResponseFormat"/>.</summary>
    /// <returns>
    /// New options with the model id, temperature, maximum output tokens, top-p, top-k, penalties and stop sequences that the
    /// version sets, and its response format: OpenAI's <c>json_schema</c>, <c>json_object</c> or <c>text</c> objects as such,
    /// any other object as a JSON schema (named by its <c>title</c>).
    /// </returns>
    public ChatOptions ToChatOptions()
    {
        var config = ModelConfig;
        return new ChatOptions
        {
            ModelId = config.ModelName,
            Temperature = (float?)config.Temperature,
            MaxOutputTokens = config.MaxTokens,
            TopP = (float?)config.TopP,
            TopK = config.TopK,
            FrequencyPenalty = (float?)config.FrequencyPenalty,
            PresencePenalty = (float?)config.PresencePenalty,
            StopSequences = config.StopSequences is { } stops ? [.. stops] : null,
            ResponseFormat = ToChatResponseFormat(ResponseFormat),
        };
    }

    /// <summary>Returns <see cref="HeaderValue"/>, <c>name@version</c>.</summary>
    public override string ToString() => HeaderValue;

    /// <summary>
    /// Marks this prompt version as in use for the current async flow until the scope is disposed: requests sent through
    /// an <see cref="HttpClient"/> with a <see cref="CairnPromptHandler"/> carry <c>Cairn-Prompt: name@version</c>, so
    /// Cairn's gateway counts them for this version.
    /// </summary>
    public IDisposable Use() => CairnPromptHandler.Enter(this);

    private static Dictionary<string, object?> ToDictionary(ReadOnlySpan<(string Name, object? Value)> variables)
    {
        var dictionary = new Dictionary<string, object?>(variables.Length, StringComparer.Ordinal);
        foreach (var (name, value) in variables)
        {
            ArgumentNullException.ThrowIfNull(name, nameof(variables));
            if (!dictionary.TryAdd(name, value))
            {
                throw new ArgumentException($"The variable '{name}' is given twice.", nameof(variables));
            }
        }

        return dictionary;
    }

    private static ChatResponseFormat? ToChatResponseFormat(JsonObject? format)
    {
        if (format is null)
        {
            return null;
        }

        switch (String(format, "type"))
        {
            case "text":
                return ChatResponseFormat.Text;
            case "json_object":
                return ChatResponseFormat.Json;
            case "json_schema" when format["json_schema"] is JsonObject jsonSchema:
                return jsonSchema["schema"] is JsonObject schema
                    ? ChatResponseFormat.ForJsonSchema(ToElement(schema), String(jsonSchema, "name"), String(jsonSchema, "description"))
                    : ChatResponseFormat.Json;
            default:
                return ChatResponseFormat.ForJsonSchema(ToElement(format), String(format, "title"), String(format, "description"));
        }
    }

    private static string? String(JsonObject json, string key) =>
        json[key] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    private static JsonElement ToElement(JsonNode node) => JsonElement.Parse(node.ToJsonString());

    /// <summary>
    /// Copies a JSON object and reads every node of the copy once: a JSON node parsed from text builds its children lazily,
    /// and the cache shares this object between threads.
    /// </summary>
    private static JsonObject? Snapshot(JsonObject? source)
    {
        if (source is null)
        {
            return null;
        }

        var copy = JsonNode.Parse(source.ToJsonString())!.AsObject();
        Materialize(copy);
        return copy;
    }

    private static void Materialize(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (_, child) in obj)
                {
                    Materialize(child);
                }

                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    Materialize(child);
                }

                break;
        }
    }
}
