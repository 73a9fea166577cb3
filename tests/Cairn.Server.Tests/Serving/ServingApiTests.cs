using System.Text;
using System.Text.Json.Nodes;
using Microsoft.ML;

namespace Cairn.Server.Tests.Serving;

/// <summary>Scoring registered ML.NET models through <c>/serving/models/{name}/{versionOrAlias}/invocations</c>.</summary>
public sealed class ServingApiTests : IAsyncLifetime
{
    private CairnTestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await CairnTestServer.StartAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Invocations_ThreeRequestShapesByVersionAliasAndLatest_PredictLabels()
    {
        await RegisterAsync("iris", TrainModel(swapLabels: false));
        await _server.PostJsonAsync("/api/2.0/mlflow/registered-models/alias", """{"name":"iris","alias":"champion","version":"1"}""");

        foreach (var target in new[] { "1", "champion", "latest" })
        {
            var split = await InvokeAsync($"iris/{target}", """{"dataframe_split":{"columns":["X1","X2"],"data":[[0.5,0.2],[9.5,10.2]]}}""");
            AssertLabels(split, "low", "high");
            var records = await InvokeAsync($"iris/{target}", """{"dataframe_records":[{"X1":9.8,"X2":10.1},{"X1":0.1,"X2":0.3}]}""");
            AssertLabels(records, "high", "low");
            var instances = await InvokeAsync($"iris/{target}", """{"instances":[{"X1":0.0,"X2":0.0}]}""");
            AssertLabels(instances, "low");
            var inputs = await InvokeAsync($"iris/{target}", """{"inputs":[{"X1":10,"X2":10}]}""");
            AssertLabels(inputs, "high");
        }

        var prediction = (await InvokeAsync("iris/1", """{"instances":[{"X1":0.0,"X2":0.0}]}"""))["predictions"]![0]!.AsObject();
        var scores = prediction["Score"]!.AsArray();
        Assert.Equal(2, scores.Count);
        Assert.InRange(scores.Sum(s => s!.GetValue<double>()), 0.99, 1.01);
        Assert.False(prediction.ContainsKey("X1"));
    }

    [Fact]
    public async Task Invocations_AliasMoved_NextCallUsesNewVersion()
    {
        await RegisterAsync("clf", TrainModel(swapLabels: false));
        await RegisterAsync("clf", TrainModel(swapLabels: true));
        await _server.PostJsonAsync("/api/2.0/mlflow/registered-models/alias", """{"name":"clf","alias":"champion","version":"1"}""");
        const string Body = """{"instances":[{"X1":0.2,"X2":0.1}]}""";
        AssertLabels(await InvokeAsync("clf/champion", Body), "low");

        await _server.PostJsonAsync("/api/2.0/mlflow/registered-models/alias", """{"name":"clf","alias":"champion","version":"2"}""");
        AssertLabels(await InvokeAsync("clf/champion", Body), "high");
        AssertLabels(await InvokeAsync("clf/1", Body), "low");
        AssertLabels(await InvokeAsync("clf/latest", Body), "high");
    }

    [Fact]
    public async Task Invocations_BadInput_Returns400NamingTheColumn()
    {
        await RegisterAsync("m", TrainModel(swapLabels: false));

        var missing = await InvokeAsync("m/1", """{"dataframe_records":[{"X1":1.0}]}""", 400);
        Assert.Equal("BAD_REQUEST", missing["error_code"]!.GetValue<string>());
        Assert.Contains("'X2'", missing["message"]!.GetValue<string>(), StringComparison.Ordinal);

        var wrongType = await InvokeAsync("m/1", """{"instances":[{"X1":"abc","X2":1.0}]}""", 400);
        Assert.Equal("BAD_REQUEST", wrongType["error_code"]!.GetValue<string>());
        Assert.Contains("'X1'", wrongType["message"]!.GetValue<string>(), StringComparison.Ordinal);

        var malformed = await InvokeAsync("m/1", """{"instances": [""", 400);
        Assert.Equal("BAD_REQUEST", malformed["error_code"]!.GetValue<string>());

        var unknownShape = await InvokeAsync("m/1", """{"rows":[{"X1":1.0,"X2":1.0}]}""", 400);
        Assert.Contains("dataframe_split", unknownShape["message"]!.GetValue<string>(), StringComparison.Ordinal);

        var tensor = await InvokeAsync("m/1", """{"inputs":{"X1":[1.0],"X2":[1.0]}}""", 400);
        Assert.Contains("ONNX", tensor["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invocations_UnknownModelVersionOrAlias_Returns404()
    {
        await RegisterAsync("m", TrainModel(swapLabels: false));
        const string Body = """{"instances":[{"X1":1.0,"X2":1.0}]}""";

        foreach (var path in new[] { "m/nosuchalias", "m/7", "nosuchmodel/1" })
        {
            var error = await InvokeAsync(path, Body, 404);
            Assert.Equal("RESOURCE_DOES_NOT_EXIST", error["error_code"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Invocations_VersionWithoutModelFile_Returns400()
    {
        var runId = await _server.CreateRunAsync();
        await _server.PutArtifactAsync(runId, "model/MLmodel", Encoding.UTF8.GetBytes("flavors: {}\n"));
        await _server.RegisterVersionAsync("sk", runId, "model");

        var error = await InvokeAsync("sk/1", """{"instances":[{"X1":1.0,"X2":1.0}]}""", 400);
        Assert.Contains("ML.NET", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("ONNX", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    private static void AssertLabels(JsonObject response, params string[] expected)
    {
        var predictions = response["predictions"]!.AsArray();
        Assert.Equal(expected, predictions.Select(p => p!["PredictedLabel"]!.GetValue<string>()));
    }

    private async Task<JsonObject> InvokeAsync(string model, string body, int expectedStatus = 200) =>
        await _server.InvokeAsync(model, body, expectedStatus);

    private async Task RegisterAsync(string name, byte[] zip) => await _server.RegisterModelFileAsync(name, "model.zip", zip);

    /// <summary>Trains a two-class model on points near (0,0) ("low") and (10,10) ("high"); swapped, the labels trade places.</summary>
    private static byte[] TrainModel(bool swapLabels)
    {
        var context = new MLContext(seed: 1);
        var rows = new List<TrainingRow>();
        for (var i = 0; i < 20; i++)
        {
            var jitter = (i % 5) * 0.2f;
            rows.Add(new TrainingRow { X1 = jitter, X2 = 0.5f - jitter, Label = swapLabels ? "high" : "low" });
            rows.Add(new TrainingRow { X1 = 10 - jitter, X2 = 9.5f + jitter, Label = swapLabels ? "low" : "high" });
        }

        var data = context.Data.LoadFromEnumerable(rows);
        var keyed = context.Transforms.Conversion.MapValueToKey("LabelKey", "Label").Fit(data).Transform(data);
        var pipeline = context.Transforms.Concatenate("Features", "X1", "X2")
            .Append(context.MulticlassClassification.Trainers.LbfgsMaximumEntropy("LabelKey", "Features"));
        var model = pipeline.Fit(keyed);
        using var stream = new MemoryStream();
        context.Model.Save(model, data.Schema, stream);
        return stream.ToArray();
    }

    private sealed class TrainingRow
    {
        public float X1 { get; set; }

        public float X2 { get; set; }

        public string Label { get; set; } = string.Empty;
    }
}
