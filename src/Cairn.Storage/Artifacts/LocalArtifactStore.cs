using Cairn.Core.Artifacts;

namespace Cairn.Storage.Artifacts;

/// <summary>Stores artifacts as files under a root folder.</summary>
/// <remarks>Thread-safe. Writes go to a temporary file that is renamed into place, so readers never see a partial file.</remarks>
public sealed class LocalArtifactStore : IArtifactStore
{
    private const int CopyBufferSize = 81920;
    private readonly string _root;

    /// <summary>Creates a store rooted at <paramref name="rootDirectory"/>, creating the folder if needed.</summary>
    public LocalArtifactStore(string rootDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootDirectory);
        _root = Path.GetFullPath(rootDirectory);
        Directory.CreateDirectory(_root);
    }

    /// <summary>The absolute root folder.</summary>
    public string RootDirectory => _root;

    /// <inheritdoc />
    public async Task WriteAsync(string path, Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        var target = Resolve(path);
        if (target == _root || Directory.Exists(target))
        {
            throw Core.Tracking.TrackingException.Invalid($"Cannot write artifact '{path}': a folder exists at that path.");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temp = target + "." + Guid.NewGuid().ToString("N") + ".partial";
        try
        {
            var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, CopyBufferSize, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                await content.CopyToAsync(file, CopyBufferSize, cancellationToken).ConfigureAwait(false);
            }

            File.Move(temp, target, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <inheritdoc />
    public Task<Stream?> OpenReadAsync(string path, CancellationToken cancellationToken)
    {
        var target = Resolve(path);
        if (!File.Exists(target))
        {
            return Task.FromResult<Stream?>(null);
        }

        Stream stream = new FileStream(target, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, CopyBufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return Task.FromResult<Stream?>(stream);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ArtifactEntry>> ListAsync(string path, CancellationToken cancellationToken)
    {
        var folder = Resolve(path);
        if (!Directory.Exists(folder))
        {
            return Task.FromResult<IReadOnlyList<ArtifactEntry>>([]);
        }

        var entries = new List<ArtifactEntry>();
        foreach (var info in new DirectoryInfo(folder).EnumerateFileSystemInfos())
        {
            if (info is FileInfo file)
            {
                if (!file.Name.EndsWith(".partial", StringComparison.Ordinal))
                {
                    entries.Add(new ArtifactEntry(file.Name, false, file.Length));
                }
            }
            else
            {
                entries.Add(new ArtifactEntry(info.Name, true, null));
            }
        }

        entries.Sort(static (a, b) => string.CompareOrdinal(a.Path, b.Path));
        return Task.FromResult<IReadOnlyList<ArtifactEntry>>(entries);
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string path, CancellationToken cancellationToken)
    {
        var target = Resolve(path);
        if (File.Exists(target))
        {
            File.Delete(target);
            return Task.FromResult(true);
        }

        if (Directory.Exists(target) && target != _root)
        {
            Directory.Delete(target, recursive: true);
            return Task.FromResult(true);
        }

        return Task.FromResult(false);
    }

    private string Resolve(string path)
    {
        var relative = ArtifactPath.Normalize(path);
        var full = Path.GetFullPath(Path.Combine(_root, relative));

        // Defence in depth: Normalize already refuses traversal; this also catches symlinked roots and platform quirks.
        if (full != _root && !full.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw Core.Tracking.TrackingException.Invalid($"Invalid artifact path: '{path}'.");
        }

        return full;
    }
}
