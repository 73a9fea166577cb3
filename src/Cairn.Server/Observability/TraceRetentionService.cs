using Cairn.Core.Observability;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cairn.Server.Observability;

/// <summary>
/// Deletes traces older than their project's retention period (<c>Cairn:Traces:RetentionDays</c>, or
/// <c>Cairn:Traces:Projects:&lt;name&gt;:RetentionDays</c>), once at start and then every
/// <c>RetentionIntervalMinutes</c>.
/// </summary>
internal sealed partial class TraceRetentionService(ITraceStore store, IOptionsMonitor<TracesOptions> options, TimeProvider time, ILogger<TraceRetentionService> logger)
    : BackgroundService
{
    /// <summary>Applies the retention periods once; returns the traces deleted.</summary>
    public async Task<long> RunOnceAsync(CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        long deleted = 0;
        foreach (var project in await store.GetProjectsAsync(cancellationToken).ConfigureAwait(false))
        {
            if (settings.RetentionFor(project) is not { } keep)
            {
                continue;
            }

            var cutoff = time.GetUtcNow() - keep;
            var before = (cutoff.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;
            var count = await store.DeleteTracesBeforeAsync(project, before, cancellationToken).ConfigureAwait(false);
            if (count > 0)
            {
                LogDeleted(logger, count, project, cutoff);
            }

            deleted += count;
        }

        return deleted;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogFailed(logger, e);
            }

            var interval = TimeSpan.FromMinutes(Math.Max(0.01, options.CurrentValue.RetentionIntervalMinutes));
            try
            {
                await Task.Delay(interval, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    [LoggerMessage(EventId = 5100, Level = LogLevel.Information, Message = "Trace retention deleted {Count} traces of project '{Project}' that started before {Cutoff:u}")]
    private static partial void LogDeleted(ILogger logger, long count, string project, DateTimeOffset cutoff);

    [LoggerMessage(EventId = 5101, Level = LogLevel.Error, Message = "Trace retention failed; it runs again at the next interval")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
