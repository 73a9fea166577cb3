using System.Collections.Concurrent;
using System.Net;

namespace Cairn.Client.Prompts;

/// <summary>What a cached prompt was asked for: a version number, or a label (null for the latest version).</summary>
internal readonly record struct PromptCacheKey(string Name, string? Label, int? Version);

/// <summary>
/// The prompts that <see cref="CairnClient.GetPromptAsync(string, string?, int?, CancellationToken)"/> fetched, with a
/// time-to-live, stale-while-revalidate, a stale fallback while Cairn is down, and one fetch at a time per key (see
/// <see cref="PromptCacheOptions"/>).
/// </summary>
/// <remarks>Thread-safe. Each entry has its own lock, held only to read or change the entry, never across a request.</remarks>
internal sealed class PromptCache(
    Func<PromptCacheKey, CancellationToken, Task<CairnPrompt>> fetch,
    TimeProvider time,
    Action<PromptCacheKey, Exception> refreshFailed)
{
    /// <summary>How long after a failed fetch a stale prompt is served with no new attempt, so that a Cairn that is down is not hit by every call.</summary>
    private static readonly TimeSpan s_failureBackoff = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<PromptCacheKey, Entry> _entries = new();

    public Task<CairnPrompt> GetAsync(PromptCacheKey key, PromptCacheOptions options, CancellationToken cancellationToken)
    {
        var entry = _entries.GetOrAdd(key, static _ => new Entry());
        TaskCompletionSource<CairnPrompt>? started = null;
        var background = false;
        Task<CairnPrompt> pending;
        lock (entry.Gate)
        {
            var now = time.GetTimestamp();
            if (entry.Cached is { } cached)
            {
                var age = time.GetElapsedTime(entry.FetchedAt, now);
                if (key.Version is not null || IsFresh(age, options))
                {
                    return cached;
                }

                if (IsServable(age, options) && (options.StaleWhileRevalidate || now < entry.RetryAt))
                {
                    if (options.StaleWhileRevalidate && entry.Pending is null && now >= entry.RetryAt)
                    {
                        started = entry.Begin();
                        background = true;
                    }

                    pending = cached;
                }
                else
                {
                    pending = entry.Pending ?? (started = entry.Begin()).Task;
                }
            }
            else
            {
                pending = entry.Pending ?? (started = entry.Begin()).Task;
            }
        }

        if (started is not null)
        {
            if (background)
            {
                // On the thread pool, so that the caller gets the stale prompt before any part of the request runs.
                _ = Task.Run(() => RunAsync(key, entry, started), CancellationToken.None);
            }
            else
            {
                _ = RunAsync(key, entry, started);
            }
        }

        return pending.IsCompletedSuccessfully ? pending : WaitAsync(entry, pending, options, cancellationToken);
    }

    /// <summary>Drops every entry of <paramref name="name"/>, or every entry when null; fetches under way complete into the dropped entries.</summary>
    public void Invalidate(string? name)
    {
        foreach (var key in _entries.Keys)
        {
            if (name is null || key.Name == name)
            {
                _entries.TryRemove(key, out _);
            }
        }
    }

    private async Task<CairnPrompt> WaitAsync(Entry entry, Task<CairnPrompt> pending, PromptCacheOptions options, CancellationToken cancellationToken)
    {
        try
        {
            return await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && IsUnavailable(e) && Stale(entry, options) is { } stale)
        {
            return stale;
        }
    }

    /// <summary>Fetches into <paramref name="entry"/> and completes <paramref name="completion"/>; never throws.</summary>
    private async Task RunAsync(PromptCacheKey key, Entry entry, TaskCompletionSource<CairnPrompt> completion)
    {
        CairnPrompt prompt;
        try
        {
            // Not the first caller's token: other callers wait for the same fetch, and a completed one fills the cache. The
            // client's request timeout bounds it.
            prompt = await fetch(key, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            bool wasCached;
            lock (entry.Gate)
            {
                entry.Pending = null;
                wasCached = entry.Cached is not null;
                if (IsNotFound(e))
                {
                    entry.Cached = null;
                    _entries.TryRemove(new KeyValuePair<PromptCacheKey, Entry>(key, entry));
                }
                else
                {
                    entry.RetryAt = time.GetTimestamp() + (long)(s_failureBackoff.TotalSeconds * time.TimestampFrequency);
                }
            }

            completion.SetException(e);

            // Marks the exception observed: a background refresh has nobody waiting for it.
            _ = completion.Task.Exception;
            if (wasCached)
            {
                refreshFailed(key, e);
            }

            return;
        }

        lock (entry.Gate)
        {
            entry.Cached = Task.FromResult(prompt);
            entry.FetchedAt = time.GetTimestamp();
            entry.RetryAt = long.MinValue;
            entry.Pending = null;
        }

        completion.SetResult(prompt);
    }

    private CairnPrompt? Stale(Entry entry, PromptCacheOptions options)
    {
        lock (entry.Gate)
        {
            return entry.Cached is { } cached && IsServable(time.GetElapsedTime(entry.FetchedAt), options) ? cached.Result : null;
        }
    }

    private static bool IsFresh(TimeSpan age, PromptCacheOptions options) =>
        options.Ttl == Timeout.InfiniteTimeSpan || age < options.Ttl;

    /// <summary>Whether a prompt past its time-to-live may still be served: for up to <see cref="PromptCacheOptions.MaxStale"/> beyond it.</summary>
    private static bool IsServable(TimeSpan age, PromptCacheOptions options) =>
        options.MaxStale == Timeout.InfiniteTimeSpan || age - options.Ttl < options.MaxStale;

    /// <summary>Whether a fetch failed because Cairn could not answer (down, unreachable, overloaded, too slow) rather than because of the request.</summary>
    private static bool IsUnavailable(Exception e) => e switch
    {
        HttpRequestException or TimeoutException or IOException or OperationCanceledException => true,
        CairnApiException api => (int)api.StatusCode >= 500 || api.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests,
        _ => false,
    };

    private static bool IsNotFound(Exception e) => e is CairnApiException { StatusCode: HttpStatusCode.NotFound };

    private sealed class Entry
    {
        public readonly Lock Gate = new();

        /// <summary>The last prompt fetched, as a completed task so that a cache hit allocates nothing; null before the first fetch.</summary>
        public Task<CairnPrompt>? Cached;

        /// <summary>When <see cref="Cached"/> was fetched (a <see cref="TimeProvider.GetTimestamp"/> value).</summary>
        public long FetchedAt;

        /// <summary>No new fetch of a stale prompt starts before this timestamp (set by a failed fetch).</summary>
        public long RetryAt = long.MinValue;

        /// <summary>The fetch under way, or null.</summary>
        public Task<CairnPrompt>? Pending;

        /// <summary>Marks a fetch as under way; call with <see cref="Gate"/> held.</summary>
        public TaskCompletionSource<CairnPrompt> Begin()
        {
            var completion = new TaskCompletionSource<CairnPrompt>(TaskCreationOptions.RunContinuationsAsynchronously);
            Pending = completion.Task;
            return completion;
        }
    }
}
