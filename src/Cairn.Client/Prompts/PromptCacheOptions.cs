namespace Cairn.Client.Prompts;

/// <summary>How long <see cref="CairnClient.GetPromptAsync(string, string?, int?, CancellationToken)"/> keeps the prompts it fetched.</summary>
/// <remarks>
/// <para>A prompt fetched by label (or the latest version) is fresh for <see cref="Ttl"/>: it is returned with no request.
/// After that it is stale. With <see cref="StaleWhileRevalidate"/> the stale prompt is returned at once and one background
/// request refreshes it; without, the caller waits for the request.</para>
/// <para>When Cairn cannot be reached (a connection error, a timeout, or a 5xx, 408 or 429 response), a stale prompt is
/// served for up to <see cref="MaxStale"/> past its time-to-live, and no new request is tried for 5 seconds. A 404 (the
/// prompt, label or version is gone) drops the prompt from the cache and is thrown.</para>
/// <para>A prompt fetched by version number never goes stale: versions are immutable.</para>
/// </remarks>
public sealed record PromptCacheOptions
{
    /// <summary>Gets how long a prompt fetched by label stays fresh; 60 seconds by default, <see cref="TimeSpan.Zero"/> to check Cairn on every call, <see cref="Timeout.InfiniteTimeSpan"/> to never.</summary>
    public TimeSpan Ttl { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Gets whether a stale prompt is returned at once while a background request refreshes it; true by default.</summary>
    public bool StaleWhileRevalidate { get; init; } = true;

    /// <summary>Gets how long past <see cref="Ttl"/> a stale prompt may still be served, in the background refresh window and while Cairn is down; 24 hours by default, <see cref="Timeout.InfiniteTimeSpan"/> for no limit.</summary>
    public TimeSpan MaxStale { get; init; } = TimeSpan.FromHours(24);

    internal void Validate()
    {
        if (Ttl < TimeSpan.Zero && Ttl != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(Ttl), Ttl, "The time-to-live must be zero or positive, or Timeout.InfiniteTimeSpan.");
        }

        if (MaxStale < TimeSpan.Zero && MaxStale != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxStale), MaxStale, "The maximum staleness must be zero or positive, or Timeout.InfiniteTimeSpan.");
        }
    }
}
