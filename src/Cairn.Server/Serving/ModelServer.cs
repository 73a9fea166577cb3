using System.Collections.Concurrent;
using System.Globalization;
using Cairn.Core.Artifacts;
using Cairn.Core.Registry;
using Cairn.Core.Tracking;
using Cairn.Server.Registry;
using Cairn.Server.Tracking;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

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

        var files = new List<(string Folder, string Name)>();
        foreach (var entry in await artifacts.ListAsync(root, cancellationToken))
        {
            if (entry.IsDirectory)
            {
                var folder = ArtifactPath.Combine(root, entry.Path);
                files.AddRange((await artifacts.ListAsync(folder, cancellationToken))
                    .Where(e => !e.IsDirectory && IsModelFile(e.Path))
                    .Select(e => (folder, e.Path)));
            }
            else if (IsModelFile(entry.Path))
            {
                files.Add((root, entry.Path));
            }
        }

        if (files.Count != 1)
        {
            throw new ServingException(files.Count == 0
                ? $"Model '{version.Name}' version {version.Version} holds no model file under '{uri}'; {ExpectedFiles}. MLflow's Python flavors (sklearn, pyfunc, ...) are not served; export such a model to ONNX."
                : $"Model '{version.Name}' version {version.Version} holds more than one model file under '{uri}' ({string.Join(", ", files.Select(f => ArtifactPath.Combine(f.Folder, f.Name)))}); {ExpectedFiles}.");
        }

        var (modelFolder, fileName) = files[0];
        var file = ArtifactPath.Combine(modelFolder, fileName);
        var onnx = fileName.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);
        var model = onnx
            ? await LoadOnnxAsync(version, modelFolder, fileName, cancellationToken)
            : await LoadMlNetAsync(version, file, cancellationToken);
        LogLoaded(logger, onnx ? "ONNX" : "ML.NET", version.Name, version.Version, file);
        return model;
    }

    private async Task<IServedModel> LoadMlNetAsync(ModelVersion version, string file, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        await CopyArtifactAsync(version, file, buffer, cancellationToken);
        buffer.Position = 0;
        try
        {
            return MlNetServedModel.Load(version.Name, version.Version, buffer);
        }
        catch (Exception e) when (e is not ServingException)
        {
            throw new ServingException($"'{file}' of model '{version.Name}' version {version.Version} is not an ML.NET model (a .zip saved with mlContext.Model.Save): {e.Message}");
        }
    }

    /// <summary>Loads an ONNX model from a local copy of its folder.</summary>
    /// <remarks>
    /// ONNX Runtime reads a model's external data (tensors kept in files beside the .onnx, which MLflow's onnx flavor writes by
    /// default for tensors over 1 KB) relative to the model's own path, so the model cannot be loaded from its bytes alone.
    /// The copy is deleted once the session holds the weights.
    /// </remarks>
    private async Task<IServedModel> LoadOnnxAsync(ModelVersion version, string folder, string fileName, CancellationToken cancellationToken)
    {
        var local = Directory.CreateTempSubdirectory("cairn-onnx-");
        try
        {
            foreach (var entry in await artifacts.ListAsync(folder, cancellationToken))
            {
                // Only plain file names: a listing entry must not lead the copy out of its folder.
                if (!entry.IsDirectory && entry.Path.Length > 0 && Path.GetFileName(entry.Path) == entry.Path && entry.Path is not ("." or ".."))
                {
                    var target = File.Create(Path.Combine(local.FullName, entry.Path));
                    await using (target)
                    {
                        await CopyArtifactAsync(version, ArtifactPath.Combine(folder, entry.Path), target, cancellationToken);
                    }
                }
            }

            try
            {
                return OnnxServedModel.Load(version.Name, version.Version, Path.Combine(local.FullName, fileName));
            }
            catch (OnnxRuntimeException e)
            {
                throw new ServingException($"'{ArtifactPath.Combine(folder, fileName)}' of model '{version.Name}' version {version.Version} is not an ONNX model that ONNX Runtime can load: {e.Message}");
            }
        }
        finally
        {
            try
            {
                local.Delete(recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // On Windows, a file that ONNX Runtime still maps cannot be deleted; it is left in the temp folder.
                LogCopyNotDeleted(logger, local.FullName, e);
            }
        }
    }

    private async Task CopyArtifactAsync(ModelVersion version, string path, Stream destination, CancellationToken cancellationToken)
    {
        var stream = await artifacts.OpenReadAsync(path, cancellationToken)
            ?? throw new ServingException($"The file '{path}' of model '{version.Name}' version {version.Version} disappeared.");
        await using (stream)
        {
            await stream.CopyToAsync(destination, cancellationToken);
        }
    }

    private static bool IsModelFile(string path) =>
        path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);

    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Loaded {Kind} model {Name} version {Version} from {Path}")]
    private static partial void LogLoaded(ILogger logger, string kind, string name, string version, string path);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Could not delete the local copy {Path} of an ONNX model")]
    private static partial void LogCopyNotDeleted(ILogger logger, string path, Exception exception);
}
