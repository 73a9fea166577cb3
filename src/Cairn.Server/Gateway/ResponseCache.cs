using System.Security.Cryptography;
using System.Text;
using Cairn.Core.Gateway;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Net.Http.Headers;

namespace Cairn.Server.Gateway;

/// <summary>A cached answer: the bytes sent to the client (a JSON body, or the whole event stream) and its usage.</summary>
internal sealed record CachedResponse(byte[] Body, bool Stream, string? ServedModel, string? Provider, TokenUsage? Usage);

/// <summary>Whether and how a request uses the response cache.</summary>
internal readonly record struct CachePolicy(bool Enabled, TimeSpan Ttl, string Key, bool HeliconeHeaders);

/// <summary>
/// The exact-match response cache: the same endpoint, key, body bytes and seed give the same answer until the entry expires.
/// </summary>
/// <remarks>
/// In-process and bounded (LRU-like eviction by size through <see cref="MemoryCache"/>); entries are scoped to the virtual
/// key, so callers never see answers to other keys' prompts.
/// </remarks>
internal sealed class ResponseCache : IDisposable
{
    private const long SizeLimitBytes = 256L * 1024 * 1024;
    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = SizeLimitBytes });

    /// <summary>The largest answer kept, in bytes.</summary>
    public const int MaxEntryBytes = 8 * 1024 * 1024;

    /// <summary>Reads the cache headers of a request: <c>Cairn-Cache-Enabled</c>/<c>Helicone-Cache-Enabled</c>, <c>Cache-Control: max-age</c>, and seeds.</summary>
    public static CachePolicy Policy(HttpRequest request, string endpoint, string? keyId, ReadOnlySpan<byte> body, UpstreamTarget first)
    {
        var headers = request.Headers;
        var cairn = headers["Cairn-Cache-Enabled"].ToString();
        var helicone = headers["Helicone-Cache-Enabled"].ToString();
        var asked = cairn.Length > 0 ? cairn : helicone;
        var enabled = asked.Length > 0 ? string.Equals(asked, "true", StringComparison.OrdinalIgnoreCase) : first.CacheByDefault;
        if (!enabled)
        {
            return default;
        }

        var ttl = TimeSpan.FromSeconds(first.CacheTtlSeconds);
        if (CacheControlHeaderValue.TryParse(headers.CacheControl.ToString(), out var cacheControl) && cacheControl?.MaxAge is { } maxAge && maxAge > TimeSpan.Zero)
        {
            ttl = maxAge;
        }

        var seed = headers["Cairn-Cache-Seed"].ToString();
        if (seed.Length == 0)
        {
            seed = headers["Helicone-Cache-Seed"].ToString();
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{endpoint}\n{keyId}\n{seed}\n"));
        hash.AppendData(body);
        return new CachePolicy(true, ttl, Convert.ToHexString(hash.GetHashAndReset()), cairn.Length == 0 && helicone.Length > 0);
    }

    public CachedResponse? Get(string key) => _cache.TryGetValue(key, out CachedResponse? entry) ? entry : null;

    public void Set(string key, CachedResponse response, TimeSpan ttl)
    {
        if (response.Body.Length > MaxEntryBytes)
        {
            return;
        }

        _cache.Set(key, response, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = ttl, Size = response.Body.Length + 256 });
    }

    public void Dispose() => _cache.Dispose();
}
