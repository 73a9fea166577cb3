using System.Text.Json;
using Cairn.Contracts.Gateway;
using Cairn.Core.Gateway;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cairn.Server.Gateway;

/// <summary>The providers and routes managed through the REST API, held in memory for the request path.</summary>
/// <remarks>
/// Loaded before the server starts, reloaded after every change made through this instance and every few seconds (so
/// changes made through another instance sharing the database apply too). Provider keys are decrypted only in memory.
/// </remarks>
internal sealed partial class GatewayDynamicConfig(IGatewayConfigStore store, IDataProtectionProvider protection, ILogger<GatewayDynamicConfig> logger) : BackgroundService
{
    private static readonly TimeSpan s_refresh = TimeSpan.FromSeconds(5);
    private readonly IDataProtector _protector = protection.CreateProtector("Cairn.Gateway.ProviderApiKeys");
    private readonly SemaphoreSlim _reload = new(1, 1);

    /// <summary>The current providers and routes from the database.</summary>
    public Snapshot Current { get; private set; } = Snapshot.Empty;

    /// <summary>Encrypts a provider key for storage.</summary>
    public string Protect(string apiKey) => _protector.Protect(apiKey);

    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        await _reload.WaitAsync(cancellationToken);
        try
        {
            var providers = new Dictionary<string, ProviderOptions>(StringComparer.OrdinalIgnoreCase);
            foreach (var stored in await store.ListProvidersAsync(cancellationToken))
            {
                string? key = null;
                if (stored.ProtectedApiKey is { } protectedKey)
                {
                    try
                    {
                        key = _protector.Unprotect(protectedKey);
                    }
                    catch (System.Security.Cryptography.CryptographicException e)
                    {
                        // The data-protection keys changed (a new data folder, or another instance without the shared key ring).
                        LogUndecryptableKey(logger, stored.Name, e);
                    }
                }

                providers[stored.Name] = new ProviderOptions
                {
                    Kind = stored.Kind,
                    BaseUrl = stored.BaseUrl,
                    ApiKey = key,
                    ApiVersion = stored.ApiVersion,
                    Models = [.. stored.Models],
                    Headers = new Dictionary<string, string>(stored.Headers, StringComparer.OrdinalIgnoreCase),
                };
            }

            var routes = new Dictionary<string, RouteOptions>(StringComparer.OrdinalIgnoreCase);
            foreach (var stored in await store.ListRoutesAsync(cancellationToken))
            {
                var definition = JsonSerializer.Deserialize(stored.Definition, GatewayJsonContext.Default.RouteDefinition);
                if (definition is not null)
                {
                    routes[stored.Name] = ToOptions(definition);
                }
            }

            var next = new Snapshot(providers, routes);
            if (!next.SameAs(Current))
            {
                Current = next;
            }
        }
        finally
        {
            _reload.Release();
        }
    }

    /// <summary>The options form of a route definition.</summary>
    public static RouteOptions ToOptions(RouteDefinition definition) => new()
    {
        Deployments = definition.Deployments?.Select(d => new DeploymentOptions
        {
            Provider = d.Provider ?? "",
            Model = d.Model ?? "",
            Weight = d.Weight ?? 1,
            Price = d.Price is { } p ? new ModelPrice(p.Input, p.Output, p.CachedInput, p.CacheWrite, p.Reasoning) : null,
        }).ToList() ?? [],
        Fallbacks = definition.Fallbacks ?? [],
        Retry = definition.Retry is { } r
            ? new RetryOptions { MaxRetries = r.MaxRetries ?? 2, InitialDelayMs = r.InitialDelayMs ?? 200, MaxDelayMs = r.MaxDelayMs ?? 10_000 }
            : null,
        TimeoutSeconds = definition.TimeoutSeconds,
        Cache = definition.Cache ?? false,
        CacheTtlSeconds = definition.CacheTtlSeconds ?? 3600,
    };

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Loaded before the server takes requests, so API-managed routes work from the first request.
        await ReloadAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(s_refresh);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await ReloadAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogRefreshFailed(logger, e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(EventId = 5200, Level = LogLevel.Error, Message = "The API key of gateway provider {Provider} cannot be decrypted with this server's data-protection keys; set it again")]
    private static partial void LogUndecryptableKey(ILogger logger, string provider, Exception exception);

    [LoggerMessage(EventId = 5201, Level = LogLevel.Warning, Message = "Refreshing the gateway configuration from the database failed; keeping the previous one")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);

    /// <summary>An immutable set of API-managed providers and routes.</summary>
    internal sealed class Snapshot(IReadOnlyDictionary<string, ProviderOptions> providers, IReadOnlyDictionary<string, RouteOptions> routes)
    {
        public static Snapshot Empty { get; } = new(new Dictionary<string, ProviderOptions>(), new Dictionary<string, RouteOptions>());

        public IReadOnlyDictionary<string, ProviderOptions> Providers { get; } = providers;

        public IReadOnlyDictionary<string, RouteOptions> Routes { get; } = routes;

        private string Fingerprint => string.Join(
            "\n",
            Providers.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"p:{p.Key}:{JsonSerializer.Serialize(p.Value, GatewayOptionsJsonContext.Default.ProviderOptions)}")
                .Concat(Routes.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"r:{r.Key}:{JsonSerializer.Serialize(r.Value, GatewayOptionsJsonContext.Default.RouteOptions)}")));

        public bool SameAs(Snapshot other) => ReferenceEquals(this, other) || Fingerprint == other.Fingerprint;
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(ProviderOptions))]
[System.Text.Json.Serialization.JsonSerializable(typeof(RouteOptions))]
internal sealed partial class GatewayOptionsJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
