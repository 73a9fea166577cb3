using Cairn.Contracts.Mlflow;
using Cairn.Core.Artifacts;
using Cairn.Core.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using static Cairn.Server.Tracking.MlflowHttp;

namespace Cairn.Server.Tracking;

/// <summary>MLflow's proxied artifact service (<c>/api/2.0/mlflow-artifacts/artifacts</c>) and the artifact listings of runs and logged models.</summary>
internal static class MlflowArtifactsApi
{
    private const string Scheme = "mlflow-artifacts:";

    private static readonly HashSet<string> s_textExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ".txt", ".log", ".err", ".cfg", ".conf", ".cnf", ".cf", ".ini", ".properties", ".prop", ".hocon", ".toml", ".yaml",
        ".yml", ".xml", ".json", ".js", ".py", ".py3", ".csv", ".tsv", ".md", ".rst", ".jsonnet", ".mlmodel", ".cs", ".sql", ".html", ".svg",
    };

    private static readonly Dictionary<string, string> s_imageTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".png"] = "image/png",
        [".jpg"] = "image/jpeg",
        [".jpeg"] = "image/jpeg",
        [".gif"] = "image/gif",
        [".bmp"] = "image/bmp",
        [".webp"] = "image/webp",
    };

    public static void MapMlflowArtifacts(this IEndpointRouteBuilder endpoints)
    {
        foreach (var prefix in new[] { "/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts" })
        {
            var group = endpoints.MapGroup(prefix).AddEndpointFilter<MlflowErrorFilter>().WithTags("MLflow artifacts");
            group.MapGet("/artifacts", ListAsync);
            group.MapPut("/artifacts/{**path}", UploadAsync);
            group.MapGet("/artifacts/{**path}", DownloadAsync);
            group.MapDelete("/artifacts/{**path}", DeleteAsync);
        }
    }

    private static async Task<IResult> ListAsync(HttpContext context, IArtifactStore store)
    {
        var path = ArtifactPath.Normalize(Query(context, "path"));
        var entries = await store.ListAsync(path, context.RequestAborted);
        return Ok(new ListArtifactsResponse { Files = ToFiles(entries, prefix: string.Empty) }, Json.ListArtifactsResponse);
    }

    private static async Task<IResult> UploadAsync(string path, HttpContext context, IArtifactStore store)
    {
        var normalized = ArtifactPath.Normalize(path);
        if (normalized.Length == 0)
        {
            throw TrackingException.Invalid("An artifact path is required.");
        }

        // Models can be gigabytes: lift Kestrel's default body limit for uploads; the body is streamed to disk, never buffered.
        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = null;
        }

        await store.WriteAsync(normalized, context.Request.Body, context.RequestAborted);
        return Empty();
    }

    private static async Task<IResult> DownloadAsync(string path, HttpContext context, IArtifactStore store)
    {
        var normalized = ArtifactPath.Normalize(path);
        var stream = await store.OpenReadAsync(normalized, context.RequestAborted)
            ?? throw TrackingException.NotFound($"File not found: {normalized}");
        context.Response.Headers.XContentTypeOptions = "nosniff";
        var fileName = normalized[(normalized.LastIndexOf('/') + 1)..];
        return TypedResults.Stream(stream, ContentType(fileName), enableRangeProcessing: true);
    }

    private static async Task<IResult> DeleteAsync(string path, HttpContext context, IArtifactStore store)
    {
        var normalized = ArtifactPath.Normalize(path);
        if (normalized.Length == 0)
        {
            throw TrackingException.Invalid("Refusing to delete the artifact root.");
        }

        if (!await store.DeleteAsync(normalized, context.RequestAborted))
        {
            throw TrackingException.NotFound($"File not found: {normalized}");
        }

        return Empty();
    }

    /// <summary><c>GET /api/2.0/mlflow/artifacts/list?run_id=&amp;path=</c>: a run's artifacts, paths relative to the run's artifact root.</summary>
    public static async Task<IResult> ListRunArtifactsAsync(HttpContext context, IRunStore runs, IArtifactStore store)
    {
        var runId = Query(context, "run_id") ?? Query(context, "run_uuid");
        var run = await runs.GetRunAsync(Required(runId, "run_id"), context.RequestAborted);
        return await ListUnderAsync(context, store, run.Info.ArtifactUri, Query(context, "path"));
    }

    /// <summary><c>GET /api/2.0/mlflow/logged-models/{id}/artifacts/directories?artifact_directory_path=</c>.</summary>
    public static async Task<IResult> ListLoggedModelArtifactsAsync(string modelId, HttpContext context, ILoggedModelStore models, IArtifactStore store)
    {
        var model = await models.GetLoggedModelAsync(modelId, context.RequestAborted);
        return await ListUnderAsync(context, store, model.ArtifactUri, Query(context, "artifact_directory_path"));
    }

    private static async Task<IResult> ListUnderAsync(HttpContext context, IArtifactStore store, string rootUri, string? relative)
    {
        var sub = ArtifactPath.Normalize(relative);
        var root = ToStorePath(rootUri);
        var entries = root is null ? [] : await store.ListAsync(ArtifactPath.Combine(root, sub), context.RequestAborted);
        return Ok(new ListArtifactsResponse { RootUri = rootUri, Files = ToFiles(entries, sub) }, Json.ListArtifactsResponse);
    }

    /// <summary>Maps <c>mlflow-artifacts:/1/abc/artifacts</c> (or <c>mlflow-artifacts://host/1/...</c>) to the store path <c>1/abc/artifacts</c>; null for other schemes.</summary>
    public static string? ToStorePath(string artifactUri)
    {
        if (!artifactUri.StartsWith(Scheme, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = artifactUri[Scheme.Length..];
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            var slash = rest.IndexOf('/', 2);
            rest = slash < 0 ? string.Empty : rest[slash..];
        }

        return ArtifactPath.Normalize(rest.TrimStart('/'));
    }

    private static List<FileInfoDto>? ToFiles(IReadOnlyList<ArtifactEntry> entries, string prefix)
    {
        if (entries.Count == 0)
        {
            return null;
        }

        return entries.Select(e => new FileInfoDto
        {
            Path = ArtifactPath.Combine(prefix, e.Path),
            IsDir = e.IsDirectory,
            FileSize = e.Size,
        }).ToList();
    }

    private static string ContentType(string fileName)
    {
        var extension = Path.GetExtension(fileName);
        if (s_imageTypes.TryGetValue(extension, out var image))
        {
            return image;
        }

        // MLflow serves text artifacts (and extension-less names such as MLmodel) as text/plain so that no HTML or SVG is rendered.
        return s_textExtensions.Contains(extension) || fileName is "MLmodel" or "MLproject" or "Dockerfile" or "LICENSE"
            ? "text/plain"
            : "application/octet-stream";
    }
}
