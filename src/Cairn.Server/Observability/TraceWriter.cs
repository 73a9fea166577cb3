using System.Diagnostics.Metrics;
using Cairn.Core.Observability;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cairn.Server.Observability;

/// <summary>
/// Stores ingested spans in batches on a background thread. Ingest refuses a request whose spans would take the backlog
/// over <c>Traces:QueueCapacity</c> (the client gets 503 with <c>Retry-After</c> and retries), so nothing is dropped
/// silently. See <see cref="BatchWriter{T}"/>.
/// </summary>
internal sealed class TraceWriter(ITraceStore store, IOptions<TracesOptions> options, IMeterFactory meters, ILogger<TraceWriter> logger)
    : BatchWriter<SpanRecord>(
        "spans",
        meters.Create("Cairn.Server.Traces"),
        "cairn.traces.ingest",
        "{span}",
        options.Value.BatchSize,
        options.Value.QueueCapacity,
        TimeSpan.FromMilliseconds(options.Value.FlushIntervalMs),
        logger)
{
    protected override Task WriteAsync(List<SpanRecord> batch) => store.AppendAsync(batch, CancellationToken.None);
}
