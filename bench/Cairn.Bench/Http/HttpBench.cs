using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Cairn.Bench.Http;

/// <summary>The HTTP load harness for issue #2: starts a real server on loopback, seeds it, runs the four scenarios and the <c>/health</c> baseline, prints a Markdown table.</summary>
internal static class HttpBench
{
    private const double RunsPerSecondTarget = 150;
    private const double MetricValuesPerSecondTarget = 100_000;
    private const double HistoryP50TargetMs = 15;
    private const double SearchP50TargetMs = 10;
    private const int HistoryPoints = 4_000;
    private const double UiPageTargetMs = 500;
    private const int UiRunMetrics = 20;
    private const int UiRunSteps = 10_000;
    private const int UiPageRuns = 50;

    private static readonly CultureInfo s_culture = CultureInfo.InvariantCulture;

    public static async Task RunAsync(HttpBenchOptions options, CancellationToken cancellationToken = default)
    {
        PrintEnvironment(options);
        Log($"starting the server ({options.Backend})...");
        await using var server = await BenchServer.StartAsync(options, cancellationToken);
        Log($"listening on {server.BaseAddress}; backend {server.BackendDescription}");
        using var client = new BenchClient(server.BaseAddress, maxConnections: Math.Max(options.Concurrency, 8) + 4);
        var api = new Api(client);

        await SmokeTestAsync(client, api, cancellationToken);

        // The HTTP floor: what the same client at the same concurrency gets from the cheapest endpoint.
        var healthLoaded = await MeasureAsync(options, "GET /health", options.Concurrency, _ => ct => HealthAsync(client, api, ct), cancellationToken);
        var healthSerial = options.Concurrency == 1
            ? healthLoaded
            : await MeasureAsync(options, "GET /health", 1, _ => ct => HealthAsync(client, api, ct), cancellationToken);
        var context = new Context(options, server, client, api, healthSerial, healthLoaded);

        // Reads first, on a database holding only their seed data; then writes.
        var rows = new List<Row>();
        if (options.Runs("history"))
        {
            rows.AddRange(await MetricHistoryAsync(context, cancellationToken));
        }

        if (options.Runs("search"))
        {
            rows.AddRange(await SearchRunsAsync(context, cancellationToken));
        }

        if (options.Runs("ui"))
        {
            rows.AddRange(await UiPagesAsync(context, cancellationToken));
        }

        if (options.Runs("create"))
        {
            rows.Add(await CreateAndLogRunsAsync(context, cancellationToken));
        }

        if (options.Runs("ingest"))
        {
            rows.Add(await IngestMetricsAsync(context, cancellationToken));
        }

        PrintTable(options, server, [.. rows.OrderBy(static r => r.Scenario[..2], StringComparer.Ordinal)], healthSerial, healthLoaded);
        Log("stopping the server...");
    }

    /// <summary>Scenario 1: create a run, then log 5 params, 20 metrics and 3 tags in one batch.</summary>
    private static async Task<Row> CreateAndLogRunsAsync(Context context, CancellationToken cancellationToken)
    {
        var (options, client, api) = (context.Options, context.Client, context.Api);
        var experimentId = await api.CreateExperimentAsync("bench-create-and-log", cancellationToken);
        var createRunBody = Payloads.CreateRun(experimentId);
        var batchTemplate = Payloads.TrainingRunBatch();
        var result = await MeasureAsync(options, "runs/create + runs/log-batch", options.Concurrency, _ => async ct =>
        {
            var created = await client.PostAsync(api.CreateRun, createRunBody, ct);
            var runId = BenchClient.FindString(created, "run_id"u8);
            await client.PostAndDiscardAsync(api.LogBatch, batchTemplate.For(runId), ct);
            return 1;
        }, cancellationToken);
        return new Row(
            "1. POST runs/create + runs/log-batch (5 params, 20 metrics, 3 tags)",
            $"≥ {RunsPerSecondTarget:N0} runs/s",
            result,
            $"{Rate(result.UnitsPerSecond)} runs/s ({Rate(result.UnitsPerSecond * 2)} req/s); p50 {Ms(result.P50Ms)}, p95 {Ms(result.P95Ms)} per run",
            result.Errors == 0 && result.UnitsPerSecond >= RunsPerSecondTarget,
            context.HealthLoaded);
    }

    /// <summary>Scenario 2: log-batch calls of 1,000 metric values each, every worker into its own run.</summary>
    private static async Task<Row> IngestMetricsAsync(Context context, CancellationToken cancellationToken)
    {
        var (options, client, api) = (context.Options, context.Client, context.Api);
        var experimentId = await api.CreateExperimentAsync("bench-metric-ingest", cancellationToken);
        var result = await MeasureAsync(options, "runs/log-batch ×1000 metrics", options.Concurrency, worker =>
        {
            var writer = new Payloads.MetricBatchWriter();
            string? runId = null;
            return async ct =>
            {
                runId ??= await api.CreateRunAsync(experimentId, $"ingest-{worker}", ct);
                await client.PostAndDiscardAsync(api.LogBatch, writer.Next(runId), ct);
                return Payloads.MetricBatchWriter.MetricsPerCall;
            };
        }, cancellationToken);
        return new Row(
            "2. POST runs/log-batch, 1,000 metric values per call",
            $"≥ {MetricValuesPerSecondTarget:N0} values/s",
            result,
            $"{Rate(result.UnitsPerSecond)} values/s ({Rate(result.OperationsPerSecond)} req/s); p50 {Ms(result.P50Ms)}, p95 {Ms(result.P95Ms)}",
            result.Errors == 0 && result.UnitsPerSecond >= MetricValuesPerSecondTarget,
            context.HealthLoaded);
    }

    /// <summary>Scenario 3: the whole history of a 4,000-point metric; latency with one worker (the target), then under load.</summary>
    private static async Task<Row[]> MetricHistoryAsync(Context context, CancellationToken cancellationToken)
    {
        var (options, client, api) = (context.Options, context.Client, context.Api);
        var runId = await SeedHistoryAsync(client, api, cancellationToken);
        var uri = client.Endpoint($"/api/2.0/mlflow/metrics/get-history?run_id={runId}&metric_key=loss");
        var operation = new Func<int, Func<CancellationToken, Task<long>>>(_ => async ct =>
        {
            await client.GetAndDiscardAsync(uri, ct);
            return 1;
        });
        var serial = await MeasureAsync(options, "get-history", 1, operation, cancellationToken);
        var loaded = await MeasureAsync(options, "get-history", options.Concurrency, operation, cancellationToken);
        return
        [
            new Row(
                $"3. GET metrics/get-history, {HistoryPoints:N0}-point metric",
                $"< {HistoryP50TargetMs} ms p50",
                serial,
                LatencyText(serial),
                serial.Errors == 0 && serial.P50Ms < HistoryP50TargetMs,
                context.HealthSerial),
            new Row("3. (same, under load)", "info", loaded, LatencyText(loaded), null, context.HealthLoaded),
        ];
    }

    /// <summary>Scenario 4: runs/search with a metric filter, a param filter and an order-by over a seeded experiment.</summary>
    private static async Task<Row[]> SearchRunsAsync(Context context, CancellationToken cancellationToken)
    {
        var (options, client, api) = (context.Options, context.Client, context.Api);
        var experimentId = await SeedSearchAsync(client, api, options, cancellationToken);
        var body = Payloads.SearchRuns(experimentId);
        await CheckSearchAsync(client, api, body, cancellationToken);
        var operation = new Func<int, Func<CancellationToken, Task<long>>>(_ => async ct =>
        {
            await client.PostAndDiscardAsync(api.SearchRuns, body, ct);
            return 1;
        });
        var title = $"4. POST runs/search (metric filter, param filter, order-by, 100 of {options.SearchRuns:N0} runs)";
        var target = $"< {SearchP50TargetMs} ms p50";
        var rows = new List<Row>();
        var serial = await MeasureAsync(options, "runs/search", 1, operation, cancellationToken);
        if (context.Server.Backend == BenchBackend.Postgres)
        {
            // Right after a bulk load PostgreSQL plans with stale statistics; autovacuum catches up within a minute or so.
            rows.Add(new Row("4. (same, right after seeding: stale planner statistics)", "info", serial, LatencyText(serial), null, context.HealthSerial));
            Log("VACUUM ANALYZE on the benchmark database (autovacuum's steady state)...");
            await context.Server.VacuumAnalyzeAsync(cancellationToken);
            serial = await MeasureAsync(options, "runs/search after VACUUM ANALYZE", 1, operation, cancellationToken);
            title += ", after VACUUM ANALYZE";
        }

        rows.Insert(0, new Row(title, target, serial, LatencyText(serial), serial.Errors == 0 && serial.P50Ms < SearchP50TargetMs, context.HealthSerial));
        var loaded = await MeasureAsync(options, "runs/search", options.Concurrency, operation, cancellationToken);
        rows.Add(new Row("4. (same, under load)", "info", loaded, LatencyText(loaded), null, context.HealthLoaded));
        return [.. rows];
    }

    private static string LatencyText(LoadResult result) =>
        $"p50 {Ms(result.P50Ms)}, p95 {Ms(result.P95Ms)} ({Rate(result.OperationsPerSecond)} req/s)";

    private static async Task SmokeTestAsync(BenchClient client, Api api, CancellationToken cancellationToken)
    {
        var health = Encoding.UTF8.GetString(await client.GetAsync(api.Health, cancellationToken));
        if (!health.Contains("OK", StringComparison.Ordinal))
        {
            throw new BenchRequestException($"GET /health answered '{health}'.");
        }

        var experimentId = await api.CreateExperimentAsync("bench-smoke", cancellationToken);
        await api.CreateRunAsync(experimentId, "smoke", cancellationToken);
        Log("smoke test passed: /health is OK and runs/create answers 200");
    }

    private static async Task<long> HealthAsync(BenchClient client, Api api, CancellationToken cancellationToken)
    {
        await client.GetAndDiscardAsync(api.Health, cancellationToken);
        return 1;
    }

    private static async Task<string> SeedHistoryAsync(BenchClient client, Api api, CancellationToken cancellationToken)
    {
        var experimentId = await api.CreateExperimentAsync("bench-history", cancellationToken);
        var runId = await api.CreateRunAsync(experimentId, "history", cancellationToken);
        for (var first = 0; first < HistoryPoints; first += 1_000)
        {
            await client.PostAsync(api.LogBatch, Payloads.MetricHistoryBatch(runId, "loss", first, Math.Min(1_000, HistoryPoints - first)), cancellationToken);
        }

        var body = await client.GetAsync(client.Endpoint($"/api/2.0/mlflow/metrics/get-history?run_id={runId}&metric_key=loss"), cancellationToken);
        using var document = JsonDocument.Parse(body);
        var points = document.RootElement.TryGetProperty("metrics", out var metrics) ? metrics.GetArrayLength() : 0;
        Log($"seeded a {HistoryPoints}-point metric; get-history returns {points} points, {body.Length:N0} bytes");
        if (points != HistoryPoints)
        {
            throw new BenchRequestException($"get-history returned {points} points, expected {HistoryPoints}.");
        }

        return runId;
    }

    private static Task<string> SeedSearchAsync(BenchClient client, Api api, HttpBenchOptions options, CancellationToken cancellationToken) =>
        SeedRunsAsync(client, api, "bench-search", options.SearchRuns, Math.Max(options.Concurrency, 8), cancellationToken);

    /// <summary>Creates an experiment and <paramref name="count"/> runs in it (3 params, 3 metrics, 2 tags each, see <see cref="Payloads.SearchRunBatch"/>) from concurrent workers.</summary>
    private static async Task<string> SeedRunsAsync(BenchClient client, Api api, string experimentName, int count, int workerCount, CancellationToken cancellationToken)
    {
        var experimentId = await api.CreateExperimentAsync(experimentName, cancellationToken);
        var next = -1;
        var started = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, workerCount).Select(_ => Task.Run(async () =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < count)
            {
                var runId = await api.CreateRunAsync(experimentId, $"search-{index:D6}", cancellationToken);
                await client.PostAsync(api.LogBatch, Payloads.SearchRunBatch(runId, index), cancellationToken);
            }
        }, cancellationToken));
        await Task.WhenAll(workers);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        Log($"seeded {count:N0} runs into {experimentName} (3 params, 3 metrics, 3 tags each, with mlflow.user) in {seconds:F1} s ({count / seconds:F0} runs/s)");
        return experimentId;
    }

    /// <summary>Issue #3's UI targets: the server-rendered experiment page (first 50 of 100,000 runs) and a run page with 20 metrics of 10,000 steps, each read to the end with 1 worker.</summary>
    private static async Task<Row[]> UiPagesAsync(Context context, CancellationToken cancellationToken)
    {
        var (options, client, api) = (context.Options, context.Client, context.Api);
        var workerCount = Math.Max(options.Concurrency, 8);
        var experimentId = await SeedRunsAsync(client, api, "bench-ui-runs", options.UiRuns, workerCount, cancellationToken);
        var runId = await SeedUiRunAsync(client, api, workerCount, cancellationToken);
        var experimentUri = client.Endpoint($"/experiments/{Uri.EscapeDataString(experimentId)}");
        var runUri = client.Endpoint($"/runs/{Uri.EscapeDataString(runId)}");
        var rows = new List<Row>();
        if (context.Server.Backend == BenchBackend.Postgres)
        {
            // Right after a bulk load PostgreSQL plans with stale statistics; time one request, then reach autovacuum's steady state.
            var started = Stopwatch.GetTimestamp();
            string outcome;
            try
            {
                outcome = $"{await client.GetAndDiscardAsync(experimentUri, cancellationToken):N0} bytes";
            }
            catch (Exception e) when (e is BenchRequestException or HttpRequestException or TaskCanceledException)
            {
                outcome = "error: " + e.Message;
            }

            Log($"GET /experiments/{{id}} right after seeding (stale planner statistics): {Stopwatch.GetElapsedTime(started).TotalMilliseconds:N0} ms, {outcome}");
            Log("VACUUM ANALYZE on the benchmark database (autovacuum's steady state)...");
            await context.Server.VacuumAnalyzeAsync(cancellationToken);
        }

        await CheckUiPagesAsync(client, experimentUri, runUri, cancellationToken);

        foreach (var (pageTitle, name, uri) in new[]
        {
            ($"5. GET /experiments/{{id}} (Blazor SSR, first page of {UiPageRuns} of {options.UiRuns:N0} runs)", "GET /experiments/{id}", experimentUri),
            ($"5. GET /runs/{{id}} (Blazor SSR, {UiRunMetrics} metrics × {UiRunSteps:N0} steps)", "GET /runs/{id}", runUri),
        })
        {
            var operation = new Func<int, Func<CancellationToken, Task<long>>>(_ => async ct =>
            {
                await client.GetAndDiscardAsync(uri, ct);
                return 1;
            });
            var title = context.Server.Backend == BenchBackend.Postgres ? pageTitle + ", after VACUUM ANALYZE" : pageTitle;
            var serial = await MeasureAsync(options, name, 1, operation, cancellationToken);
            rows.Add(new Row(title, $"< {UiPageTargetMs:N0} ms p95", serial, LatencyText(serial), serial.Errors == 0 && serial.P95Ms < UiPageTargetMs, context.HealthSerial));
        }

        return [.. rows];
    }

    /// <summary>One run with <see cref="UiRunMetrics"/> metrics of <see cref="UiRunSteps"/> steps each, logged 1,000 values per log-batch call from concurrent workers.</summary>
    private static async Task<string> SeedUiRunAsync(BenchClient client, Api api, int workerCount, CancellationToken cancellationToken)
    {
        var experimentId = await api.CreateExperimentAsync("bench-ui-run", cancellationToken);
        var runId = await api.CreateRunAsync(experimentId, "ui-run", cancellationToken);
        const int CallsPerMetric = UiRunSteps / 1_000;
        var next = -1;
        var started = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, workerCount).Select(_ => Task.Run(async () =>
        {
            int call;
            while ((call = Interlocked.Increment(ref next)) < UiRunMetrics * CallsPerMetric)
            {
                var key = $"metric_{call / CallsPerMetric:D2}";
                await client.PostAsync(api.LogBatch, Payloads.MetricHistoryBatch(runId, key, call % CallsPerMetric * 1_000, 1_000), cancellationToken);
            }
        }, cancellationToken));
        await Task.WhenAll(workers);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        Log($"seeded a run with {UiRunMetrics} metrics × {UiRunSteps:N0} steps ({UiRunMetrics * UiRunSteps:N0} values) in {seconds:F1} s");
        return runId;
    }

    private static async Task CheckUiPagesAsync(BenchClient client, Uri experimentUri, Uri runUri, CancellationToken cancellationToken)
    {
        var experimentPage = Encoding.UTF8.GetString(await client.GetAsync(experimentUri, cancellationToken));
        var rows = CountOf(experimentPage, "<a href=\"/runs/");
        var hasNext = experimentPage.Contains("Next page", StringComparison.Ordinal);
        Log($"GET /experiments/{{id}} returns {experimentPage.Length:N0} chars, {rows} run links, next-page link: {hasNext}");
        if (rows != UiPageRuns || !hasNext)
        {
            throw new BenchRequestException($"The experiment page shows {rows} runs (expected {UiPageRuns}) and next-page link {hasNext}.");
        }

        var runPage = Encoding.UTF8.GetString(await client.GetAsync(runUri, cancellationToken));
        var charts = CountOf(runPage, " points)</span>");
        Log($"GET /runs/{{id}} returns {runPage.Length:N0} chars, {charts} metric charts");
        if (charts != UiRunMetrics)
        {
            throw new BenchRequestException($"The run page shows {charts} metric charts, expected {UiRunMetrics}.");
        }
    }

    private static int CountOf(string text, string value)
    {
        var count = 0;
        for (var at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static async Task CheckSearchAsync(BenchClient client, Api api, byte[] searchBody, CancellationToken cancellationToken)
    {
        var body = await client.PostAsync(api.SearchRuns, searchBody, cancellationToken);
        using var document = JsonDocument.Parse(body);
        var runs = document.RootElement.TryGetProperty("runs", out var array) ? array.EnumerateArray().ToList() : [];
        double? firstAccuracy = null;
        string? firstSolver = null;
        if (runs.Count > 0)
        {
            var data = runs[0].GetProperty("data");
            firstAccuracy = data.GetProperty("metrics").EnumerateArray().First(static m => m.GetProperty("key").GetString() == "accuracy").GetProperty("value").GetDouble();
            firstSolver = data.GetProperty("params").EnumerateArray().First(static p => p.GetProperty("key").GetString() == "solver").GetProperty("value").GetString();
        }

        Log($"runs/search returns {runs.Count} runs, {body.Length:N0} bytes; first: accuracy {firstAccuracy}, solver {firstSolver}");
        if (runs.Count == 0 || firstAccuracy <= 0.5 || firstSolver != "lbfgs")
        {
            throw new BenchRequestException("runs/search did not return the expected runs.");
        }
    }

    private static async Task<LoadResult> MeasureAsync(
        HttpBenchOptions options,
        string name,
        int concurrency,
        Func<int, Func<CancellationToken, Task<long>>> createWorker,
        CancellationToken cancellationToken)
    {
        Log($"measuring {name} with {concurrency} worker(s): {options.WarmUp.TotalSeconds:0.#} s warm-up, {options.Duration.TotalSeconds:0.#} s measured...");
        GC.Collect();
        var gcBefore = (Gen0: GC.CollectionCount(0), Gen1: GC.CollectionCount(1), Gen2: GC.CollectionCount(2), Pause: GC.GetTotalPauseDuration(), Allocated: GC.GetTotalAllocatedBytes());
        var cpu = CpuSampler.Start();
        var result = await LoadRunner.RunAsync(name, concurrency, options.WarmUp, options.Duration, createWorker, cancellationToken);
        var (processCores, otherCores) = cpu.Stop();
        result = result with { ProcessCores = processCores, OtherCores = otherCores };
        Log($"  {result.Operations:N0} ops, {Rate(result.OperationsPerSecond)} ops/s, {Rate(result.UnitsPerSecond)} units/s, p50 {Ms(result.P50Ms)}, p95 {Ms(result.P95Ms)}, p99 {Ms(result.P99Ms)}, errors {result.Errors}");
        Log($"  CPU (warm-up included): this process {processCores:F2} cores, other processes {otherCores?.ToString("F2", s_culture) ?? "?"} of {Environment.ProcessorCount}; " +
            $"GCs gen0/1/2 {GC.CollectionCount(0) - gcBefore.Gen0}/{GC.CollectionCount(1) - gcBefore.Gen1}/{GC.CollectionCount(2) - gcBefore.Gen2}, " +
            $"GC pause {(GC.GetTotalPauseDuration() - gcBefore.Pause).TotalMilliseconds:N0} ms, allocated {(GC.GetTotalAllocatedBytes() - gcBefore.Allocated) / 1048576.0:N0} MB");
        if (result.FirstError is not null)
        {
            Log($"  first error: {result.FirstError}");
        }

        return result;
    }

    private static void PrintEnvironment(HttpBenchOptions options)
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(static l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        Log($"machine: {Environment.ProcessorCount} logical CPUs, {cpu ?? RuntimeInformation.ProcessArchitecture.ToString()}, {RuntimeInformation.OSDescription}");
        Log($"runtime: {RuntimeInformation.FrameworkDescription}, {(GCSettings.IsServerGC ? "server" : "workstation")} GC, {(IsDebugBuild() ? "DEBUG build (use -c Release)" : "Release build")}");
        Log($"options: backend {options.Backend}, concurrency {options.Concurrency}, warm-up {options.WarmUp.TotalSeconds:0.#} s, duration {options.Duration.TotalSeconds:0.#} s, search runs {options.SearchRuns:N0}, UI runs {options.UiRuns:N0}");
    }

    private static bool IsDebugBuild() =>
        typeof(HttpBench).Assembly.GetCustomAttributes(typeof(DebuggableAttribute), false).OfType<DebuggableAttribute>().Any(static d => d.IsJITOptimizerDisabled);

    private static void PrintTable(HttpBenchOptions options, BenchServer server, List<Row> rows, LoadResult healthSerial, LoadResult healthLoaded)
    {
        var output = new StringBuilder();
        output.AppendLine();
        output.AppendLine(s_culture, $"### {server.BackendDescription}");
        output.AppendLine();
        output.AppendLine(s_culture, $"Concurrency {options.Concurrency} (latency targets at 1 worker), {options.WarmUp.TotalSeconds:0.#} s warm-up, {options.Duration.TotalSeconds:0.#} s measured per row.");
        output.AppendLine();
        output.AppendLine("| Scenario | Workers | Target | Measured | Result | Baseline `GET /health`, same client and workers | CPU: bench process / other processes |");
        output.AppendLine("|---|---:|---|---|---|---|---|");
        foreach (var row in rows)
        {
            var result = row.Pass switch
            {
                true => "**pass**",
                false => "**FAIL**",
                null => "–",
            };
            if (row.Result.Errors > 0)
            {
                result += $" ({row.Result.Errors} errors)";
            }

            output.AppendLine(s_culture, $"| {row.Scenario} | {row.Result.Concurrency} | {row.Target} | {row.Measured} | {result} | {Rate(row.Baseline.OperationsPerSecond)} req/s; p50 {Ms(row.Baseline.P50Ms)}, p95 {Ms(row.Baseline.P95Ms)} | {Cores(row.Result)} |");
        }

        output.AppendLine();
        output.AppendLine(s_culture, $"HTTP floor: `GET /health` {Rate(healthLoaded.OperationsPerSecond)} req/s at {healthLoaded.Concurrency} workers (p50 {Ms(healthLoaded.P50Ms)}), {Rate(healthSerial.OperationsPerSecond)} req/s at 1 worker (p50 {Ms(healthSerial.P50Ms)}).");
        Console.Out.Write(output.ToString());
        Console.Out.Flush();
    }

    private static string Cores(LoadResult result) =>
        $"{result.ProcessCores.ToString("F2", s_culture)} / {result.OtherCores?.ToString("F2", s_culture) ?? "?"} of {Environment.ProcessorCount}";

    private static string Rate(double value) => value.ToString(value >= 100 ? "N0" : "N1", s_culture);

    private static string Ms(double value) => value.ToString(value >= 100 ? "N0" : value >= 10 ? "N1" : "N2", s_culture) + " ms";

    private static void Log(string message) =>
        Console.Error.WriteLine($"[{DateTime.Now.ToString("HH:mm:ss", s_culture)}] {message}");

    private sealed record Context(HttpBenchOptions Options, BenchServer Server, BenchClient Client, Api Api, LoadResult HealthSerial, LoadResult HealthLoaded);

    private sealed record Row(string Scenario, string Target, LoadResult Result, string Measured, bool? Pass, LoadResult Baseline);

    /// <summary>The endpoints, resolved once.</summary>
    private sealed class Api(BenchClient client)
    {
        public Uri Health { get; } = client.Endpoint("/health");

        public Uri CreateExperiment { get; } = client.Endpoint("/api/2.0/mlflow/experiments/create");

        public Uri CreateRun { get; } = client.Endpoint("/api/2.0/mlflow/runs/create");

        public Uri LogBatch { get; } = client.Endpoint("/api/2.0/mlflow/runs/log-batch");

        public Uri SearchRuns { get; } = client.Endpoint("/api/2.0/mlflow/runs/search");

        public async Task<string> CreateExperimentAsync(string name, CancellationToken cancellationToken)
        {
            var body = await client.PostAsync(CreateExperiment, Payloads.CreateExperiment($"{name}-{Guid.NewGuid():N}"), cancellationToken);
            return BenchClient.FindString(body, "experiment_id"u8);
        }

        public async Task<string> CreateRunAsync(string experimentId, string runName, CancellationToken cancellationToken)
        {
            var body = await client.PostAsync(CreateRun, Payloads.CreateRun(experimentId, runName), cancellationToken);
            return BenchClient.FindString(body, "run_id"u8);
        }
    }
}
