using Cairn.Core.Gateway;
using Microsoft.Extensions.Options;

namespace Cairn.Server.Gateway;

/// <summary>One place a request can be sent: a provider, the model name it uses there, and how to retry it.</summary>
internal sealed record UpstreamTarget(
    string ProviderName,
    ProviderOptions Provider,
    string Model,
    string? Route,
    ModelPrice? Price,
    RetryOptions Retry,
    TimeSpan Timeout,
    bool CacheByDefault,
    int CacheTtlSeconds);

/// <summary>Turns the <c>model</c> a client asked for into the ordered list of upstream targets to try.</summary>
/// <remarks>Reads the current options on every call, so configuration changes apply to the next request.</remarks>
internal sealed class GatewayRouter(IOptionsMonitor<GatewayOptions> options, GatewayDynamicConfig dynamic)
{
    private const int MaxFallbackDepth = 8;

    private (GatewayOptions Options, PriceTable Prices)? _prices;
    private (GatewayOptions File, GatewayDynamicConfig.Snapshot Dynamic, GatewayOptions Merged)? _merged;

    /// <summary>The configuration in effect: the configuration files and environment, with the API-managed providers and routes on top.</summary>
    public GatewayOptions Options
    {
        get
        {
            var file = options.CurrentValue;
            var api = dynamic.Current;
            if (_merged is { } m && ReferenceEquals(m.File, file) && ReferenceEquals(m.Dynamic, api))
            {
                return m.Merged;
            }

            var merged = Merge(file, api);
            _merged = (file, api, merged);
            return merged;
        }
    }

    /// <summary>The configuration files' options alone.</summary>
    public GatewayOptions FileOptions => options.CurrentValue;

    private static GatewayOptions Merge(GatewayOptions file, GatewayDynamicConfig.Snapshot api)
    {
        if (api.Providers.Count == 0 && api.Routes.Count == 0)
        {
            return file;
        }

        var providers = new Dictionary<string, ProviderOptions>(file.Providers, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, provider) in api.Providers)
        {
            providers[name] = provider;
        }

        var routes = new Dictionary<string, RouteOptions>(file.Routes, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, route) in api.Routes)
        {
            routes[name] = route;
        }

        return new GatewayOptions
        {
            Providers = providers,
            Routes = routes,
            RequireApiKey = file.RequireApiKey,
            MaxRequestBodyBytes = file.MaxRequestBodyBytes,
            Retry = file.Retry,
            TimeoutSeconds = file.TimeoutSeconds,
            Log = file.Log,
            Prices = file.Prices,
        };
    }

    /// <summary>The shipped price table with the configured overrides.</summary>
    public PriceTable Prices
    {
        get
        {
            var current = Options;
            var cached = _prices;
            if (cached is { } c && ReferenceEquals(c.Options, current))
            {
                return c.Prices;
            }

            var table = PriceTable.Default.With(current.Prices);
            _prices = (current, table);
            return table;
        }
    }

    /// <summary>
    /// The targets for <paramref name="model"/>: a route (alias) picks its deployments by weight and appends its fallbacks;
    /// <c>provider/model</c> addresses one provider directly; a bare model name goes to the one provider that lists it.
    /// </summary>
    public IReadOnlyList<UpstreamTarget> Resolve(string model)
    {
        var current = Options;
        var targets = new List<UpstreamTarget>();
        if (current.Routes.ContainsKey(model))
        {
            AddRoute(current, model, targets, new HashSet<string>(StringComparer.OrdinalIgnoreCase), 0);
            return targets;
        }

        var slash = model.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0 && current.Providers.TryGetValue(model[..slash], out var addressed) && slash < model.Length - 1)
        {
            var upstreamModel = model[(slash + 1)..];
            if (addressed.Models.Count == 0 || addressed.Models.Contains(upstreamModel, StringComparer.OrdinalIgnoreCase))
            {
                targets.Add(Direct(current, model[..slash], addressed, upstreamModel));
            }

            return targets;
        }

        foreach (var (name, provider) in current.Providers)
        {
            if (provider.Models.Contains(model, StringComparer.OrdinalIgnoreCase))
            {
                targets.Add(Direct(current, name, provider, model));
                break;
            }
        }

        return targets;
    }

    /// <summary>The model names clients can ask for: routes, then <c>provider/model</c> for each listed provider model.</summary>
    public IEnumerable<(string Id, string OwnedBy)> ListModels()
    {
        var current = Options;
        foreach (var name in current.Routes.Keys.Order(StringComparer.Ordinal))
        {
            yield return (name, "cairn");
        }

        foreach (var (providerName, provider) in current.Providers.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            foreach (var model in provider.Models)
            {
                yield return ($"{providerName}/{model}", providerName);
            }
        }
    }

    private static UpstreamTarget Direct(GatewayOptions options, string providerName, ProviderOptions provider, string model) =>
        new(providerName, provider, model, null, null, options.Retry, TimeSpan.FromSeconds(options.TimeoutSeconds), false, 3600);

    private static void AddRoute(GatewayOptions options, string routeName, List<UpstreamTarget> targets, HashSet<string> seen, int depth)
    {
        if (depth > MaxFallbackDepth || !seen.Add(routeName) || !options.Routes.TryGetValue(routeName, out var route))
        {
            return;
        }

        var retry = route.Retry ?? options.Retry;
        var timeout = TimeSpan.FromSeconds(route.TimeoutSeconds ?? options.TimeoutSeconds);
        foreach (var deployment in WeightedOrder(route.Deployments))
        {
            if (options.Providers.TryGetValue(deployment.Provider, out var provider))
            {
                targets.Add(new UpstreamTarget(deployment.Provider, provider, deployment.Model, routeName, deployment.Price, retry, timeout, route.Cache, route.CacheTtlSeconds));
            }
        }

        foreach (var fallback in route.Fallbacks)
        {
            AddRoute(options, fallback, targets, seen, depth + 1);
        }
    }

    /// <summary>All deployments, the first drawn by weight, each next one drawn by weight from the rest.</summary>
    private static List<DeploymentOptions> WeightedOrder(List<DeploymentOptions> deployments)
    {
        var remaining = deployments.Where(d => d.Weight > 0).ToList();
        var ordered = new List<DeploymentOptions>(remaining.Count);
        while (remaining.Count > 0)
        {
            var total = remaining.Sum(d => d.Weight);
            var pick = Random.Shared.NextDouble() * total;
            var index = 0;
            for (; index < remaining.Count - 1; index++)
            {
                pick -= remaining[index].Weight;
                if (pick < 0)
                {
                    break;
                }
            }

            ordered.Add(remaining[index]);
            remaining.RemoveAt(index);
        }

        return ordered;
    }
}
