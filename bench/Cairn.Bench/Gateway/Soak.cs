using System.Diagnostics;

namespace Cairn.Bench.Gateway;

/// <summary>One sample of the gateway's memory during the soak.</summary>
internal sealed record RssSample(TimeSpan At, long Bytes, long Completed);

/// <summary>The figures of the soak: what was sent and answered, latencies, and the gateway's RSS over time.</summary>
internal sealed record SoakResult(
    TimeSpan Duration,
    double TargetRps,
    long Sent,
    long Ok,
    long Failed,
    long Late,
    double P50Ms,
    double P99Ms,
    IReadOnlyList<RssSample> Rss,
    CpuUse Cpu)
{
    public double AchievedRps => (Ok + Failed) / Duration.TotalSeconds;
}

/// <summary>
/// An open-loop paced client: requests start on a fixed schedule (<c>rps</c> per second, checked every millisecond or so),
/// whatever the answers do, with at most <c>maxInFlight</c> outstanding (a start that finds the cap reached is counted late
/// and sent when a slot frees up). Meanwhile the gateway's RSS is sampled from <c>/proc</c>.
/// </summary>
internal static class Soak
{
    public static async Task<SoakResult> RunAsync(
        GatewayClient client, GatewayTarget target, double rps, TimeSpan duration, TimeSpan sampleEvery, int maxInFlight,
        IReadOnlyList<ChildProcess> servers, Action<RssSample> onSample, CancellationToken cancellationToken)
    {
        var processes = servers.Select(static s => (s.Name, (Func<TimeSpan>)s.CpuTime)).Prepend(("bench client", GatewayClient.SelfCpu)).ToArray();
        var window = new CpuWindow(processes);
        var latencies = new List<long>((int)Math.Min(int.MaxValue / 2, rps * duration.TotalSeconds * 1.1));
        var gate = new SemaphoreSlim(maxInFlight, maxInFlight);
        long ok = 0, failed = 0, late = 0, sent = 0;
        var samples = new List<RssSample>();
        var start = Stopwatch.GetTimestamp();
        var nextSample = TimeSpan.Zero;
        var inFlight = new List<Task>();

        async Task OneAsync()
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                var success = await client.SendAndDrainAsync(target, GatewayPayloads.Request, cancellationToken);
                var took = Stopwatch.GetTimestamp() - started;
                lock (latencies)
                {
                    latencies.Add(took);
                }

                if (success)
                {
                    Interlocked.Increment(ref ok);
                }
                else
                {
                    Interlocked.Increment(ref failed);
                }
            }
            catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // A refused connection, a broken response or the client's 60 s timeout: counted, not fatal.
                Interlocked.Increment(ref failed);
            }
            finally
            {
                gate.Release();
            }
        }

        while (true)
        {
            var elapsed = Stopwatch.GetElapsedTime(start);
            if (elapsed >= nextSample)
            {
                var sample = new RssSample(elapsed, target.Server.ResidentBytes(), Interlocked.Read(ref ok) + Interlocked.Read(ref failed));
                samples.Add(sample);
                onSample(sample);
                nextSample += sampleEvery;
            }

            if (elapsed >= duration)
            {
                break;
            }

            var due = (long)(elapsed.TotalSeconds * rps);
            while (sent < due)
            {
                if (!gate.Wait(0, CancellationToken.None))
                {
                    late++;
                    await gate.WaitAsync(cancellationToken);
                }

                sent++;
                inFlight.Add(OneAsync());
            }

            if (inFlight.Count > 4096)
            {
                inFlight.RemoveAll(static t => t.IsCompleted);
            }

            await Task.Delay(1, cancellationToken);
        }

        await Task.WhenAll(inFlight);
        var cpu = window.Stop();
        var measured = Stopwatch.GetElapsedTime(start);
        samples.Add(new RssSample(measured, target.Server.ResidentBytes(), ok + failed));
        return new SoakResult(
            duration, rps, sent, ok, failed, late,
            GatewayClient.PercentileMs(latencies, 0.50), GatewayClient.PercentileMs(latencies, 0.99), samples, cpu);
    }
}
