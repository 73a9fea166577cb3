using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.InteropServices;
using Cairn.Core.Gateway;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cairn.Server.Gateway;

/// <summary>
/// Takes request records from the request path and stores them in batches on a background thread: nothing on the request
/// path waits for the database, and no record is dropped.
/// </summary>
/// <remarks>
/// <para>
/// The request path appends to a lock-free queue and returns. A dedicated writer thread lets records gather for
/// <c>Log:FlushIntervalMs</c> (or until <c>Log:BatchSize</c> have queued) and stores them in one transaction (group
/// commit: a record stored alone costs the database several times more than one in a batch).
/// </para>
/// <para>
/// The writer thread runs at a lower scheduling priority than the request threads, so a batch write uses the CPU the
/// requests leave idle instead of delaying them (the tail latency of a busy gateway on few cores). When it falls behind
/// (more than two batches queued), batches are written at normal priority on the thread pool until it has caught up.
/// </para>
/// <para>
/// <c>Log:QueueCapacity</c> is the backlog the writer is expected to stay under. Above it, records are still kept (never
/// dropped, never blocking a request); the backlog is visible in the <c>cairn.gateway.log.backlog</c> metric, counted in
/// <c>cairn.gateway.log.overflowed</c> and reported by a warning in the log. A failed batch is retried until it is
/// stored. Stopping the host stores everything still queued before the database is closed.
/// </para>
/// </remarks>
internal sealed partial class RequestLogWriter : IHostedService, IDisposable
{
    /// <summary>The writer thread's nice value on Linux (0 is normal, 19 the lowest priority).</summary>
    private const int BackgroundNice = 10;

    private readonly ConcurrentQueue<RequestLogRecord> _queue = new();
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly IRequestLogStore _store;
    private readonly ILogger<RequestLogWriter> _logger;
    private readonly int _batchSize;
    private readonly int _capacity;
    private readonly TimeSpan _linger;
    private readonly Counter<long> _written;
    private readonly Counter<long> _overflowed;
    private readonly Counter<long> _failures;
    private Thread? _thread;
    private long _queued;
    private int _inFlight;
    private long _lastOverflowWarning;
    private volatile bool _stopping;

    public RequestLogWriter(IRequestLogStore store, IOptions<GatewayOptions> options, IMeterFactory meters, ILogger<RequestLogWriter> logger)
    {
        _store = store;
        _logger = logger;
        var log = options.Value.Log;
        _batchSize = Math.Max(1, log.BatchSize);
        _capacity = Math.Max(1, log.QueueCapacity);
        _linger = TimeSpan.FromMilliseconds(Math.Max(0, log.FlushIntervalMs));
        var meter = meters.Create("Cairn.Server.Gateway");
        _written = meter.CreateCounter<long>("cairn.gateway.log.written", "{record}", "Request records stored.");
        _overflowed = meter.CreateCounter<long>("cairn.gateway.log.overflowed", "{record}", "Request records queued while the backlog was over Log:QueueCapacity.");
        _failures = meter.CreateCounter<long>("cairn.gateway.log.write_failures", "{batch}", "Batches whose write failed and was retried.");
        meter.CreateObservableGauge("cairn.gateway.log.backlog", () => Backlog, "{record}", "Request records waiting to be stored.");
    }

    /// <summary>Records waiting to be stored (not yet taken into a batch).</summary>
    public long Backlog => Interlocked.Read(ref _queued);

    /// <summary>Queues a record; never blocks and never drops.</summary>
    public void Enqueue(RequestLogRecord record)
    {
        _queue.Enqueue(record);
        var queued = Interlocked.Increment(ref _queued);
        if (queued == 1 || queued == _batchSize)
        {
            // The first record starts a batch's gathering time; a full batch ends it.
            _wake.Set();
        }

        if (queued > _capacity)
        {
            _overflowed.Add(1);
            var now = Environment.TickCount64;
            var last = Interlocked.Read(ref _lastOverflowWarning);
            if (now - last > 10_000 && Interlocked.CompareExchange(ref _lastOverflowWarning, now, last) == last)
            {
                LogFallingBehind(_logger, queued, _capacity);
            }
        }
    }

    /// <summary>Waits until every record queued so far is stored (used by tests).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        while (Backlog > 0 || Volatile.Read(ref _inFlight) > 0)
        {
            await Task.Delay(10, cancellationToken);
        }
    }

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _thread = new Thread(Run)
        {
            Name = "Cairn request log writer",
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

        // The writer stores everything still queued, then stops. Requests still finishing during shutdown may add records
        // until the server has stopped (it stops before this service), so the last drain sees them all.
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

    private void Run()
    {
        LowerPriority();
        var batch = new List<RequestLogRecord>(_batchSize);
        try
        {
            while (true)
            {
                var queued = Backlog;
                if (queued == 0)
                {
                    if (_stopping)
                    {
                        break;
                    }

                    _wake.Wait();
                    _wake.Reset();
                    continue;
                }

                // Group commit: let a batch gather for a moment instead of writing each record in its own transaction.
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
            LogWriterFailed(_logger, e);
            _stopped.TrySetException(e);
            return;
        }

        _stopped.TrySetResult();
    }

    private void Drain(List<RequestLogRecord> batch)
    {
        while (true)
        {
            batch.Clear();
            while (batch.Count < _batchSize && _queue.TryDequeue(out var record))
            {
                batch.Add(record);
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
                // Falling behind at background priority (the request threads keep the cores busy): write at normal priority.
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

    private async Task WriteWithRetryAsync(List<RequestLogRecord> batch)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _store.AppendAsync(batch, CancellationToken.None).ConfigureAwait(false);
                _written.Add(batch.Count);
                return;
            }
            catch (Exception e)
            {
                _failures.Add(1);
                LogWriteFailed(_logger, batch.Count, attempt, e);
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
                LogPriorityNotLowered(_logger, Marshal.GetLastPInvokeErrorMessage());
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            LogPriorityNotLowered(_logger, e.Message);
        }
    }

    [LoggerMessage(EventId = 5000, Level = LogLevel.Warning, Message = "The request log writer is falling behind: {Backlog} records wait to be stored, over the queue capacity of {Capacity} (none are dropped)")]
    private static partial void LogFallingBehind(ILogger logger, long backlog, int capacity);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Error, Message = "Storing {Count} request records failed (attempt {Attempt}); retrying")]
    private static partial void LogWriteFailed(ILogger logger, int count, int attempt, Exception exception);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Critical, Message = "The request log writer stopped")]
    private static partial void LogWriterFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Debug, Message = "The request log writer keeps normal priority: {Reason}")]
    private static partial void LogPriorityNotLowered(ILogger logger, string reason);

    private static partial class Native
    {
        [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
        internal static partial int SetPriority(int which, int who, int priority);

        [LibraryImport("libc", EntryPoint = "gettid")]
        internal static partial int GetThreadId();
    }
}
