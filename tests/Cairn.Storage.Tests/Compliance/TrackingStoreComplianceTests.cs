using Cairn.Core.Registry;
using Cairn.Core.Tracking;
using Cairn.Core.Tracking.Search;

namespace Cairn.Storage.Tests.Compliance;

/// <summary>The behaviour every tracking storage backend must show; subclassed once per database.</summary>
/// <remarks>Tests of a class share one database, so each test creates its own experiments and never assumes an empty store.</remarks>
public abstract partial class TrackingStoreComplianceTests
{
    protected TrackingStoreComplianceTests(StorageFixture fixture) => Fixture = fixture;

    protected StorageFixture Fixture { get; }

    protected IExperimentStore Experiments => Fixture.Storage.Experiments;

    protected IRunStore Runs => Fixture.Storage.Runs;

    protected ILoggedModelStore LoggedModels => Fixture.Storage.LoggedModels;

    protected IModelRegistryStore Registry => Fixture.Storage.Registry;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected long NowMs => Fixture.Time.GetUtcNow().ToUnixTimeMilliseconds();

    protected static string UniqueName(string prefix = "exp") => $"{prefix}-{Guid.NewGuid():N}";

    protected Task<string> NewExperimentAsync(string? name = null, IReadOnlyList<KeyValue>? tags = null) =>
        Experiments.CreateExperimentAsync(name ?? UniqueName(), null, tags ?? [], Ct);

    protected Task<Run> NewRunAsync(string experimentId, string? name = null, long startTime = 1000, IReadOnlyList<KeyValue>? tags = null, string user = "alice") =>
        Runs.CreateRunAsync(new NewRun(experimentId, name, user, startTime, tags ?? []), Ct);

    protected static async Task<TrackingException> AssertTrackingErrorAsync(TrackingErrorCode code, Func<Task> action)
    {
        var e = await Assert.ThrowsAsync<TrackingException>(action);
        Assert.Equal(code, e.Code);
        return e;
    }

    protected static Metric M(string key, double value, long step = 0, long timestamp = 100) => new(key, value, timestamp, step);

    protected static KeyValue Kv(string key, string value) => new(key, value);

    protected static SearchFilter Filter(params Comparison[] clauses) => new(clauses);

    protected static Comparison Num(EntityKind kind, string key, ComparisonOperator op, double value) => new(kind, key, op) { Number = value };

    protected static Comparison Text(EntityKind kind, string key, ComparisonOperator op, string value) => new(kind, key, op) { Text = value };

    protected static Comparison List(EntityKind kind, string key, ComparisonOperator op, params string[] values) => new(kind, key, op) { List = values };

    protected Task<Page<Run>> SearchAsync(
        string experimentId, SearchFilter? filter = null, IReadOnlyList<OrderBy>? orderBy = null, ViewType viewType = ViewType.ActiveOnly, int maxResults = 1000, string? pageToken = null) =>
        Runs.SearchRunsAsync(new RunQuery([experimentId], filter ?? SearchFilter.Empty, orderBy ?? [], viewType, maxResults, pageToken), Ct);
}
