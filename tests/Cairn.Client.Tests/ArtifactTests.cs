using System.Net;
using Cairn.Client.Tests.TestDoubles;

namespace Cairn.Client.Tests;

public sealed class ArtifactTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("cairn-client-tests-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Theory]
    [InlineData("mlflow-artifacts:/1/abc/artifacts", "1/abc/artifacts")]
    [InlineData("mlflow-artifacts:///1/abc/artifacts/", "1/abc/artifacts")]
    [InlineData("mlflow-artifacts://localhost:5000/1/abc/artifacts", "1/abc/artifacts")]
    [InlineData("mlflow-artifacts://host", "")]
    public void ToProxyPath_MlflowArtifactsUri_StripsSchemeAndAuthority(string uri, string expected)
    {
        Assert.Equal(expected, ArtifactPaths.ToProxyPath(uri));
    }

    [Theory]
    [InlineData("s3://bucket/1/abc/artifacts")]
    [InlineData("file:///tmp/mlruns/1/abc/artifacts")]
    public void ToProxyPath_OtherScheme_Throws(string uri)
    {
        Assert.Throws<NotSupportedException>(() => ArtifactPaths.ToProxyPath(uri));
    }

    [Theory]
    [InlineData(null, "")]
    [InlineData("", "")]
    [InlineData("/a//b/", "a/b")]
    [InlineData("a\\b\\c.txt", "a/b/c.txt")]
    public void Normalize_RelativePath_UsesSingleForwardSlashes(string? path, string expected)
    {
        Assert.Equal(expected, ArtifactPaths.Normalize(path));
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("a/./b")]
    public void Normalize_DotSegments_Throws(string path)
    {
        Assert.Throws<ArgumentException>(() => ArtifactPaths.Normalize(path));
    }

    [Fact]
    public void ProxyRequestPath_SpecialCharacters_EscapesEachSegment()
    {
        var path = ArtifactPaths.ProxyRequestPath("mlflow-artifacts:/1/abc/artifacts", "my plots/a#1?.png");

        Assert.Equal("api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/my%20plots/a%231%3F.png", path);
    }

    [Fact]
    public async Task UploadArtifactAsync_LocalFile_PutsBytesToProxiedPath()
    {
        var file = Path.Combine(_temp, "weights.bin");
        var bytes = Enumerable.Range(0, 200_000).Select(i => (byte)i).ToArray();
        await File.WriteAllBytesAsync(file, bytes, Ct);
        var handler = new RecordingHandler();
        using var client = TestClients.Create(handler);

        await client.UploadArtifactAsync(RecordingHandler.ArtifactUri, "model/weights.bin", file, Ct);

        var request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Put, request.Method);
        Assert.Equal($"/api/2.0/mlflow-artifacts/artifacts/7/{RecordingHandler.RunId}/artifacts/model/weights.bin", request.Path);
        Assert.Equal("application/octet-stream", request.ContentType);
        Assert.Equal(bytes.Length, request.ContentLength);
        Assert.Equal(bytes, request.Body);
    }

    [Fact]
    public async Task UploadArtifactAsync_CallersStream_DoesNotDisposeIt()
    {
        var handler = new RecordingHandler();
        using var client = TestClients.Create(handler);
        using var stream = new MemoryStream([1, 2, 3, 4]);
        stream.Position = 1;

        await client.UploadArtifactAsync(RecordingHandler.ArtifactUri, "x.bin", stream, Ct);

        Assert.True(stream.CanRead);
        Assert.Equal([2, 3, 4], Assert.Single(handler.Requests).Body);
    }

    [Fact]
    public async Task UploadArtifactAsync_EmptyArtifactPath_Throws()
    {
        using var client = TestClients.Create(new RecordingHandler());
        using var stream = new MemoryStream();

        await Assert.ThrowsAsync<ArgumentException>(() => client.UploadArtifactAsync(RecordingHandler.ArtifactUri, "/", stream, Ct));
    }

    [Fact]
    public async Task DownloadArtifactAsync_LocalFile_WritesBodyAndCreatesFolders()
    {
        var handler = new RecordingHandler
        {
            Respond = _ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent([9, 8, 7]) },
        };
        using var client = TestClients.Create(handler);
        var target = Path.Combine(_temp, "a", "b", "out.bin");

        await client.DownloadArtifactAsync(RecordingHandler.ArtifactUri, "sub/out.bin", target, Ct);

        Assert.Equal([9, 8, 7], await File.ReadAllBytesAsync(target, Ct));
        Assert.Equal($"/api/2.0/mlflow-artifacts/artifacts/7/{RecordingHandler.RunId}/artifacts/sub/out.bin", Assert.Single(handler.Requests).Path);
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(target)!));
    }

    [Fact]
    public async Task DownloadArtifactAsync_NotFound_ThrowsAndKeepsExistingFile()
    {
        var handler = new RecordingHandler { Respond = _ => RecordingHandler.Error(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", "File not found") };
        using var client = TestClients.Create(handler);
        var target = Path.Combine(_temp, "keep.txt");
        await File.WriteAllTextAsync(target, "old", Ct);

        var e = await Assert.ThrowsAsync<CairnApiException>(() => client.DownloadArtifactAsync(RecordingHandler.ArtifactUri, "missing.txt", target, Ct));

        Assert.Equal("RESOURCE_DOES_NOT_EXIST", e.ErrorCode);
        Assert.Equal("old", await File.ReadAllTextAsync(target, Ct));
        Assert.Single(Directory.GetFiles(_temp));
    }

    [Fact]
    public async Task ListArtifactsAsync_WithPath_QueriesRunIdAndPath()
    {
        var handler = new RecordingHandler
        {
            Respond = _ => RecordingHandler.Json("""{"root_uri":"mlflow-artifacts:/7/r/artifacts","files":[{"path":"dir/a.txt","is_dir":false,"file_size":3}]}"""),
        };
        using var client = TestClients.Create(handler);

        var listing = await client.ListArtifactsAsync("r", "dir", cancellationToken: Ct);

        var file = Assert.Single(listing.Files!);
        Assert.Equal("dir/a.txt", file.Path);
        Assert.Equal(3, file.FileSize);
        var request = Assert.Single(handler.Requests);
        Assert.Equal("/api/2.0/mlflow/artifacts/list", request.Path);
        Assert.Equal("r", request.Query("run_id"));
        Assert.Equal("dir", request.Query("path"));
    }

    [Fact]
    public async Task LogArtifactAsync_WithArtifactPath_UploadsUnderFolderKeepingFileName()
    {
        var file = Path.Combine(_temp, "report.txt");
        await File.WriteAllTextAsync(file, "hello", Ct);
        var handler = new RecordingHandler();
        using var client = TestClients.Create(handler);
        await using var run = await client.StartRunByExperimentIdAsync("7", cancellationToken: Ct);

        await run.LogArtifactAsync(file, "reports/v1", Ct);

        var upload = Assert.Single(handler.Requests, r => r.Method == HttpMethod.Put);
        Assert.EndsWith("/artifacts/reports/v1/report.txt", upload.Path, StringComparison.Ordinal);
        Assert.Equal("hello", upload.BodyText);
    }

    [Fact]
    public async Task LogArtifactsAsync_NestedFolder_UploadsEveryFileWithRelativePaths()
    {
        var root = Path.Combine(_temp, "out");
        Directory.CreateDirectory(Path.Combine(root, "nested", "deeper"));
        await File.WriteAllTextAsync(Path.Combine(root, "a.txt"), "a", Ct);
        await File.WriteAllTextAsync(Path.Combine(root, "nested", "b.txt"), "b", Ct);
        await File.WriteAllTextAsync(Path.Combine(root, "nested", "deeper", "c.txt"), "c", Ct);
        var handler = new RecordingHandler();
        using var client = TestClients.Create(handler);
        await using var run = await client.StartRunByExperimentIdAsync("7", cancellationToken: Ct);

        await run.LogArtifactsAsync(root, "data", Ct);

        var prefix = $"/api/2.0/mlflow-artifacts/artifacts/7/{RecordingHandler.RunId}/artifacts/";
        var uploads = handler.Requests.Where(r => r.Method == HttpMethod.Put).ToDictionary(r => r.Path[prefix.Length..], r => r.BodyText);
        Assert.Equal(
            new Dictionary<string, string> { ["data/a.txt"] = "a", ["data/nested/b.txt"] = "b", ["data/nested/deeper/c.txt"] = "c" },
            uploads);
    }

    [Fact]
    public async Task DownloadArtifactAsync_OnRun_UsesRunsArtifactRoot()
    {
        var handler = new RecordingHandler();
        using var client = TestClients.Create(handler);
        await using var run = await client.StartRunByExperimentIdAsync("7", cancellationToken: Ct);
        handler.Respond = r => r.Method == HttpMethod.Get ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent([1]) } : null;

        await run.DownloadArtifactAsync("x/y.bin", Path.Combine(_temp, "y.bin"), Ct);

        Assert.EndsWith($"/7/{RecordingHandler.RunId}/artifacts/x/y.bin", handler.Requests[^1].Path, StringComparison.Ordinal);
    }
}
