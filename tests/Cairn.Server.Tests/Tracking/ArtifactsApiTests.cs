using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Cairn.Server.Tests.Tracking;

/// <summary>The proxied artifact service: uploads, downloads, listings, deletes and path-traversal refusal (issue #2).</summary>
public sealed class ArtifactsApiTests : IAsyncLifetime
{
    private CairnTestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await CairnTestServer.StartAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task PutGetListDelete_RoundTripsFiles()
    {
        await PutAsync("/api/2.0/mlflow-artifacts/artifacts/0/run1/artifacts/model/MLmodel", "flavors: {}\n");
        await PutAsync("/api/2.0/mlflow-artifacts/artifacts/0/run1/artifacts/model/data/weights.bin", "0123456789");

        var text = await _server.Client.GetStringAsync("/api/2.0/mlflow-artifacts/artifacts/0/run1/artifacts/model/MLmodel");
        Assert.Equal("flavors: {}\n", text);

        var list = await _server.GetAsync("/api/2.0/mlflow-artifacts/artifacts?path=0%2Frun1%2Fartifacts%2Fmodel");
        var files = list["files"]!.AsArray();
        Assert.Equal(2, files.Count);
        Assert.Equal("MLmodel", files[0]!["path"]!.GetValue<string>());
        Assert.Equal(12, files[0]!["file_size"]!.GetValue<long>());
        Assert.Equal("data", files[1]!["path"]!.GetValue<string>());
        Assert.True(files[1]!["is_dir"]!.GetValue<bool>());

        using var delete = await _server.Client.DeleteAsync("/api/2.0/mlflow-artifacts/artifacts/0/run1/artifacts/model/MLmodel");
        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        using var gone = await _server.Client.GetAsync("/api/2.0/mlflow-artifacts/artifacts/0/run1/artifacts/model/MLmodel");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);

        var empty = await _server.GetAsync("/api/2.0/mlflow-artifacts/artifacts?path=nothing");
        Assert.Empty(empty);
    }

    [Fact]
    public async Task RunArtifactList_UsesRunArtifactUri()
    {
        var run = await _server.PostJsonAsync("/api/2.0/mlflow/runs/create", """{"experiment_id":"0"}""");
        var info = run["run"]!["info"]!;
        var runId = info["run_id"]!.GetValue<string>();
        Assert.Equal($"mlflow-artifacts:/0/{runId}/artifacts", info["artifact_uri"]!.GetValue<string>());
        await PutAsync($"/api/2.0/mlflow-artifacts/artifacts/0/{runId}/artifacts/model/MLmodel", "x");
        await PutAsync($"/api/2.0/mlflow-artifacts/artifacts/0/{runId}/artifacts/readme.txt", "hello");

        var root = await _server.GetAsync($"/api/2.0/mlflow/artifacts/list?run_id={runId}");
        Assert.Equal($"mlflow-artifacts:/0/{runId}/artifacts", root["root_uri"]!.GetValue<string>());
        Assert.Equal(["model", "readme.txt"], root["files"]!.AsArray().Select(static f => f!["path"]!.GetValue<string>()));

        var sub = await _server.GetAsync($"/api/2.0/mlflow/artifacts/list?run_id={runId}&path=model");
        Assert.Equal("model/MLmodel", sub["files"]![0]!["path"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("/api/2.0/mlflow-artifacts/artifacts/..%2F..%2Fescape.txt")]
    [InlineData("/api/2.0/mlflow-artifacts/artifacts/a/..%2F..%2F..%2Fescape.txt")]
    [InlineData("/api/2.0/mlflow-artifacts/artifacts/%2Fetc%2Fescape.txt")]
    [InlineData("/api/2.0/mlflow-artifacts/artifacts/a/%252e%252e/%252e%252e/escape.txt")]
    [InlineData("/api/2.0/mlflow-artifacts/artifacts/a%5C..%5C..%5Cescape.txt")]
    public async Task Put_TraversalPath_Returns400AndWritesNothingOutsideRoot(string path)
    {
        using var content = new StringContent("pwned");
        using var response = await _server.Client.PutAsync(path, content);
        var body = await CairnTestServer.ReadAsync(response, 400);
        Assert.Equal("INVALID_PARAMETER_VALUE", body["error_code"]!.GetValue<string>());
        Assert.Empty(Directory.EnumerateFiles(_server.DataDirectory, "escape.txt", SearchOption.AllDirectories));
        Assert.Empty(Directory.EnumerateFiles(Path.GetTempPath(), "escape.txt", SearchOption.TopDirectoryOnly));
    }

    [Theory]
    [InlineData("/api/2.0/mlflow-artifacts/artifacts?path=..%2F..")]
    [InlineData("/api/2.0/mlflow-artifacts/artifacts?path=%2Fetc")]
    [InlineData("/api/2.0/mlflow-artifacts/artifacts/..%2F..%2Fcairn.db")]
    public async Task Get_TraversalPath_Returns400(string path)
    {
        var body = await _server.GetAsync(path, 400);
        Assert.Equal("INVALID_PARAMETER_VALUE", body["error_code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Put_LargeFile_IsStreamedAndReadBackWhole()
    {
        // 64 MiB: above Kestrel's default 30 MB body limit, produced and consumed as streams.
        const long size = 64L * 1024 * 1024;
        using var upload = new StreamContent(new PatternStream(size));
        using (var put = await _server.Client.PutAsync("/api/2.0/mlflow-artifacts/artifacts/big/weights.bin", upload))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        using var response = await _server.Client.GetAsync("/api/2.0/mlflow-artifacts/artifacts/big/weights.bin", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.MediaType);
        await using var stream = await response.Content.ReadAsStreamAsync();
        using var expected = new PatternStream(size);
        Assert.Equal(await SHA256.HashDataAsync(expected), await SHA256.HashDataAsync(stream));
    }

    [Fact]
    public async Task Put_NameWithPercentSign_IsKeptAsWritten()
    {
        await PutAsync("/api/2.0/mlflow-artifacts/artifacts/x/" + Uri.EscapeDataString("100%41 done.txt"), "ok");
        var list = await _server.GetAsync("/api/2.0/mlflow-artifacts/artifacts?path=x");
        Assert.Equal("100%41 done.txt", list["files"]![0]!["path"]!.GetValue<string>());
        Assert.Equal("ok", await _server.Client.GetStringAsync("/api/2.0/mlflow-artifacts/artifacts/x/" + Uri.EscapeDataString("100%41 done.txt")));
    }

    [Fact]
    public async Task Get_HtmlArtifact_IsServedAsPlainTextWithNoSniff()
    {
        await PutAsync("/api/2.0/mlflow-artifacts/artifacts/x/page.html", "<script>alert(1)</script>");
        using var response = await _server.Client.GetAsync("/api/2.0/mlflow-artifacts/artifacts/x/page.html");
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }

    private async Task PutAsync(string path, string text)
    {
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
        using var response = await _server.Client.PutAsync(path, content);
        var body = await CairnTestServer.ReadAsync(response, 200);
        Assert.Equal("{}", body.ToJsonString());
    }

    /// <summary>A read-only stream of a deterministic byte pattern, so large uploads need no memory or disk.</summary>
    private sealed class PatternStream(long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            for (var i = 0; i < n; i++)
            {
                buffer[offset + i] = (byte)((_position + i) % 251);
            }

            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
