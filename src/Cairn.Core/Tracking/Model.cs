namespace Cairn.Core.Tracking;

/// <summary>MLflow lifecycle stages of experiments, runs and logged models.</summary>
public static class LifecycleStage
{
    /// <summary>The entity is live.</summary>
    public const string Active = "active";

    /// <summary>The entity is soft-deleted and can be restored.</summary>
    public const string Deleted = "deleted";
}

/// <summary>Which lifecycle stages a search includes (MLflow <c>ViewType</c>).</summary>
public enum ViewType
{
    /// <summary>Only active entities.</summary>
    ActiveOnly,

    /// <summary>Only deleted entities.</summary>
    DeletedOnly,

    /// <summary>Both.</summary>
    All,
}

/// <summary>MLflow run statuses.</summary>
public static class RunStatus
{
    public const string Running = "RUNNING";
    public const string Scheduled = "SCHEDULED";
    public const string Finished = "FINISHED";
    public const string Failed = "FAILED";
    public const string Killed = "KILLED";

    /// <summary>Whether <paramref name="status"/> is one of MLflow's run statuses.</summary>
    public static bool IsValid(string status) => status is Running or Scheduled or Finished or Failed or Killed;
}

/// <summary>A key and a string value: a parameter or a tag.</summary>
public sealed record KeyValue(string Key, string Value);

/// <summary>One metric value at a step and time.</summary>
public sealed record Metric(string Key, double Value, long Timestamp, long Step)
{
    /// <summary>The logged model the value belongs to, if any (MLflow 3).</summary>
    public string? ModelId { get; init; }

    /// <summary>The dataset the value was computed on, if any (MLflow 3).</summary>
    public string? DatasetName { get; init; }

    /// <summary>The digest of that dataset.</summary>
    public string? DatasetDigest { get; init; }

    /// <summary>The run that logged the value; set where metrics are read across runs (logged models).</summary>
    public string? RunId { get; init; }
}

/// <summary>A project (workspace): the tenant boundary every entity lives in.</summary>
public sealed record Workspace(string Id, string Name, long CreationTime);

/// <summary>An MLflow experiment.</summary>
public sealed record Experiment(
    string ExperimentId,
    string Name,
    string ArtifactLocation,
    string LifecycleStage,
    long CreationTime,
    long LastUpdateTime,
    IReadOnlyList<KeyValue> Tags);

/// <summary>The immutable-ish header of a run.</summary>
public sealed record RunInfo(
    string RunId,
    string ExperimentId,
    string RunName,
    string UserId,
    string Status,
    long StartTime,
    long? EndTime,
    string ArtifactUri,
    string LifecycleStage);

/// <summary>The logged data of a run: latest metric values, params and tags.</summary>
public sealed record RunData(IReadOnlyList<Metric> Metrics, IReadOnlyList<KeyValue> Params, IReadOnlyList<KeyValue> Tags);

/// <summary>A dataset description as MLflow logs it.</summary>
public sealed record Dataset(string Name, string Digest, string SourceType, string Source, string? Schema, string? Profile);

/// <summary>A dataset used by a run, with input tags such as <c>mlflow.data.context</c>.</summary>
public sealed record DatasetInput(Dataset Dataset, IReadOnlyList<KeyValue> Tags);

/// <summary>A logged model used or produced by a run at a step.</summary>
public sealed record ModelReference(string ModelId, long Step);

/// <summary>What a run consumed.</summary>
public sealed record RunInputs(IReadOnlyList<DatasetInput> DatasetInputs, IReadOnlyList<ModelReference> ModelInputs);

/// <summary>What a run produced.</summary>
public sealed record RunOutputs(IReadOnlyList<ModelReference> ModelOutputs);

/// <summary>A run with its data, inputs and outputs.</summary>
public sealed record Run(RunInfo Info, RunData Data, RunInputs Inputs, RunOutputs Outputs);

/// <summary>MLflow 3 logged model statuses.</summary>
public static class LoggedModelStatus
{
    public const string Unspecified = "LOGGED_MODEL_STATUS_UNSPECIFIED";
    public const string Pending = "LOGGED_MODEL_PENDING";
    public const string Ready = "LOGGED_MODEL_READY";
    public const string Failed = "LOGGED_MODEL_UPLOAD_FAILED";

    /// <summary>Whether <paramref name="status"/> is a known status.</summary>
    public static bool IsValid(string status) => status is Unspecified or Pending or Ready or Failed;
}

/// <summary>An MLflow 3 logged model.</summary>
public sealed record LoggedModel(
    string ModelId,
    string ExperimentId,
    string Name,
    string ArtifactUri,
    string Status,
    string? StatusMessage,
    string ModelType,
    string? SourceRunId,
    long CreationTimestampMs,
    long LastUpdatedTimestampMs,
    string LifecycleStage,
    IReadOnlyList<KeyValue> Tags,
    IReadOnlyList<KeyValue> Params,
    IReadOnlyList<Metric> Metrics);

/// <summary>A page of results and the token of the next page, if any.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextPageToken);
