using System.Net;

namespace Cairn.Client.Tests.Integration;

public sealed class RegistryIntegrationTests(CairnServerFixture server) : IClassFixture<CairnServerFixture>, IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("cairn-client-it-registry-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static string NewName(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    [Fact]
    public async Task RegisterModelAsync_RunArtifacts_RegistersAliasesAndDownloadsThem()
    {
        using var client = server.CreateClient();
        var modelFolder = Path.Combine(_temp, "model");
        Directory.CreateDirectory(Path.Combine(modelFolder, "nested"));
        await File.WriteAllTextAsync(Path.Combine(modelFolder, "MLmodel"), "flavors: {}", Ct);
        await File.WriteAllTextAsync(Path.Combine(modelFolder, "nested", "weights.bin"), "0123456789", Ct);
        var modelName = NewName("sdk-model");

        string runId;
        await using (var run = await client.StartRunAsync(NewName("sdk-it-registry"), cancellationToken: Ct))
        {
            runId = run.RunId;
            await run.LogArtifactsAsync(modelFolder, "model", Ct);
        }

        var first = await client.RegisterModelAsync(runId, "model", modelName, Ct);
        var second = await client.RegisterModelAsync(runId, "model", modelName, Ct);
        Assert.Equal("1", first.Version);
        Assert.Equal("2", second.Version);
        Assert.Equal($"runs:/{runId}/model", first.Source);
        Assert.Equal(runId, first.RunId);
        Assert.Equal(modelName, (await client.GetRegisteredModelAsync(modelName, Ct)).Name);
        Assert.Equal(modelName, (await client.GetOrCreateRegisteredModelAsync(modelName, Ct)).Name);

        await client.SetRegisteredModelAliasAsync(modelName, "champion", "1", Ct);
        var champion = await client.GetModelVersionByAliasAsync(modelName, "champion", Ct);
        Assert.Equal("1", champion.Version);
        Assert.Contains("champion", (await client.GetModelVersionAsync(modelName, "1", Ct)).Aliases ?? []);
        Assert.Equal("2", Assert.Single(await client.GetLatestVersionsAsync(modelName, cancellationToken: Ct)).Version);
        var uri = await client.GetModelVersionDownloadUriAsync(modelName, "1", Ct);
        Assert.StartsWith("mlflow-artifacts:", uri, StringComparison.Ordinal);
        Assert.EndsWith($"{runId}/artifacts/model", uri, StringComparison.Ordinal);

        foreach (var versionOrAlias in new[] { "champion", "2", "latest" })
        {
            var target = Path.Combine(_temp, "download-" + versionOrAlias);
            var version = await client.DownloadModelAsync(modelName, versionOrAlias, target, Ct);
            Assert.Equal(versionOrAlias == "champion" ? "1" : "2", version.Version);
            Assert.Equal("flavors: {}", await File.ReadAllTextAsync(Path.Combine(target, "MLmodel"), Ct));
            Assert.Equal("0123456789", await File.ReadAllTextAsync(Path.Combine(target, "nested", "weights.bin"), Ct));
        }
    }

    [Fact]
    public async Task GetRegisteredModelAsync_Missing_ThrowsNotFound()
    {
        using var client = server.CreateClient();

        var e = await Assert.ThrowsAsync<CairnApiException>(() => client.GetRegisteredModelAsync(NewName("missing"), Ct));

        Assert.Equal(HttpStatusCode.NotFound, e.StatusCode);
        Assert.Equal("RESOURCE_DOES_NOT_EXIST", e.ErrorCode);
    }
}
