using System.Text;
using System.Text.Json;

namespace Cairn.Contracts.Prompts;

/// <summary>A parsed chat prompt: each message's content is a <see cref="PromptTemplate"/>; roles are kept as they are.</summary>
/// <remarks>Instances are immutable and thread-safe: parse once, render many times.</remarks>
public sealed class ChatPromptTemplate
{
    private readonly string[] _roles;
    private readonly PromptTemplate[] _templates;

    private ChatPromptTemplate(string[] roles, PromptTemplate[] templates, IReadOnlyList<string> variables)
    {
        _roles = roles;
        _templates = templates;
        Variables = variables;
    }

    /// <summary>The number of messages.</summary>
    public int Count => _templates.Length;

    /// <summary>The variables of all messages, distinct, in order of first appearance (see <see cref="PromptTemplate.Variables"/>).</summary>
    public IReadOnlyList<string> Variables { get; }

    /// <summary>Parses the content of every message.</summary>
    /// <exception cref="PromptTemplateException">
    /// A content is malformed; the message starts with <c>Message 1 (user):</c> and <see cref="PromptTemplateException.MessageIndex"/> is set.
    /// </exception>
    public static ChatPromptTemplate Parse(IReadOnlyList<PromptMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var roles = new string[messages.Count];
        var templates = new PromptTemplate[messages.Count];
        var variables = new List<string>();
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i] ?? throw new ArgumentException($"Message {i} is null.", nameof(messages));
            roles[i] = message.Role ?? "";
            templates[i] = PromptTemplate.Parse(message.Content ?? "", i, roles[i]);
            foreach (var name in templates[i].Variables)
            {
                if (!variables.Contains(name))
                {
                    variables.Add(name);
                }
            }
        }

        return new ChatPromptTemplate(roles, templates, variables.AsReadOnly());
    }

    /// <summary>Renders every message into a new list (see <see cref="PromptTemplate.Render(IReadOnlyDictionary{string, object?})"/> for the rules).</summary>
    /// <exception cref="PromptRenderException">Variables are missing; every one is named, with the messages that need it.</exception>
    public List<PromptMessage> Render(IReadOnlyDictionary<string, object?> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        return RenderOrThrow(variables);
    }

    /// <summary>Renders every message with JSON variables (as the REST API receives them).</summary>
    /// <exception cref="PromptRenderException">Variables are missing; every one is named, with the messages that need it.</exception>
    public List<PromptMessage> Render(IReadOnlyDictionary<string, JsonElement> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        return RenderOrThrow(variables);
    }

    private List<PromptMessage> RenderOrThrow(object root)
    {
        var rendered = new List<PromptMessage>(_templates.Length);
        List<string>? missing = null;
        StringBuilder? detail = null;
        for (var i = 0; i < _templates.Length; i++)
        {
            List<string>? here = null;
            var content = _templates[i].RenderCollecting(root, ref here);
            if (here is not null)
            {
                missing ??= [];
                foreach (var name in here)
                {
                    if (!missing.Contains(name))
                    {
                        missing.Add(name);
                    }
                }

                (detail ??= new StringBuilder()).Append($" In message {i} ({_roles[i]}): {string.Join(", ", here)}.");
            }

            rendered.Add(new PromptMessage { Role = _roles[i], Content = content });
        }

        return missing is null
            ? rendered
            : throw new PromptRenderException(PromptTemplate.MissingMessage(missing) + "." + detail, missing);
    }
}
