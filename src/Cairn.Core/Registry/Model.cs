using Cairn.Core.Tracking;

namespace Cairn.Core.Registry;

/// <summary>A registered model: a named series of model versions.</summary>
public sealed record RegisteredModel(
    string Name,
    long CreationTimestamp,
    long LastUpdatedTimestamp,
    string? Description,
    IReadOnlyList<KeyValue> Tags,
    IReadOnlyList<ModelVersion> LatestVersions,
    IReadOnlyList<KeyValue> Aliases);

/// <summary>One version of a registered model.</summary>
public sealed record ModelVersion(
    string Name,
    string Version,
    long CreationTimestamp,
    long LastUpdatedTimestamp,
    string CurrentStage,
    string Description,
    string Source,
    string? RunId,
    string? ModelId,
    string Status,
    string RunLink,
    IReadOnlyList<KeyValue> Tags,
    IReadOnlyList<string> Aliases);

/// <summary>Fields of a new model version.</summary>
public sealed record NewModelVersion(string Name, string Source, string? RunId, string? ModelId, string? Description, string RunLink, IReadOnlyList<KeyValue> Tags);

/// <summary>Stores the model registry.</summary>
public interface IModelRegistryStore
{
    Task<RegisteredModel> CreateRegisteredModelAsync(string name, string? description, IReadOnlyList<KeyValue> tags, CancellationToken cancellationToken);
    Task<RegisteredModel> GetRegisteredModelAsync(string name, CancellationToken cancellationToken);

    /// <summary>Creates the next version; when it comes from a logged model, appends it to that model's <c>mlflow.modelVersions</c> tag in the same transaction.</summary>
    Task<ModelVersion> CreateModelVersionAsync(NewModelVersion version, CancellationToken cancellationToken);
    Task<ModelVersion> GetModelVersionAsync(string name, string version, CancellationToken cancellationToken);
}
