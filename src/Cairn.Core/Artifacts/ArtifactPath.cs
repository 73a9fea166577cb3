using Cairn.Core.Tracking;

namespace Cairn.Core.Artifacts;

/// <summary>Validates and normalises artifact paths so that nothing can address a file outside the artifact root.</summary>
public static class ArtifactPath
{
    /// <summary>
    /// Returns <paramref name="path"/> as a clean relative path ("a/b/c", "" for the root), or throws an
    /// <see cref="TrackingErrorCode.InvalidParameterValue"/> error for absolute paths, drive letters, <c>..</c> or <c>.</c>
    /// segments, backslashes or NUL characters, whether written plainly or percent-encoded (routing has decoded the path
    /// once already; a second decoding exposes smuggled separators such as <c>..%2F</c>).
    /// </summary>
    /// <remarks>A name that merely contains a percent sign, such as <c>a%41.txt</c>, is kept as written.</remarks>
    public static string Normalize(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return string.Empty;
        }

        Check(path, path);
        var decoded = Uri.UnescapeDataString(path);
        if (decoded != path)
        {
            Check(decoded, path);
        }

        return string.Join('/', path.Split('/', StringSplitOptions.RemoveEmptyEntries));
    }

    private static void Check(string candidate, string original)
    {
        if (candidate.Contains('\0', StringComparison.Ordinal) || candidate.Contains('\\', StringComparison.Ordinal))
        {
            throw Invalid(original);
        }

        if (candidate.StartsWith('/') || (candidate.Length >= 2 && candidate[1] == ':'))
        {
            throw Invalid(original);
        }

        foreach (var segment in candidate.Split('/'))
        {
            if (segment is ".." or ".")
            {
                throw Invalid(original);
            }
        }
    }

    /// <summary>Joins two normalised relative paths.</summary>
    public static string Combine(string first, string second) =>
        first.Length == 0 ? second : second.Length == 0 ? first : first + "/" + second;

    private static TrackingException Invalid(string path) =>
        TrackingException.Invalid($"Invalid artifact path: '{path}'. Artifact paths must be relative and may not contain '..', '.', backslashes or encoded separators.");
}
