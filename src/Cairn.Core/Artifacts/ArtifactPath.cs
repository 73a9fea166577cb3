using Cairn.Core.Tracking;

namespace Cairn.Core.Artifacts;

/// <summary>Validates and normalises artifact paths so that nothing can address a file outside the artifact root.</summary>
public static class ArtifactPath
{
    /// <summary>
    /// Returns <paramref name="path"/> as a clean relative path ("a/b/c", "" for the root), or throws an
    /// <see cref="TrackingErrorCode.InvalidParameterValue"/> error for absolute paths, drive letters, <c>..</c> segments,
    /// backslashes, NUL characters, or percent-encoded forms of those that survived URL decoding.
    /// </summary>
    public static string Normalize(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return string.Empty;
        }

        // A path that still contains an encoded separator or dot after routing decoded it once is an attempt to smuggle one.
        var decoded = Uri.UnescapeDataString(path);
        foreach (var candidate in decoded == path ? [path] : new[] { path, decoded })
        {
            if (candidate.Contains('\0', StringComparison.Ordinal) || candidate.Contains('\\', StringComparison.Ordinal))
            {
                throw Invalid(path);
            }

            if (candidate.StartsWith('/') || (candidate.Length >= 2 && candidate[1] == ':'))
            {
                throw Invalid(path);
            }

            foreach (var segment in candidate.Split('/'))
            {
                if (segment is ".." or ".")
                {
                    throw Invalid(path);
                }
            }
        }

        if (decoded != path)
        {
            // Encoded characters in an already-decoded path are refused rather than guessed at.
            throw Invalid(path);
        }

        return string.Join('/', path.Split('/', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>Joins two normalised relative paths.</summary>
    public static string Combine(string first, string second) =>
        first.Length == 0 ? second : second.Length == 0 ? first : first + "/" + second;

    private static TrackingException Invalid(string path) =>
        TrackingException.Invalid($"Invalid artifact path: '{path}'. Artifact paths must be relative and may not contain '..', '.', backslashes or encoded separators.");
}
