namespace Cairn.Core.Gateway;

/// <summary>The gateway's configuration: providers, model routes, limits and what the request log keeps.</summary>
/// <remarks>Bound from the configuration section <c>Cairn:Gateway</c> and reloaded when the configuration changes.</remarks>
public sealed class GatewayOptions
{
    /// <summary>The configuration section, under <c>Cairn</c>.</summary>
    public const string SectionName = "Gateway";

    /// <summary>Upstream providers by name (the name is what <c>provider/model</c> addressing uses).</summary>
    public Dictionary<string, ProviderOptions> Providers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Model aliases by the name clients send as <c>model</c> (<c>"fast"</c>, <c>"gpt-4o"</c>).</summary>
    public Dictionary<string, RouteOptions> Routes { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether callers must present a Cairn virtual key (<c>Authorization: Bearer sk-cairn-...</c>).</summary>
    public bool RequireApiKey { get; set; } = true;

    /// <summary>The largest request body accepted, in bytes (larger bodies get HTTP 413).</summary>
    public long MaxRequestBodyBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Retries and timeouts applied to routes that set none.</summary>
    public RetryOptions Retry { get; set; } = new();

    /// <summary>Per-request timeout, in seconds, for routes that set none (time to the first response byte of a stream).</summary>
    public double TimeoutSeconds { get; set; } = 600;

    /// <summary>What the request log stores.</summary>
    public RequestLogOptions Log { get; set; } = new();

    /// <summary>Price overrides by model name, in US dollars per million tokens, on top of the shipped price table.</summary>
    public Dictionary<string, ModelPrice> Prices { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>The wire protocol an upstream speaks.</summary>
public enum ProviderKind
{
    /// <summary>OpenAI's API, or any server that speaks it (Ollama, vLLM, llama.cpp, LM Studio, Groq, Mistral, DeepSeek, OpenRouter).</summary>
    OpenAI,

    /// <summary>Azure OpenAI: OpenAI's bodies under <c>/openai/deployments/{deployment}/...?api-version=</c> with an <c>api-key</c> header.</summary>
    AzureOpenAI,

    /// <summary>Anthropic's Messages API.</summary>
    Anthropic,

    /// <summary>Google's Gemini API (Generative Language).</summary>
    Gemini,
}

/// <summary>One upstream provider account.</summary>
public sealed class ProviderOptions
{
    /// <summary>The protocol it speaks.</summary>
    public ProviderKind Kind { get; set; } = ProviderKind.OpenAI;

    /// <summary>The API base, such as <c>https://api.openai.com/v1</c>, <c>http://localhost:11434/v1</c> or <c>https://api.anthropic.com</c>.</summary>
    public string? BaseUrl { get; set; }

    /// <summary>The API key; <c>env:NAME</c> reads it from the environment variable NAME when the gateway starts.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Azure OpenAI's <c>api-version</c> (for example <c>2024-10-21</c>); empty for Azure's v1 API.</summary>
    public string? ApiVersion { get; set; }

    /// <summary>Extra headers sent upstream with every request.</summary>
    public Dictionary<string, string> Headers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Models listed by <c>GET /v1/models</c> and accepted as <c>provider/model</c>; any model when empty.</summary>
    public List<string> Models { get; set; } = [];
}

/// <summary>A model alias: the deployments that serve it, and what to try when they fail.</summary>
public sealed class RouteOptions
{
    /// <summary>The deployments, chosen by weight for each request.</summary>
    public List<DeploymentOptions> Deployments { get; set; } = [];

    /// <summary>Other routes tried in order when every deployment of this one failed.</summary>
    public List<string> Fallbacks { get; set; } = [];

    /// <summary>Retries for this route; the gateway's defaults when null.</summary>
    public RetryOptions? Retry { get; set; }

    /// <summary>Timeout for this route in seconds; the gateway's default when null.</summary>
    public double? TimeoutSeconds { get; set; }

    /// <summary>Whether responses of this route are cached (exact match) without the client asking.</summary>
    public bool Cache { get; set; }

    /// <summary>How long cached responses of this route stay valid, in seconds.</summary>
    public int CacheTtlSeconds { get; set; } = 3600;
}

/// <summary>One deployment: a provider and the model name it knows the model by.</summary>
public sealed class DeploymentOptions
{
    /// <summary>The provider's name in <see cref="GatewayOptions.Providers"/>.</summary>
    public string Provider { get; set; } = "";

    /// <summary>The model name sent upstream (for Azure, the deployment name).</summary>
    public string Model { get; set; } = "";

    /// <summary>The relative share of requests this deployment gets.</summary>
    public double Weight { get; set; } = 1;

    /// <summary>Prices for this deployment, overriding the price table.</summary>
    public ModelPrice? Price { get; set; }
}

/// <summary>How failed upstream calls are retried.</summary>
public sealed class RetryOptions
{
    /// <summary>Retries per deployment after the first attempt (0 turns retries off).</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>The first backoff delay in milliseconds; doubled for each further retry, with jitter.</summary>
    public int InitialDelayMs { get; set; } = 200;

    /// <summary>The longest delay in milliseconds, including a provider's <c>Retry-After</c>; a longer <c>Retry-After</c> moves on to the next deployment.</summary>
    public int MaxDelayMs { get; set; } = 10_000;
}

/// <summary>What the request log keeps of each call.</summary>
public sealed class RequestLogOptions
{
    /// <summary>Whether request and response bodies are stored.</summary>
    public bool StoreBodies { get; set; } = true;

    /// <summary>The largest stored body in bytes; longer bodies are cut and marked truncated.</summary>
    public int MaxBodyBytes { get; set; } = 64 * 1024;

    /// <summary>JSON property names whose values are replaced by <c>"[REDACTED]"</c> in stored bodies.</summary>
    public List<string> RedactFields { get; set; } = [];

    /// <summary>The capacity of the queue between requests and the batch writer.</summary>
    public int QueueCapacity { get; set; } = 10_000;

    /// <summary>The most records written in one batch.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>How long the writer lets a batch gather before writing it, in milliseconds (records are stored within about this delay).</summary>
    public int FlushIntervalMs { get; set; } = 50;
}
