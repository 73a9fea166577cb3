namespace Cairn.Core.Gateway;

/// <summary>A provider added through Cairn's API; its API key is stored only in protected (encrypted) form.</summary>
public sealed record StoredProvider
{
    /// <summary>The provider's name.</summary>
    public required string Name { get; init; }

    /// <summary>The protocol it speaks.</summary>
    public ProviderKind Kind { get; init; }

    /// <summary>The API base URL, or null for the vendor's default.</summary>
    public string? BaseUrl { get; init; }

    /// <summary>The API key encrypted with the server's data-protection keys, or null.</summary>
    public string? ProtectedApiKey { get; init; }

    /// <summary>Azure OpenAI's api-version.</summary>
    public string? ApiVersion { get; init; }

    /// <summary>Models listed and accepted as <c>provider/model</c>.</summary>
    public IReadOnlyList<string> Models { get; init; } = [];

    /// <summary>Extra headers sent upstream.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>When it was last changed (Unix ms).</summary>
    public long UpdatedAt { get; init; }
}

/// <summary>A route added through Cairn's API, stored as its JSON definition.</summary>
/// <param name="Name">The model alias.</param>
/// <param name="Definition">The route as JSON (deployments, fallbacks, retry, timeout, cache).</param>
/// <param name="UpdatedAt">When it was last changed (Unix ms).</param>
public sealed record StoredRoute(string Name, string Definition, long UpdatedAt);

/// <summary>Stores the gateway configuration managed through the REST API (it overrides same-named entries of the configuration files).</summary>
public interface IGatewayConfigStore
{
    /// <summary>Every stored provider.</summary>
    Task<IReadOnlyList<StoredProvider>> ListProvidersAsync(CancellationToken cancellationToken);

    /// <summary>Creates or replaces a provider.</summary>
    Task UpsertProviderAsync(StoredProvider provider, CancellationToken cancellationToken);

    /// <summary>Removes a provider; false when there was none.</summary>
    Task<bool> DeleteProviderAsync(string name, CancellationToken cancellationToken);

    /// <summary>Every stored route.</summary>
    Task<IReadOnlyList<StoredRoute>> ListRoutesAsync(CancellationToken cancellationToken);

    /// <summary>Creates or replaces a route.</summary>
    Task UpsertRouteAsync(StoredRoute route, CancellationToken cancellationToken);

    /// <summary>Removes a route; false when there was none.</summary>
    Task<bool> DeleteRouteAsync(string name, CancellationToken cancellationToken);
}
