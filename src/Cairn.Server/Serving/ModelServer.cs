using System.Collections.Concurrent;
using System.Globalization;
using Cairn.Core.Artifacts;
using Cairn.Core.Registry;
using Cairn.Core.Tracking;
using Cairn.Server.Registry;
using Cairn.Server.Tracking;
using Microsoft.Extensions.Logging;

namespace Cairn.Server.Serving;

/// <summary>Resolves registered model versions and keeps their loaded ML.NET models in memory.</summary>
/// <remarks>
/// Models are cached per (name, version, creation time), so a re-created model of the same name is not confused with the
/// old one. Aliases and <c>latest</c> are resolved on every request, so moving an alias switches the next request to the new version.
/// </remarks>
internal sealed partial class ModelServer(
    IModelRegistryStore registry,
    ILoggedModelStore loggedModels,
    IRunStore runs,
    IArtifactStore artifacts,
    ILogger<ModelServer> logger)
{
    private readonly ConcurrentDictionary<(string Name, string Version, long Created), Lazy<Task<ServedModel>>> _models = new();

    /// <summary>Returns the loaded model for <paramref name="versionOrAlias"/>: digits for a version, <c>latest</c>, or an alias.</summary>
    public async Task<ServedModel> GetAsync(string name, string versionOrAlias, CancellationToken cancellationToken)
    {
        var version = await ResolveAsync(name, versionOrAlias, cancellationToken);
        var key = (version.Name, version.Version, version.CreationTimestamp);
        var lazy = _models.GetOrAdd(key, _ => new Lazy<Task<ServedModel>>(() => LoadAsync(version)));
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken);
        }
        catch (Exception) when (lazy.Value.IsFaulted)
        {
            // Failed loads are not cached: the artifacts may be uploaded or fixed later.
            _models.TryRemove(KeyValuePair.Create(key, lazy));
            throw;
        }
    }

    private async Task<ModelVersion> ResolveAsync(string name, string versionOrAlias, CancellationToken cancellationToken)
    {
        if (versionOrAlias.Length > 0 && versionOrAlias.All(char.IsAsciiDigit))
        {
            return await registry.GetModelVersionAsync(name, versionOrAlias, cancellationToken);
        }

        if (versionOrAlias == "latest")
        {
            var versions = await registry.GetLatestVersionsAsync(name, [], cancellationToken);
            return versions.MaxBy(v => long.Parse(v.Version, CultureInfo.InvariantCulture))
                ?? throw TrackingException.NotFound($"Registered model '{name}' has no versions.");
        }

        try
        {
            return await registry.GetModelVersionByAliasAsync(name, versionOrAlias, cancellationToken);
        }
        catch (TrackingException e) when (e.Code == TrackingErrorCode.InvalidParameterValue)
        {
            // The registry API reports an unknown alias as INVALID_PARAMETER_VALUE (as MLflow does); for a URL it is a missing resource.
            throw TrackingException.NotFound($"Registered model '{name}' has no version or alias '{versionOrAlias}'.");
        }
    }

    private async Task<ServedModel> LoadAsync(ModelVersion version)
    {
        // Not the request's token: the load is shared by every request waiting for this version.
        var cancellationToken = CancellationToken.None;
        var uri = await RegistryApi.ResolveSourceUriAsync(version.Source, loggedModels, runs, cancellationToken);
        var root = MlflowArtifactsApi.ToStorePath(uri)
            ?? throw new ServingException($"Model '{version.Name}' version {version.Version} has its artifacts at '{uri}', outside Cairn's artifact store; only models stored in Cairn can be served.");

        var zips = new List<string>();
        foreach (var entry in await artifacts.ListAsync(root, cancellationToken))
        {
            var path = ArtifactPath.Combine(root, entry.Path);
            if (entry.IsDirectory)
            {
                zips.AddRange((await artifacts.ListAsync(path, cancellationToken))
                    .Where(e => !e.IsDirectory && IsZip(e.Path))
                    .Select(e => ArtifactPath.Combine(path, e.Path)));
            }
            else if (IsZip(entry.Path))
            {
                zips.Add(path);
            }
        }

        if (zips.Count != 1)
        {
            throw new ServingException(zips.Count == 0
                ? $"Model '{version.Name}' version {version.Version} holds no ML.NET model (a .zip saved with mlContext.Model.Save) under '{uri}'. Only ML.NET models are served so far."
                : $"Model '{version.Name}' version {version.Version} holds more than one .zip under '{uri}' ({string.Join(", ", zips)}); serving needs exactly one ML.NET model file.");
        }

        var buffer = new MemoryStream();
        var stream = await artifacts.OpenReadAsync(zips[0], cancellationToken)
            ?? throw new ServingException($"The model file '{zips[0]}' of model '{version.Name}' version {version.Version} disappeared.");
        await using (stream)
        {
            await stream.CopyToAsync(buffer, cancellationToken);
        }

        buffer.Position = 0;
        ServedModel model;
        try
        {
            model = ServedModel.Load(version.Name, version.Version, buffer);
        }
        catch (Exception e) when (e is not ServingException)
        {
            throw new ServingException($"'{zips[0]}' of model '{version.Name}' version {version.Version} is not an ML.NET model (a .zip saved with mlContext.Model.Save): {e.Message}. Only ML.NET models are served so far.");
        }

        LogLoaded(logger, version.Name, version.Version, zips[0]);
        return model;
    }

    private static bool IsZip(string path) => path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase);

    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Loaded ML.NET model {Name} version {Version} from {Path}")]
    private static partial void LogLoaded(ILogger logger, string name, string version, string path);
}
