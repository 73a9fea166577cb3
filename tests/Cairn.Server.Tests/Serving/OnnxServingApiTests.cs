using System.Text;
using System.Text.Json.Nodes;
using Microsoft.ML;
using B = Cairn.Server.Tests.Serving.OnnxModelBuilder;

namespace Cairn.Server.Tests.Serving;

/// <summary>Scoring registered ONNX models through <c>/serving/models/{name}/{versionOrAlias}/invocations</c>.</summary>
public sealed class OnnxServingApiTests : IAsyncLifetime
{
    private static readonly Lazy<byte[]> s_exported = new(() => ExportMlNetModel(swapLabels: false));
    private static readonly Lazy<byte[]> s_exportedSwapped = new(() => ExportMlNetModel(swapLabels: true));

    private CairnTestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await CairnTestServer.StartAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Invocations_ExportedMlNetModel_RowShapesByVersionAliasAndLatestFeedInputsByColumnName()
    {
        await _server.RegisterModelFileAsync("iris", "model.onnx", s_exported.Value);
        await _server.SetAliasAsync("iris", "champion", "1");

        foreach (var target in new[] { "1", "champion", "latest" })
        {
            var split = await _server.InvokeAsync($"iris/{target}", """{"dataframe_split":{"columns":["X1","X2"],"data":[[0.5,0.2],[9.5,10.2]]}}""");
            AssertExportedLabels(split, "low", "high");
            var records = await _server.InvokeAsync($"iris/{target}", """{"dataframe_records":[{"X1":9.8,"X2":10.1},{"X1":0.1,"X2":0.3}]}""");
            AssertExportedLabels(records, "high", "low");
            var instances = await _server.InvokeAsync($"iris/{target}", """{"instances":[{"X1":0.0,"X2":0.0}]}""");
            AssertExportedLabels(instances, "low");
            var inputs = await _server.InvokeAsync($"iris/{target}", """{"inputs":[{"X1":10,"X2":10}]}""");
            AssertExportedLabels(inputs, "high");
        }

        var prediction = (await _server.InvokeAsync("iris/1", """{"instances":[{"X1":0.0,"X2":0.0}]}"""))["predictions"]![0]!.AsObject();
        var scores = prediction["Score.output"]!.AsArray();
        Assert.Equal(2, scores.Count);
        Assert.InRange(scores.Sum(s => s!.GetValue<double>()), 0.99, 1.01);
        Assert.Equal(0.0, prediction["X1.output"]!.GetValue<double>());
        Assert.Equal([0.0, 0.0], prediction["Features.output"]!.AsArray().Select(v => v!.GetValue<double>()));

        // The exporter's constant [1, 1] outputs hold no per-row value, even for a single row.
        Assert.DoesNotContain(prediction, p => p.Key.StartsWith("mlnet.", StringComparison.Ordinal));

        var none = await _server.InvokeAsync("iris/1", """{"dataframe_records":[]}""");
        Assert.Empty(none["predictions"]!.AsArray());
    }

    [Fact]
    public async Task Invocations_ExportedMlNetModel_NamedTensorsReturnEveryOutputWhole()
    {
        await _server.RegisterModelFileAsync("iris", "model.onnx", s_exported.Value);

        var response = await _server.InvokeAsync("iris/1", """{"inputs":{"X1":[[0.5],[9.5]],"X2":[[0.2],[10.2]]}}""");

        var predictions = response["predictions"]!.AsObject();
        Assert.Equal(["low", "high"], predictions["PredictedLabel.output"]!.AsArray().Select(r => r!.AsArray().Single()!.GetValue<string>()));
        Assert.Equal(2, predictions["Score.output"]!.AsArray().Count);
        Assert.Single(predictions["mlnet.Score.unusedOutput"]!.AsArray());
    }

    [Fact]
    public async Task Invocations_TensorModel_AcceptsTensorsAndPacksDataFrameColumns()
    {
        await _server.RegisterModelFileAsync("flowers", "model.onnx", TensorClassifier(reversed: false));

        foreach (var body in new[]
        {
            """{"inputs":{"float_input":[[5.1,3.5,1.4,0.2],[0,0,9,0]]}}""",
            """{"instances":{"float_input":[[5.1,3.5,1.4,0.2],[0,0,9,0]]}}""",
            """{"inputs":[[5.1,3.5,1.4,0.2],[0,0,9,0]]}""",
            """{"instances":[[5.1,3.5,1.4,0.2],[0,0,9,0]]}""",
        })
        {
            var predictions = (await _server.InvokeAsync("flowers/1", body))["predictions"]!.AsObject();
            Assert.Equal([0L, 2L], predictions["output_label"]!.AsArray().Select(v => v!.GetValue<long>()));
            var probabilities = predictions["output_probability"]!.AsArray();
            Assert.Equal(2, probabilities.Count);
            AssertIrisProbabilities(probabilities[0]!.AsObject());
        }

        foreach (var body in new[]
        {
            """{"dataframe_split":{"columns":["sepal_length","sepal_width","petal_length","petal_width"],"data":[[5.1,3.5,1.4,0.2],[0,0,9,0]]}}""",
            """{"dataframe_records":[{"a":5.1,"b":3.5,"c":1.4,"d":0.2},{"a":0,"b":0,"c":9,"d":0}]}""",
            """{"dataframe_records":[{"float_input":[5.1,3.5,1.4,0.2]},{"float_input":[0,0,9,0]}]}""",
        })
        {
            var rows = (await _server.InvokeAsync("flowers/1", body))["predictions"]!.AsArray();
            Assert.Equal([0L, 2L], rows.Select(r => r!["output_label"]!.GetValue<long>()));
            AssertIrisProbabilities(rows[0]!["output_probability"]!.AsObject());
            Assert.InRange(rows[1]!["output_probability"]!["2"]!.GetValue<double>(), 0.999, 1.0);
        }
    }

    [Fact]
    public async Task Invocations_TypedInputs_ConvertEachElementTypeBothWays()
    {
        await _server.RegisterModelFileAsync("typed", "model.onnx", TypedModel());

        var rows = (await _server.InvokeAsync("typed/1", """
            {"dataframe_split": {
              "columns": ["a", "b", "c", "d", "e", "f", "unused"],
              "data": [
                [1.5, 3, 9007199254740993, true, "x", [[1, 2], [3, 4]], 0],
                [null, [-7], -2, false, null, [[5, 6], [7, 8.5]], 0]
              ]}}
            """))["predictions"]!.AsArray();

        Assert.Equal(2, rows.Count);
        var first = rows[0]!.AsObject();
        Assert.Equal(1.5, first["a_out"]!.GetValue<double>());
        Assert.Equal(3, first["b_out"]!.GetValue<int>());
        Assert.Equal(9007199254740993L, first["c_out"]!.GetValue<long>());
        Assert.False(first["d_not"]!.GetValue<bool>());
        Assert.Equal("x", first["e_out"]!.GetValue<string>());
        Assert.Equal("[[1,2],[3,4]]", first["f_out"]!.ToJsonString());
        var second = rows[1]!.AsObject();
        Assert.Null(second["a_out"]); // NaN is written as null
        Assert.Equal(-7, second["b_out"]!.GetValue<int>());
        Assert.True(second["d_not"]!.GetValue<bool>());
        Assert.Equal(string.Empty, second["e_out"]!.GetValue<string>());
        Assert.Equal("[[5,6],[7,8.5]]", second["f_out"]!.ToJsonString());

        var tensors = (await _server.InvokeAsync("typed/1", """
            {"inputs": {"a": [2.25], "b": [[4]], "c": [5], "d": [false], "e": [["y"]], "f": [[[1, 0], [0, 1]]]}}
            """))["predictions"]!.AsObject();
        Assert.Equal("[2.25]", tensors["a_out"]!.ToJsonString());
        Assert.Equal("[[4]]", tensors["b_out"]!.ToJsonString());
        Assert.Equal("[5]", tensors["c_out"]!.ToJsonString());
        Assert.Equal("[true]", tensors["d_not"]!.ToJsonString());
        Assert.Equal("""[["y"]]""", tensors["e_out"]!.ToJsonString());
        Assert.Equal("[[[1,0],[0,1]]]", tensors["f_out"]!.ToJsonString());
    }

    [Fact]
    public async Task Invocations_OnnxAliasMoved_NextCallUsesNewVersion()
    {
        // The model file sits in a direct subfolder of the registered source folder, as MLflow's onnx flavor lays it out.
        foreach (var reversed in new[] { false, true })
        {
            var runId = await _server.CreateRunAsync();
            await _server.PutArtifactAsync(runId, "onnx_model/MLmodel", Encoding.UTF8.GetBytes("flavors:\n  onnx: {}\n"));
            await _server.PutArtifactAsync(runId, "onnx_model/model.onnx", TensorClassifier(reversed));
            await _server.RegisterVersionAsync("clf", runId, string.Empty);
        }

        await _server.SetAliasAsync("clf", "champion", "1");
        const string Body = """{"instances":[[0,0,9,0]]}""";
        Assert.Equal(2, await LabelAsync("clf/champion"));

        await _server.SetAliasAsync("clf", "champion", "2");
        Assert.Equal(0, await LabelAsync("clf/champion"));
        Assert.Equal(2, await LabelAsync("clf/1"));
        Assert.Equal(0, await LabelAsync("clf/latest"));

        async Task<long> LabelAsync(string model) =>
            (await _server.InvokeAsync(model, Body))["predictions"]!["output_label"]![0]!.GetValue<long>();
    }

    [Fact]
    public async Task Invocations_ExportedMlNetModelVersions_AliasMoveSwitchesModel()
    {
        await _server.RegisterModelFileAsync("m", "model.onnx", s_exported.Value);
        await _server.RegisterModelFileAsync("m", "model.onnx", s_exportedSwapped.Value);
        const string Body = """{"dataframe_records":[{"X1":0.2,"X2":0.1}]}""";

        await _server.SetAliasAsync("m", "champion", "1");
        AssertExportedLabels(await _server.InvokeAsync("m/champion", Body), "low");
        await _server.SetAliasAsync("m", "champion", "2");
        AssertExportedLabels(await _server.InvokeAsync("m/champion", Body), "high");
    }

    [Fact]
    public async Task Invocations_ConcurrentRequests_EachGetsItsOwnPredictions()
    {
        await _server.RegisterModelFileAsync("flowers", "model.onnx", TensorClassifier(reversed: false));
        await _server.InvokeAsync("flowers/1", """{"inputs":[[1,0,0,0]]}"""); // loaded once, before the burst

        var calls = Enumerable.Range(0, 24).Select(async i =>
        {
            var hot = i % 3;
            var rows = string.Join(",", Enumerable.Range(0, 1 + (i % 5)).Select(_ => hot switch { 0 => "[9,0,0,0]", 1 => "[0,9,0,0]", _ => "[0,0,9,0]" }));
            var response = await _server.InvokeAsync("flowers/1", $$$"""{"inputs":{"float_input":[{{{rows}}}]}}""");
            var labels = response["predictions"]!["output_label"]!.AsArray().Select(v => v!.GetValue<long>()).ToList();
            Assert.Equal(1 + (i % 5), labels.Count);
            Assert.All(labels, label => Assert.Equal(hot, label));
        });

        await Task.WhenAll(calls);
    }

    [Fact]
    public async Task Invocations_OnnxBadInput_Returns400NamingTheInputOrColumn()
    {
        await _server.RegisterModelFileAsync("exported", "model.onnx", s_exported.Value);
        await _server.RegisterModelFileAsync("flowers", "model.onnx", TensorClassifier(reversed: false));
        await _server.RegisterModelFileAsync("typed", "model.onnx", TypedModel());

        await AssertBadRequestAsync("exported/1", """{"dataframe_records":[{"X1":1.0}]}""", "'X2'");
        await AssertBadRequestAsync("exported/1", """{"instances":[{"X1":"abc","X2":1.0}]}""", "'X1'");
        await AssertBadRequestAsync("exported/1", """{"dataframe_records":[{"X1":[1.0, 2.0],"X2":1.0}]}""", "'X1'");
        await AssertBadRequestAsync("exported/1", """{"instances":[[1.0, 2.0]]}""", "'X1'");
        await AssertBadRequestAsync("exported/1", """{"inputs":{"X1":[[1.0]]}}""", "'X2'");
        await AssertBadRequestAsync("exported/1", """{"inputs":{"X1":[1.0],"X2":[[1.0]]}}""", "'X1'");

        await AssertBadRequestAsync("flowers/1", """{"inputs":{"features":[[1,2,3,4]]}}""", "'features'", "'float_input'");
        await AssertBadRequestAsync("flowers/1", """{"inputs":{"float_input":[[1,2,3]]}}""", "'float_input'", "4 items");
        await AssertBadRequestAsync("flowers/1", """{"inputs":[[1,2,3,4],[1,2,3]]}""", "'float_input'");
        await AssertBadRequestAsync("flowers/1", """{"inputs":{"float_input":[["a",2,3,4]]}}""", "'float_input'", "a number");
        await AssertBadRequestAsync("flowers/1", """{"dataframe_split":{"columns":["a","b","c"],"data":[[1,2,3]]}}""", "'float_input'", "4 values per row");
        await AssertBadRequestAsync("flowers/1", """{"dataframe_records":[{"a":1,"b":2,"c":3,"d":4},{"a":1,"b":2,"c":3}]}""", "'d'");
        await AssertBadRequestAsync("flowers/1", """{"dataframe_split":{"columns":["a","b","c","d"],"data":[[1,2,true,4]]}}""", "'c'");

        await AssertBadRequestAsync("typed/1", TypedRecord(d: "1"), "'d'", "a boolean");
        await AssertBadRequestAsync("typed/1", TypedRecord(b: "2.5"), "'b'", "integer");
        await AssertBadRequestAsync("typed/1", TypedRecord(e: "5"), "'e'", "a string");
        await AssertBadRequestAsync("typed/1", TypedRecord(f: "5"), "'f'", "2-dimensional");
        await AssertBadRequestAsync("typed/1", TypedRecord(f: "[[1, 2], [3, 4, 5]]"), "'f'", "2 items");
        await AssertBadRequestAsync("typed/1", """{"inputs":{"a":[1.0]}}""", "'b'");
    }

    [Fact]
    public async Task Invocations_CorruptOnnxFile_Returns400WithClearMessage()
    {
        await _server.RegisterModelFileAsync("broken", "model.onnx", Encoding.UTF8.GetBytes("this is not a protobuf model"));

        var error = await _server.InvokeAsync("broken/1", """{"inputs":[[1,2,3,4]]}""", 400);

        Assert.Equal("BAD_REQUEST", error["error_code"]!.GetValue<string>());
        var message = error["message"]!.GetValue<string>();
        Assert.Contains("model.onnx", message, StringComparison.Ordinal);
        Assert.Contains("not an ONNX model", message, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", message, StringComparison.Ordinal);

        // A failed load is not cached: a fixed file under a new version serves.
        await _server.RegisterModelFileAsync("broken", "model.onnx", TensorClassifier(reversed: false));
        await _server.InvokeAsync("broken/2", """{"inputs":[[1,2,3,4]]}""");
    }

    [Fact]
    public async Task Invocations_OnnxWithExternalData_ReadsTheWeightsBesideTheModel()
    {
        // As mlflow.onnx.log_model saves it by default: model.onnx, its tensors in a file named by a UUID, and MLflow's metadata.
        const string DataFile = "0b8e3a52-7f36-11ef-9c1e-0242ac120002";
        var builder = TensorClassifierBuilder(reversed: true, externalData: DataFile);
        var model = builder.Build();
        var runId = await _server.CreateRunAsync();
        await _server.PutArtifactAsync(runId, "model/MLmodel", Encoding.UTF8.GetBytes("flavors:\n  onnx:\n    data: model.onnx\n"));
        await _server.PutArtifactAsync(runId, "model/model.onnx", model);
        await _server.PutArtifactAsync(runId, $"model/{DataFile}", builder.ExternalFiles[DataFile]);
        await _server.RegisterVersionAsync("external", runId, "model");

        var response = await _server.InvokeAsync("external/1", """{"inputs":{"float_input":[[9,0,0,0],[0,0,9,0]]}}""");
        Assert.Equal([2L, 0L], response["predictions"]!["output_label"]!.AsArray().Select(v => v!.GetValue<long>()));

        // Without its data file the model cannot load: a clear 400, not a 500.
        var incomplete = await _server.CreateRunAsync();
        await _server.PutArtifactAsync(incomplete, "model/model.onnx", model);
        await _server.RegisterVersionAsync("external", incomplete, "model");
        var error = await _server.InvokeAsync("external/2", """{"inputs":[[9,0,0,0]]}""", 400);
        Assert.Contains("not an ONNX model that ONNX Runtime can load", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invocations_ZipAndOnnxInOneVersion_Returns400NamingBoth()
    {
        var runId = await _server.CreateRunAsync();
        await _server.PutArtifactAsync(runId, "model/model.onnx", TensorClassifier(reversed: false));
        await _server.PutArtifactAsync(runId, "model/extra/model.zip", [1, 2, 3]);
        await _server.RegisterVersionAsync("two", runId, "model");

        var error = await _server.InvokeAsync("two/1", """{"inputs":[[1,2,3,4]]}""", 400);

        var message = error["message"]!.GetValue<string>();
        Assert.Contains("more than one model file", message, StringComparison.Ordinal);
        Assert.Contains("model.onnx", message, StringComparison.Ordinal);
        Assert.Contains("model.zip", message, StringComparison.Ordinal);
    }

    private static string TypedRecord(string a = "1.5", string b = "3", string c = "4", string d = "true", string e = "\"x\"", string f = "[[1, 2], [3, 4]]") =>
        $$"""{"dataframe_records":[{"a":{{a}},"b":{{b}},"c":{{c}},"d":{{d}},"e":{{e}},"f":{{f}}}]}""";

    private static void AssertExportedLabels(JsonObject response, params string[] expected)
    {
        var predictions = response["predictions"]!.AsArray();
        Assert.Equal(expected, predictions.Select(p => p!["PredictedLabel.output"]!.GetValue<string>()));
    }

    // softmax(5.1, 3.5, 1.4): the first three features are the classifier's logits.
    private static void AssertIrisProbabilities(JsonObject probabilities)
    {
        Assert.Equal(["0", "1", "2"], probabilities.Select(p => p.Key));
        Assert.InRange(probabilities["0"]!.GetValue<double>(), 0.8152, 0.8153);
        Assert.InRange(probabilities["1"]!.GetValue<double>(), 0.1645, 0.1646);
        Assert.InRange(probabilities["2"]!.GetValue<double>(), 0.0201, 0.0202);
    }

    private async Task AssertBadRequestAsync(string model, string body, params string[] expectedInMessage)
    {
        var error = await _server.InvokeAsync(model, body, 400);
        Assert.Equal("BAD_REQUEST", error["error_code"]!.GetValue<string>());
        var message = error["message"]!.GetValue<string>();
        foreach (var expected in expectedInMessage)
        {
            Assert.Contains(expected, message, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// A classifier shaped like sklearn-onnx's: input <c>float_input</c> [N, 4]; outputs <c>output_label</c> (int64 [N]) and
    /// <c>output_probability</c> (ZipMap, seq(map(int64, float))). The first three features are the logits of classes 0, 1, 2
    /// (reversed: of classes 2, 1, 0); the fourth is ignored.
    /// </summary>
    private static byte[] TensorClassifier(bool reversed) => TensorClassifierBuilder(reversed, externalData: null).Build();

    /// <summary>The builder of <see cref="TensorClassifier"/>; with <paramref name="externalData"/>, the coefficients are kept in that external file.</summary>
    private static B TensorClassifierBuilder(bool reversed, string? externalData)
    {
        var weights = new float[4 * 3];
        for (var feature = 0; feature < 3; feature++)
        {
            weights[(feature * 3) + (reversed ? 2 - feature : feature)] = 1;
        }

        var builder = new B().Input("float_input", B.Tensor(B.Float, "N", 4L));
        builder = externalData is null
            ? builder.Initializer("coefficients", [4, 3], weights)
            : builder.ExternalInitializer("coefficients", [4, 3], weights, externalData);
        return builder
            .Initializer("intercepts", [3], [0, 0, 0])
            .Node("MatMul", ["float_input", "coefficients"], ["product"])
            .Node("Add", ["product", "intercepts"], ["logits"])
            .Node("ArgMax", ["logits"], ["output_label"], string.Empty, ("axis", 1L), ("keepdims", 0L))
            .Node("Softmax", ["logits"], ["probabilities"], string.Empty, ("axis", 1L))
            .Node("ZipMap", ["probabilities"], ["output_probability"], "ai.onnx.ml", ("classlabels_int64s", new long[] { 0, 1, 2 }))
            .Output("output_label", B.Tensor(B.Int64, "N"))
            .Output("output_probability", B.SequenceOfMaps(B.Int64, B.Float));
    }

    /// <summary>A model that returns its inputs of several element types and ranks: a double [N], b int32 [N, 1], c int64 [N], d bool [N] (negated), e string [N, 1], f float [N, 2, 2].</summary>
    private static byte[] TypedModel() => new B()
        .Input("a", B.Tensor(B.Double, "N"))
        .Input("b", B.Tensor(B.Int32, "N", 1L))
        .Input("c", B.Tensor(B.Int64, "N"))
        .Input("d", B.Tensor(B.Bool, "N"))
        .Input("e", B.Tensor(B.String, "N", 1L))
        .Input("f", B.Tensor(B.Float, "N", 2L, 2L))
        .Node("Identity", ["a"], ["a_out"])
        .Node("Identity", ["b"], ["b_out"])
        .Node("Identity", ["c"], ["c_out"])
        .Node("Not", ["d"], ["d_not"])
        .Node("Identity", ["e"], ["e_out"])
        .Node("Identity", ["f"], ["f_out"])
        .Output("a_out", B.Tensor(B.Double, "N"))
        .Output("b_out", B.Tensor(B.Int32, "N", 1L))
        .Output("c_out", B.Tensor(B.Int64, "N"))
        .Output("d_not", B.Tensor(B.Bool, "N"))
        .Output("e_out", B.Tensor(B.String, "N", 1L))
        .Output("f_out", B.Tensor(B.Float, "N", 2L, 2L))
        .Build();

    /// <summary>
    /// Trains an ML.NET classifier of points near (0,0) ("low") and (10,10) ("high") — swapped, the labels trade places — and exports
    /// it with ML.NET's ONNX converter: inputs X1 and X2 (float [N, 1]), outputs such as PredictedLabel.output and Score.output.
    /// </summary>
    private static byte[] ExportMlNetModel(bool swapLabels)
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
        var model = context.Transforms.Concatenate("Features", "X1", "X2")
            .Append(context.MulticlassClassification.Trainers.LbfgsMaximumEntropy("LabelKey", "Features"))
            .Append(context.Transforms.Conversion.MapKeyToValue("PredictedLabel"))
            .Fit(keyed);

        // The schema of the exported model's inputs: the features only, so the label is not an input.
        var features = context.Data.LoadFromEnumerable(new[] { new FeatureRow() });
        using var stream = new MemoryStream();
        context.Model.ConvertToOnnx(model, features, stream);
        return stream.ToArray();
    }

    private class FeatureRow
    {
        public float X1 { get; set; }

        public float X2 { get; set; }
    }

    private sealed class TrainingRow : FeatureRow
    {
        public string Label { get; set; } = string.Empty;
    }
}
