using Cairn.Samples.Quickstart;

namespace Cairn.Client.Tests.Integration;

public sealed class QuickstartIntegrationTests(CairnServerFixture server) : IClassFixture<CairnServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RunAsync_AgainstServer_LogsRegistersAndReloadsModel()
    {
        using var client = server.CreateClient();
        using var output = new StringWriter();

        var result = await QuickstartProgram.RunAsync(client, output, Ct);

        // The run: hyperparameters as params, test accuracy as a metric.
        var run = await client.GetRunAsync(result.RunId, Ct);
        Assert.Equal("FINISHED", run.Info!.Status);
        Assert.Equal((await client.GetExperimentByNameAsync(QuickstartProgram.ExperimentName, Ct))!.ExperimentId, run.Info.ExperimentId);
        var parameters = run.Data!.Params!.ToDictionary(p => p.Key!, p => p.Value);
        Assert.Equal("1000", parameters["max_iterations"]);
        Assert.Equal("LbfgsMaximumEntropy", parameters["trainer"]);
        Assert.Equal(result.Params.Count, parameters.Count);
        var accuracy = Assert.Single(run.Data.Metrics!, m => m.Key == "accuracy");
        Assert.True(accuracy.Value > 0.8, $"accuracy {accuracy.Value}");
        Assert.Equal(result.Accuracy, accuracy.Value);
        Assert.Contains(await client.ListArtifactsAsync(result.RunId, "model", cancellationToken: Ct) is { Files: { } files } ? files : [], f => f.Path == "model/model.zip");

        // The registry: the alias points at the new version, whose source is the run's model folder.
        var champion = await client.GetModelVersionByAliasAsync(QuickstartProgram.ModelName, QuickstartProgram.Alias, Ct);
        Assert.Equal(result.ModelVersion, champion.Version);
        Assert.Equal($"runs:/{result.RunId}/model", champion.Source);
        Assert.Equal(result.RunId, champion.RunId);

        // The reloaded model's predictions, as printed.
        Assert.NotEmpty(result.Predictions);
        Assert.True(result.Predictions.Count(p => p.IsCorrect) * 10 >= result.Predictions.Count * 8, string.Join(", ", result.Predictions));
        var printed = output.ToString();
        foreach (var prediction in result.Predictions)
        {
            Assert.Contains($"predicted={prediction.Predicted} actual={prediction.Actual}", printed, StringComparison.Ordinal);
        }

        Assert.Contains("accuracy=", printed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_Twice_RegistersNextVersionAndMovesAlias()
    {
        using var client = server.CreateClient();

        var first = await QuickstartProgram.RunAsync(client, TextWriter.Null, Ct);
        var second = await QuickstartProgram.RunAsync(client, TextWriter.Null, Ct);

        Assert.Equal(long.Parse(first.ModelVersion, System.Globalization.CultureInfo.InvariantCulture) + 1, long.Parse(second.ModelVersion, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(second.ModelVersion, (await client.GetModelVersionByAliasAsync(QuickstartProgram.ModelName, QuickstartProgram.Alias, Ct)).Version);
        Assert.Equal(first.Accuracy, second.Accuracy);
    }
}
