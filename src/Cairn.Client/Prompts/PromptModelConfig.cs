using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cairn.Client.Prompts;

/// <summary>The model configuration stored with a prompt version (MLflow's <c>model_config</c>): typed accessors for the known keys and the raw JSON.</summary>
/// <remarks>
/// An accessor is null when its key is absent or does not hold the expected JSON type. <see cref="Raw"/> is shared by every
/// caller that gets the same cached prompt: read it, and <see cref="JsonNode.DeepClone"/> it to make changes.
/// </remarks>
public sealed class PromptModelConfig
{
    internal PromptModelConfig(JsonObject raw)
    {
        Raw = raw;
        ModelName = String(raw, "model_name");
        Provider = String(raw, "provider");
        Temperature = Number(raw, "temperature");
        MaxTokens = Integer(raw, "max_tokens");
        TopP = Number(raw, "top_p");
        TopK = Integer(raw, "top_k");
        FrequencyPenalty = Number(raw, "frequency_penalty");
        PresencePenalty = Number(raw, "presence_penalty");
        StopSequences = raw["stop_sequences"] is JsonArray stops && stops.All(static s => s is JsonValue v && v.GetValueKind() == JsonValueKind.String)
            ? [.. stops.Select(static s => s!.GetValue<string>())]
            : null;
    }

    /// <summary>Gets the model, or the gateway route, the prompt is meant for (<c>model_name</c>).</summary>
    public string? ModelName { get; }

    /// <summary>Gets the model's provider (<c>provider</c>), such as <c>openai</c>.</summary>
    public string? Provider { get; }

    /// <summary>Gets the sampling temperature (<c>temperature</c>).</summary>
    public double? Temperature { get; }

    /// <summary>Gets the maximum number of tokens to generate (<c>max_tokens</c>).</summary>
    public int? MaxTokens { get; }

    /// <summary>Gets the nucleus sampling probability (<c>top_p</c>).</summary>
    public double? TopP { get; }

    /// <summary>Gets the top-k sampling limit (<c>top_k</c>).</summary>
    public int? TopK { get; }

    /// <summary>Gets the frequency penalty (<c>frequency_penalty</c>).</summary>
    public double? FrequencyPenalty { get; }

    /// <summary>Gets the presence penalty (<c>presence_penalty</c>).</summary>
    public double? PresencePenalty { get; }

    /// <summary>Gets the stop sequences (<c>stop_sequences</c>).</summary>
    public IReadOnlyList<string>? StopSequences { get; }

    /// <summary>Gets the whole configuration as stored, other keys (<c>tools</c>, ...) included; empty when the version has none.</summary>
    public JsonObject Raw { get; }

    private static string? String(JsonObject raw, string key) =>
        raw[key] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    private static double? Number(JsonObject raw, string key) =>
        raw[key] is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<double>(out var number) ? number : null;

    private static int? Integer(JsonObject raw, string key) =>
        raw[key] is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<int>(out var number) ? number : null;
}
