using System.Text;

namespace Cairn.Client;

/// <summary>Builds the paths of MLflow's proxied artifact service from artifact URIs and relative artifact paths.</summary>
internal static class ArtifactPaths
{
    private const string Scheme = "mlflow-artifacts:";

    /// <summary>Maps <c>mlflow-artifacts:/1/abc/artifacts</c> (or <c>mlflow-artifacts://host:port/1/abc/artifacts</c>) to <c>1/abc/artifacts</c>.</summary>
    public static string ToProxyPath(string artifactUri)
    {
        if (!artifactUri.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            throw new NotSupportedException(
                $"The artifact URI '{artifactUri}' is not served by the tracking server's artifact proxy; only '{Scheme}' URIs are supported.");
        }

        var rest = artifactUri[Scheme.Length..];
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            var slash = rest.IndexOf('/', 2);
            rest = slash < 0 ? string.Empty : rest[slash..];
        }

        return Normalize(rest, nameof(artifactUri));
    }

    /// <summary>Turns a relative artifact path into <c>a/b/c</c> form: forward slashes, no leading, trailing or doubled slashes; rejects <c>.</c> and <c>..</c> segments.</summary>
    public static string Normalize(string? path, string parameterName = "artifactPath")
    {
        if (string.IsNullOrEmpty(path))
        {
            return string.Empty;
        }

        var segments = path.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        foreach (var segment in segments)
        {
            if (segment is "." or "..")
            {
                throw new ArgumentException($"The artifact path '{path}' must not contain '.' or '..' segments.", parameterName);
            }
        }

        return string.Join('/', segments);
    }

    /// <summary>Joins normalized paths, skipping empty ones.</summary>
    public static string Combine(string first, string second) =>
        first.Length == 0 ? second : second.Length == 0 ? first : first + "/" + second;

    /// <summary>URL-escapes each segment of a normalized path.</summary>
    public static string Escape(string path)
    {
        if (path.Length == 0)
        {
            return path;
        }

        var builder = new StringBuilder(path.Length + 16);
        foreach (var segment in path.Split('/'))
        {
            if (builder.Length > 0)
            {
                builder.Append('/');
            }

            builder.Append(Uri.EscapeDataString(segment));
        }

        return builder.ToString();
    }

    /// <summary>The request path (relative to the server's base address) of a file in an artifact root.</summary>
    public static string ProxyRequestPath(string artifactUri, string artifactPath) =>
        "api/2.0/mlflow-artifacts/artifacts/" + Escape(Combine(ToProxyPath(artifactUri), Normalize(artifactPath)));
}
