using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Cairn.Server.Tests.Registry;

/// <summary>MLflow's model registry REST API over HTTP, as MLflow's client drives it (issue #3).</summary>
public sealed class RegistryApiTests : IAsyncLifetime
{
    private CairnTestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await CairnTestServer.StartAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task AliasesAndStages_LoadByAliasAndLatest_AsTheClientResolvesModelUris()
    {
        var (runId, v1) = await RegisterRunModelAsync("clf");
        var (_, v2) = await RegisterRunModelAsync("clf");
        Assert.Equal("1", v1);
        Assert.Equal("2", v2);

        await _server.PostJsonAsync("/api/2.0/mlflow/registered-models/alias", """{"name":"clf","alias":"champion","version":"1"}""");
        var byAlias = await _server.GetAsync("/api/2.0/mlflow/registered-models/alias?name=clf&alias=champion");
        Assert.Equal("1", byAlias["model_version"]!["version"]!.GetValue<string>());
        Assert.Equal("champion", byAlias["model_version"]!["aliases"]![0]!.GetValue<string>());

        // Moving the alias is how a new version is promoted.
        await _server.PostJsonAsync("/api/2.0/mlflow/registered-models/alias", """{"name":"clf","alias":"champion","version":"2"}""");
        var moved = await _server.GetAsync("/api/2.0/mlflow/registered-models/alias?name=clf&alias=champion");
        Assert.Equal("2", moved["model_version"]!["version"]!.GetValue<string>());

        var model = await _server.GetAsync("/api/2.0/mlflow/registered-models/get?name=clf");
        Assert.Equal("champion", model["registered_model"]!["aliases"]![0]!["alias"]!.GetValue<string>());
        Assert.Equal("2", model["registered_model"]!["aliases"]![0]!["version"]!.GetValue<string>());

        var latest = await _server.PostJsonAsync("/api/2.0/mlflow/registered-models/get-latest-versions", """{"name":"clf"}""");
        Assert.Equal("2", latest["model_versions"]![0]!["version"]!.GetValue<string>());

        var staged = await _server.PostJsonAsync("/api/2.0/mlflow/model-versions/transition-stage", """{"name":"clf","version":"1","stage":"production","archive_existing_versions":false}""");
        Assert.Equal("Production", staged["model_version"]!["current_stage"]!.GetValue<string>());
        await _server.PostJsonAsync("/api/2.0/mlflow/model-versions/transition-stage", """{"name":"clf","version":"2","stage":"Production","archive_existing_versions":true}""");
        var v1Now = await _server.GetAsync("/api/2.0/mlflow/model-versions/get?name=clf&version=1");
        Assert.Equal("Archived", v1Now["model_version"]!["current_stage"]!.GetValue<string>());
        var production = await _server.PostJsonAsync("/api/2.0/mlflow/registered-models/get-latest-versions", """{"name":"clf","stages":["Production"]}""");
        Assert.Equal("2", Assert.Single(production["model_versions"]!.AsArray())!["version"]!.GetValue<string>());

        var uri = await _server.GetAsync("/api/2.0/mlflow/model-versions/get-download-uri?name=clf&version=1");
        Assert.Equal($"mlflow-artifacts:/0/{runId}/artifacts/model", uri["artifact_uri"]!.GetValue<string>());

        await DeleteAsync("/api/2.0/mlflow/registered-models/alias", """{"name":"clf","alias":"champion"}""");
        // MLflow reports an unknown alias of a known model as INVALID_PARAMETER_VALUE, and its client relies on that.
        var gone = await _server.GetAsync("/api/2.0/mlflow/registered-models/alias?name=clf&alias=champion", 400);
        Assert.Equal("INVALID_PARAMETER_VALUE", gone["error_code"]!.GetValue<string>());
    }

    [Fact]
    public async Task SearchAndEdit_RegisteredModelsAndVersions()
    {
        var (runA, _) = await RegisterRunModelAsync("fraud-detector");
        await RegisterRunModelAsync("fraud-detector");
        await RegisterRunModelAsync("churn");

        var search = await _server.GetAsync("/api/2.0/mlflow/registered-models/search?filter=" + Uri.EscapeDataString("name LIKE 'fraud%'"));
        var found = Assert.Single(search["registered_models"]!.AsArray())!;
        Assert.Equal("fraud-detector", found["name"]!.GetValue<string>());
        Assert.Equal("2", found["latest_versions"]![0]!["version"]!.GetValue<string>());

        var all = await _server.GetAsync("/api/2.0/mlflow/registered-models/search?order_by=name+DESC");
        Assert.Equal(["fraud-detector", "churn"], all["registered_models"]!.AsArray().Select(static m => m!["name"]!.GetValue<string>()));

        var versions = await _server.GetAsync("/api/2.0/mlflow/model-versions/search?filter=" + Uri.EscapeDataString($"run_id = '{runA}'"));
        Assert.Equal("1", Assert.Single(versions["model_versions"]!.AsArray())!["version"]!.GetValue<string>());
        var byName = await _server.GetAsync("/api/2.0/mlflow/model-versions/search?filter=" + Uri.EscapeDataString("name = 'fraud-detector'"));
        Assert.Equal(2, byName["model_versions"]!.AsArray().Count);

        using (var patch = await _server.Client.PatchAsync("/api/2.0/mlflow/registered-models/update", Json("""{"name":"churn","description":"Churn model"}""")))
        {
            var updated = await CairnTestServer.ReadAsync(patch, 200);
            Assert.Equal("Churn model", updated["registered_model"]!["description"]!.GetValue<string>());
        }

        using (var patch = await _server.Client.PatchAsync("/api/2.0/mlflow/model-versions/update", Json("""{"name":"churn","version":"1","description":"first"}""")))
        {
            var updated = await CairnTestServer.ReadAsync(patch, 200);
            Assert.Equal("first", updated["model_version"]!["description"]!.GetValue<string>());
        }

        await _server.PostJsonAsync("/api/2.0/mlflow/registered-models/set-tag", """{"name":"churn","key":"team","value":"growth"}""");
        await _server.PostJsonAsync("/api/2.0/mlflow/model-versions/set-tag", """{"name":"churn","version":"1","key":"validated","value":"yes"}""");
        var tagged = await _server.GetAsync("/api/2.0/mlflow/model-versions/get?name=churn&version=1");
        Assert.Equal("validated", tagged["model_version"]!["tags"]![0]!["key"]!.GetValue<string>());
        await DeleteAsync("/api/2.0/mlflow/model-versions/delete-tag", """{"name":"churn","version":"1","key":"validated"}""");
        await DeleteAsync("/api/2.0/mlflow/registered-models/delete-tag", """{"name":"churn","key":"team"}""");

        var renamed = await _server.PostJsonAsync("/api/2.0/mlflow/registered-models/rename", """{"name":"churn","new_name":"churn-v2"}""");
        Assert.Equal("churn-v2", renamed["registered_model"]!["name"]!.GetValue<string>());
        var renamedVersion = await _server.GetAsync("/api/2.0/mlflow/model-versions/get?name=churn-v2&version=1");
        Assert.Equal("churn-v2", renamedVersion["model_version"]!["name"]!.GetValue<string>());

        await DeleteAsync("/api/2.0/mlflow/model-versions/delete", """{"name":"fraud-detector","version":"1"}""");
        await _server.GetAsync("/api/2.0/mlflow/model-versions/get?name=fraud-detector&version=1", 404);
        await DeleteAsync("/api/2.0/mlflow/registered-models/delete", """{"name":"fraud-detector"}""");
        var missing = await _server.GetAsync("/api/2.0/mlflow/registered-models/get?name=fraud-detector", 404);
        Assert.Equal("RESOURCE_DOES_NOT_EXIST", missing["error_code"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("/api/2.0/mlflow/registered-models/alias?name=none&alias=champion")]
    [InlineData("/api/2.0/mlflow/model-versions/get?name=none&version=1")]
    [InlineData("/api/2.0/mlflow/model-versions/get-download-uri?name=none&version=1")]
    public async Task Get_Unknown_Returns404(string path)
    {
        var body = await _server.GetAsync(path, 404);
        Assert.Equal("RESOURCE_DOES_NOT_EXIST", body["error_code"]!.GetValue<string>());
    }

    [Fact]
    public async Task BadRegistryInput_Returns400()
    {
        await RegisterRunModelAsync("m");
        var stage = await _server.PostJsonAsync("/api/2.0/mlflow/model-versions/transition-stage", """{"name":"m","version":"1","stage":"Shipping"}""", 400);
        Assert.Equal("INVALID_PARAMETER_VALUE", stage["error_code"]!.GetValue<string>());
        var duplicate = await _server.PostJsonAsync("/api/2.0/mlflow/registered-models/create", """{"name":"m"}""", 400);
        Assert.Equal("RESOURCE_ALREADY_EXISTS", duplicate["error_code"]!.GetValue<string>());
        var badFilter = await _server.GetAsync("/api/2.0/mlflow/registered-models/search?filter=" + Uri.EscapeDataString("name = "), 400);
        Assert.Equal("INVALID_PARAMETER_VALUE", badFilter["error_code"]!.GetValue<string>());
        var aliasToMissing = await _server.PostJsonAsync("/api/2.0/mlflow/registered-models/alias", """{"name":"m","alias":"champion","version":"9"}""", 404);
        Assert.Equal("RESOURCE_DOES_NOT_EXIST", aliasToMissing["error_code"]!.GetValue<string>());
    }

    private async Task<(string RunId, string Version)> RegisterRunModelAsync(string name)
    {
        var run = await _server.PostJsonAsync("/api/2.0/mlflow/runs/create", """{"experiment_id":"0"}""");
        var runId = run["run"]!["info"]!["run_id"]!.GetValue<string>();
        using (var create = await _server.Client.PostAsync("/api/2.0/mlflow/registered-models/create", Json($$"""{"name":"{{name}}"}""")))
        {
            Assert.True(create.StatusCode is HttpStatusCode.OK or HttpStatusCode.BadRequest);
        }

        var version = await _server.PostJsonAsync("/api/2.0/mlflow/model-versions/create", $$"""{"name":"{{name}}","source":"runs:/{{runId}}/model","run_id":"{{runId}}"}""");
        return (runId, version["model_version"]!["version"]!.GetValue<string>());
    }

    private async Task DeleteAsync(string path, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, path) { Content = Json(json) };
        using var response = await _server.Client.SendAsync(request);
        await CairnTestServer.ReadAsync(response, 200);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
