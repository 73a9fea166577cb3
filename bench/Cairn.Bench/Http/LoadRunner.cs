using System.Diagnostics;

namespace Cairn.Bench.Http;

/// <summary>The figures of one load run.</summary>
internal sealed record LoadResult(
    string Name,
    int Concurrency,
    double Seconds,
    long Operations,
    long Units,
    double P50Ms,
    double P95Ms,
    double P99Ms,
    long Errors,
    string? FirstError)
{
    public double OperationsPerSecond => Operations / Seconds;

    public double UnitsPerSecond => Units / Seconds;

    /// <summary>Cores this process (server and client) used on average during the run, warm-up included.</summary>
    public double ProcessCores { get; init; }

    /// <summary>Cores other processes on the machine used meanwhile (noise), when known.</summary>
    public double? OtherCores { get; init; }
}

/// <summary>Runs an operation from N concurrent workers for a warm-up and then a fixed measurement window.</summary>
/// <remarks>Each operation's latency is taken with <see cref="Stopwatch.GetTimestamp"/>; operations that complete inside the window
/// are counted (throughput = their units / window length) and their latencies make the percentiles.</remarks>
internal static class LoadRunner
{
    private const int MaxErrorsPerWorker = 100;

    /// <param name="createWorker">Called once per worker (with its index); returns the worker's operation, which returns how many units (runs, metric values, requests) it did.</param>
    public static async Task<LoadResult> RunAsync(
        string name,
        int concurrency,
        TimeSpan warmUp,
        TimeSpan duration,
        Func<int, Func<CancellationToken, Task<long>>> createWorker,
        CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var measureStart = start + (long)(warmUp.TotalSeconds * Stopwatch.Frequency);
        var measureEnd = measureStart + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = new Task<WorkerStats>[concurrency];
        for (var i = 0; i < concurrency; i++)
        {
            var operation = createWorker(i);
            workers[i] = Task.Run(() => RunWorkerAsync(operation, measureStart, measureEnd, cancellationToken), cancellationToken);
        }

        var stats = await Task.WhenAll(workers);
        var latencies = new long[stats.Sum(static s => s.Latencies.Count)];
        var offset = 0;
        foreach (var s in stats)
        {
            s.Latencies.CopyTo(latencies, offset);
            offset += s.Latencies.Count;
        }

        Array.Sort(latencies);
        return new LoadResult(
            name,
            concurrency,
            duration.TotalSeconds,
            latencies.Length,
            stats.Sum(static s => s.Units),
            Percentile(latencies, 0.50),
            Percentile(latencies, 0.95),
            Percentile(latencies, 0.99),
            stats.Sum(static s => s.Errors),
            stats.Select(static s => s.FirstError).FirstOrDefault(static e => e is not null));
    }

    private static async Task<WorkerStats> RunWorkerAsync(Func<CancellationToken, Task<long>> operation, long measureStart, long measureEnd, CancellationToken cancellationToken)
    {
        var stats = new WorkerStats();
        while (!cancellationToken.IsCancellationRequested)
        {
            var started = Stopwatch.GetTimestamp();
            if (started >= measureEnd)
            {
                break;
            }

            long units;
            try
            {
                units = await operation(cancellationToken);
            }
            catch (Exception e) when (e is BenchRequestException or HttpRequestException or TaskCanceledException or IOException)
            {
                stats.Errors++;
                stats.FirstError ??= e.Message;
                if (stats.Errors >= MaxErrorsPerWorker)
                {
                    break;
                }

                continue;
            }

            var ended = Stopwatch.GetTimestamp();
            if (ended >= measureStart && ended < measureEnd)
            {
                stats.Latencies.Add(ended - started);
                stats.Units += units;
            }
        }

        return stats;
    }

    /// <summary>Nearest-rank percentile of sorted timestamps differences, in milliseconds.</summary>
    private static double Percentile(long[] sorted, double fraction)
    {
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var rank = (int)Math.Ceiling(fraction * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)] * 1000.0 / Stopwatch.Frequency;
    }

    private sealed class WorkerStats
    {
        public List<long> Latencies { get; } = new(capacity: 16_384);

        public long Units { get; set; }

        public long Errors { get; set; }

        public string? FirstError { get; set; }
    }
}
