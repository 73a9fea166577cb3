using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Cairn.Core.Gateway;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cairn.Server.Gateway;

/// <summary>
/// Takes request records from the request path and stores them in batches on a background task: nothing on the request
/// path waits for the database, and no record is dropped.
/// </summary>
/// <remarks>
/// Records go into a bounded channel. When it is full (the database is slower than the traffic), records are kept in an
/// overflow queue instead of blocking the request or being dropped; the backlog is visible in the
/// <c>cairn.gateway.log.backlog</c> metric and a warning in the log. A failed batch is retried until it is stored.
/// Stopping the host drains the channel and the overflow before the database is closed.
/// </remarks>
internal sealed partial class RequestLogWriter : BackgroundService
{
    private readonly Channel<RequestLogRecord> _channel;
    private readonly ConcurrentQueue<RequestLogRecord> _overflow = new();
    private readonly IRequestLogStore _store;
    private readonly ILogger<RequestLogWriter> _logger;
    private readonly int _batchSize;
    private readonly TimeSpan _linger;
    private readonly Counter<long> _written;
    private readonly Counter<long> _overflowed;
    private readonly Counter<long> _failures;
    private long _overflowCount;
    private int _inFlight;
    private long _lastOverflowWarning;

    public RequestLogWriter(IRequestLogStore store, IOptions<GatewayOptions> options, IMeterFactory meters, ILogger<RequestLogWriter> logger)
    {
        _store = store;
        _logger = logger;
        var log = options.Value.Log;
        _batchSize = Math.Max(1, log.BatchSize);
        _linger = TimeSpan.FromMilliseconds(Math.Max(0, log.FlushIntervalMs));
        _channel = Channel.CreateBounded<RequestLogRecord>(new BoundedChannelOptions(Math.Max(1, log.QueueCapacity))
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        var meter = meters.Create("Cairn.Server.Gateway");
        _written = meter.CreateCounter<long>("cairn.gateway.log.written", "{record}", "Request records stored.");
        _overflowed = meter.CreateCounter<long>("cairn.gateway.log.overflowed", "{record}", "Request records that found the writer's queue full and waited in the overflow queue.");
        _failures = meter.CreateCounter<long>("cairn.gateway.log.write_failures", "{batch}", "Batches whose write failed and was retried.");
        meter.CreateObservableGauge("cairn.gateway.log.backlog", () => Backlog, "{record}", "Request records waiting to be stored.");
    }

    /// <summary>Records waiting to be stored (queued plus overflow).</summary>
    public long Backlog => _channel.Reader.Count + Interlocked.Read(ref _overflowCount);

    /// <summary>Queues a record; never blocks and never drops.</summary>
    public void Enqueue(RequestLogRecord record)
    {
        if (_channel.Writer.TryWrite(record))
        {
            return;
        }

        _overflow.Enqueue(record);
        var backlog = Interlocked.Increment(ref _overflowCount);
        _overflowed.Add(1);
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastOverflowWarning);
        if (now - last > 10_000 && Interlocked.CompareExchange(ref _lastOverflowWarning, now, last) == last)
        {
            LogFallingBehind(_logger, backlog);
        }
    }

    /// <summary>Waits until every record queued so far is stored (used by tests and the shutdown path).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        while (Backlog > 0 || _inFlight > 0)
        {
            await Task.Delay(10, cancellationToken);
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<RequestLogRecord>(_batchSize);
        try
        {
            while (await _channel.Reader.WaitToReadAsync(stoppingToken))
            {
                // Group commit: let a batch gather for a moment instead of writing each record in its own transaction,
                // which costs the database several times more per record (docs/benchmarks.md, "AI gateway").
                if (_channel.Reader.Count < _batchSize && _overflow.IsEmpty && _linger > TimeSpan.Zero)
                {
                    try
                    {
                        await Task.Delay(_linger, stoppingToken);
                    }
                    catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                    {
                    }
                }

                await DrainAsync(batch, CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        // Shutdown: store everything still queued.
        await DrainAsync(batch, CancellationToken.None);
    }

    private async Task DrainAsync(List<RequestLogRecord> batch, CancellationToken cancellationToken)
    {
        while (true)
        {
            batch.Clear();
            while (batch.Count < _batchSize && _overflow.TryDequeue(out var overflowed))
            {
                Interlocked.Decrement(ref _overflowCount);
                batch.Add(overflowed);
            }

            while (batch.Count < _batchSize && _channel.Reader.TryRead(out var record))
            {
                batch.Add(record);
            }

            if (batch.Count == 0)
            {
                return;
            }

            Interlocked.Exchange(ref _inFlight, batch.Count);
            await WriteWithRetryAsync(batch, cancellationToken);
            Interlocked.Exchange(ref _inFlight, 0);
        }
    }

    private async Task WriteWithRetryAsync(List<RequestLogRecord> batch, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _store.AppendAsync(batch, cancellationToken);
                _written.Add(batch.Count);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                _failures.Add(1);
                LogWriteFailed(_logger, batch.Count, attempt, e);
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5_000));
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _channel.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    [LoggerMessage(EventId = 5000, Level = LogLevel.Warning, Message = "The request log writer is falling behind: {Backlog} records wait in the overflow queue (none are dropped)")]
    private static partial void LogFallingBehind(ILogger logger, long backlog);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Error, Message = "Storing {Count} request records failed (attempt {Attempt}); retrying")]
    private static partial void LogWriteFailed(ILogger logger, int count, int attempt, Exception exception);
}
