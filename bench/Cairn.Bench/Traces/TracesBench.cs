using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Cairn.Bench.Http;
using Microsoft.Playwright;

namespace Cairn.Bench.Traces;

/// <summary>
/// The trace harness for issue #5, per backend: sustained OTLP ingest (spans/s, and how long until an accepted span can
/// be queried), the trace list's first page with about a million spans stored, and the view of a 10,000-span trace in
/// headless Chromium.
/// </summary>
internal static class TracesBench
{
    private const string Project = "bench";
    private const double IngestTarget = 20_000;
    private const double VisibleTargetMs = 1_000;
    private const double ListTargetMs = 200;
    private const double TreeTargetMs = 1_000;
    private static readonly CultureInfo s_culture = CultureInfo.InvariantCulture;

    public static async Task RunAsync(TracesBenchOptions options, CancellationToken cancellationToken = default)
    {
        Log($"machine: {Environment.ProcessorCount} CPUs, .NET {Environment.Version}, load average {File.ReadAllText("/proc/loadavg").Trim()}");
        var results = new List<string>();
        foreach (var backend in options.Backends)
        {
            var http = new HttpBenchOptions { Backend = backend, PostgresUri = options.PostgresUri, KeepData = options.KeepData };
            Log($"starting the server ({backend})...");
            await using var server = await BenchServer.StartAsync(http, cancellationToken);
            Log($"listening on {server.BaseAddress}; backend {server.BackendDescription}");
            using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Senders + 8, UseProxy = false }) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
            var name = backend == BenchBackend.Postgres ? "PostgreSQL" : "SQLite";

            if (options.Runs("ingest"))
            {
                // As fast as the exporters can send (closed loop): the most the server accepts.
                var max = await IngestAsync(client, options, options.Duration, measureVisibility: false, cancellationToken);
                var stored = await WaitStoredAsync(server, max.AcceptedSpans, cancellationToken);
                results.Add(Row(name, $"Ingest as fast as {options.Senders} exporters send, batches of {options.BatchSize}", $"≥ {IngestTarget:N0} spans/s", $"{max.SpansPerSecond:N0} spans/s accepted ({max.Refused:N0} batches answered 503 and retried), Cairn process {max.CpuCores:F2} cores", max.SpansPerSecond >= IngestTarget));
                results.Add(Row(name, "Every accepted span stored", "all", $"{stored:N0} stored / {max.AcceptedSpans:N0} accepted", stored == max.AcceptedSpans));
                Log($"{name} max ingest: {max.SpansPerSecond:N0} spans/s, cpu {max.CpuCores:F2} cores of {Environment.ProcessorCount}");

                // At the target rate (open loop, paced): how long until an accepted span can be read back.
                var before = await server.CountRowsAsync("spans", cancellationToken);
                var paced = await IngestAsync(client, options with { Rate = IngestTarget, Senders = Math.Max(options.Senders, 8) }, options.Duration, measureVisibility: true, cancellationToken);
                var pacedStored = await WaitStoredAsync(server, before + paced.AcceptedSpans, cancellationToken) - before;
                results.Add(Row(name, $"Sustained ingest paced at {IngestTarget:N0} spans/s for {options.Duration.TotalSeconds:N0} s", $"≥ {IngestTarget:N0} spans/s", $"{paced.SpansPerSecond:N0} spans/s accepted ({paced.Refused:N0} refused), {pacedStored:N0} of {paced.AcceptedSpans:N0} stored, Cairn process {paced.CpuCores:F2} cores", paced.SpansPerSecond >= IngestTarget * 0.99 && paced.Refused == 0 && pacedStored == paced.AcceptedSpans));
                results.Add(Row(name, "… accepted → queryable (the trace read back through the API)", $"≤ {VisibleTargetMs:N0} ms", $"p50 {Percentile(paced.VisibleMs, 50):F0} ms, p99 {Percentile(paced.VisibleMs, 99):F0} ms, max {paced.VisibleMs.DefaultIfEmpty().Max():F0} ms ({paced.VisibleMs.Count} samples)", paced.VisibleMs.Count > 0 && paced.VisibleMs.Max() <= VisibleTargetMs));
            }

            if (options.Runs("list"))
            {
                var have = await server.CountRowsAsync("spans", cancellationToken);
                if (have < options.ListSpans)
                {
                    Log($"seeding {options.ListSpans - have:N0} more spans for the list ({have:N0} stored)...");
                    var seed = await IngestAsync(client, options with { Senders = Math.Max(2, options.Senders) }, TimeSpan.MaxValue, measureVisibility: false, cancellationToken, stopAfterSpans: options.ListSpans - have);
                    await WaitStoredAsync(server, have + seed.AcceptedSpans, cancellationToken);
                    Log($"seeded at {seed.SpansPerSecond:N0} spans/s");
                }

                if (await server.VacuumAnalyzeAsync(cancellationToken))
                {
                    Log("VACUUM ANALYZE done");
                }

                var spans = await server.CountRowsAsync("spans", cancellationToken);
                var traces = await server.CountRowsAsync("traces", cancellationToken);
                foreach (var (label, query) in ListQueries())
                {
                    var times = await TimeAsync(client, $"/api/cairn/traces?project={Project}&max_results=50{query}", options.ListRepeats, cancellationToken);
                    results.Add(Row(name, $"Trace list, first page of 50 ({label}); {spans:N0} spans in {traces:N0} traces", $"< {ListTargetMs:N0} ms", $"p50 {Percentile(times, 50):F1} ms, p95 {Percentile(times, 95):F1} ms", Percentile(times, 95) < ListTargetMs));
                }

                var page = await TimeAsync(client, $"/traces?project={Project}", options.ListRepeats, cancellationToken);
                results.Add(Row(name, $"Traces page (/traces, HTML) with {spans:N0} spans", $"< {ListTargetMs:N0} ms", $"p50 {Percentile(page, 50):F1} ms, p95 {Percentile(page, 95):F1} ms", Percentile(page, 95) < ListTargetMs));
            }

            if (options.Runs("tree"))
            {
                var (traceId, batches) = OtlpPayloads.WideTrace(options.TreeSpans - 1, 1_000);
                long sent = 0;
                foreach (var batch in batches)
                {
                    using var response = await PostAsync(client, batch, cancellationToken);
                    response.EnsureSuccessStatusCode();
                    sent++;
                }

                await WaitVisibleAsync(client, traceId, options.TreeSpans, cancellationToken);
                Log($"a trace of {options.TreeSpans:N0} spans stored ({sent} batches)");
                var html = await TimeAsync(client, $"/traces/{traceId}?project={Project}", options.ListRepeats, cancellationToken);
                results.Add(Row(name, $"Trace view HTML of a {options.TreeSpans:N0}-span trace (server time to the whole page)", "info", $"p50 {Percentile(html, 50):F1} ms, p95 {Percentile(html, 95):F1} ms", null));
                var paints = await FirstPaintAsync(new Uri(server.BaseAddress, $"/traces/{traceId}?project={Project}"), options.PaintRepeats);
                results.Add(Row(name, $"Trace view of a {options.TreeSpans:N0}-span trace, first contentful paint in Chromium", $"< {TreeTargetMs:N0} ms", $"p50 {Percentile(paints, 50):F0} ms, max {paints.Max():F0} ms ({paints.Count} loads)", paints.Max() < TreeTargetMs));
            }
        }

        Console.WriteLine("| Backend | Target (issue #5) | Goal | Measured | Result |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var row in results)
        {
            Console.WriteLine(row);
        }
    }

    private static IEnumerable<(string Label, string Query)> ListQueries() =>
    [
        ("newest, no filter", ""),
        ("status = error", "&status=error"),
        ("model = gpt-4o-2024-08-06", "&model=gpt-4o-2024-08-06"),
        ("user = user-17", "&user_id=user-17"),
        ("name contains 'agent'", "&name=agent"),
        ("most expensive first", "&order=costliest"),
    ];

    private sealed record IngestResult(long AcceptedSpans, long Refused, double SpansPerSecond, List<double> VisibleMs, double CpuCores);

    private static async Task<IngestResult> IngestAsync(HttpClient client, TracesBenchOptions options, TimeSpan duration, bool measureVisibility, CancellationToken cancellationToken, long stopAfterSpans = long.MaxValue)
    {
        long accepted = 0;
        long refused = 0;
        var visible = new List<double>();
        var visibilityChecks = new List<Task>();
        var stopwatch = Stopwatch.StartNew();
        var cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
        var lastSample = TimeSpan.Zero;
        var sampleLock = new Lock();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (duration != TimeSpan.MaxValue)
        {
            stop.CancelAfter(duration);
        }

        async Task SendLoopAsync(int sender)
        {
            var payloads = new OtlpPayloads(options.BatchSize);
            // Paced: each sender starts a batch on a fixed schedule (offset per sender), whatever the answers take.
            var interval = options.Rate > 0 ? TimeSpan.FromSeconds(options.Senders * payloads.SpanCount / options.Rate) : TimeSpan.Zero;
            var next = stopwatch.Elapsed + (interval * sender / options.Senders);
            while (!stop.IsCancellationRequested && Interlocked.Read(ref accepted) < stopAfterSpans)
            {
                if (interval > TimeSpan.Zero)
                {
                    var wait = next - stopwatch.Elapsed;
                    if (wait > TimeSpan.Zero)
                    {
                        try
                        {
                            await Task.Delay(wait, stop.Token);
                        }
                        catch (OperationCanceledException)
                        {
                            return;
                        }
                    }

                    next += interval;
                }

                var (payload, traceIds) = payloads.Next();
                // A request once sent is let finish (not cancelled), so that "accepted" counts exactly what the server took.
                using (var response = await PostAsync(client, payload, CancellationToken.None))
                {
                    if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                    {
                        Interlocked.Increment(ref refused);
                        await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromMilliseconds(200), CancellationToken.None);
                        continue;
                    }

                    response.EnsureSuccessStatusCode();
                }

                var acceptedAt = stopwatch.Elapsed;
                Interlocked.Add(ref accepted, payloads.SpanCount);
                if (measureVisibility)
                {
                    lock (sampleLock)
                    {
                        if (acceptedAt - lastSample < TimeSpan.FromMilliseconds(250))
                        {
                            continue;
                        }

                        lastSample = acceptedAt;
                        visibilityChecks.Add(Task.Run(async () =>
                        {
                            var ms = await WaitVisibleAsync(client, traceIds[^1], OtlpPayloads.SpansPerTrace, CancellationToken.None, acceptedAt, stopwatch);
                            lock (sampleLock)
                            {
                                visible.Add(ms);
                            }
                        }, CancellationToken.None));
                    }
                }
            }
        }

        using var backlog = new BacklogMonitor();
        var progress = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested && Interlocked.Read(ref accepted) < stopAfterSpans)
            {
                await Task.Delay(2_000, CancellationToken.None);
                Log($"  {stopwatch.Elapsed.TotalSeconds:F0} s: {Interlocked.Read(ref accepted):N0} spans accepted, writer backlog {backlog.Read():N0}");
            }
        }, CancellationToken.None);
        await Task.WhenAll(Enumerable.Range(0, options.Senders).Select(SendLoopAsync));
        await progress;
        var elapsed = stopwatch.Elapsed;
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuStart).TotalSeconds / elapsed.TotalSeconds;
        await Task.WhenAll(visibilityChecks);
        return new IngestResult(accepted, refused, accepted / elapsed.TotalSeconds, visible, cpu);
    }

    /// <summary>Reads the span writer's backlog gauge (<c>cairn.traces.ingest.backlog</c>) of the in-process server.</summary>
    private sealed class BacklogMonitor : IDisposable
    {
        private readonly System.Diagnostics.Metrics.MeterListener _listener = new();
        private long _value;

        public BacklogMonitor()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "cairn.traces.ingest.backlog")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Exchange(ref _value, value));
            _listener.Start();
        }

        public long Read()
        {
            _listener.RecordObservableInstruments();
            return Interlocked.Read(ref _value);
        }

        public void Dispose() => _listener.Dispose();
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, byte[] payload, CancellationToken cancellationToken)
    {
        var content = new ByteArrayContent(payload);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/traces") { Content = content };
        request.Headers.Add("x-cairn-project", Project);
        return client.SendAsync(request, cancellationToken);
    }

    /// <summary>Polls a trace until it has <paramref name="spans"/> spans; returns the milliseconds since <paramref name="acceptedAt"/>.</summary>
    private static async Task<double> WaitVisibleAsync(HttpClient client, string traceId, long spans, CancellationToken cancellationToken, TimeSpan? acceptedAt = null, Stopwatch? clock = null)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromMinutes(5))
        {
            using var response = await client.GetAsync(new Uri($"/api/cairn/traces/{traceId}?project={Project}", UriKind.Relative), cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                var trace = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))!;
                if (trace["span_count"]!.GetValue<long>() >= spans)
                {
                    return clock is null || acceptedAt is null ? deadline.Elapsed.TotalMilliseconds : (clock.Elapsed - acceptedAt.Value).TotalMilliseconds;
                }
            }

            await Task.Delay(10, cancellationToken);
        }

        throw new TimeoutException($"Trace {traceId} did not reach {spans} spans in 5 minutes.");
    }

    /// <summary>Waits until the database holds <paramref name="expected"/> spans (the writer has caught up); returns the count.</summary>
    private static async Task<long> WaitStoredAsync(BenchServer server, long expected, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        long count;
        while ((count = await server.CountRowsAsync("spans", cancellationToken)) < expected && deadline.Elapsed < TimeSpan.FromMinutes(10))
        {
            await Task.Delay(200, cancellationToken);
        }

        return count;
    }

    private static async Task<List<double>> TimeAsync(HttpClient client, string path, int repeats, CancellationToken cancellationToken)
    {
        for (var i = 0; i < 3; i++)
        {
            using var warm = await client.GetAsync(new Uri(path, UriKind.Relative), cancellationToken);
            warm.EnsureSuccessStatusCode();
        }

        var times = new List<double>(repeats);
        for (var i = 0; i < repeats; i++)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative), HttpCompletionOption.ResponseContentRead, cancellationToken);
            response.EnsureSuccessStatusCode();
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        return times;
    }

    /// <summary>Loads the page in headless Chromium (Debian's, through Playwright) and reads the first contentful paint.</summary>
    private static async Task<List<double>> FirstPaintAsync(Uri page, int repeats)
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = "/usr/bin/chromium", Headless = true });
        var paints = new List<double>(repeats);
        for (var i = 0; i < repeats + 1; i++)
        {
            var context = await browser.NewContextAsync();
            var tab = await context.NewPageAsync();
            await tab.GotoAsync(page.ToString(), new PageGotoOptions { WaitUntil = WaitUntilState.Load });
            // The paint entry can be recorded a moment after the load event: wait for it (buffered), up to 5 s.
            var fcp = await tab.EvaluateAsync<double>("""
                () => new Promise(resolve => {
                  const found = performance.getEntriesByName('first-contentful-paint')[0];
                  if (found) { resolve(found.startTime); return; }
                  new PerformanceObserver(list => {
                    const p = list.getEntriesByName('first-contentful-paint')[0];
                    if (p) resolve(p.startTime);
                  }).observe({ type: 'paint', buffered: true });
                  setTimeout(() => resolve(-1), 5000);
                })
                """);
            if (fcp < 0)
            {
                throw new InvalidOperationException($"Chromium reported no first contentful paint for {page}.");
            }

            await context.CloseAsync();
            if (i > 0)
            {
                // The first load warms the server's caches and Chromium's; it is not counted.
                paints.Add(fcp);
            }
        }

        return paints;
    }

    private static string Row(string backend, string target, string goal, string measured, bool? pass) =>
        $"| {backend} | {target} | {goal} | {measured} | {(pass is null ? "–" : pass.Value ? "**pass**" : "**FAIL**")} |";

    private static double Percentile(List<double> values, double percentile)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.OrderBy(static v => v).ToList();
        var index = (int)Math.Ceiling(percentile / 100 * sorted.Count) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Count - 1)];
    }

    private static void Log(string message) =>
        Console.Error.WriteLine($"[{DateTime.Now.ToString("HH:mm:ss", s_culture)}] {message}");
}

/// <summary><c>Cairn.Bench traces-append [--seconds n] [--batch n]</c>: the span store's append in a loop on SQLite, for profiling.</summary>
internal static class TracesAppendLoop
{
    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = args.Length > 1 && args[0] == "--seconds" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20;
        var batch = args.Length > 3 && args[2] == "--batch" ? int.Parse(args[3], CultureInfo.InvariantCulture) : 2000;
        var folder = Directory.CreateTempSubdirectory("cairn-bench-append-").FullName;
        await using var storage = await Cairn.Storage.CairnStorage.OpenAsync(
            new Cairn.Storage.StorageOptions { BackendStoreUri = "sqlite:///" + Path.Combine(folder, "cairn.db") }, TimeProvider.System, CancellationToken.None);
        var payloads = new OtlpPayloads(200);
        var options = new Cairn.Core.Observability.Otlp.OtlpDecodeOptions { Project = "bench" };
        var cpu = TimeSpan.Zero;
        long spans = 0;
        var wall = Stopwatch.StartNew();
        while (wall.Elapsed.TotalSeconds < seconds)
        {
            var list = new List<Cairn.Core.Observability.SpanRecord>(batch);
            while (list.Count < batch)
            {
                list.AddRange(Cairn.Core.Observability.Otlp.OtlpTraceDecoder.DecodeProtobuf(payloads.Next().Payload, options).Spans);
            }

            var before = Process.GetCurrentProcess().TotalProcessorTime;
            await storage.Traces.AppendAsync(list, CancellationToken.None);
            cpu += Process.GetCurrentProcess().TotalProcessorTime - before;
            spans += list.Count;
        }

        Console.WriteLine($"{spans:N0} spans appended in batches of {batch}; CPU per span in AppendAsync {cpu.TotalMicroseconds / spans:F1} µs");
        Directory.Delete(folder, recursive: true);
        return 0;
    }
}
