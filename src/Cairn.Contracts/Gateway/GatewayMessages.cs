using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cairn.Contracts.Gateway;

/// <summary>The body of <c>POST /api/cairn/gateway/keys</c>.</summary>
public sealed class CreateKeyRequest
{
    /// <summary>A name for people.</summary>
    public string? Name { get; set; }

    /// <summary>Models the key may use (route names or <c>provider/model</c>); all when empty.</summary>
    public List<string>? AllowedModels { get; set; }

    /// <summary>Requests per minute, or null.</summary>
    public int? RequestsPerMinute { get; set; }

    /// <summary>Tokens per minute, or null.</summary>
    public long? TokensPerMinute { get; set; }

    /// <summary>Spend budget in US dollars per period, or null.</summary>
    public decimal? BudgetUsd { get; set; }

    /// <summary><c>day</c> or <c>month</c> (the default).</summary>
    public string? BudgetPeriod { get; set; }

    /// <summary>The trace project the key writes to (OTLP ingest and gateway spans), or null.</summary>
    public string? Project { get; set; }
}

/// <summary>A virtual key as the API shows it; <see cref="Key"/> is only set in the answer that created it.</summary>
public sealed class KeyInfo
{
    /// <summary>The key's id.</summary>
    public string Id { get; set; } = "";

    /// <summary>Its name.</summary>
    public string Name { get; set; } = "";

    /// <summary>The start of the secret, to recognise it.</summary>
    public string Prefix { get; set; } = "";

    /// <summary>The secret, shown once.</summary>
    public string? Key { get; set; }

    /// <summary>Allowed models; all when empty.</summary>
    public List<string> AllowedModels { get; set; } = [];

    /// <summary>Requests per minute.</summary>
    public int? RequestsPerMinute { get; set; }

    /// <summary>Tokens per minute.</summary>
    public long? TokensPerMinute { get; set; }

    /// <summary>Budget in US dollars.</summary>
    public decimal? BudgetUsd { get; set; }

    /// <summary><c>day</c> or <c>month</c>.</summary>
    public string BudgetPeriod { get; set; } = "month";

    /// <summary>Creation time (Unix ms).</summary>
    public long CreatedAt { get; set; }

    /// <summary>Revocation time (Unix ms), or null.</summary>
    public long? RevokedAt { get; set; }

    /// <summary>The trace project the key writes to, or null.</summary>
    public string? Project { get; set; }
}

/// <summary>The answer of <c>GET /api/cairn/gateway/keys</c>.</summary>
public sealed class ListKeysResponse
{
    /// <summary>The keys, newest first.</summary>
    public List<KeyInfo> Keys { get; set; } = [];
}

/// <summary>A provider as sent to <c>PUT /api/cairn/gateway/providers/{name}</c>.</summary>
public sealed class ProviderDefinition
{
    /// <summary><c>OpenAI</c>, <c>AzureOpenAI</c>, <c>Anthropic</c> or <c>Gemini</c>.</summary>
    public string? Kind { get; set; }

    /// <summary>The API base URL (the vendor's default when omitted, required for Azure and self-hosted servers).</summary>
    public string? BaseUrl { get; set; }

    /// <summary>The API key (stored encrypted, never returned).</summary>
    public string? ApiKey { get; set; }

    /// <summary>Azure OpenAI's api-version.</summary>
    public string? ApiVersion { get; set; }

    /// <summary>Models accepted as <c>provider/model</c> and listed by <c>/v1/models</c>.</summary>
    public List<string>? Models { get; set; }

    /// <summary>Extra headers sent upstream.</summary>
    public Dictionary<string, string>? Headers { get; set; }
}

/// <summary>A provider as the API shows it (without its key).</summary>
public sealed class ProviderInfo
{
    /// <summary>The provider's name.</summary>
    public string Name { get; set; } = "";

    /// <summary>Its protocol.</summary>
    public string Kind { get; set; } = "";

    /// <summary>Its base URL.</summary>
    public string? BaseUrl { get; set; }

    /// <summary>Azure's api-version.</summary>
    public string? ApiVersion { get; set; }

    /// <summary>Listed models.</summary>
    public List<string> Models { get; set; } = [];

    /// <summary>The names of the extra headers (values are not shown).</summary>
    public List<string> HeaderNames { get; set; } = [];

    /// <summary>Whether an API key is configured.</summary>
    public bool HasApiKey { get; set; }

    /// <summary><c>api</c> when managed through this API, <c>config</c> when it comes from configuration files or the environment.</summary>
    public string Source { get; set; } = "";
}

/// <summary>A route (model alias) as sent to and shown by <c>/api/cairn/gateway/routes</c>.</summary>
public sealed class RouteDefinition
{
    /// <summary>The route's name (set by the API when shown).</summary>
    public string? Name { get; set; }

    /// <summary>The deployments, chosen by weight.</summary>
    public List<DeploymentDefinition>? Deployments { get; set; }

    /// <summary>Routes tried in order when every deployment failed.</summary>
    public List<string>? Fallbacks { get; set; }

    /// <summary>Retries per deployment.</summary>
    public RetryDefinition? Retry { get; set; }

    /// <summary>Timeout in seconds.</summary>
    public double? TimeoutSeconds { get; set; }

    /// <summary>Whether answers are cached without the client asking.</summary>
    public bool? Cache { get; set; }

    /// <summary>Cache lifetime in seconds.</summary>
    public int? CacheTtlSeconds { get; set; }

    /// <summary><c>api</c> or <c>config</c> (set by the API when shown).</summary>
    public string? Source { get; set; }
}

/// <summary>One deployment of a route.</summary>
public sealed class DeploymentDefinition
{
    /// <summary>The provider's name.</summary>
    public string? Provider { get; set; }

    /// <summary>The model name at the provider.</summary>
    public string? Model { get; set; }

    /// <summary>The relative share of requests.</summary>
    public double? Weight { get; set; }

    /// <summary>Prices overriding the price table (USD per 1M tokens).</summary>
    public PriceDefinition? Price { get; set; }
}

/// <summary>Prices in US dollars per million tokens.</summary>
public sealed class PriceDefinition
{
    /// <summary>Uncached input.</summary>
    public decimal Input { get; set; }

    /// <summary>Output.</summary>
    public decimal Output { get; set; }

    /// <summary>Cached input.</summary>
    public decimal? CachedInput { get; set; }

    /// <summary>Cache writes.</summary>
    public decimal? CacheWrite { get; set; }

    /// <summary>Reasoning output.</summary>
    public decimal? Reasoning { get; set; }
}

/// <summary>Retry settings of a route.</summary>
public sealed class RetryDefinition
{
    /// <summary>Retries per deployment.</summary>
    public int? MaxRetries { get; set; }

    /// <summary>First backoff in milliseconds.</summary>
    public int? InitialDelayMs { get; set; }

    /// <summary>Longest backoff in milliseconds.</summary>
    public int? MaxDelayMs { get; set; }
}

/// <summary>The answer of <c>GET /api/cairn/gateway/providers</c>.</summary>
public sealed class ListProvidersResponse
{
    /// <summary>Every provider in effect.</summary>
    public List<ProviderInfo> Providers { get; set; } = [];
}

/// <summary>The answer of <c>GET /api/cairn/gateway/routes</c>.</summary>
public sealed class ListRoutesResponse
{
    /// <summary>Every route in effect.</summary>
    public List<RouteDefinition> Routes { get; set; } = [];
}

/// <summary>System.Text.Json metadata for Cairn's own gateway API (snake_case, as the rest of Cairn's API).</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CreateKeyRequest))]
[JsonSerializable(typeof(KeyInfo))]
[JsonSerializable(typeof(ListKeysResponse))]
[JsonSerializable(typeof(ProviderDefinition))]
[JsonSerializable(typeof(ProviderInfo))]
[JsonSerializable(typeof(RouteDefinition))]
[JsonSerializable(typeof(ListProvidersResponse))]
[JsonSerializable(typeof(ListRoutesResponse))]
public sealed partial class GatewayJsonContext : JsonSerializerContext;
