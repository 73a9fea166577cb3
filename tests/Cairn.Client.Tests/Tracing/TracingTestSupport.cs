using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Cairn.Client.Tracing;

namespace Cairn.Client.Tests.Tracing;

/// <summary>Tracing tests listen to the process-wide <see cref="CairnTracing.SourceName"/> source, so they run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class TracingCollection
{
    public const string Name = "Tracing";
}

/// <summary>Records the activities of the given sources that stop while it is alive.</summary>
internal sealed class ActivityCollector : IDisposable
{
    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<Activity> _stopped = new();

    public ActivityCollector(params string[] sourceNames)
    {
        var names = sourceNames.Length == 0 ? [CairnTracing.SourceName] : sourceNames;
        _listener = new ActivityListener
        {
            ShouldListenTo = source => names.Contains(source.Name),
            Sample = static (ref _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public IReadOnlyList<Activity> Stopped => [.. _stopped];

    public Activity Single(string name) => Assert.Single(Stopped, a => a.DisplayName == name);

    public void Dispose() => _listener.Dispose();
}

internal sealed record RetrievedDocument(string Id, double Score);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(List<RetrievedDocument>))]
internal sealed partial class TracingTestJsonContext : JsonSerializerContext;
