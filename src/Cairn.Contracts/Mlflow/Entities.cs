namespace Cairn.Contracts.Mlflow;

// MLflow's wire entities (mlflow/protos/service.proto, model_registry.proto). Property names become snake_case through
// MlflowJsonContext. Optional fields are null and omitted, as protobuf's JSON printer omits unset fields; repeated
// fields that are empty are null for the same reason.

/// <summary>A key/value pair: a param, a tag, an input tag or an alias.</summary>
public sealed class KeyValueDto
{
    public string? Key { get; set; }
    public string? Value { get; set; }
}

/// <summary>An experiment.</summary>
public sealed class ExperimentDto
{
    public string? ExperimentId { get; set; }
    public string? Name { get; set; }
    public string? ArtifactLocation { get; set; }
    public string? LifecycleStage { get; set; }
    public long? LastUpdateTime { get; set; }
    public long? CreationTime { get; set; }
    public List<KeyValueDto>? Tags { get; set; }
}

/// <summary>A metric value.</summary>
public sealed class MetricDto
{
    public string? Key { get; set; }
    public double? Value { get; set; }
    public long? Timestamp { get; set; }
    public long? Step { get; set; }
    public string? DatasetName { get; set; }
    public string? DatasetDigest { get; set; }
    public string? ModelId { get; set; }
    public string? RunId { get; set; }
}

/// <summary>A run's header.</summary>
public sealed class RunInfoDto
{
    public string? RunUuid { get; set; }
    public string? ExperimentId { get; set; }
    public string? RunName { get; set; }
    public string? UserId { get; set; }
    public string? Status { get; set; }
    public long? StartTime { get; set; }
    public long? EndTime { get; set; }
    public string? ArtifactUri { get; set; }
    public string? LifecycleStage { get; set; }
    public string? RunId { get; set; }
}

/// <summary>A run's metrics, params and tags.</summary>
public sealed class RunDataDto
{
    public List<MetricDto>? Metrics { get; set; }
    public List<KeyValueDto>? Params { get; set; }
    public List<KeyValueDto>? Tags { get; set; }
}

/// <summary>A dataset.</summary>
public sealed class DatasetDto
{
    public string? Name { get; set; }
    public string? Digest { get; set; }
    public string? SourceType { get; set; }
    public string? Source { get; set; }
    public string? Schema { get; set; }
    public string? Profile { get; set; }
}

/// <summary>A dataset used by a run.</summary>
public sealed class DatasetInputDto
{
    public List<KeyValueDto>? Tags { get; set; }
    public DatasetDto? Dataset { get; set; }
}

/// <summary>A logged model consumed or produced by a run.</summary>
public sealed class ModelIoDto
{
    public string? ModelId { get; set; }
    public long? Step { get; set; }
}

/// <summary>A run's inputs.</summary>
public sealed class RunInputsDto
{
    public List<DatasetInputDto>? DatasetInputs { get; set; }
    public List<ModelIoDto>? ModelInputs { get; set; }
}

/// <summary>A run's outputs.</summary>
public sealed class RunOutputsDto
{
    public List<ModelIoDto>? ModelOutputs { get; set; }
}

/// <summary>A run.</summary>
public sealed class RunDto
{
    public RunInfoDto? Info { get; set; }
    public RunDataDto? Data { get; set; }
    public RunInputsDto? Inputs { get; set; }
    public RunOutputsDto? Outputs { get; set; }
}

/// <summary>An MLflow 3 logged model's header.</summary>
public sealed class LoggedModelInfoDto
{
    public string? ModelId { get; set; }
    public string? ExperimentId { get; set; }
    public string? Name { get; set; }
    public long? CreationTimestampMs { get; set; }
    public long? LastUpdatedTimestampMs { get; set; }
    public string? ArtifactUri { get; set; }
    public string? Status { get; set; }
    public string? StatusMessage { get; set; }
    public string? ModelType { get; set; }
    public string? SourceRunId { get; set; }
    public List<KeyValueDto>? Tags { get; set; }
}

/// <summary>An MLflow 3 logged model's params and metrics.</summary>
public sealed class LoggedModelDataDto
{
    public List<KeyValueDto>? Params { get; set; }
    public List<MetricDto>? Metrics { get; set; }
}

/// <summary>An MLflow 3 logged model.</summary>
public sealed class LoggedModelDto
{
    public LoggedModelInfoDto? Info { get; set; }
    public LoggedModelDataDto? Data { get; set; }
}

/// <summary>A file or folder in an artifact listing.</summary>
public sealed class FileInfoDto
{
    public string? Path { get; set; }
    public bool? IsDir { get; set; }
    public long? FileSize { get; set; }
}

/// <summary>A registered model alias.</summary>
public sealed class AliasDto
{
    public string? Alias { get; set; }
    public string? Version { get; set; }
}

/// <summary>A registered model.</summary>
public sealed class RegisteredModelDto
{
    public string? Name { get; set; }
    public long? CreationTimestamp { get; set; }
    public long? LastUpdatedTimestamp { get; set; }
    public string? Description { get; set; }
    public List<ModelVersionDto>? LatestVersions { get; set; }
    public List<KeyValueDto>? Tags { get; set; }
    public List<AliasDto>? Aliases { get; set; }
}

/// <summary>A model version.</summary>
public sealed class ModelVersionDto
{
    public string? Name { get; set; }
    public string? Version { get; set; }
    public long? CreationTimestamp { get; set; }
    public long? LastUpdatedTimestamp { get; set; }
    public string? UserId { get; set; }
    public string? CurrentStage { get; set; }
    public string? Description { get; set; }
    public string? Source { get; set; }
    public string? RunId { get; set; }
    public string? Status { get; set; }
    public string? StatusMessage { get; set; }
    public List<KeyValueDto>? Tags { get; set; }
    public string? RunLink { get; set; }
    public List<string>? Aliases { get; set; }
    public string? ModelId { get; set; }
}

/// <summary>MLflow's error body.</summary>
public sealed class ErrorDto
{
    public string? ErrorCode { get; set; }
    public string? Message { get; set; }
}
