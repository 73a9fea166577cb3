using System.Diagnostics.Metrics;
using Cairn.Core.Gateway;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cairn.Server.Gateway;

/// <summary>
/// Stores the gateway's request records in batches on a background thread: nothing on the request path waits for the
/// database, and no record is dropped (over <c>Log:QueueCapacity</c> records are still kept, with a warning and the
/// <c>cairn.gateway.log.overflowed</c> counter). See <see cref="BatchWriter{T}"/>.
/// </summary>
internal sealed class RequestLogWriter(IRequestLogStore store, IOptions<GatewayOptions> options, IMeterFactory meters, ILogger<RequestLogWriter> logger)
    : BatchWriter<RequestLogRecord>(
        "request log",
        meters.Create("Cairn.Server.Gateway"),
        "cairn.gateway.log",
        "{record}",
        options.Value.Log.BatchSize,
        options.Value.Log.QueueCapacity,
        TimeSpan.FromMilliseconds(options.Value.Log.FlushIntervalMs),
        logger)
{
    protected override Task WriteAsync(List<RequestLogRecord> batch) => store.AppendAsync(batch, CancellationToken.None);
}
