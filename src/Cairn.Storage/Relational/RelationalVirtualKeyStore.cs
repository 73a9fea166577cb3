using System.Data.Common;
using System.Text.Json;
using Cairn.Core.Gateway;

namespace Cairn.Storage.Relational;

/// <summary>The gateway's virtual keys of one workspace, on any <see cref="SqlDialect"/>.</summary>
internal sealed class RelationalVirtualKeyStore(SqlDialect db, string workspaceId) : IVirtualKeyStore
{
    /// <inheritdoc />
    public async Task CreateAsync(VirtualKey key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var session = await db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        var command = session.Command(
            "INSERT INTO gateway_keys (key_id, workspace_id, name, prefix, key_hash, allowed_models, requests_per_minute, tokens_per_minute, budget_usd, budget_period, created_at, revoked_at, project) " +
            "VALUES (@id, @ws, @name, @prefix, @hash, @models, @rpm, @tpm, @budget, @period, @created, NULL, @project)");
        await using (command.ConfigureAwait(false))
        {
            command.Add("@id", key.Id);
            command.Add("@ws", workspaceId);
            command.Add("@name", key.Name);
            command.Add("@prefix", key.Prefix);
            command.Add("@hash", key.Hash);
            command.Add("@models", JsonSerializer.Serialize(key.AllowedModels.ToList(), RequestLogJsonContext.Default.ListString));
            command.Add("@rpm", key.RequestsPerMinute is { } rpm ? (long)rpm : null);
            command.Add("@tpm", key.TokensPerMinute);
            command.Add("@budget", key.BudgetUsd is { } budget ? (double)budget : null);
            command.Add("@period", key.BudgetPeriod == BudgetPeriod.Day ? "day" : "month");
            command.Add("@created", key.CreatedAt);
            command.Add("@project", key.Project);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await session.CommitAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<VirtualKey>> ListAsync(CancellationToken cancellationToken)
    {
        var connection = await db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var command = connection.Command(
            "SELECT key_id, name, prefix, key_hash, allowed_models, requests_per_minute, tokens_per_minute, budget_usd, budget_period, created_at, revoked_at, project " +
            "FROM gateway_keys WHERE workspace_id = @ws ORDER BY created_at DESC, key_id DESC");
        await using var commandScope = command.ConfigureAwait(false);
        command.Add("@ws", workspaceId);
        var keys = new List<VirtualKey>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            keys.Add(Read(reader));
        }

        return keys;
    }

    /// <inheritdoc />
    public async Task<bool> RevokeAsync(string id, long revokedAt, CancellationToken cancellationToken)
    {
        var session = await db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        var command = session.Command("UPDATE gateway_keys SET revoked_at = COALESCE(revoked_at, @at) WHERE workspace_id = @ws AND key_id = @id");
        int changed;
        await using (command.ConfigureAwait(false))
        {
            command.Add("@at", revokedAt);
            command.Add("@ws", workspaceId);
            command.Add("@id", id);
            changed = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await session.CommitAsync().ConfigureAwait(false);
        return changed > 0;
    }

    /// <inheritdoc />
    public async Task<decimal> SpendSinceAsync(string keyId, long since, CancellationToken cancellationToken)
    {
        var connection = await db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var command = connection.Command("SELECT COALESCE(SUM(cost_usd), 0) FROM request_logs WHERE workspace_id = @ws AND key_id = @key AND timestamp >= @since");
        await using var commandScope = command.ConfigureAwait(false);
        command.Add("@ws", workspaceId);
        command.Add("@key", keyId);
        command.Add("@since", since);
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value is null or DBNull ? 0 : Convert.ToDecimal(value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static VirtualKey Read(DbDataReader reader) => new()
    {
        Id = reader.GetString(0),
        Name = reader.GetString(1),
        Prefix = reader.GetString(2),
        Hash = reader.GetString(3),
        AllowedModels = JsonSerializer.Deserialize(reader.GetString(4), RequestLogJsonContext.Default.ListString) ?? [],
        RequestsPerMinute = reader.GetNullableInt64(5) is { } rpm ? (int)rpm : null,
        TokensPerMinute = reader.GetNullableInt64(6),
        BudgetUsd = reader.IsDBNull(7) ? null : (decimal)reader.GetDouble(7),
        BudgetPeriod = reader.GetString(8) == "day" ? BudgetPeriod.Day : BudgetPeriod.Month,
        CreatedAt = reader.GetInt64(9),
        RevokedAt = reader.GetNullableInt64(10),
        Project = reader.GetNullableString(11),
    };
}
