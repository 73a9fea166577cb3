using System.Runtime.ExceptionServices;
using Cairn.Contracts.Mlflow;

namespace Cairn.Client;

/// <summary>A run being logged, started by <see cref="CairnClient.StartRunAsync(string, string?, IEnumerable{KeyValuePair{string, string}}?, CancellationToken)"/>; disposing it flushes and ends it.</summary>
/// <remarks>
/// <para>The run is thread-safe: several threads may log to it at once.</para>
/// <para>Metrics are buffered and sent with <c>runs/log-batch</c> (at most 1000 per call) when 1000 are pending, when the
/// <see cref="CairnRunOptions.FlushInterval"/> elapses, on <see cref="FlushAsync"/> and on <see cref="EndAsync"/> or
/// <see cref="DisposeAsync"/>. Batches are sent one at a time in logging order, so each metric's values reach the server in
/// the order they were logged. When a call reaches the threshold it sends the full batch itself, so a fast logger is slowed
/// to the server's pace rather than growing the buffer without bound.</para>
/// <para>Params and tags are sent at once, so an error such as changing a param's value is thrown by the call that logged it.</para>
/// <para>A failed background flush drops that batch and is thrown, once, by the next call on the run (which then does
/// nothing else), or by <see cref="FlushAsync"/> or <see cref="EndAsync"/> after they have sent what is pending.</para>
/// </remarks>
public sealed class CairnRun : IAsyncDisposable
{
    /// <summary>MLflow's limit of metrics in one <c>log-batch</c> call.</summary>
    internal const int MaxMetricsPerBatch = 1000;

    /// <summary>MLflow's limit of params in one <c>log-batch</c> call.</summary>
    internal const int MaxParamsPerBatch = 100;

    /// <summary>MLflow's limit of tags in one <c>log-batch</c> call.</summary>
    internal const int MaxTagsPerBatch = 100;

    private readonly CairnClient _client;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ITimer? _timer;
    private List<MetricDto> _pending = [];
    private Exception? _backgroundError;
    private bool _closed;
    private bool _ended;

    internal CairnRun(CairnClient client, RunInfoDto info, CairnRunOptions options)
    {
        _client = client;
        RunId = info.RunId ?? info.RunUuid ?? throw new InvalidOperationException("The server's response has no 'run.info.run_id'.");
        ExperimentId = info.ExperimentId ?? throw new InvalidOperationException("The server's response has no 'run.info.experiment_id'.");
        RunName = info.RunName;
        ArtifactUri = info.ArtifactUri ?? string.Empty;
        if (options.FlushInterval != Timeout.InfiniteTimeSpan)
        {
            _timer = client.TimeProvider.CreateTimer(static state => ((CairnRun)state!).OnFlushTimer(), this, options.FlushInterval, options.FlushInterval);
        }
    }

    /// <summary>Gets the run's id.</summary>
    public string RunId { get; }

    /// <summary>Gets the id of the run's experiment.</summary>
    public string ExperimentId { get; }

    /// <summary>Gets the run's name, as given or as the server picked it.</summary>
    public string? RunName { get; }

    /// <summary>Gets the root of the run's artifacts, such as <c>mlflow-artifacts:/1/&lt;run_id&gt;/artifacts</c>.</summary>
    public string ArtifactUri { get; }

    /// <summary>Logs a param at once; a param's value cannot change once logged.</summary>
    /// <exception cref="CairnApiException">The server refused it, for example with <c>INVALID_PARAMETER_VALUE</c> for a changed value.</exception>
    public Task LogParamAsync(string key, string value, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        ThrowIfUnusable();
        return _client.LogParamAsync(RunId, key, value, cancellationToken);
    }

    /// <summary>Logs params at once, 100 per <c>log-batch</c> call.</summary>
    public async Task LogParamsAsync(IEnumerable<KeyValuePair<string, string>> parameters, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var dtos = ToDtos(parameters, nameof(parameters));
        ThrowIfUnusable();
        foreach (var chunk in dtos.Chunk(MaxParamsPerBatch))
        {
            await _client.LogBatchAsync(RunId, parameters: chunk, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Sets a tag at once.</summary>
    public Task SetTagAsync(string key, string value, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        ThrowIfUnusable();
        return _client.SetTagAsync(RunId, key, value, cancellationToken);
    }

    /// <summary>Sets tags at once, 100 per <c>log-batch</c> call.</summary>
    public async Task SetTagsAsync(IEnumerable<KeyValuePair<string, string>> tags, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tags);
        var dtos = ToDtos(tags, nameof(tags));
        ThrowIfUnusable();
        foreach (var chunk in dtos.Chunk(MaxTagsPerBatch))
        {
            await _client.LogBatchAsync(RunId, tags: chunk, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Buffers a metric value; it is sent with the next batch.</summary>
    /// <param name="key">The metric's name.</param>
    /// <param name="value">The value; NaN and infinities are allowed.</param>
    /// <param name="step">The training step.</param>
    /// <param name="timestamp">When the value was measured; now when null.</param>
    /// <param name="cancellationToken">A token that cancels sending a full batch, when this value completes one.</param>
    /// <returns>A task that completes at once, or once the batch this value completed has been sent.</returns>
    public ValueTask LogMetricAsync(string key, double value, long step = 0, DateTimeOffset? timestamp = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ThrowIfFaulted();
        var metric = new MetricDto { Key = key, Value = value, Step = step, Timestamp = (timestamp ?? _client.TimeProvider.GetUtcNow()).ToUnixTimeMilliseconds() };
        bool full;
        lock (_gate)
        {
            ThrowIfClosed();
            _pending.Add(metric);
            full = _pending.Count >= MaxMetricsPerBatch;
        }

        return full ? new ValueTask(SendFullBatchesAsync(cancellationToken)) : ValueTask.CompletedTask;
    }

    /// <summary>Buffers several metric values of one step; they are sent with the next batch.</summary>
    /// <param name="metrics">The metrics' names and values.</param>
    /// <param name="step">The training step.</param>
    /// <param name="timestamp">When the values were measured; now when null.</param>
    /// <param name="cancellationToken">A token that cancels sending full batches, when these values complete some.</param>
    /// <returns>A task that completes at once, or once the batches these values completed have been sent.</returns>
    public ValueTask LogMetricsAsync(IEnumerable<KeyValuePair<string, double>> metrics, long step = 0, DateTimeOffset? timestamp = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var time = (timestamp ?? _client.TimeProvider.GetUtcNow()).ToUnixTimeMilliseconds();
        var dtos = new List<MetricDto>();
        foreach (var (key, value) in metrics)
        {
            if (string.IsNullOrEmpty(key))
            {
                throw new ArgumentException("A metric's key must not be null or empty.", nameof(metrics));
            }

            dtos.Add(new MetricDto { Key = key, Value = value, Step = step, Timestamp = time });
        }

        ThrowIfFaulted();
        bool full;
        lock (_gate)
        {
            ThrowIfClosed();
            _pending.AddRange(dtos);
            full = _pending.Count >= MaxMetricsPerBatch;
        }

        return full ? new ValueTask(SendFullBatchesAsync(cancellationToken)) : ValueTask.CompletedTask;
    }

    /// <summary>Sends every buffered metric, then throws the error of a failed background flush, if there was one.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await SendPendingLockedAsync(fullBatchesOnly: false, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }

        ThrowIfFaulted();
    }

    /// <summary>Uploads a local file into the run's artifacts, under <paramref name="artifactPath"/> when given, keeping its file name.</summary>
    /// <param name="localFile">The file to upload; it is streamed, never read into memory whole.</param>
    /// <param name="artifactPath">A folder relative to the run's artifact root, such as <c>plots</c>; the root when null.</param>
    /// <param name="cancellationToken">A token that cancels the upload.</param>
    public Task LogArtifactAsync(string localFile, string? artifactPath = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(localFile);
        var fileName = Path.GetFileName(localFile);
        if (fileName.Length == 0)
        {
            throw new ArgumentException($"'{localFile}' does not name a file.", nameof(localFile));
        }

        var destination = ArtifactPaths.Combine(ArtifactPaths.Normalize(artifactPath, nameof(artifactPath)), fileName);
        ThrowIfFaulted();
        return _client.UploadArtifactAsync(ArtifactUri, destination, localFile, cancellationToken);
    }

    /// <summary>Uploads the contents of a local folder, recursively, into the run's artifacts under <paramref name="artifactPath"/> (the root when null).</summary>
    /// <param name="localDirectory">The folder whose files and sub-folders to upload; the folder's own name is not part of the artifact paths.</param>
    /// <param name="artifactPath">A folder relative to the run's artifact root; the root when null.</param>
    /// <param name="cancellationToken">A token that cancels the uploads.</param>
    public async Task LogArtifactsAsync(string localDirectory, string? artifactPath = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(localDirectory);
        var root = Path.GetFullPath(localDirectory);
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"Could not find the folder '{root}'.");
        }

        var prefix = ArtifactPaths.Normalize(artifactPath, nameof(artifactPath));
        ThrowIfFaulted();
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
            await _client.UploadArtifactAsync(ArtifactUri, ArtifactPaths.Combine(prefix, relative), file, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Lists the run's artifacts directly under <paramref name="path"/> (the root when null); paths are relative to the run's artifact root.</summary>
    public async Task<IReadOnlyList<FileInfoDto>> ListArtifactsAsync(string? path = null, CancellationToken cancellationToken = default)
    {
        ThrowIfFaulted();
        var files = new List<FileInfoDto>();
        string? pageToken = null;
        do
        {
            var page = await _client.ListArtifactsAsync(RunId, path, pageToken, cancellationToken).ConfigureAwait(false);
            files.AddRange(page.Files ?? []);
            pageToken = string.IsNullOrEmpty(page.NextPageToken) ? null : page.NextPageToken;
        }
        while (pageToken is not null);

        return files;
    }

    /// <summary>Downloads the run's artifact file <paramref name="artifactPath"/> to <paramref name="localFile"/>, streaming it.</summary>
    public Task DownloadArtifactAsync(string artifactPath, string localFile, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(artifactPath);
        ArgumentException.ThrowIfNullOrEmpty(localFile);
        ThrowIfFaulted();
        return _client.DownloadArtifactAsync(ArtifactUri, artifactPath, localFile, cancellationToken);
    }

    /// <summary>Sends the buffered metrics, then sets the run's status and end time; later calls do nothing once it succeeded.</summary>
    /// <param name="status">The final status, one of <see cref="CairnRunStatus"/>; <see cref="CairnRunStatus.Finished"/> by default.</param>
    /// <param name="cancellationToken">A token that cancels ending the run.</param>
    /// <remarks>After this call starts, logging params, tags and metrics throws <see cref="InvalidOperationException"/>; artifacts can still be uploaded and read.
    /// When a batch fails, the remaining ones are still sent and the run still ended, and then the first error is thrown.</remarks>
    public async Task EndAsync(string status = CairnRunStatus.Finished, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(status);
        lock (_gate)
        {
            if (_ended)
            {
                return;
            }

            _closed = true;
        }

        if (_timer is not null)
        {
            await _timer.DisposeAsync().ConfigureAwait(false);
        }

        Exception? flushError = null;
        while (HasPending())
        {
            try
            {
                await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    await SendPendingLockedAsync(fullBatchesOnly: false, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    _sendLock.Release();
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                flushError ??= e;
            }
        }

        try
        {
            await _client.UpdateRunAsync(RunId, status, _client.TimeProvider.GetUtcNow(), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch when (flushError is not null)
        {
            // Keep the flush error for the next attempt to end the run, which the update's own error makes likely.
            Interlocked.CompareExchange(ref _backgroundError, flushError, null);
            throw;
        }

        lock (_gate)
        {
            _ended = true;
        }

        flushError ??= Interlocked.Exchange(ref _backgroundError, null);
        if (flushError is not null)
        {
            ExceptionDispatchInfo.Throw(flushError);
        }
    }

    /// <summary>Ends the run with <see cref="CairnRunStatus.Finished"/> unless it has already ended, flushing buffered metrics first.</summary>
    /// <remarks>Disposing cannot see an exception in flight: to record a failure, call <see cref="EndAsync"/> with <see cref="CairnRunStatus.Failed"/> in a catch block.</remarks>
    public async ValueTask DisposeAsync() => await EndAsync(CairnRunStatus.Finished, CancellationToken.None).ConfigureAwait(false);

    private static List<KeyValueDto> ToDtos(IEnumerable<KeyValuePair<string, string>> pairs, string parameterName)
    {
        var dtos = new List<KeyValueDto>();
        foreach (var (key, value) in pairs)
        {
            if (string.IsNullOrEmpty(key) || value is null)
            {
                throw new ArgumentException("Keys must not be null or empty, and values must not be null.", parameterName);
            }

            dtos.Add(new KeyValueDto { Key = key, Value = value });
        }

        return dtos;
    }

    private bool HasPending()
    {
        lock (_gate)
        {
            return _pending.Count > 0;
        }
    }

    private void OnFlushTimer()
    {
        lock (_gate)
        {
            if (_closed || _pending.Count == 0)
            {
                return;
            }
        }

        // A flush already in progress will take what is pending; don't queue up behind it.
        if (!_sendLock.Wait(0))
        {
            return;
        }

        _ = FlushInBackgroundAsync();
    }

    private async Task FlushInBackgroundAsync()
    {
        try
        {
            await SendPendingLockedAsync(fullBatchesOnly: false, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _backgroundError, e, null);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task SendFullBatchesAsync(CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await SendPendingLockedAsync(fullBatchesOnly: true, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Sends pending metrics in batches of at most 1000: only full batches, or everything that was pending when it began.</summary>
    /// <remarks>The caller holds <see cref="_sendLock"/>, so batches leave one at a time and in order.</remarks>
    private async Task SendPendingLockedAsync(bool fullBatchesOnly, CancellationToken cancellationToken)
    {
        int budget;
        lock (_gate)
        {
            budget = _pending.Count;
        }

        while (true)
        {
            List<MetricDto> batch;
            lock (_gate)
            {
                var count = _pending.Count;
                if (count == 0 || (fullBatchesOnly ? count < MaxMetricsPerBatch : budget <= 0))
                {
                    return;
                }

                if (count <= MaxMetricsPerBatch)
                {
                    batch = _pending;
                    _pending = [];
                }
                else
                {
                    batch = _pending.GetRange(0, MaxMetricsPerBatch);
                    _pending.RemoveRange(0, MaxMetricsPerBatch);
                }
            }

            budget -= batch.Count;
            await _client.LogBatchAsync(RunId, metrics: batch, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    private void ThrowIfUnusable()
    {
        lock (_gate)
        {
            ThrowIfClosed();
        }

        ThrowIfFaulted();
    }

    private void ThrowIfClosed()
    {
        if (_closed)
        {
            throw new InvalidOperationException($"Run {RunId} has ended; start a new run to log more.");
        }
    }

    private void ThrowIfFaulted()
    {
        var error = Interlocked.Exchange(ref _backgroundError, null);
        if (error is not null)
        {
            ExceptionDispatchInfo.Throw(error);
        }
    }
}
