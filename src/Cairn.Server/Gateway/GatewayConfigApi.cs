using System.Text.Json;
using System.Text.RegularExpressions;
using Cairn.Contracts.Gateway;
using Cairn.Core.Gateway;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using static Cairn.Server.ApiResults;

namespace Cairn.Server.Gateway;

/// <summary>
/// Cairn's REST API for the gateway's providers and routes. Changes are stored in the database (provider keys encrypted)
/// and apply to the next request; they override same-named entries from the configuration files. Errors are RFC 9457
/// problem details.
/// </summary>
internal static partial class GatewayConfigApi
{
    public static IEndpointRouteBuilder MapGatewayConfig(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/cairn/gateway").WithTags("Gateway configuration");
        group.MapGet("/providers", ListProviders).WithName("ListGatewayProviders");
        group.MapPut("/providers/{name}", PutProviderAsync).WithName("PutGatewayProvider");
        group.MapDelete("/providers/{name}", DeleteProviderAsync).WithName("DeleteGatewayProvider");
        group.MapGet("/routes", ListRoutes).WithName("ListGatewayRoutes");
        group.MapPut("/routes/{name}", PutRouteAsync).WithName("PutGatewayRoute");
        group.MapDelete("/routes/{name}", DeleteRouteAsync).WithName("DeleteGatewayRoute");
        return endpoints;
    }

    private static JsonHttpResult<ListProvidersResponse> ListProviders(GatewayRouter router, GatewayDynamicConfig dynamic)
    {
        var api = dynamic.Current.Providers;
        var providers = router.Options.Providers
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => new ProviderInfo
            {
                Name = p.Key,
                Kind = p.Value.Kind.ToString(),
                BaseUrl = p.Value.BaseUrl,
                ApiVersion = p.Value.ApiVersion,
                Models = [.. p.Value.Models],
                HeaderNames = [.. p.Value.Headers.Keys],
                HasApiKey = !string.IsNullOrEmpty(p.Value.ApiKey),
                Source = api.ContainsKey(p.Key) ? "api" : "config",
            })
            .ToList();
        return TypedResults.Json(new ListProvidersResponse { Providers = providers }, GatewayJsonContext.Default.ListProvidersResponse);
    }

    private static async Task<Results<JsonHttpResult<ProviderInfo>, ProblemHttpResult>> PutProviderAsync(
        string name, HttpContext context, IGatewayConfigStore store, GatewayDynamicConfig dynamic, GatewayRouter router, TimeProvider time)
    {
        if (!ValidName().IsMatch(name))
        {
            return Problem(400, "Invalid provider name", "Provider names use letters, digits, '.', '_' and '-' (up to 64 characters); '/' separates provider and model in requests.");
        }

        var (definition, error) = await ReadAsync(context, GatewayJsonContext.Default.ProviderDefinition);
        if (error is not null)
        {
            return error;
        }

        if (!Enum.TryParse<ProviderKind>(definition!.Kind ?? "OpenAI", ignoreCase: true, out var kind) || !Enum.IsDefined(kind))
        {
            return Problem(400, "Invalid provider kind", $"kind must be one of {string.Join(", ", Enum.GetNames<ProviderKind>())}.");
        }

        if (definition.BaseUrl is { } baseUrl && (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            return Problem(400, "Invalid base URL", "base_url must be an absolute http or https URL.");
        }

        if (kind == ProviderKind.AzureOpenAI && string.IsNullOrEmpty(definition.BaseUrl))
        {
            return Problem(400, "Missing base URL", "An Azure OpenAI provider needs base_url (https://<resource>.openai.azure.com).");
        }

        await store.UpsertProviderAsync(
            new StoredProvider
            {
                Name = name,
                Kind = kind,
                BaseUrl = definition.BaseUrl,
                ProtectedApiKey = string.IsNullOrEmpty(definition.ApiKey) ? null : dynamic.Protect(definition.ApiKey),
                ApiVersion = definition.ApiVersion,
                Models = definition.Models?.Where(m => !string.IsNullOrWhiteSpace(m)).Select(m => m.Trim()).ToList() ?? [],
                Headers = definition.Headers ?? [],
                UpdatedAt = time.GetUtcNow().ToUnixTimeMilliseconds(),
            },
            context.RequestAborted);
        await dynamic.ReloadAsync(context.RequestAborted);
        return TypedResults.Json(ListProviders(router, dynamic).Value!.Providers.Single(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase)), GatewayJsonContext.Default.ProviderInfo);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteProviderAsync(string name, HttpContext context, IGatewayConfigStore store, GatewayDynamicConfig dynamic)
    {
        if (!await store.DeleteProviderAsync(name, context.RequestAborted))
        {
            return Problem(404, "Provider not found", $"No provider '{name}' is managed through the API (providers from configuration files are changed there).");
        }

        await dynamic.ReloadAsync(context.RequestAborted);
        return TypedResults.NoContent();
    }

    private static JsonHttpResult<ListRoutesResponse> ListRoutes(GatewayRouter router, GatewayDynamicConfig dynamic)
    {
        var api = dynamic.Current.Routes;
        var routes = router.Options.Routes
            .OrderBy(r => r.Key, StringComparer.Ordinal)
            .Select(r => new RouteDefinition
            {
                Name = r.Key,
                Deployments = r.Value.Deployments.Select(d => new DeploymentDefinition
                {
                    Provider = d.Provider,
                    Model = d.Model,
                    Weight = d.Weight,
                    Price = d.Price is { } p ? new PriceDefinition { Input = p.Input, Output = p.Output, CachedInput = p.CachedInput, CacheWrite = p.CacheWrite, Reasoning = p.Reasoning } : null,
                }).ToList(),
                Fallbacks = [.. r.Value.Fallbacks],
                Retry = r.Value.Retry is { } retry ? new RetryDefinition { MaxRetries = retry.MaxRetries, InitialDelayMs = retry.InitialDelayMs, MaxDelayMs = retry.MaxDelayMs } : null,
                TimeoutSeconds = r.Value.TimeoutSeconds,
                Cache = r.Value.Cache,
                CacheTtlSeconds = r.Value.CacheTtlSeconds,
                Source = api.ContainsKey(r.Key) ? "api" : "config",
            })
            .ToList();
        return TypedResults.Json(new ListRoutesResponse { Routes = routes }, GatewayJsonContext.Default.ListRoutesResponse);
    }

    private static async Task<Results<JsonHttpResult<RouteDefinition>, ProblemHttpResult>> PutRouteAsync(
        string name, HttpContext context, IGatewayConfigStore store, GatewayDynamicConfig dynamic, GatewayRouter router, TimeProvider time)
    {
        if (!ValidName().IsMatch(name))
        {
            return Problem(400, "Invalid route name", "Route names use letters, digits, '.', '_', ':' and '-' (up to 64 characters).");
        }

        var (definition, error) = await ReadAsync(context, GatewayJsonContext.Default.RouteDefinition);
        if (error is not null)
        {
            return error;
        }

        if (definition!.Deployments is not { Count: > 0 } deployments)
        {
            return Problem(400, "Missing deployments", "A route needs at least one deployment: {\"deployments\":[{\"provider\":\"openai\",\"model\":\"gpt-4o-mini\"}]}.");
        }

        var providers = router.Options.Providers;
        foreach (var deployment in deployments)
        {
            if (string.IsNullOrWhiteSpace(deployment.Provider) || !providers.ContainsKey(deployment.Provider))
            {
                return Problem(400, "Unknown provider", $"Deployment provider '{deployment.Provider}' is not configured; known providers: {string.Join(", ", providers.Keys.Order(StringComparer.Ordinal))}.");
            }

            if (string.IsNullOrWhiteSpace(deployment.Model))
            {
                return Problem(400, "Missing model", "Every deployment needs a model.");
            }

            if (deployment.Weight is < 0)
            {
                return Problem(400, "Invalid weight", "Weights must not be negative.");
            }
        }

        foreach (var fallback in definition.Fallbacks ?? [])
        {
            if (!router.Options.Routes.ContainsKey(fallback) || string.Equals(fallback, name, StringComparison.OrdinalIgnoreCase))
            {
                return Problem(400, "Unknown fallback", $"Fallback '{fallback}' is not another configured route.");
            }
        }

        if (definition.TimeoutSeconds is <= 0 || definition.Retry?.MaxRetries is < 0 || definition.CacheTtlSeconds is <= 0)
        {
            return Problem(400, "Invalid setting", "timeout_seconds and cache_ttl_seconds must be positive and retry.max_retries must not be negative.");
        }

        definition.Name = null;
        definition.Source = null;
        await store.UpsertRouteAsync(
            new StoredRoute(name, JsonSerializer.Serialize(definition, GatewayJsonContext.Default.RouteDefinition), time.GetUtcNow().ToUnixTimeMilliseconds()),
            context.RequestAborted);
        await dynamic.ReloadAsync(context.RequestAborted);
        return TypedResults.Json(ListRoutes(router, dynamic).Value!.Routes.Single(r => r.Name!.Equals(name, StringComparison.OrdinalIgnoreCase)), GatewayJsonContext.Default.RouteDefinition);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteRouteAsync(string name, HttpContext context, IGatewayConfigStore store, GatewayDynamicConfig dynamic)
    {
        if (!await store.DeleteRouteAsync(name, context.RequestAborted))
        {
            return Problem(404, "Route not found", $"No route '{name}' is managed through the API (routes from configuration files are changed there).");
        }

        await dynamic.ReloadAsync(context.RequestAborted);
        return TypedResults.NoContent();
    }

    private static async Task<(T? Value, ProblemHttpResult? Error)> ReadAsync<T>(HttpContext context, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
    {
        try
        {
            var value = await context.Request.ReadFromJsonAsync(type, context.RequestAborted);
            return value is null ? (null, Problem(400, "Invalid request body", "The body must be a JSON object.")) : (value, null);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return (null, Problem(400, "Invalid request body", $"The body must be a JSON object: {e.Message}"));
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]
    private static partial Regex ValidName();
}
