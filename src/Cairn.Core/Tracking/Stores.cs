using Cairn.Core.Tracking.Search;

namespace Cairn.Core.Tracking;

/// <summary>Arguments of an experiment search.</summary>
public sealed record ExperimentQuery(SearchFilter Filter, IReadOnlyList<OrderBy> OrderBy, ViewType ViewType, int MaxResults, string? PageToken);

/// <summary>Arguments of a run search.</summary>
public sealed record RunQuery(IReadOnlyList<string> ExperimentIds, SearchFilter Filter, IReadOnlyList<OrderBy> OrderBy, ViewType ViewType, int MaxResults, string? PageToken);

/// <summary>Arguments of a logged-model search.</summary>
public sealed record LoggedModelQuery(IReadOnlyList<string> ExperimentIds, int MaxResults, string? PageToken)
{
    /// <summary>The conditions the models must meet (attributes, tags, params and metrics); empty matches all.</summary>
    public SearchFilter Filter { get; init; } = SearchFilter.Empty;
}

/// <summary>Fields of a new run.</summary>
public sealed record NewRun(string ExperimentId, string? RunName, string UserId, long StartTime, IReadOnlyList<KeyValue> Tags);

/// <summary>Fields of a new logged model.</summary>
public sealed record NewLoggedModel(string ExperimentId, string? Name, string? SourceRunId, string ModelType, IReadOnlyList<KeyValue> Params, IReadOnlyList<KeyValue> Tags);

/// <summary>Stores experiments of one workspace.</summary>
/// <remarks>Implementations are thread-safe and every method is one transaction.</remarks>
public interface IExperimentStore
{
    Task<string> CreateExperimentAsync(string name, string? artifactLocation, IReadOnlyList<KeyValue> tags, CancellationToken cancellationToken);
    Task<Experiment> GetExperimentAsync(string experimentId, CancellationToken cancellationToken);
    Task<Experiment?> GetExperimentByNameAsync(string name, CancellationToken cancellationToken);
    Task<Page<Experiment>> SearchExperimentsAsync(ExperimentQuery query, CancellationToken cancellationToken);
    Task RenameExperimentAsync(string experimentId, string newName, CancellationToken cancellationToken);
    Task DeleteExperimentAsync(string experimentId, CancellationToken cancellationToken);
    Task RestoreExperimentAsync(string experimentId, CancellationToken cancellationToken);
    Task SetExperimentTagAsync(string experimentId, KeyValue tag, CancellationToken cancellationToken);
    Task DeleteExperimentTagAsync(string experimentId, string key, CancellationToken cancellationToken);
}

/// <summary>Stores runs and what they log.</summary>
/// <remarks>Implementations are thread-safe; <see cref="LogBatchAsync"/> is atomic: on failure nothing is written.</remarks>
public interface IRunStore
{
    Task<Run> CreateRunAsync(NewRun run, CancellationToken cancellationToken);
    Task<Run> GetRunAsync(string runId, CancellationToken cancellationToken);
    Task<RunInfo> UpdateRunAsync(string runId, string? status, long? endTime, string? runName, CancellationToken cancellationToken);
    Task DeleteRunAsync(string runId, CancellationToken cancellationToken);
    Task RestoreRunAsync(string runId, CancellationToken cancellationToken);
    Task<Page<Run>> SearchRunsAsync(RunQuery query, CancellationToken cancellationToken);

    /// <summary>Logs metrics, params and tags at once; validates everything first and writes all or nothing.</summary>
    Task LogBatchAsync(string runId, IReadOnlyList<Metric> metrics, IReadOnlyList<KeyValue> parameters, IReadOnlyList<KeyValue> tags, CancellationToken cancellationToken);
    Task DeleteTagAsync(string runId, string key, CancellationToken cancellationToken);
    Task LogInputsAsync(string runId, IReadOnlyList<DatasetInput> datasets, IReadOnlyList<ModelReference> models, CancellationToken cancellationToken);
    Task LogOutputsAsync(string runId, IReadOnlyList<ModelReference> models, CancellationToken cancellationToken);

    /// <summary>Every value of one metric of a run, ordered by step then timestamp, paged.</summary>
    Task<Page<Metric>> GetMetricHistoryAsync(string runId, string key, int maxResults, string? pageToken, CancellationToken cancellationToken);

    /// <summary>Values of one metric across runs with steps in [startStep, endStep], at most <paramref name="maxResults"/> per run, sampled evenly over the step range.</summary>
    Task<IReadOnlyList<Metric>> GetMetricHistoryBulkIntervalAsync(IReadOnlyList<string> runIds, string key, long? startStep, long? endStep, int maxResults, CancellationToken cancellationToken);
}

/// <summary>Stores MLflow 3 logged models.</summary>
public interface ILoggedModelStore
{
    Task<LoggedModel> CreateLoggedModelAsync(NewLoggedModel model, CancellationToken cancellationToken);
    Task<LoggedModel> GetLoggedModelAsync(string modelId, CancellationToken cancellationToken);
    Task<LoggedModel> FinalizeLoggedModelAsync(string modelId, string status, CancellationToken cancellationToken);
    Task DeleteLoggedModelAsync(string modelId, CancellationToken cancellationToken);
    Task SetLoggedModelTagsAsync(string modelId, IReadOnlyList<KeyValue> tags, CancellationToken cancellationToken);
    Task DeleteLoggedModelTagAsync(string modelId, string key, CancellationToken cancellationToken);

    /// <summary>Adds params to a logged model; a param already set keeps its value unless the new one is equal.</summary>
    Task LogLoggedModelParamsAsync(string modelId, IReadOnlyList<KeyValue> parameters, CancellationToken cancellationToken);
    Task<Page<LoggedModel>> SearchLoggedModelsAsync(LoggedModelQuery query, CancellationToken cancellationToken);
}
