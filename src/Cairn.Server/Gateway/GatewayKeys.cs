using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Globalization;
using Cairn.Core.Gateway;
using Microsoft.AspNetCore.Http;

namespace Cairn.Server.Gateway;

/// <summary>Who is calling: the virtual key (if any) and the credential to pass upstream.</summary>
internal sealed record CallerIdentity(VirtualKey? Key, string? ForwardAuthorization)
{
    public string? KeyId => Key?.Id;
}

/// <summary>Authenticates virtual keys and enforces their model list, rate limits and budgets.</summary>
/// <remarks>
/// Keys are cached in memory by hash and re-read from the store when an unknown key shows up (at most once a second), so
/// a key created on another instance works within a second. Counters go through <see cref="IUsageCounters"/>.
/// </remarks>
internal sealed class GatewayKeys(IVirtualKeyStore store, IUsageCounters counters, GatewayRouter router, TimeProvider time, PlaygroundKey playground)
{
    private static readonly TimeSpan s_minute = TimeSpan.FromMinutes(1);
    private readonly SemaphoreSlim _reload = new(1, 1);
    private readonly ConcurrentDictionary<string, byte> _budgetLoaded = new(StringComparer.Ordinal);
    private volatile FrozenDictionary<string, VirtualKey>? _byHash;
    private long _lastReload;

    public async ValueTask<CallerIdentity> AuthenticateAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var headers = context.Request.Headers;
        var authorization = headers.Authorization.ToString();
        // Anthropic clients send their vendor key as x-api-key; it travels on as a bearer credential like OpenAI clients' keys.
        var xApiKey = NullIfEmpty(headers["x-api-key"].ToString());
        var ownCredential = NullIfEmpty(authorization) ?? (xApiKey is null ? null : "Bearer " + xApiKey);
        string? presented = Bearer(headers["Cairn-Auth"].ToString()) ?? Bearer(headers["Helicone-Auth"].ToString());
        var fromDedicatedHeader = presented is not null;
        presented ??= Bearer(authorization) ?? xApiKey ?? NullIfEmpty(headers["api-key"].ToString());
        // The client's own vendor key travels on when Cairn's key came in its own header (Helicone's pattern) or when no key is required.
        var forward = fromDedicatedHeader ? ownCredential : null;

        if (presented is not null && playground.Matches(presented))
        {
            return new CallerIdentity(playground.Key, null);
        }

        if (presented is not null && presented.StartsWith(VirtualKey.KeyPrefix, StringComparison.Ordinal))
        {
            var key = await FindAsync(VirtualKey.HashOf(presented), cancellationToken);
            if (key is null || key.RevokedAt is not null)
            {
                throw GatewayException.Unauthorized(key is null ? "Invalid Cairn API key." : "This Cairn API key has been revoked.");
            }

            return new CallerIdentity(key, forward);
        }

        if (router.Options.RequireApiKey)
        {
            throw GatewayException.Unauthorized(presented is null
                ? "Missing API key. Send a Cairn key as 'Authorization: Bearer sk-cairn-...' (create one with POST /api/cairn/gateway/keys)."
                : "Invalid API key: this gateway requires a Cairn key (sk-cairn-...).");
        }

        return new CallerIdentity(null, ownCredential);
    }

    /// <summary>
    /// The Cairn key presented as <c>Authorization: Bearer sk-cairn-...</c> (or in <c>Cairn-Auth</c>), for Cairn's other
    /// ingest endpoints: null when none is presented; throws <see cref="GatewayException"/> (401) for an unknown or
    /// revoked one. Other credentials are ignored.
    /// </summary>
    public async ValueTask<VirtualKey?> FindPresentedKeyAsync(IHeaderDictionary headers, CancellationToken cancellationToken)
    {
        var presented = Bearer(headers["Cairn-Auth"].ToString()) ?? Bearer(headers.Authorization.ToString());
        if (presented is null || !presented.StartsWith(VirtualKey.KeyPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        var key = await FindAsync(VirtualKey.HashOf(presented), cancellationToken);
        return key is null || key.RevokedAt is not null
            ? throw GatewayException.Unauthorized(key is null ? "Invalid Cairn API key." : "This Cairn API key has been revoked.")
            : key;
    }

    public void CheckModelAllowed(CallerIdentity identity, string model)
    {
        if (identity.Key is { AllowedModels.Count: > 0 } key && !key.AllowedModels.Contains(model, StringComparer.OrdinalIgnoreCase))
        {
            throw new GatewayException(StatusCodes.Status403Forbidden, $"This API key may not use the model '{model}'.", "invalid_request_error", "model_not_allowed", "model");
        }
    }

    public async ValueTask CheckLimitsAsync(CallerIdentity identity, CancellationToken cancellationToken)
    {
        if (identity.Key is not { } key)
        {
            return;
        }

        var now = time.GetUtcNow();
        var minute = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero);
        var untilNextMinute = minute + s_minute - now;
        if (key.TokensPerMinute is { } tpm && await counters.GetAsync($"tpm:{key.Id}", minute, cancellationToken) >= tpm)
        {
            throw RateLimited($"Rate limit reached for tokens per minute (TPM): limit {tpm}.", "tokens", untilNextMinute);
        }

        if (key.BudgetUsd is { } budget)
        {
            var periodStart = VirtualKey.PeriodStart(key.BudgetPeriod, now);
            var spent = await SpendAsync(key, periodStart, cancellationToken);
            if (spent >= budget)
            {
                var next = key.BudgetPeriod == BudgetPeriod.Day ? periodStart.AddDays(1) : periodStart.AddMonths(1);
                throw new GatewayException(
                    StatusCodes.Status429TooManyRequests,
                    string.Create(CultureInfo.InvariantCulture, $"Budget exceeded: this key has spent ${spent:0.######} of its ${budget:0.######} budget for the {(key.BudgetPeriod == BudgetPeriod.Day ? "day" : "month")}."),
                    "insufficient_quota",
                    "budget_exceeded",
                    retryAfter: next - now);
            }
        }

        if (key.RequestsPerMinute is { } rpm && await counters.AddAsync($"rpm:{key.Id}", minute, s_minute, 1, cancellationToken) > rpm)
        {
            throw RateLimited($"Rate limit reached for requests per minute (RPM): limit {rpm}.", "requests", untilNextMinute);
        }
    }

    /// <summary>Counts a finished request's tokens and cost against its key; never blocks the response.</summary>
    public void RecordUsage(CallerIdentity identity, TokenUsage? usage, decimal? cost)
    {
        if (identity.Key is not { } key)
        {
            return;
        }

        var now = time.GetUtcNow();
        if (usage is not null && key.TokensPerMinute is not null)
        {
            var minute = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero);
            _ = counters.AddAsync($"tpm:{key.Id}", minute, s_minute, usage.TotalTokens, CancellationToken.None).AsTask();
        }

        if (cost is { } spent && key.BudgetUsd is not null)
        {
            var periodStart = VirtualKey.PeriodStart(key.BudgetPeriod, now);
            _ = counters.AddAsync($"spend:{key.Id}", periodStart, periodStart.AddMonths(1) - periodStart, spent, CancellationToken.None).AsTask();
        }
    }

    /// <summary>Forgets cached keys, so that a created or revoked key applies to the next request.</summary>
    public void Invalidate() => _byHash = null;

    private async ValueTask<decimal> SpendAsync(VirtualKey key, DateTimeOffset periodStart, CancellationToken cancellationToken)
    {
        // The first check of a period seeds the counter from the request log, so spend survives restarts.
        var marker = $"{key.Id}:{periodStart.ToUnixTimeMilliseconds()}";
        if (_budgetLoaded.TryAdd(marker, 0))
        {
            var stored = await store.SpendSinceAsync(key.Id, periodStart.ToUnixTimeMilliseconds(), cancellationToken);
            var current = await counters.GetAsync($"spend:{key.Id}", periodStart, cancellationToken);
            if (stored > current)
            {
                await counters.AddAsync($"spend:{key.Id}", periodStart, periodStart.AddMonths(1) - periodStart, stored - current, cancellationToken);
            }
        }

        return await counters.GetAsync($"spend:{key.Id}", periodStart, cancellationToken);
    }

    private async ValueTask<VirtualKey?> FindAsync(string hash, CancellationToken cancellationToken)
    {
        var keys = _byHash;
        if (keys is not null && keys.TryGetValue(hash, out var key))
        {
            return key;
        }

        var now = Environment.TickCount64;
        if (keys is not null && now - Interlocked.Read(ref _lastReload) < 1000)
        {
            return null;
        }

        await _reload.WaitAsync(cancellationToken);
        try
        {
            if (_byHash is null || Environment.TickCount64 - Interlocked.Read(ref _lastReload) >= 1000)
            {
                var all = await store.ListAsync(cancellationToken);
                _byHash = all.ToFrozenDictionary(k => k.Hash, StringComparer.Ordinal);
                Interlocked.Exchange(ref _lastReload, Environment.TickCount64);
            }

            return _byHash.GetValueOrDefault(hash);
        }
        finally
        {
            _reload.Release();
        }
    }

    private static GatewayException RateLimited(string message, string type, TimeSpan retryAfter) =>
        new(StatusCodes.Status429TooManyRequests, message, type, "rate_limit_exceeded", retryAfter: retryAfter);

    private static string? Bearer(string header) =>
        header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && header.Length > 7 ? header[7..].Trim() : null;

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}

/// <summary>Fixed-window counters in this process's memory.</summary>
internal sealed class InMemoryUsageCounters(TimeProvider time) : IUsageCounters
{
    private readonly ConcurrentDictionary<(string Name, long Window), Counter> _counters = new();
    private long _lastSweep;

    public ValueTask<decimal> AddAsync(string name, DateTimeOffset windowStart, TimeSpan window, decimal amount, CancellationToken cancellationToken)
    {
        Sweep();
        var counter = _counters.GetOrAdd((name, windowStart.ToUnixTimeMilliseconds()), _ => new Counter(windowStart + window));
        lock (counter)
        {
            counter.Value += amount;
            return ValueTask.FromResult(counter.Value);
        }
    }

    public ValueTask<decimal> GetAsync(string name, DateTimeOffset windowStart, CancellationToken cancellationToken)
    {
        if (!_counters.TryGetValue((name, windowStart.ToUnixTimeMilliseconds()), out var counter))
        {
            return ValueTask.FromResult(0m);
        }

        lock (counter)
        {
            return ValueTask.FromResult(counter.Value);
        }
    }

    private void Sweep()
    {
        var now = time.GetUtcNow();
        var last = Interlocked.Read(ref _lastSweep);
        if (now.ToUnixTimeMilliseconds() - last < 60_000 || Interlocked.CompareExchange(ref _lastSweep, now.ToUnixTimeMilliseconds(), last) != last)
        {
            return;
        }

        foreach (var (key, counter) in _counters)
        {
            if (counter.Expires < now)
            {
                _counters.TryRemove(key, out _);
            }
        }
    }

    private sealed class Counter(DateTimeOffset expires)
    {
        public DateTimeOffset Expires { get; } = expires;

        public decimal Value { get; set; }
    }
}
