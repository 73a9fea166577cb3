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
}

/// <summary>The answer of <c>GET /api/cairn/gateway/keys</c>.</summary>
public sealed class ListKeysResponse
{
    /// <summary>The keys, newest first.</summary>
    public List<KeyInfo> Keys { get; set; } = [];
}

/// <summary>System.Text.Json metadata for Cairn's own gateway API (snake_case, as the rest of Cairn's API).</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CreateKeyRequest))]
[JsonSerializable(typeof(KeyInfo))]
[JsonSerializable(typeof(ListKeysResponse))]
public sealed partial class GatewayJsonContext : JsonSerializerContext;
