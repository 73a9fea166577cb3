namespace Cairn.Client.Prompts;

/// <summary>Describes a failed refresh of a cached prompt (see <see cref="CairnClient.PromptRefreshFailed"/>).</summary>
public sealed class PromptRefreshFailedEventArgs : EventArgs
{
    /// <summary>Creates the arguments of a failed refresh.</summary>
    /// <param name="name">The prompt's name.</param>
    /// <param name="label">The label that was asked for, or null for a version number or the latest version.</param>
    /// <param name="version">The version number that was asked for, or null.</param>
    /// <param name="exception">Why the refresh failed.</param>
    public PromptRefreshFailedEventArgs(string name, string? label, int? version, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(exception);
        Name = name;
        Label = label;
        Version = version;
        Exception = exception;
    }

    /// <summary>Gets the prompt's name.</summary>
    public string Name { get; }

    /// <summary>Gets the label that was asked for, or null for a version number or the latest version.</summary>
    public string? Label { get; }

    /// <summary>Gets the version number that was asked for, or null.</summary>
    public int? Version { get; }

    /// <summary>Gets why the refresh failed: a 404 <see cref="CairnApiException"/> when the prompt was dropped from the cache, a connection error, timeout or other failure when the stale prompt is still served.</summary>
    public Exception Exception { get; }
}
