using BenchmarkDotNet.Attributes;
using Cairn.Core.Gateway;
using Cairn.Storage;

namespace Cairn.Bench.Micro;

/// <summary>
/// The cost of the gateway's request log on SQLite, per record, by batch size: the background writer stores whatever has
/// queued up in one transaction, so at low traffic each record is its own transaction and at high traffic batches grow.
/// </summary>
/// <remarks>The records look like the gateway benchmark's (a 200-byte request, a 600-byte answer, one attempt, usage and cost).</remarks>
[MemoryDiagnoser]
public class RequestLogAppendBenchmarks
{
    private const string RequestBody =
        """{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":32,"temperature":0}""";

    private string _folder = "";
    private TrackingStorage? _storage;
    private RequestLogRecord[] _batch = [];

    [Params(1, 16, 256)]
    public int BatchSize { get; set; }

    [Params(true, false)]
    public bool StoreBodies { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _folder = Directory.CreateTempSubdirectory("cairn-bench-requestlog-").FullName;
        _storage = CairnStorage.OpenAsync(
            new StorageOptions { BackendStoreUri = "sqlite:///" + Path.Combine(_folder, "cairn.db") }, TimeProvider.System, CancellationToken.None).GetAwaiter().GetResult();
        _batch = new RequestLogRecord[BatchSize];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _storage?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark]
    public Task AppendBatchAsync()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var i = 0; i < _batch.Length; i++)
        {
            _batch[i] = new RequestLogRecord
            {
                Id = "req_" + Guid.CreateVersion7().ToString("N"),
                Timestamp = now,
                Endpoint = "chat.completions",
                RequestedModel = "gpt-4o-mini",
                ServedModel = "gpt-4o-mini-2024-07-18",
                Provider = "fake",
                Attempts = [new UpstreamAttempt("fake", "gpt-4o-mini", 200, null, 0.12)],
                Outcome = RequestOutcome.Success,
                Status = 200,
                LatencyMs = 0.2,
                Usage = new TokenUsage(24, 9),
                CostUsd = 0.0000090m,
                RequestBody = StoreBodies ? RequestBody : null,
                ResponseBody = StoreBodies ? System.Text.Encoding.UTF8.GetString(Gateway.GatewayPayloads.Completion) : null,
            };
        }

        return _storage!.RequestLogs.AppendAsync(_batch, CancellationToken.None);
    }
}
