using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Cairn.Server.Tests.Serving;

/// <summary>Registers model files and calls the scoring endpoint through a test server's HTTP API.</summary>
internal static class ServingTestExtensions
{
    /// <summary>Uploads <paramref name="content"/> as <c>model/{fileName}</c> of a new run and registers the run's <c>model</c> folder as a new version of <paramref name="name"/>.</summary>
    public static async Task RegisterModelFileAsync(this CairnTestServer server, string name, string fileName, byte[] content)
    {
        var runId = await server.CreateRunAsync();
        await server.PutArtifactAsync(runId, $"model/{fileName}", content);
        await server.RegisterVersionAsync(name, runId, "model");
    }

    public static async Task<string> CreateRunAsync(this CairnTestServer server)
    {
        var run = await server.PostJsonAsync("/api/2.0/mlflow/runs/create", """{"experiment_id":"0"}""");
        return run["run"]!["info"]!["run_id"]!.GetValue<string>();
    }

    /// <summary>Uploads a run artifact through the proxied artifact API.</summary>
    public static async Task PutArtifactAsync(this CairnTestServer server, string runId, string path, byte[] content)
    {
        var url = $"/api/2.0/mlflow-artifacts/artifacts/0/{runId}/artifacts/{path}";
        using var body = new ByteArrayContent(content);
        using var response = await server.Client.PutAsync(url, body);
        Assert.True(response.IsSuccessStatusCode, $"PUT {url}: {(int)response.StatusCode}");
    }

    /// <summary>Creates the registered model if needed and registers <c>runs:/{runId}/{path}</c> as its next version.</summary>
    public static async Task RegisterVersionAsync(this CairnTestServer server, string name, string runId, string path)
    {
        using (var content = new StringContent($$"""{"name":"{{name}}"}""", Encoding.UTF8, "application/json"))
        using (var create = await server.Client.PostAsync("/api/2.0/mlflow/registered-models/create", content))
        {
            Assert.True(create.StatusCode is HttpStatusCode.OK or HttpStatusCode.BadRequest);
        }

        var source = path.Length == 0 ? $"runs:/{runId}" : $"runs:/{runId}/{path}";
        await server.PostJsonAsync("/api/2.0/mlflow/model-versions/create", $$"""{"name":"{{name}}","source":"{{source}}","run_id":"{{runId}}"}""");
    }

    public static async Task SetAliasAsync(this CairnTestServer server, string name, string alias, string version) =>
        await server.PostJsonAsync("/api/2.0/mlflow/registered-models/alias", $$"""{"name":"{{name}}","alias":"{{alias}}","version":"{{version}}"}""");

    /// <summary>Posts <paramref name="body"/> to <c>/serving/models/{model}/invocations</c>; <paramref name="model"/> is <c>name/versionOrAlias</c>.</summary>
    public static async Task<JsonObject> InvokeAsync(this CairnTestServer server, string model, string body, int expectedStatus = 200) =>
        await server.PostJsonAsync($"/serving/models/{model}/invocations", body, expectedStatus);
}
