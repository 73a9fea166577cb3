namespace Cairn.Storage;

/// <summary>Where tracking metadata lives and where new experiments put their artifacts.</summary>
public sealed class StorageOptions
{
    /// <summary>
    /// The database: <c>sqlite:///relative/path.db</c>, <c>sqlite:////absolute/path.db</c>, or
    /// <c>postgresql://user:password@host:port/database</c> (also <c>postgres://</c>).
    /// </summary>
    public string BackendStoreUri { get; set; } = "sqlite:///cairn-data/cairn.db";

    /// <summary>The root new experiments' artifact locations are made from: <c>{DefaultArtifactRoot}/{experimentId}</c>.</summary>
    public string DefaultArtifactRoot { get; set; } = "mlflow-artifacts:";
}
