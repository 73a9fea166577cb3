using System.Globalization;
using Cairn.Contracts.Mlflow;

namespace Cairn.Client;

// The model registry: one method per MLflow REST call (registered-models/... and model-versions/...), plus registering a
// run's model and downloading a registered version.
public sealed partial class CairnClient
{
    private const string ArtifactsProxyPrefix = "api/2.0/mlflow-artifacts/artifacts";
    private const string LatestVersion = "latest";

    /// <summary>Creates a registered model (<c>POST registered-models/create</c>).</summary>
    /// <param name="name">The model's unique name.</param>
    /// <param name="description">The model's description, or null.</param>
    /// <param name="tags">Tags to set on the model.</param>
    /// <param name="cancellationToken">A token that cancels the call.</param>
    /// <exception cref="CairnApiException">The model exists already (<c>RESOURCE_ALREADY_EXISTS</c>), or the call failed.</exception>
    public async Task<RegisteredModelDto> CreateRegisteredModelAsync(
        string name,
        string? description = null,
        IEnumerable<KeyValuePair<string, string>>? tags = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var request = new CreateRegisteredModelRequest { Name = name, Description = description, Tags = ToDtos(tags) };
        var response = await PostAsync("registered-models/create", request, Json.CreateRegisteredModelRequest, Json.RegisteredModelResponse, cancellationToken).ConfigureAwait(false);
        return Required(response.RegisteredModel, "registered_model");
    }

    /// <summary>Returns the registered model named <paramref name="name"/>, creating it when there is none (also when another client creates it at the same time).</summary>
    public async Task<RegisteredModelDto> GetOrCreateRegisteredModelAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        try
        {
            return await CreateRegisteredModelAsync(name, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (CairnApiException e) when (e.ErrorCode == "RESOURCE_ALREADY_EXISTS")
        {
            return await GetRegisteredModelAsync(name, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Gets a registered model by name (<c>GET registered-models/get</c>).</summary>
    /// <exception cref="CairnApiException">There is no such model (404 <c>RESOURCE_DOES_NOT_EXIST</c>), or the call failed.</exception>
    public async Task<RegisteredModelDto> GetRegisteredModelAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var response = await GetAsync(WithQuery("registered-models/get", ("name", name)), Json.RegisteredModelResponse, cancellationToken).ConfigureAwait(false);
        return Required(response.RegisteredModel, "registered_model");
    }

    /// <summary>Creates a version of a registered model (<c>POST model-versions/create</c>).</summary>
    /// <param name="name">The registered model's name.</param>
    /// <param name="source">Where the model's files are, such as <c>runs:/&lt;run_id&gt;/model</c> or an artifact URI.</param>
    /// <param name="runId">The run that produced the model, or null.</param>
    /// <param name="cancellationToken">A token that cancels the call.</param>
    public async Task<ModelVersionDto> CreateModelVersionAsync(string name, string source, string? runId = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(source);
        var request = new CreateModelVersionRequest { Name = name, Source = source, RunId = string.IsNullOrEmpty(runId) ? null : runId };
        var response = await PostAsync("model-versions/create", request, Json.CreateModelVersionRequest, Json.ModelVersionResponse, cancellationToken).ConfigureAwait(false);
        return Required(response.ModelVersion, "model_version");
    }

    /// <summary>Gets a model version (<c>GET model-versions/get</c>).</summary>
    /// <param name="name">The registered model's name.</param>
    /// <param name="version">The version number, such as <c>3</c>.</param>
    /// <param name="cancellationToken">A token that cancels the call.</param>
    public async Task<ModelVersionDto> GetModelVersionAsync(string name, string version, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(version);
        var response = await GetAsync(WithQuery("model-versions/get", ("name", name), ("version", version)), Json.ModelVersionResponse, cancellationToken).ConfigureAwait(false);
        return Required(response.ModelVersion, "model_version");
    }

    /// <summary>Points the alias <paramref name="alias"/> (such as <c>champion</c>) of a registered model at <paramref name="version"/> (<c>POST registered-models/alias</c>).</summary>
    public Task SetRegisteredModelAliasAsync(string name, string alias, string version, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(alias);
        ArgumentException.ThrowIfNullOrEmpty(version);
        var request = new AliasRequest { Name = name, Alias = alias, Version = version };
        return PostAsync("registered-models/alias", request, Json.AliasRequest, Json.EmptyResponse, cancellationToken);
    }

    /// <summary>Gets the model version that an alias points at (<c>GET registered-models/alias</c>).</summary>
    public async Task<ModelVersionDto> GetModelVersionByAliasAsync(string name, string alias, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(alias);
        var response = await GetAsync(WithQuery("registered-models/alias", ("name", name), ("alias", alias)), Json.ModelVersionResponse, cancellationToken).ConfigureAwait(false);
        return Required(response.ModelVersion, "model_version");
    }

    /// <summary>Gets the latest version of a registered model in each stage, or in each of <paramref name="stages"/> (<c>POST registered-models/get-latest-versions</c>).</summary>
    /// <param name="name">The registered model's name.</param>
    /// <param name="stages">Stages such as <c>None</c>, <c>Staging</c> or <c>Production</c>; every stage when null or empty.</param>
    /// <param name="cancellationToken">A token that cancels the call.</param>
    public async Task<IReadOnlyList<ModelVersionDto>> GetLatestVersionsAsync(string name, IEnumerable<string>? stages = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var request = new GetLatestVersionsRequest { Name = name, Stages = stages?.ToList() is { Count: > 0 } list ? list : null };
        var response = await PostAsync("registered-models/get-latest-versions", request, Json.GetLatestVersionsRequest, Json.ModelVersionsResponse, cancellationToken).ConfigureAwait(false);
        return response.ModelVersions ?? [];
    }

    /// <summary>Gets the artifact URI of a model version's files (<c>GET model-versions/get-download-uri</c>), such as <c>mlflow-artifacts:/1/&lt;run_id&gt;/artifacts/model</c>.</summary>
    public async Task<string> GetModelVersionDownloadUriAsync(string name, string version, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(version);
        var response = await GetAsync(WithQuery("model-versions/get-download-uri", ("name", name), ("version", version)), Json.GetDownloadUriResponse, cancellationToken).ConfigureAwait(false);
        return Required(response.ArtifactUri, "artifact_uri");
    }

    /// <summary>Registers the artifacts under <paramref name="artifactPath"/> of a run as a new version of <paramref name="modelName"/>, creating the registered model when it does not exist.</summary>
    /// <param name="runId">The run whose artifacts hold the model.</param>
    /// <param name="artifactPath">The model's folder relative to the run's artifact root, such as <c>model</c>; the version's source is <c>runs:/&lt;run_id&gt;/&lt;artifactPath&gt;</c>.</param>
    /// <param name="modelName">The registered model's name.</param>
    /// <param name="cancellationToken">A token that cancels the calls.</param>
    /// <returns>The new model version.</returns>
    public async Task<ModelVersionDto> RegisterModelAsync(string runId, string artifactPath, string modelName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        ArgumentNullException.ThrowIfNull(artifactPath);
        ArgumentException.ThrowIfNullOrEmpty(modelName);
        var path = ArtifactPaths.Normalize(artifactPath, nameof(artifactPath));
        var source = path.Length == 0 ? $"runs:/{runId}" : $"runs:/{runId}/{path}";
        await GetOrCreateRegisteredModelAsync(modelName, cancellationToken).ConfigureAwait(false);
        return await CreateModelVersionAsync(modelName, source, runId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Resolves a version of a registered model and downloads all of its files, recursively, into <paramref name="localDirectory"/>.</summary>
    /// <param name="modelName">The registered model's name.</param>
    /// <param name="versionOrAlias">A version number (<c>3</c>), an alias (<c>champion</c>), or <c>latest</c> for the highest version.</param>
    /// <param name="localDirectory">The folder to download into; it is created when missing and existing files are replaced.</param>
    /// <param name="cancellationToken">A token that cancels the download.</param>
    /// <returns>The model version that was downloaded.</returns>
    /// <exception cref="NotSupportedException">The version's files are not served by the server's artifact proxy (their URI is not <c>mlflow-artifacts:</c>).</exception>
    public async Task<ModelVersionDto> DownloadModelAsync(string modelName, string versionOrAlias, string localDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelName);
        ArgumentException.ThrowIfNullOrEmpty(versionOrAlias);
        ArgumentException.ThrowIfNullOrEmpty(localDirectory);
        var version = await ResolveModelVersionAsync(modelName, versionOrAlias, cancellationToken).ConfigureAwait(false);
        var versionNumber = Required(version.Version, "model_version.version");
        var downloadUri = await GetModelVersionDownloadUriAsync(modelName, versionNumber, cancellationToken).ConfigureAwait(false);
        var root = Path.GetFullPath(localDirectory);
        Directory.CreateDirectory(root);

        var rootStorePath = ArtifactPaths.ToProxyPath(downloadUri);
        var downloaded = await DownloadTreeAsync(downloadUri, rootStorePath, relative: string.Empty, root, cancellationToken).ConfigureAwait(false);
        if (downloaded == 0 && rootStorePath.Length > 0)
        {
            // The source names a single file rather than a folder: the listing of a file is empty.
            var slash = rootStorePath.LastIndexOf('/');
            var fileName = rootStorePath[(slash + 1)..];
            var parentUri = "mlflow-artifacts:/" + (slash < 0 ? string.Empty : rootStorePath[..slash]);
            await DownloadArtifactAsync(parentUri, fileName, Path.Combine(root, fileName), cancellationToken).ConfigureAwait(false);
        }

        return version;
    }

    private async Task<ModelVersionDto> ResolveModelVersionAsync(string modelName, string versionOrAlias, CancellationToken cancellationToken)
    {
        if (versionOrAlias.All(char.IsAsciiDigit))
        {
            return await GetModelVersionAsync(modelName, versionOrAlias, cancellationToken).ConfigureAwait(false);
        }

        if (string.Equals(versionOrAlias, LatestVersion, StringComparison.OrdinalIgnoreCase))
        {
            var latest = await GetLatestVersionsAsync(modelName, cancellationToken: cancellationToken).ConfigureAwait(false);
            return latest
                .Where(v => v.Version is not null)
                .MaxBy(v => long.TryParse(v.Version, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number : -1)
                ?? throw new InvalidOperationException($"The registered model '{modelName}' has no versions.");
        }

        return await GetModelVersionByAliasAsync(modelName, versionOrAlias, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Downloads the files under <paramref name="relative"/> of an artifact root, recursively; returns how many files it downloaded.</summary>
    private async Task<int> DownloadTreeAsync(string artifactUri, string rootStorePath, string relative, string localRoot, CancellationToken cancellationToken)
    {
        var listing = await ListProxiedArtifactsAsync(ArtifactPaths.Combine(rootStorePath, relative), cancellationToken).ConfigureAwait(false);
        var count = 0;
        foreach (var entry in listing.Files ?? [])
        {
            if (string.IsNullOrEmpty(entry.Path))
            {
                continue;
            }

            // The proxied listing names entries by their base names; keep only the last segment in case a server sends more.
            var name = ArtifactPaths.Normalize(entry.Path, nameof(entry.Path));
            name = name[(name.LastIndexOf('/') + 1)..];
            if (name.Length == 0)
            {
                continue;
            }

            var child = ArtifactPaths.Combine(relative, name);
            if (entry.IsDir == true)
            {
                count += await DownloadTreeAsync(artifactUri, rootStorePath, child, localRoot, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var localFile = Path.Combine(localRoot, child.Replace('/', Path.DirectorySeparatorChar));
                await DownloadArtifactAsync(artifactUri, child, localFile, cancellationToken).ConfigureAwait(false);
                count++;
            }
        }

        return count;
    }

    /// <summary>Lists a folder of the artifact proxy (<c>GET mlflow-artifacts/artifacts?path=</c>).</summary>
    private Task<ListArtifactsResponse> ListProxiedArtifactsAsync(string storePath, CancellationToken cancellationToken) =>
        SendJsonAsync(HttpMethod.Get, WithQuery(ArtifactsProxyPrefix, ("path", storePath.Length == 0 ? null : storePath)), content: null, Json.ListArtifactsResponse, cancellationToken);
}
