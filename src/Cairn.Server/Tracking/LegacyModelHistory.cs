using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Core.Tracking;

namespace Cairn.Server.Tracking;

/// <summary>Implements MLflow 2.x's <c>runs/log-model</c>: the model's metadata is appended to the run's <c>mlflow.log-model.history</c> tag.</summary>
internal static class LegacyModelHistory
{
    public const string TagKey = "mlflow.log-model.history";

    public static async Task AppendAsync(IRunStore store, string runId, string modelJson, CancellationToken cancellationToken)
    {
        JsonObject model;
        try
        {
            model = JsonNode.Parse(modelJson) as JsonObject ?? throw TrackingException.Invalid("Argument 'model_json' must be a JSON object.");
        }
        catch (JsonException e)
        {
            throw TrackingException.Invalid($"Malformed model info. JSON cannot be parsed: {e.Message}");
        }

        var run = await store.GetRunAsync(runId, cancellationToken);
        var existing = run.Data.Tags.FirstOrDefault(static t => t.Key == TagKey)?.Value;
        var history = existing is null ? [] : JsonNode.Parse(existing) as JsonArray ?? [];
        history.Add(model);
        await store.LogBatchAsync(runId, [], [], [new KeyValue(TagKey, history.ToJsonString())], cancellationToken);
    }
}
