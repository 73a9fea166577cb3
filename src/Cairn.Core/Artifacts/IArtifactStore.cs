namespace Cairn.Core.Artifacts;

/// <summary>A file or folder in the artifact store.</summary>
/// <param name="Path">The path relative to the listed folder, with forward slashes.</param>
/// <param name="IsDirectory">Whether the entry is a folder.</param>
/// <param name="Size">The file size in bytes; null for folders.</param>
public sealed record ArtifactEntry(string Path, bool IsDirectory, long? Size);

/// <summary>Stores artifact files under relative paths; a local folder today, S3-compatible storage later.</summary>
/// <remarks>
/// Paths are relative, use forward slashes and are validated by <see cref="ArtifactPath.Normalize"/> before they reach an
/// implementation. Content is streamed; implementations never buffer a whole file in memory.
/// </remarks>
public interface IArtifactStore
{
    /// <summary>Writes <paramref name="content"/> to <paramref name="path"/>, replacing any file there; the file appears whole or not at all.</summary>
    Task WriteAsync(string path, Stream content, CancellationToken cancellationToken);

    /// <summary>Opens the file at <paramref name="path"/> for reading, or returns null when there is none.</summary>
    Task<Stream?> OpenReadAsync(string path, CancellationToken cancellationToken);

    /// <summary>Lists the direct children of the folder at <paramref name="path"/> (empty for the root); empty when it does not exist.</summary>
    Task<IReadOnlyList<ArtifactEntry>> ListAsync(string path, CancellationToken cancellationToken);

    /// <summary>Deletes the file or folder at <paramref name="path"/>; returns false when nothing was there.</summary>
    Task<bool> DeleteAsync(string path, CancellationToken cancellationToken);
}
