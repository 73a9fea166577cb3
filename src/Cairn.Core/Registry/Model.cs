using Cairn.Core.Tracking;
using Cairn.Core.Tracking.Search;

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

/// <summary>MLflow's model version stages (kept for older clients; aliases are the modern way).</summary>
public static class ModelStage
{
    public const string None = "None";
    public const string Staging = "Staging";
    public const string Production = "Production";
    public const string Archived = "Archived";

    /// <summary>Returns the canonical spelling of a stage name (case-insensitive), or null when it is not one.</summary>
    public static string? Canonical(string stage) => stage.ToUpperInvariant() switch
    {
        "NONE" => None,
        "STAGING" => Staging,
        "PRODUCTION" => Production,
        "ARCHIVED" => Archived,
        _ => null,
    };
}

/// <summary>Arguments of a registered-model or model-version search.</summary>
public sealed record RegistryQuery(SearchFilter Filter, IReadOnlyList<OrderBy> OrderBy, int MaxResults, string? PageToken);

/// <summary>Stores the model registry.</summary>
public interface IModelRegistryStore
{
    Task<RegisteredModel> CreateRegisteredModelAsync(string name, string? description, IReadOnlyList<KeyValue> tags, CancellationToken cancellationToken);
    Task<RegisteredModel> GetRegisteredModelAsync(string name, CancellationToken cancellationToken);

    /// <summary>Creates the next version; when it comes from a logged model, appends it to that model's <c>mlflow.modelVersions</c> tag in the same transaction.</summary>
    Task<ModelVersion> CreateModelVersionAsync(NewModelVersion version, CancellationToken cancellationToken);
    Task<ModelVersion> GetModelVersionAsync(string name, string version, CancellationToken cancellationToken);

    /// <summary>Renames a registered model; its versions and aliases follow.</summary>
    Task<RegisteredModel> RenameRegisteredModelAsync(string name, string newName, CancellationToken cancellationToken);

    /// <summary>Sets a registered model's description.</summary>
    Task<RegisteredModel> UpdateRegisteredModelAsync(string name, string? description, CancellationToken cancellationToken);

    /// <summary>Deletes a registered model with its versions, tags and aliases.</summary>
    Task DeleteRegisteredModelAsync(string name, CancellationToken cancellationToken);

    /// <summary>Searches registered models: filter on <c>name</c> and <c>tags.</c>; order by <c>name</c>, <c>creation_timestamp</c>, <c>last_updated_timestamp</c>.</summary>
    Task<Page<RegisteredModel>> SearchRegisteredModelsAsync(RegistryQuery query, CancellationToken cancellationToken);

    /// <summary>The highest version in each of <paramref name="stages"/> (all stages when empty), ordered by version.</summary>
    Task<IReadOnlyList<ModelVersion>> GetLatestVersionsAsync(string name, IReadOnlyList<string> stages, CancellationToken cancellationToken);

    Task SetRegisteredModelTagAsync(string name, KeyValue tag, CancellationToken cancellationToken);
    Task DeleteRegisteredModelTagAsync(string name, string key, CancellationToken cancellationToken);

    /// <summary>Points <paramref name="alias"/> at a version, moving it if it pointed elsewhere.</summary>
    Task SetAliasAsync(string name, string alias, string version, CancellationToken cancellationToken);
    Task DeleteAliasAsync(string name, string alias, CancellationToken cancellationToken);
    Task<ModelVersion> GetModelVersionByAliasAsync(string name, string alias, CancellationToken cancellationToken);

    /// <summary>Sets a model version's description.</summary>
    Task<ModelVersion> UpdateModelVersionAsync(string name, string version, string? description, CancellationToken cancellationToken);

    /// <summary>Deletes a model version with its tags and the aliases that point at it.</summary>
    Task DeleteModelVersionAsync(string name, string version, CancellationToken cancellationToken);

    /// <summary>Searches model versions: filter on <c>name</c>, <c>run_id</c>, <c>source_path</c>, <c>version_number</c> and <c>tags.</c>.</summary>
    Task<Page<ModelVersion>> SearchModelVersionsAsync(RegistryQuery query, CancellationToken cancellationToken);

    /// <summary>Moves a version to a stage; with <paramref name="archiveExistingVersions"/>, other versions in that stage go to Archived.</summary>
    Task<ModelVersion> TransitionModelVersionStageAsync(string name, string version, string stage, bool archiveExistingVersions, CancellationToken cancellationToken);

    Task SetModelVersionTagAsync(string name, string version, KeyValue tag, CancellationToken cancellationToken);
    Task DeleteModelVersionTagAsync(string name, string version, string key, CancellationToken cancellationToken);
}
