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

        var rows = new List<Row>();
        var concurrency = options.Concurrency;

        // The HTTP floor: what the same client at the same concurrency gets from the cheapest endpoint.
        var healthLoaded = await MeasureAsync(options, "GET /health", concurrency, _ => ct => HealthAsync(client, api, ct), cancellationToken);
        var healthSerial = concurrency == 1
            ? healthLoaded
            : await MeasureAsync(options, "GET /health", 1, _ => ct => HealthAsync(client, api, ct), cancellationToken);

        // Reads first, on a database holding only their seed data.
        var historyRunId = await SeedHistoryAsync(client, api, cancellationToken);
        var historyUri = client.Endpoint($"/api/2.0/mlflow/metrics/get-history?run_id={historyRunId}&metric_key=loss");
        var historyOp = new Func<int, Func<CancellationToken, Task<long>>>(_ => async ct =>
        {
            await client.GetAsync(historyUri, ct);
            return 1;
        });
        var history1 = await MeasureAsync(options, "get-history", 1, historyOp, cancellationToken);
        rows.Add(new Row(
            $"3. GET metrics/get-history, {HistoryPoints:N0}-point metric",
            $"< {HistoryP50TargetMs} ms p50",
            history1,
            $"p50 {Ms(history1.P50Ms)}, p95 {Ms(history1.P95Ms)} ({Rate(history1.OperationsPerSecond)} req/s)",
            history1.Errors == 0 && history1.P50Ms < HistoryP50TargetMs,
            healthSerial));
        var historyN = await MeasureAsync(options, "get-history", concurrency, historyOp, cancellationToken);
        rows.Add(new Row(
            "3. (same, under load)",
            "info",
            historyN,
            $"p50 {Ms(historyN.P50Ms)}, p95 {Ms(historyN.P95Ms)} ({Rate(historyN.OperationsPerSecond)} req/s)",
            null,
            healthLoaded));

        var searchExperimentId = await SeedSearchAsync(client, api, options, cancellationToken);
        var searchBody = Payloads.SearchRuns(searchExperimentId);
        await CheckSearchAsync(client, api, searchBody, cancellationToken);
        var searchOp = new Func<int, Func<CancellationToken, Task<long>>>(_ => async ct =>
        {
            await client.PostAsync(api.SearchRuns, searchBody, ct);
            return 1;
        });
        var search1 = await MeasureAsync(options, "runs/search", 1, searchOp, cancellationToken);
        rows.Add(new Row(
            $"4. POST runs/search (metric filter, param filter, order-by, 100 of {options.SearchRuns:N0} runs)",
            $"< {SearchP50TargetMs} ms p50",
            search1,
            $"p50 {Ms(search1.P50Ms)}, p95 {Ms(search1.P95Ms)} ({Rate(search1.OperationsPerSecond)} req/s)",
            search1.Errors == 0 && search1.P50Ms < SearchP50TargetMs,
            healthSerial));
        var searchN = await MeasureAsync(options, "runs/search", concurrency, searchOp, cancellationToken);
        rows.Add(new Row(
            "4. (same, under load)",
            "info",
            searchN,
            $"p50 {Ms(searchN.P50Ms)}, p95 {Ms(searchN.P95Ms)} ({Rate(searchN.OperationsPerSecond)} req/s)",
            null,
            healthLoaded));

        // Writes.
        var trainingExperimentId = await api.CreateExperimentAsync("bench-create-and-log", cancellationToken);
        var createRunBody = Payloads.CreateRun(trainingExperimentId);
        var batchTemplate = Payloads.TrainingRunBatch();
        var createAndLog = await MeasureAsync(options, "runs/create + runs/log-batch", concurrency, _ => async ct =>
        {
            var created = await client.PostAsync(api.CreateRun, createRunBody, ct);
            var runId = BenchClient.FindString(created, "run_id"u8);
            await client.PostAsync(api.LogBatch, batchTemplate.For(runId), ct);
            return 1;
        }, cancellationToken);
        rows.Add(new Row(
            "1. POST runs/create + runs/log-batch (5 params, 20 metrics, 3 tags)",
            $"≥ {RunsPerSecondTarget:N0} runs/s",
            createAndLog,
            $"{Rate(createAndLog.UnitsPerSecond)} runs/s ({Rate(createAndLog.UnitsPerSecond * 2)} req/s); p50 {Ms(createAndLog.P50Ms)}, p95 {Ms(createAndLog.P95Ms)} per run",
            createAndLog.Errors == 0 && createAndLog.UnitsPerSecond >= RunsPerSecondTarget,
            healthLoaded));

        var ingestExperimentId = await api.CreateExperimentAsync("bench-metric-ingest", cancellationToken);
        var ingest = await MeasureAsync(options, "runs/log-batch ×1000 metrics", concurrency, worker =>
        {
            var writer = new Payloads.MetricBatchWriter();
            string? runId = null;
            return async ct =>
            {
                runId ??= await api.CreateRunAsync(ingestExperimentId, $"ingest-{worker}", ct);
                await client.PostAsync(api.LogBatch, writer.Next(runId), ct);
                return Payloads.MetricBatchWriter.MetricsPerCall;
            };
        }, cancellationToken);
        rows.Add(new Row(
            "2. POST runs/log-batch, 1,000 metric values per call",
            $"≥ {MetricValuesPerSecondTarget:N0} values/s",
            ingest,
            $"{Rate(ingest.UnitsPerSecond)} values/s ({Rate(ingest.OperationsPerSecond)} req/s); p50 {Ms(ingest.P50Ms)}, p95 {Ms(ingest.P95Ms)}",
            ingest.Errors == 0 && ingest.UnitsPerSecond >= MetricValuesPerSecondTarget,
            healthLoaded));

        PrintTable(options, server, [.. rows.OrderBy(static r => r.Scenario[..2], StringComparer.Ordinal)], healthSerial, healthLoaded);
        Log("stopping the server...");
    }

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
        await client.GetAsync(api.Health, cancellationToken);
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

    private static async Task<string> SeedSearchAsync(BenchClient client, Api api, HttpBenchOptions options, CancellationToken cancellationToken)
    {
        var experimentId = await api.CreateExperimentAsync("bench-search", cancellationToken);
        var next = -1;
        var started = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, Math.Max(options.Concurrency, 8)).Select(_ => Task.Run(async () =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < options.SearchRuns)
            {
                var runId = await api.CreateRunAsync(experimentId, $"search-{index:D5}", cancellationToken);
                await client.PostAsync(api.LogBatch, Payloads.SearchRunBatch(runId, index), cancellationToken);
            }
        }, cancellationToken));
        await Task.WhenAll(workers);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        Log($"seeded {options.SearchRuns:N0} runs (3 params, 3 metrics, 3 tags each, with mlflow.user) in {seconds:F1} s ({options.SearchRuns / seconds:F0} runs/s)");
        return experimentId;
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
        var result = await LoadRunner.RunAsync(name, concurrency, options.WarmUp, options.Duration, createWorker, cancellationToken);
        Log($"  {result.Operations:N0} ops, {Rate(result.OperationsPerSecond)} ops/s, {Rate(result.UnitsPerSecond)} units/s, p50 {Ms(result.P50Ms)}, p95 {Ms(result.P95Ms)}, p99 {Ms(result.P99Ms)}, errors {result.Errors}");
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
        Log($"options: backend {options.Backend}, concurrency {options.Concurrency}, warm-up {options.WarmUp.TotalSeconds:0.#} s, duration {options.Duration.TotalSeconds:0.#} s, search runs {options.SearchRuns:N0}");
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
        output.AppendLine("| Scenario | Workers | Target | Measured | Result | Baseline `GET /health`, same client and workers |");
        output.AppendLine("|---|---:|---|---|---|---|");
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

            output.AppendLine(s_culture, $"| {row.Scenario} | {row.Result.Concurrency} | {row.Target} | {row.Measured} | {result} | {Rate(row.Baseline.OperationsPerSecond)} req/s; p50 {Ms(row.Baseline.P50Ms)}, p95 {Ms(row.Baseline.P95Ms)} |");
        }

        output.AppendLine();
        output.AppendLine(s_culture, $"HTTP floor: `GET /health` {Rate(healthLoaded.OperationsPerSecond)} req/s at {healthLoaded.Concurrency} workers (p50 {Ms(healthLoaded.P50Ms)}), {Rate(healthSerial.OperationsPerSecond)} req/s at 1 worker (p50 {Ms(healthSerial.P50Ms)}).");
        Console.Out.Write(output.ToString());
        Console.Out.Flush();
    }

    private static string Rate(double value) => value.ToString(value >= 100 ? "N0" : "N1", s_culture);

    private static string Ms(double value) => value.ToString(value >= 100 ? "N0" : value >= 10 ? "N1" : "N2", s_culture) + " ms";

    private static void Log(string message) =>
        Console.Error.WriteLine($"[{DateTime.Now.ToString("HH:mm:ss", s_culture)}] {message}");

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
