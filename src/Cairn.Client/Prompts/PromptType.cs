namespace Cairn.Client.Prompts;

/// <summary>The kind of a prompt's template.</summary>
public enum PromptType
{
    /// <summary>One text template (MLflow's text prompt), sent to a chat model as one user message.</summary>
    Text,

    /// <summary>A list of role and content templates (MLflow's chat prompt).</summary>
    Chat,
}
