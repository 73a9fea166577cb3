using BenchmarkDotNet.Attributes;
using Cairn.Bench.Traces;
using Cairn.Core.Observability;
using Cairn.Core.Observability.Otlp;
using Cairn.Storage;

namespace Cairn.Bench.Micro;

/// <summary>
/// The two halves of trace ingest, per batch: decoding and mapping an OTLP protobuf request of 200 GenAI spans (the
/// request path), and storing a writer batch of spans in SQLite with the trace roll-ups (the background writer).
/// </summary>
[MemoryDiagnoser]
public class TraceIngestBenchmarks
{
    private readonly OtlpDecodeOptions _options = new() { Project = "bench" };
    private string _folder = "";
    private TrackingStorage? _storage;
    private OtlpPayloads _payloads = new(200);
    private byte[] _request = [];

    [Params(200, 2000)]
    public int WriteBatch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _folder = Directory.CreateTempSubdirectory("cairn-bench-traces-").FullName;
        _storage = CairnStorage.OpenAsync(
            new StorageOptions { BackendStoreUri = "sqlite:///" + Path.Combine(_folder, "cairn.db") }, TimeProvider.System, CancellationToken.None).GetAwaiter().GetResult();
        _payloads = new OtlpPayloads(200);
        _request = _payloads.Next().Payload;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _storage?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>Decode and map one OTLP request of 200 spans.</summary>
    [Benchmark]
    public int Decode200() => OtlpTraceDecoder.DecodeProtobuf(_request, _options).Spans.Count;

    /// <summary>Store <see cref="WriteBatch"/> new spans (fresh ids) in one transaction.</summary>
    [Benchmark]
    public Task AppendAsync()
    {
        var spans = new List<SpanRecord>(WriteBatch);
        while (spans.Count < WriteBatch)
        {
            spans.AddRange(OtlpTraceDecoder.DecodeProtobuf(_payloads.Next().Payload, _options).Spans);
        }

        return _storage!.Traces.AppendAsync(spans, CancellationToken.None);
    }
}
