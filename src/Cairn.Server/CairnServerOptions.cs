namespace Cairn.Server;

/// <summary>Settings of a Cairn server, bound from the <c>Cairn</c> configuration section, environment variables (<c>CAIRN__PORT</c>) and command-line options.</summary>
public sealed class CairnServerOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = "Cairn";

    /// <summary>The address to listen on; loopback unless told otherwise.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>The port to listen on; 0 picks a free one.</summary>
    public int Port { get; set; } = 5000;

    /// <summary>The folder that holds the default SQLite database and artifacts.</summary>
    public string DataDirectory { get; set; } = "cairn-data";

    /// <summary>Where metadata is stored: <c>sqlite:///path</c> or <c>postgresql://user:pass@host:port/db</c>; defaults to <c>sqlite:///{DataDirectory}/cairn.db</c>.</summary>
    public string? BackendStoreUri { get; set; }

    /// <summary>The folder that artifacts are stored in; defaults to <c>{DataDirectory}/artifacts</c>.</summary>
    public string? ArtifactsDestination { get; set; }

    /// <summary>The effective backend store URI.</summary>
    public string EffectiveBackendStoreUri =>
        string.IsNullOrWhiteSpace(BackendStoreUri) ? "sqlite:///" + Path.Combine(DataDirectory, "cairn.db") : BackendStoreUri;

    /// <summary>The effective artifact folder.</summary>
    public string EffectiveArtifactsDestination =>
        string.IsNullOrWhiteSpace(ArtifactsDestination) ? Path.Combine(DataDirectory, "artifacts") : ArtifactsDestination;
}
