using System.Collections.Concurrent;
using System.Globalization;
using Cairn.Core.Artifacts;
using Cairn.Core.Registry;
using Cairn.Core.Tracking;
using Cairn.Server.Registry;
using Cairn.Server.Tracking;
using Microsoft.Extensions.Logging;

namespace Cairn.Server.Serving;

/// <summary>Resolves registered model versions and keeps their loaded models (ML.NET or ONNX) in memory.</summary>
/// <remarks>
/// Models are cached per (name, version, creation time), so a re-created model of the same name is not confused with the
/// old one. Aliases and <c>latest</c> are resolved on every request, so moving an alias switches the next request to the new version.
/// Loaded models are kept until the server stops, when they are disposed.
/// </remarks>
internal sealed partial class ModelServer(
    IModelRegistryStore registry,
    ILoggedModelStore loggedModels,
    IRunStore runs,
    IArtifactStore artifacts,
    ILogger<ModelServer> logger) : IDisposable
{
    private const string ExpectedFiles =
        "serving needs exactly one model file: an ML.NET model (a .zip saved with mlContext.Model.Save) or an ONNX model (a .onnx file)";

    private readonly ConcurrentDictionary<(string Name, string Version, long Created), Lazy<Task<IServedModel>>> _models = new();

    /// <summary>Returns the loaded model for <paramref name="versionOrAlias"/>: digits for a version, <c>latest</c>, or an alias.</summary>
    public async Task<IServedModel> GetAsync(string name, string versionOrAlias, CancellationToken cancellationToken)
    {
        var version = await ResolveAsync(name, versionOrAlias, cancellationToken);
        var key = (version.Name, version.Version, version.CreationTimestamp);
        var lazy = _models.GetOrAdd(key, _ => new Lazy<Task<IServedModel>>(() => LoadAsync(version)));
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

    /// <summary>Disposes the loaded models (ONNX Runtime sessions hold native memory).</summary>
    public void Dispose()
    {
        foreach (var lazy in _models.Values)
        {
            if (lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
            {
                lazy.Value.Result.Dispose();
            }
        }

        _models.Clear();
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

    private async Task<IServedModel> LoadAsync(ModelVersion version)
    {
        // Not the request's token: the load is shared by every request waiting for this version.
        var cancellationToken = CancellationToken.None;
        var uri = await RegistryApi.ResolveSourceUriAsync(version.Source, loggedModels, runs, cancellationToken);
        var root = MlflowArtifactsApi.ToStorePath(uri)
            ?? throw new ServingException($"Model '{version.Name}' version {version.Version} has its artifacts at '{uri}', outside Cairn's artifact store; only models stored in Cairn can be served.");

        var files = new List<string>();
        foreach (var entry in await artifacts.ListAsync(root, cancellationToken))
        {
            var path = ArtifactPath.Combine(root, entry.Path);
            if (entry.IsDirectory)
            {
                files.AddRange((await artifacts.ListAsync(path, cancellationToken))
                    .Where(e => !e.IsDirectory && IsModelFile(e.Path))
                    .Select(e => ArtifactPath.Combine(path, e.Path)));
            }
            else if (IsModelFile(entry.Path))
            {
                files.Add(path);
            }
        }

        if (files.Count != 1)
        {
            throw new ServingException(files.Count == 0
                ? $"Model '{version.Name}' version {version.Version} holds no model file under '{uri}'; {ExpectedFiles}. MLflow's Python flavors (sklearn, pyfunc, ...) are not served; export such a model to ONNX."
                : $"Model '{version.Name}' version {version.Version} holds more than one model file under '{uri}' ({string.Join(", ", files)}); {ExpectedFiles}.");
        }

        var file = files[0];
        var buffer = new MemoryStream();
        var stream = await artifacts.OpenReadAsync(file, cancellationToken)
            ?? throw new ServingException($"The model file '{file}' of model '{version.Name}' version {version.Version} disappeared.");
        await using (stream)
        {
            await stream.CopyToAsync(buffer, cancellationToken);
        }

        buffer.Position = 0;
        var onnx = file.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);
        IServedModel model;
        try
        {
            model = onnx
                ? OnnxServedModel.Load(version.Name, version.Version, buffer.ToArray())
                : MlNetServedModel.Load(version.Name, version.Version, buffer);
        }
        catch (Exception e) when (e is not ServingException)
        {
            throw new ServingException(onnx
                ? $"'{file}' of model '{version.Name}' version {version.Version} is not an ONNX model that ONNX Runtime can load: {e.Message}"
                : $"'{file}' of model '{version.Name}' version {version.Version} is not an ML.NET model (a .zip saved with mlContext.Model.Save): {e.Message}");
        }

        LogLoaded(logger, onnx ? "ONNX" : "ML.NET", version.Name, version.Version, file);
        return model;
    }

    private static bool IsModelFile(string path) =>
        path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);

    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Loaded {Kind} model {Name} version {Version} from {Path}")]
    private static partial void LogLoaded(ILogger logger, string kind, string name, string version, string path);
}
