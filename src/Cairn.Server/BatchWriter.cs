using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cairn.Server;

/// <summary>
/// Takes items from request paths and stores them in batches on a background thread, so that no request waits for the
/// database (the gateway's request log, ingested spans).
/// </summary>
/// <remarks>
/// <para>
/// Requests append to a lock-free queue and return. A dedicated writer thread lets items gather for the linger time (or
/// until a batch is full) and stores them in one transaction: an item stored alone costs the database several times
/// more than one in a batch (docs/benchmarks.md, "AI gateway").
/// </para>
/// <para>
/// The writer thread runs at a lower scheduling priority than request threads, so a batch write uses the CPU the requests
/// leave idle. When it falls behind (more than two batches queued), batches are written at normal priority on the thread
/// pool until it has caught up. A failed batch is retried until it is stored. Stopping the host stores everything still
/// queued before the database is closed.
/// </para>
/// <para>
/// The capacity is the backlog the writer should stay under. <see cref="Enqueue"/> keeps items above it (never dropping,
/// never blocking, a warning in the log and the <c>.overflowed</c> counter); <see cref="TryEnqueue"/> refuses them
/// instead, so that the caller can answer with back-pressure. The backlog is the <c>.backlog</c> gauge.
/// </para>
/// </remarks>
/// <typeparam name="T">The item type.</typeparam>
internal abstract partial class BatchWriter<T> : IHostedService, IDisposable
{
    /// <summary>The writer thread's nice value on Linux (0 is normal, 19 the lowest priority).</summary>
    private const int BackgroundNice = 10;

    private readonly ConcurrentQueue<T> _queue = new();
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _name;
    private readonly ILogger _logger;
    private readonly int _batchSize;
    private readonly int _capacity;
    private readonly TimeSpan _linger;
    private readonly Counter<long> _written;
    private readonly Counter<long> _overflowed;
    private readonly Counter<long> _refused;
    private readonly Counter<long> _failures;
    private Thread? _thread;
    private long _queued;
    private int _inFlight;
    private long _lastWarning;
    private volatile bool _stopping;

    /// <param name="name">What the items are, for the thread name and log messages ("request log", "spans").</param>
    /// <param name="meter">The meter for the metrics.</param>
    /// <param name="metricPrefix">The metric name prefix (<c>cairn.gateway.log</c>).</param>
    /// <param name="unit">The metric unit of an item (<c>{record}</c>).</param>
    /// <param name="batchSize">Most items per transaction.</param>
    /// <param name="capacity">The backlog the writer should stay under.</param>
    /// <param name="linger">How long a batch may gather.</param>
    /// <param name="logger">The logger.</param>
    protected BatchWriter(string name, Meter meter, string metricPrefix, string unit, int batchSize, int capacity, TimeSpan linger, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(meter);
        _name = name;
        _logger = logger;
        _batchSize = Math.Max(1, batchSize);
        _capacity = Math.Max(1, capacity);
        _linger = linger < TimeSpan.Zero ? TimeSpan.Zero : linger;
        _written = meter.CreateCounter<long>(metricPrefix + ".written", unit, $"Items stored by the {name} writer.");
        _overflowed = meter.CreateCounter<long>(metricPrefix + ".overflowed", unit, $"Items queued for the {name} writer while its backlog was over capacity.");
        _refused = meter.CreateCounter<long>(metricPrefix + ".refused", unit, $"Items refused because the {name} writer's backlog was full.");
        _failures = meter.CreateCounter<long>(metricPrefix + ".write_failures", "{batch}", $"Batches of the {name} writer whose write failed and was retried.");
        meter.CreateObservableGauge(metricPrefix + ".backlog", () => Backlog, unit, $"Items waiting for the {name} writer.");
    }

    /// <summary>Items waiting to be stored (not yet taken into a batch).</summary>
    public long Backlog => Interlocked.Read(ref _queued);

    /// <summary>Queues an item; never blocks and never drops.</summary>
    public void Enqueue(T item)
    {
        _queue.Enqueue(item);
        var queued = Interlocked.Increment(ref _queued);
        if (queued == 1 || queued == _batchSize)
        {
            // The first item starts a batch's gathering time; a full batch ends it.
            _wake.Set();
        }

        if (queued > _capacity)
        {
            _overflowed.Add(1);
            WarnRateLimited(queued, refused: false);
        }
    }

    /// <summary>Queues all of <paramref name="items"/>, or none of them when that would take the backlog over capacity.</summary>
    /// <returns>false when refused (the caller should answer with back-pressure).</returns>
    public bool TryEnqueue(IReadOnlyList<T> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (items.Count == 0)
        {
            return true;
        }

        var queued = Interlocked.Add(ref _queued, items.Count);
        if (queued > _capacity && queued != items.Count)
        {
            Interlocked.Add(ref _queued, -items.Count);
            _refused.Add(items.Count);
            WarnRateLimited(queued - items.Count, refused: true);
            return false;
        }

        foreach (var item in items)
        {
            _queue.Enqueue(item);
        }

        var before = queued - items.Count;
        if (before == 0 || (before < _batchSize && queued >= _batchSize))
        {
            // The first items start a batch's gathering time; a full batch ends it.
            _wake.Set();
        }

        return true;
    }

    /// <summary>Waits until every item queued so far is stored.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        while (Backlog > 0 || Volatile.Read(ref _inFlight) > 0)
        {
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _thread = new Thread(Run)
        {
            Name = "Cairn " + _name + " writer",
            IsBackground = true,
            Priority = ThreadPriority.BelowNormal,
        };
        _thread.Start();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_thread is null)
        {
            return;
        }

        // The writer stores everything still queued, then stops. The server stops before this service, so requests that
        // were finishing have queued their items by now.
        _stopping = true;
        _wake.Set();
        await _stopped.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // A writer still retrying after a timed-out stop keeps its event; it is a background thread and ends with the process.
        if (_stopped.Task.IsCompleted)
        {
            _wake.Dispose();
        }
    }

    /// <summary>Stores one batch in one transaction; throws to have it retried.</summary>
    protected abstract Task WriteAsync(List<T> batch);

    private void WarnRateLimited(long backlog, bool refused)
    {
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastWarning);
        if (now - last > 10_000 && Interlocked.CompareExchange(ref _lastWarning, now, last) == last)
        {
            if (refused)
            {
                LogRefusing(_logger, _name, backlog, _capacity);
            }
            else
            {
                LogFallingBehind(_logger, _name, backlog, _capacity);
            }
        }
    }

    private void Run()
    {
        LowerPriority();
        var batch = new List<T>(_batchSize);
        try
        {
            while (true)
            {
                var queued = Backlog;
                if (queued <= 0 && _queue.IsEmpty)
                {
                    if (_stopping)
                    {
                        break;
                    }

                    _wake.Wait();
                    _wake.Reset();
                    continue;
                }

                // Group commit: let a batch gather for a moment instead of writing each item in its own transaction.
                if (queued < _batchSize && !_stopping && _linger > TimeSpan.Zero)
                {
                    _wake.Wait(_linger);
                    _wake.Reset();
                }

                Drain(batch);
            }
        }
        catch (Exception e)
        {
            LogWriterFailed(_logger, _name, e);
            _stopped.TrySetException(e);
            return;
        }

        _stopped.TrySetResult();
    }

    private void Drain(List<T> batch)
    {
        while (true)
        {
            batch.Clear();
            while (batch.Count < _batchSize && _queue.TryDequeue(out var item))
            {
                batch.Add(item);
            }

            if (batch.Count == 0)
            {
                return;
            }

            // In flight before it leaves the backlog, so that FlushAsync never sees both at zero while a batch is unwritten.
            Volatile.Write(ref _inFlight, batch.Count);
            var behind = Interlocked.Add(ref _queued, -batch.Count) >= 2L * _batchSize;
            if (behind)
            {
                // Falling behind at background priority (requests keep the cores busy): write at normal priority.
                Task.Run(() => WriteWithRetryAsync(batch)).GetAwaiter().GetResult();
            }
            else
            {
                WriteWithRetryAsync(batch).GetAwaiter().GetResult();
            }

            Volatile.Write(ref _inFlight, 0);
            if (Backlog < _batchSize && !_stopping)
            {
                return;
            }
        }
    }

    private async Task WriteWithRetryAsync(List<T> batch)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await WriteAsync(batch).ConfigureAwait(false);
                _written.Add(batch.Count);
                return;
            }
            catch (Exception e)
            {
                _failures.Add(1);
                LogWriteFailed(_logger, _name, batch.Count, attempt, e);
                await Task.Delay(delay).ConfigureAwait(false);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5_000));
            }
        }
    }

    /// <summary>
    /// On Linux, gives the calling thread a higher nice value (.NET's <see cref="Thread.Priority"/> does not change the
    /// scheduling of a thread there). Raising one's own nice value needs no privilege.
    /// </summary>
    private void LowerPriority()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            if (Native.SetPriority(0 /* PRIO_PROCESS: a thread id on Linux */, Native.GetThreadId(), BackgroundNice) != 0)
            {
                LogPriorityNotLowered(_logger, _name, Marshal.GetLastPInvokeErrorMessage());
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            LogPriorityNotLowered(_logger, _name, e.Message);
        }
    }

    [LoggerMessage(EventId = 5000, Level = LogLevel.Warning, Message = "The {Writer} writer is falling behind: {Backlog} items wait to be stored, over its capacity of {Capacity} (none are dropped)")]
    private static partial void LogFallingBehind(ILogger logger, string writer, long backlog, int capacity);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Error, Message = "The {Writer} writer failed to store {Count} items (attempt {Attempt}); retrying")]
    private static partial void LogWriteFailed(ILogger logger, string writer, int count, int attempt, Exception exception);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Critical, Message = "The {Writer} writer stopped")]
    private static partial void LogWriterFailed(ILogger logger, string writer, Exception exception);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Debug, Message = "The {Writer} writer keeps normal priority: {Reason}")]
    private static partial void LogPriorityNotLowered(ILogger logger, string writer, string reason);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Warning, Message = "The {Writer} writer's backlog is full ({Backlog} items waiting, capacity {Capacity}): refusing new items until it catches up")]
    private static partial void LogRefusing(ILogger logger, string writer, long backlog, int capacity);
}

/// <summary>The Linux calls the batch writers use to lower their thread's priority.</summary>
internal static partial class Native
{
    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    internal static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "gettid")]
    internal static partial int GetThreadId();
}
