using System.Net;
using System.Text;
using Cairn.Client.Tests.TestDoubles;

namespace Cairn.Client.Tests;

public sealed class RegistryTests : IDisposable
{
    private const string VersionJson = """{"model_version":{"name":"iris","version":"3","source":"runs:/abc/model","run_id":"abc","aliases":["champion"]}}""";
    private const string DownloadUri = "mlflow-artifacts:/7/abc/artifacts/model";

    private readonly string _temp = Directory.CreateTempSubdirectory("cairn-client-registry-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Fact]
    public async Task CreateRegisteredModelAsync_NameAndTags_PostsThemAndReturnsModel()
    {
        var handler = new RecordingHandler { Respond = _ => RecordingHandler.Json("""{"registered_model":{"name":"iris","description":"d"}}""") };
        using var client = TestClients.Create(handler);

        var model = await client.CreateRegisteredModelAsync("iris", "d", [new("team", "ml")], Ct);

        Assert.Equal("iris", model.Name);
        var request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("/api/2.0/mlflow/registered-models/create", request.Path);
        Assert.Equal("iris", request.Json.GetProperty("name").GetString());
        Assert.Equal("d", request.Json.GetProperty("description").GetString());
        Assert.Equal("team", request.Json.GetProperty("tags")[0].GetProperty("key").GetString());
    }

    [Fact]
    public async Task GetOrCreateRegisteredModelAsync_AlreadyExists_ReturnsExistingModel()
    {
        var handler = new RecordingHandler
        {
            Respond = r => r.Path.EndsWith("/create", StringComparison.Ordinal)
                ? RecordingHandler.Error(HttpStatusCode.BadRequest, "RESOURCE_ALREADY_EXISTS", "exists")
                : RecordingHandler.Json("""{"registered_model":{"name":"iris"}}"""),
        };
        using var client = TestClients.Create(handler);

        var model = await client.GetOrCreateRegisteredModelAsync("iris", Ct);

        Assert.Equal("iris", model.Name);
        var get = Assert.Single(handler.RequestsTo("/registered-models/get"));
        Assert.Equal("iris", get.Query("name"));
    }

    [Fact]
    public async Task GetOrCreateRegisteredModelAsync_OtherError_Throws()
    {
        var handler = new RecordingHandler { Respond = _ => RecordingHandler.Error(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", "bad") };
        using var client = TestClients.Create(handler);

        var e = await Assert.ThrowsAsync<CairnApiException>(() => client.GetOrCreateRegisteredModelAsync("iris", Ct));

        Assert.Equal("INVALID_PARAMETER_VALUE", e.ErrorCode);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task GetRegisteredModelAsync_Missing_ThrowsNotFound()
    {
        var handler = new RecordingHandler { Respond = _ => RecordingHandler.Error(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", "no model") };
        using var client = TestClients.Create(handler);

        var e = await Assert.ThrowsAsync<CairnApiException>(() => client.GetRegisteredModelAsync("a b", Ct));

        Assert.Equal(HttpStatusCode.NotFound, e.StatusCode);
        Assert.Equal("a b", handler.Requests[0].Query("name"));
    }

    [Fact]
    public async Task CreateModelVersionAsync_SourceAndRun_PostsThem()
    {
        var handler = new RecordingHandler { Respond = _ => RecordingHandler.Json(VersionJson) };
        using var client = TestClients.Create(handler);

        var version = await client.CreateModelVersionAsync("iris", "runs:/abc/model", "abc", Ct);

        Assert.Equal("3", version.Version);
        var request = Assert.Single(handler.RequestsTo("/model-versions/create"));
        Assert.Equal("iris", request.Json.GetProperty("name").GetString());
        Assert.Equal("runs:/abc/model", request.Json.GetProperty("source").GetString());
        Assert.Equal("abc", request.Json.GetProperty("run_id").GetString());
    }

    [Fact]
    public async Task GetModelVersionAsync_NameAndVersion_SendsThemInQuery()
    {
        var handler = new RecordingHandler { Respond = _ => RecordingHandler.Json(VersionJson) };
        using var client = TestClients.Create(handler);

        var version = await client.GetModelVersionAsync("iris", "3", Ct);

        Assert.Equal("runs:/abc/model", version.Source);
        var request = Assert.Single(handler.RequestsTo("/model-versions/get"));
        Assert.Equal(HttpMethod.Get, request.Method);
        Assert.Equal("iris", request.Query("name"));
        Assert.Equal("3", request.Query("version"));
    }

    [Fact]
    public async Task SetRegisteredModelAliasAsync_Alias_PostsNameAliasVersion()
    {
        var handler = new RecordingHandler();
        using var client = TestClients.Create(handler);

        await client.SetRegisteredModelAliasAsync("iris", "champion", "3", Ct);

        var request = Assert.Single(handler.RequestsTo("/registered-models/alias"));
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("champion", request.Json.GetProperty("alias").GetString());
        Assert.Equal("3", request.Json.GetProperty("version").GetString());
    }

    [Fact]
    public async Task GetModelVersionByAliasAsync_Alias_GetsVersion()
    {
        var handler = new RecordingHandler { Respond = _ => RecordingHandler.Json(VersionJson) };
        using var client = TestClients.Create(handler);

        var version = await client.GetModelVersionByAliasAsync("iris", "champion", Ct);

        Assert.Equal("3", version.Version);
        var request = Assert.Single(handler.RequestsTo("/registered-models/alias"));
        Assert.Equal(HttpMethod.Get, request.Method);
        Assert.Equal("champion", request.Query("alias"));
    }

    [Fact]
    public async Task GetLatestVersionsAsync_NoVersions_ReturnsEmpty()
    {
        var handler = new RecordingHandler { Respond = _ => RecordingHandler.Json("{}") };
        using var client = TestClients.Create(handler);

        var versions = await client.GetLatestVersionsAsync("iris", ["Production"], Ct);

        Assert.Empty(versions);
        var request = Assert.Single(handler.RequestsTo("/registered-models/get-latest-versions"));
        Assert.Equal("Production", request.Json.GetProperty("stages")[0].GetString());
    }

    [Fact]
    public async Task GetModelVersionDownloadUriAsync_Version_ReturnsArtifactUri()
    {
        var handler = new RecordingHandler { Respond = _ => RecordingHandler.Json($$"""{"artifact_uri":"{{DownloadUri}}"}""") };
        using var client = TestClients.Create(handler);

        var uri = await client.GetModelVersionDownloadUriAsync("iris", "3", Ct);

        Assert.Equal(DownloadUri, uri);
        Assert.Equal("3", Assert.Single(handler.RequestsTo("/model-versions/get-download-uri")).Query("version"));
    }

    [Fact]
    public async Task RegisterModelAsync_NewModel_CreatesModelThenVersionWithRunsSource()
    {
        var handler = new RecordingHandler
        {
            Respond = r => r.Path.EndsWith("/model-versions/create", StringComparison.Ordinal)
                ? RecordingHandler.Json(VersionJson)
                : RecordingHandler.Json("""{"registered_model":{"name":"iris"}}"""),
        };
        using var client = TestClients.Create(handler);

        var version = await client.RegisterModelAsync("abc", "/model/", "iris", Ct);

        Assert.Equal("3", version.Version);
        Assert.Equal(
            ["/api/2.0/mlflow/registered-models/create", "/api/2.0/mlflow/model-versions/create"],
            handler.Requests.Select(r => r.Path));
        var create = handler.Requests[1].Json;
        Assert.Equal("runs:/abc/model", create.GetProperty("source").GetString());
        Assert.Equal("abc", create.GetProperty("run_id").GetString());
    }

    [Fact]
    public async Task DownloadModelAsync_Alias_DownloadsEveryFileRecursively()
    {
        var handler = new RecordingHandler { Respond = ServeModel };
        using var client = TestClients.Create(handler);
        var target = Path.Combine(_temp, "out");

        var version = await client.DownloadModelAsync("iris", "champion", target, Ct);

        Assert.Equal("3", version.Version);
        Assert.Single(handler.RequestsTo("/registered-models/alias"));
        Assert.Equal("3", Assert.Single(handler.RequestsTo("/model-versions/get-download-uri")).Query("version"));
        Assert.Equal("zip-bytes", await File.ReadAllTextAsync(Path.Combine(target, "model.zip"), Ct));
        Assert.Equal("x: 1", await File.ReadAllTextAsync(Path.Combine(target, "conf", "settings.yaml"), Ct));
        Assert.Equal([Path.Combine("conf", "settings.yaml"), "model.zip"], Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(target, f)).Order(StringComparer.Ordinal));
        Assert.Equal("7/abc/artifacts/model", handler.Requests.First(r => r.Path.EndsWith("/mlflow-artifacts/artifacts", StringComparison.Ordinal)).Query("path"));
    }

    [Fact]
    public async Task DownloadModelAsync_VersionNumber_GetsVersionNotAlias()
    {
        var handler = new RecordingHandler { Respond = ServeModel };
        using var client = TestClients.Create(handler);

        await client.DownloadModelAsync("iris", "3", Path.Combine(_temp, "out"), Ct);

        Assert.Empty(handler.RequestsTo("/registered-models/alias"));
        Assert.Equal("3", Assert.Single(handler.RequestsTo("/model-versions/get")).Query("version"));
    }

    [Fact]
    public async Task DownloadModelAsync_Latest_PicksHighestVersion()
    {
        var handler = new RecordingHandler
        {
            Respond = r => r.Path.EndsWith("/get-latest-versions", StringComparison.Ordinal)
                ? RecordingHandler.Json("""{"model_versions":[{"name":"iris","version":"9","current_stage":"None"},{"name":"iris","version":"10","current_stage":"Production"},{"name":"iris","version":"2","current_stage":"Staging"}]}""")
                : ServeModel(r),
        };
        using var client = TestClients.Create(handler);

        var version = await client.DownloadModelAsync("iris", "latest", Path.Combine(_temp, "out"), Ct);

        Assert.Equal("10", version.Version);
        Assert.Equal("10", Assert.Single(handler.RequestsTo("/model-versions/get-download-uri")).Query("version"));
    }

    [Fact]
    public async Task DownloadModelAsync_SourceIsSingleFile_DownloadsThatFile()
    {
        var handler = new RecordingHandler
        {
            Respond = r => r.Path switch
            {
                var p when p.EndsWith("/get-download-uri", StringComparison.Ordinal) => RecordingHandler.Json("""{"artifact_uri":"mlflow-artifacts:/7/abc/artifacts/model.zip"}"""),
                var p when p.EndsWith("/mlflow-artifacts/artifacts", StringComparison.Ordinal) => RecordingHandler.Json("{}"),
                "/api/2.0/mlflow-artifacts/artifacts/7/abc/artifacts/model.zip" => Bytes("zip"),
                _ => RecordingHandler.Json(VersionJson),
            },
        };
        using var client = TestClients.Create(handler);
        var target = Path.Combine(_temp, "out");

        await client.DownloadModelAsync("iris", "3", target, Ct);

        Assert.Equal("zip", await File.ReadAllTextAsync(Path.Combine(target, "model.zip"), Ct));
    }

    private static HttpResponseMessage ServeModel(RecordedRequest request) => request.Path switch
    {
        var p when p.EndsWith("/get-download-uri", StringComparison.Ordinal) => RecordingHandler.Json($$"""{"artifact_uri":"{{DownloadUri}}"}"""),
        var p when p.EndsWith("/mlflow-artifacts/artifacts", StringComparison.Ordinal) => request.Query("path") switch
        {
            "7/abc/artifacts/model" => RecordingHandler.Json("""{"files":[{"path":"model.zip","is_dir":false,"file_size":9},{"path":"conf","is_dir":true}]}"""),
            "7/abc/artifacts/model/conf" => RecordingHandler.Json("""{"files":[{"path":"settings.yaml","is_dir":false,"file_size":4}]}"""),
            _ => RecordingHandler.Json("{}"),
        },
        "/api/2.0/mlflow-artifacts/artifacts/7/abc/artifacts/model/model.zip" => Bytes("zip-bytes"),
        "/api/2.0/mlflow-artifacts/artifacts/7/abc/artifacts/model/conf/settings.yaml" => Bytes("x: 1"),
        _ => RecordingHandler.Json(VersionJson),
    };

    private static HttpResponseMessage Bytes(string text) => new(HttpStatusCode.OK) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(text)) };
}
