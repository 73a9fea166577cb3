using System.Net.Http.Headers;
using Cairn.Contracts.Mlflow;

namespace Cairn.Client;

// Artifacts through the server's artifact proxy (/api/2.0/mlflow-artifacts/artifacts/...), streamed both ways.
public sealed partial class CairnClient
{
    private const int FileBufferSize = 81920;

    private static readonly MediaTypeHeaderValue s_octetStream = new("application/octet-stream");

    /// <summary>Uploads <paramref name="content"/> as the file <paramref name="artifactPath"/> under an artifact root, streaming it (<c>PUT mlflow-artifacts/artifacts/...</c>).</summary>
    /// <param name="artifactUri">The artifact root, such as a run's <c>artifact_uri</c> (<c>mlflow-artifacts:/1/&lt;run_id&gt;/artifacts</c>).</param>
    /// <param name="artifactPath">The file's path relative to the root, such as <c>model/weights.bin</c>.</param>
    /// <param name="content">The bytes to upload, read from its current position; the stream is not disposed.</param>
    /// <param name="cancellationToken">A token that cancels the upload.</param>
    /// <exception cref="NotSupportedException"><paramref name="artifactUri"/> is not an <c>mlflow-artifacts:</c> URI.</exception>
    public async Task UploadArtifactAsync(string artifactUri, string artifactPath, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(artifactUri);
        ArgumentNullException.ThrowIfNull(content);
        var relative = ArtifactPath(artifactUri, artifactPath);
        using var request = new HttpRequestMessage(HttpMethod.Put, Url(relative)) { Content = new NonDisposingStreamContent(content) };
        request.Content.Headers.ContentType = s_octetStream;
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Uploads a local file as the file <paramref name="artifactPath"/> under an artifact root, streaming it from disk.</summary>
    /// <param name="artifactUri">The artifact root, such as a run's <c>artifact_uri</c>.</param>
    /// <param name="artifactPath">The file's path relative to the root.</param>
    /// <param name="localFile">The file to upload.</param>
    /// <param name="cancellationToken">A token that cancels the upload.</param>
    public async Task UploadArtifactAsync(string artifactUri, string artifactPath, string localFile, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(artifactUri);
        ArgumentException.ThrowIfNullOrEmpty(localFile);
        _ = ArtifactPath(artifactUri, artifactPath);
        var stream = new FileStream(localFile, FileMode.Open, FileAccess.Read, FileShare.Read, FileBufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (stream.ConfigureAwait(false))
        {
            await UploadArtifactAsync(artifactUri, artifactPath, stream, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Lists a run's artifacts directly under <paramref name="path"/> (<c>GET artifacts/list</c>); paths in the answer are relative to the run's artifact root.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="path">A folder relative to the run's artifact root; the root when null.</param>
    /// <param name="pageToken">The <c>next_page_token</c> of the previous page, for servers that page listings.</param>
    /// <param name="cancellationToken">A token that cancels the call.</param>
    public Task<ListArtifactsResponse> ListArtifactsAsync(string runId, string? path = null, string? pageToken = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        var normalized = ArtifactPaths.Normalize(path, nameof(path));
        var query = WithQuery(
            "artifacts/list",
            ("run_id", runId),
            ("path", normalized.Length == 0 ? null : normalized),
            ("page_token", string.IsNullOrEmpty(pageToken) ? null : pageToken));
        return GetAsync(query, Json.ListArtifactsResponse, cancellationToken);
    }

    /// <summary>Downloads the file <paramref name="artifactPath"/> under an artifact root into <paramref name="destination"/>, streaming it.</summary>
    /// <param name="artifactUri">The artifact root, such as a run's <c>artifact_uri</c>.</param>
    /// <param name="artifactPath">The file's path relative to the root.</param>
    /// <param name="destination">The stream to write to; it is not disposed.</param>
    /// <param name="cancellationToken">A token that cancels the download.</param>
    public async Task DownloadArtifactAsync(string artifactUri, string artifactPath, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(artifactUri);
        ArgumentNullException.ThrowIfNull(destination);
        var relative = ArtifactPath(artifactUri, artifactPath);
        using var request = new HttpRequestMessage(HttpMethod.Get, Url(relative));
        using var response = await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            await body.CopyToAsync(destination, FileBufferSize, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Downloads the file <paramref name="artifactPath"/> under an artifact root to <paramref name="localFile"/>, streaming it; the local file is replaced only once the download completed.</summary>
    /// <param name="artifactUri">The artifact root, such as a run's <c>artifact_uri</c>.</param>
    /// <param name="artifactPath">The file's path relative to the root.</param>
    /// <param name="localFile">Where to write the file; missing folders are created.</param>
    /// <param name="cancellationToken">A token that cancels the download.</param>
    public async Task DownloadArtifactAsync(string artifactUri, string artifactPath, string localFile, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(artifactUri);
        ArgumentException.ThrowIfNullOrEmpty(localFile);
        _ = ArtifactPath(artifactUri, artifactPath);
        var fullPath = Path.GetFullPath(localFile);
        Directory.CreateDirectory(Path.GetDirectoryName(fullPath)!);
        var partial = $"{fullPath}.{Guid.NewGuid():N}.partial";
        try
        {
            var file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileBufferSize, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                await DownloadArtifactAsync(artifactUri, artifactPath, file, cancellationToken).ConfigureAwait(false);
            }

            File.Move(partial, fullPath, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
        }
    }

    private static string ArtifactPath(string artifactUri, string artifactPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(artifactPath);
        if (ArtifactPaths.Normalize(artifactPath, nameof(artifactPath)).Length == 0)
        {
            throw new ArgumentException("The artifact path must name a file.", nameof(artifactPath));
        }

        return ArtifactPaths.ProxyRequestPath(artifactUri, artifactPath);
    }

    /// <summary>Streams a caller's stream as a request body without disposing it, rewinding it if the handler sends the body again.</summary>
    private sealed class NonDisposingStreamContent(Stream content) : HttpContent
    {
        private readonly long _start = content.CanSeek ? content.Position : -1;
        private bool _sent;

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken)
        {
            if (_sent)
            {
                if (_start < 0)
                {
                    throw new InvalidOperationException("The artifact stream cannot be sent twice because it is not seekable.");
                }

                content.Position = _start;
            }

            _sent = true;
            await content.CopyToAsync(stream, FileBufferSize, cancellationToken).ConfigureAwait(false);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _start >= 0 ? content.Length - _start : 0;
            return _start >= 0;
        }
    }
}
