using Cairn.Core.Gateway;
using Cairn.Core.Observability;
using Cairn.Core.Registry;
using Cairn.Core.Tracking;
using Cairn.Storage.Relational;

namespace Cairn.Storage;

/// <summary>An open tracking database and the stores of its default workspace.</summary>
/// <remarks>Thread-safe; share one instance per process and dispose it at shutdown.</remarks>
public sealed class TrackingStorage : IAsyncDisposable
{
    private readonly RelationalTrackingStore _store;

    internal TrackingStorage(SqlDialect dialect, string artifactRoot, TimeProvider timeProvider)
    {
        Dialect = dialect;
        ArtifactRoot = artifactRoot;
        TimeProvider = timeProvider;
        _store = new RelationalTrackingStore(dialect, WorkspaceIds.Default, artifactRoot, timeProvider);
        var requestLogs = new RelationalRequestLogStore(dialect, WorkspaceIds.Default);
        RequestLogs = requestLogs;
        UsageReports = requestLogs;
        VirtualKeys = new RelationalVirtualKeyStore(dialect, WorkspaceIds.Default);
        GatewayConfig = new RelationalGatewayConfigStore(dialect, WorkspaceIds.Default);
        Traces = new RelationalTraceStore(dialect, WorkspaceIds.Default, timeProvider);
    }

    /// <summary>Spans, traces, sessions and scores of the default workspace.</summary>
    public ITraceStore Traces { get; }

    /// <summary>The gateway providers and routes managed through the REST API.</summary>
    public IGatewayConfigStore GatewayConfig { get; }

    /// <summary>The gateway's virtual keys of the default workspace.</summary>
    public IVirtualKeyStore VirtualKeys { get; }

    /// <summary>The gateway's request log of the default workspace.</summary>
    public IRequestLogStore RequestLogs { get; }

    /// <summary>Usage reports over the request log of the default workspace.</summary>
    public IUsageReportStore UsageReports { get; }

    /// <summary>The experiments of the default workspace.</summary>
    public IExperimentStore Experiments => _store;

    /// <summary>The runs of the default workspace.</summary>
    public IRunStore Runs => _store;

    /// <summary>The logged models of the default workspace.</summary>
    public ILoggedModelStore LoggedModels => _store;

    /// <summary>The model registry of the default workspace.</summary>
    public IModelRegistryStore Registry => _store;

    /// <summary>The database kind: <c>sqlite</c> or <c>postgresql</c>.</summary>
    public string BackendKind => Dialect.Kind;

    internal SqlDialect Dialect { get; }

    internal string ArtifactRoot { get; }

    internal TimeProvider TimeProvider { get; }

    /// <summary>Creates stores bound to another workspace of the same database.</summary>
    internal RelationalTrackingStore ForWorkspace(string workspaceId) => new(Dialect, workspaceId, ArtifactRoot, TimeProvider);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => Dialect.DisposeAsync();
}
