using System.Globalization;
using Cairn.Client;
using Microsoft.ML;
using Microsoft.ML.Trainers;

namespace Cairn.Samples.Quickstart;

/// <summary>A prediction of the reloaded model beside the flower's actual species.</summary>
public sealed record QuickstartPrediction(string Predicted, string Actual)
{
    /// <summary>Gets whether the model got this flower right.</summary>
    public bool IsCorrect => string.Equals(Predicted, Actual, StringComparison.Ordinal);
}

/// <summary>What the quickstart did: the run it logged, the model version it registered, and the reloaded model's predictions.</summary>
public sealed record QuickstartResult(
    string RunId,
    string ExperimentId,
    string ModelVersion,
    double Accuracy,
    IReadOnlyDictionary<string, string> Params,
    IReadOnlyList<QuickstartPrediction> Predictions);

/// <summary>MLflow's quickstart (train, log, register, load) with ML.NET and the Cairn SDK.</summary>
public static class QuickstartProgram
{
    /// <summary>The experiment the run is logged to.</summary>
    public const string ExperimentName = "MLflow Quickstart";

    /// <summary>The registered model's name.</summary>
    public const string ModelName = "iris_lr_model";

    /// <summary>The alias set on the new model version, and used to load it back.</summary>
    public const string Alias = "champion";

    /// <summary>The run's artifact folder holding the model.</summary>
    public const string ModelArtifactPath = "model";

    private const string ModelFileName = "model.zip";
    private const int Seed = 8888;
    private const double TestFraction = 0.2;
    private const int PredictionsShown = 10;

    /// <summary>Trains, logs, registers and reloads the Iris model, writing progress to <paramref name="output"/>.</summary>
    /// <param name="client">The client of the tracking server.</param>
    /// <param name="output">Where to print progress and predictions.</param>
    /// <param name="cancellationToken">A token that cancels the calls to the server.</param>
    /// <param name="dataPath">The Iris CSV; <c>iris.csv</c> next to the program when null.</param>
    public static async Task<QuickstartResult> RunAsync(CairnClient client, TextWriter output, CancellationToken cancellationToken = default, string? dataPath = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(output);
        dataPath ??= Path.Combine(AppContext.BaseDirectory, "iris.csv");

        // 1. Load the data and split it into a training and a test set with a fixed seed.
        var ml = new MLContext(seed: Seed);
        var data = ml.Data.LoadFromTextFile<IrisFlower>(dataPath, hasHeader: true, separatorChar: ',');
        var split = ml.Data.TrainTestSplit(data, testFraction: TestFraction, seed: Seed);

        // 2. Define the hyperparameters and train a multiclass logistic regression (maximum entropy, L-BFGS).
        var trainerOptions = new LbfgsMaximumEntropyMulticlassTrainer.Options
        {
            L1Regularization = 0f,
            L2Regularization = 0.1f,
            MaximumNumberOfIterations = 1000,
            OptimizationTolerance = 1e-7f,
        };
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["trainer"] = "LbfgsMaximumEntropy",
            ["l1_regularization"] = trainerOptions.L1Regularization.ToString(CultureInfo.InvariantCulture),
            ["l2_regularization"] = trainerOptions.L2Regularization.ToString(CultureInfo.InvariantCulture),
            ["max_iterations"] = trainerOptions.MaximumNumberOfIterations.ToString(CultureInfo.InvariantCulture),
            ["optimization_tolerance"] = trainerOptions.OptimizationTolerance.ToString(CultureInfo.InvariantCulture),
            ["seed"] = Seed.ToString(CultureInfo.InvariantCulture),
            ["test_fraction"] = TestFraction.ToString(CultureInfo.InvariantCulture),
        };
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", nameof(IrisFlower.Species))
            .Append(ml.Transforms.Concatenate(
                "Features", nameof(IrisFlower.SepalLength), nameof(IrisFlower.SepalWidth), nameof(IrisFlower.PetalLength), nameof(IrisFlower.PetalWidth)))
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(trainerOptions))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        var model = pipeline.Fit(split.TrainSet);

        // 3. Evaluate on the test set.
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(split.TestSet));
        var accuracy = metrics.MicroAccuracy;

        var work = Directory.CreateTempSubdirectory("cairn-quickstart-").FullName;
        try
        {
            // 4. Log the run: hyperparameters, accuracy, and the saved model as an artifact.
            var modelFile = Path.Combine(work, ModelFileName);
            ml.Model.Save(model, split.TrainSet.Schema, modelFile);

            string runId;
            string experimentId;
            await using (var run = await client.StartRunAsync(ExperimentName, tags: [new("mlflow.note.content", "Basic LR model for iris data")], cancellationToken: cancellationToken))
            {
                runId = run.RunId;
                experimentId = run.ExperimentId;
                await run.LogParamsAsync(parameters, cancellationToken);
                await run.LogMetricAsync("accuracy", accuracy, cancellationToken: cancellationToken);
                await run.SetTagAsync("Training Info", "Basic LR model for iris data", cancellationToken);
                await run.LogArtifactAsync(modelFile, ModelArtifactPath, cancellationToken);
                await run.EndAsync(cancellationToken: cancellationToken);
            }

            await output.WriteLineAsync(FormattableString.Invariant($"Logged run {runId} in experiment '{ExperimentName}' ({experimentId}): accuracy={accuracy:0.0000}"));

            // 5. Register the model and point the alias at the new version.
            var version = await client.RegisterModelAsync(runId, ModelArtifactPath, ModelName, cancellationToken);
            var versionNumber = version.Version ?? throw new InvalidOperationException("The server returned a model version without a number.");
            await client.SetRegisteredModelAliasAsync(ModelName, Alias, versionNumber, cancellationToken);
            await output.WriteLineAsync($"Registered model '{ModelName}' version {versionNumber} (source {version.Source}), alias '{Alias}'");

            // 6. Load it back through the registry, by alias, and predict the test set.
            var downloadDirectory = Path.Combine(work, "download");
            await client.DownloadModelAsync(ModelName, Alias, downloadDirectory, cancellationToken);
            var loaded = ml.Model.Load(Path.Combine(downloadDirectory, ModelFileName), out _);
            using var engine = ml.Model.CreatePredictionEngine<IrisFlower, IrisPrediction>(loaded);
            await output.WriteLineAsync($"Loaded models:/{ModelName}@{Alias}; predictions on the test set:");

            var predictions = new List<QuickstartPrediction>();
            // A few rows spread over the test set (which keeps the file's order, grouped by species).
            var testRows = ml.Data.CreateEnumerable<IrisFlower>(split.TestSet, reuseRowObject: false).ToList();
            var shown = Math.Min(PredictionsShown, testRows.Count);
            await output.WriteLineAsync("  sepal_length sepal_width petal_length petal_width");
            for (var i = 0; i < shown; i++)
            {
                var flower = testRows[i * testRows.Count / shown];
                var prediction = new QuickstartPrediction(engine.Predict(flower).PredictedSpecies, flower.Species);
                predictions.Add(prediction);
                await output.WriteLineAsync(FormattableString.Invariant(
                    $"  {flower.SepalLength,12:0.0} {flower.SepalWidth,11:0.0} {flower.PetalLength,12:0.0} {flower.PetalWidth,11:0.0}  predicted={prediction.Predicted} actual={prediction.Actual}"));
            }

            return new QuickstartResult(runId, experimentId, versionNumber, accuracy, parameters, predictions);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
