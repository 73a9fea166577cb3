using System.Text.Json;
using Cairn.Core.Gateway;

namespace Cairn.Storage.Relational;

/// <summary>The gateway configuration managed through the REST API, for one workspace, on any <see cref="SqlDialect"/>.</summary>
internal sealed class RelationalGatewayConfigStore(SqlDialect db, string workspaceId) : IGatewayConfigStore
{
    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredProvider>> ListProvidersAsync(CancellationToken cancellationToken)
    {
        var connection = await db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var command = connection.Command(
            "SELECT name, kind, base_url, api_key_protected, api_version, models, headers, updated_at FROM gateway_providers WHERE workspace_id = @ws ORDER BY name");
        await using var commandScope = command.ConfigureAwait(false);
        command.Add("@ws", workspaceId);
        var providers = new List<StoredProvider>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            providers.Add(new StoredProvider
            {
                Name = reader.GetString(0),
                Kind = Enum.TryParse<ProviderKind>(reader.GetString(1), out var kind) ? kind : ProviderKind.OpenAI,
                BaseUrl = reader.GetNullableString(2),
                ProtectedApiKey = reader.GetNullableString(3),
                ApiVersion = reader.GetNullableString(4),
                Models = JsonSerializer.Deserialize(reader.GetString(5), RequestLogJsonContext.Default.ListString) ?? [],
                Headers = JsonSerializer.Deserialize(reader.GetString(6), RequestLogJsonContext.Default.DictionaryStringString) ?? [],
                UpdatedAt = reader.GetInt64(7),
            });
        }

        return providers;
    }

    /// <inheritdoc />
    public async Task UpsertProviderAsync(StoredProvider provider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(provider);
        await ExecuteAsync(
            "INSERT INTO gateway_providers (workspace_id, name, kind, base_url, api_key_protected, api_version, models, headers, updated_at) " +
            "VALUES (@ws, @name, @kind, @base, @key, @version, @models, @headers, @at) " +
            "ON CONFLICT (workspace_id, name) DO UPDATE SET kind = excluded.kind, base_url = excluded.base_url, api_key_protected = excluded.api_key_protected, " +
            "api_version = excluded.api_version, models = excluded.models, headers = excluded.headers, updated_at = excluded.updated_at",
            cancellationToken,
            ("@name", provider.Name),
            ("@kind", provider.Kind.ToString()),
            ("@base", provider.BaseUrl),
            ("@key", provider.ProtectedApiKey),
            ("@version", provider.ApiVersion),
            ("@models", JsonSerializer.Serialize(provider.Models.ToList(), RequestLogJsonContext.Default.ListString)),
            ("@headers", JsonSerializer.Serialize(new Dictionary<string, string>(provider.Headers), RequestLogJsonContext.Default.DictionaryStringString)),
            ("@at", provider.UpdatedAt)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<bool> DeleteProviderAsync(string name, CancellationToken cancellationToken) =>
        await ExecuteAsync("DELETE FROM gateway_providers WHERE workspace_id = @ws AND name = @name", cancellationToken, ("@name", name)).ConfigureAwait(false) > 0;

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredRoute>> ListRoutesAsync(CancellationToken cancellationToken)
    {
        var connection = await db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var command = connection.Command("SELECT name, definition, updated_at FROM gateway_routes WHERE workspace_id = @ws ORDER BY name");
        await using var commandScope = command.ConfigureAwait(false);
        command.Add("@ws", workspaceId);
        var routes = new List<StoredRoute>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            routes.Add(new StoredRoute(reader.GetString(0), reader.GetString(1), reader.GetInt64(2)));
        }

        return routes;
    }

    /// <inheritdoc />
    public async Task UpsertRouteAsync(StoredRoute route, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(route);
        await ExecuteAsync(
            "INSERT INTO gateway_routes (workspace_id, name, definition, updated_at) VALUES (@ws, @name, @definition, @at) " +
            "ON CONFLICT (workspace_id, name) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at",
            cancellationToken,
            ("@name", route.Name),
            ("@definition", route.Definition),
            ("@at", route.UpdatedAt)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<bool> DeleteRouteAsync(string name, CancellationToken cancellationToken) =>
        await ExecuteAsync("DELETE FROM gateway_routes WHERE workspace_id = @ws AND name = @name", cancellationToken, ("@name", name)).ConfigureAwait(false) > 0;

    private async Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        var session = await db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        var command = session.Command(sql);
        int changed;
        await using (command.ConfigureAwait(false))
        {
            command.Add("@ws", workspaceId);
            foreach (var (name, value) in parameters)
            {
                command.Add(name, value);
            }

            changed = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await session.CommitAsync().ConfigureAwait(false);
        return changed;
    }
}
