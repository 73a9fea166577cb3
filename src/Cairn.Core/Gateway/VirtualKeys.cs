using System.Security.Cryptography;
using System.Text;

namespace Cairn.Core.Gateway;

/// <summary>The period a key's spend budget covers.</summary>
public enum BudgetPeriod
{
    /// <summary>A UTC calendar day.</summary>
    Day,

    /// <summary>A UTC calendar month.</summary>
    Month,
}

/// <summary>A virtual API key issued by Cairn; only its hash is stored.</summary>
public sealed record VirtualKey
{
    /// <summary>The key's id (not secret).</summary>
    public required string Id { get; init; }

    /// <summary>A name for people.</summary>
    public required string Name { get; init; }

    /// <summary>The first characters of the key, to recognise it in lists.</summary>
    public required string Prefix { get; init; }

    /// <summary>The SHA-256 of the key, hex.</summary>
    public required string Hash { get; init; }

    /// <summary>The models (routes or <c>provider/model</c>) the key may use; every model when empty.</summary>
    public IReadOnlyList<string> AllowedModels { get; init; } = [];

    /// <summary>Requests per minute, or null for no limit.</summary>
    public int? RequestsPerMinute { get; init; }

    /// <summary>Tokens (input plus output) per minute, or null for no limit.</summary>
    public long? TokensPerMinute { get; init; }

    /// <summary>The spend budget in US dollars per <see cref="BudgetPeriod"/>, or null for none.</summary>
    public decimal? BudgetUsd { get; init; }

    /// <summary>The period of <see cref="BudgetUsd"/>.</summary>
    public BudgetPeriod BudgetPeriod { get; init; } = BudgetPeriod.Month;

    /// <summary>The trace project the key writes to (OTLP ingest and gateway spans), or null for none.</summary>
    public string? Project { get; init; }

    /// <summary>When the key was created (Unix ms).</summary>
    public long CreatedAt { get; init; }

    /// <summary>When the key was revoked (Unix ms), or null while it is valid.</summary>
    public long? RevokedAt { get; init; }

    /// <summary>The prefix of every key Cairn issues.</summary>
    public const string KeyPrefix = "sk-cairn-";

    /// <summary>Creates a new random secret key.</summary>
    public static string NewSecret() => KeyPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>The stored hash of a secret key.</summary>
    public static string HashOf(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>The start of the budget period that contains <paramref name="now"/>.</summary>
    public static DateTimeOffset PeriodStart(BudgetPeriod period, DateTimeOffset now)
    {
        var utc = now.ToUniversalTime();
        return period == BudgetPeriod.Day
            ? new DateTimeOffset(utc.Year, utc.Month, utc.Day, 0, 0, 0, TimeSpan.Zero)
            : new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>Stores virtual keys.</summary>
public interface IVirtualKeyStore
{
    /// <summary>Stores a new key.</summary>
    Task CreateAsync(VirtualKey key, CancellationToken cancellationToken);

    /// <summary>Every key, revoked ones included, newest first.</summary>
    Task<IReadOnlyList<VirtualKey>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Marks a key revoked; false when there is no such key.</summary>
    Task<bool> RevokeAsync(string id, long revokedAt, CancellationToken cancellationToken);

    /// <summary>The spend of a key since <paramref name="since"/> (Unix ms), from the request log.</summary>
    Task<decimal> SpendSinceAsync(string keyId, long since, CancellationToken cancellationToken);
}

/// <summary>
/// Rate and spend counters for keys. The in-process implementation serves one instance; a shared implementation (for
/// example over Redis) lets several instances enforce the same limits, which is why every call names its window.
/// </summary>
public interface IUsageCounters
{
    /// <summary>Adds <paramref name="amount"/> to the counter <paramref name="name"/> for the window starting at <paramref name="windowStart"/> and returns the new total.</summary>
    ValueTask<decimal> AddAsync(string name, DateTimeOffset windowStart, TimeSpan window, decimal amount, CancellationToken cancellationToken);

    /// <summary>The current total of the counter, 0 when absent.</summary>
    ValueTask<decimal> GetAsync(string name, DateTimeOffset windowStart, CancellationToken cancellationToken);
}
