namespace Cairn.Contracts.Mlflow;

// Request and response bodies of MLflow's REST API, one class per message. Responses without fields are EmptyResponse.

public sealed class EmptyResponse;

public sealed class CreateExperimentRequest
{
    public string? Name { get; set; }
    public string? ArtifactLocation { get; set; }
    public List<KeyValueDto>? Tags { get; set; }
}

public sealed class CreateExperimentResponse
{
    public string? ExperimentId { get; set; }
}

public sealed class ExperimentIdRequest
{
    public string? ExperimentId { get; set; }
}

public sealed class GetExperimentResponse
{
    public ExperimentDto? Experiment { get; set; }
}

public sealed class SearchExperimentsRequest
{
    public long? MaxResults { get; set; }
    public string? PageToken { get; set; }
    public string? Filter { get; set; }
    public List<string>? OrderBy { get; set; }
    public string? ViewType { get; set; }
}

public sealed class SearchExperimentsResponse
{
    public List<ExperimentDto>? Experiments { get; set; }
    public string? NextPageToken { get; set; }
}

public sealed class UpdateExperimentRequest
{
    public string? ExperimentId { get; set; }
    public string? NewName { get; set; }
}

public sealed class ExperimentTagRequest
{
    public string? ExperimentId { get; set; }
    public string? Key { get; set; }
    public string? Value { get; set; }
}

public sealed class CreateRunRequest
{
    public string? ExperimentId { get; set; }
    public string? UserId { get; set; }
    public string? RunName { get; set; }
    public long? StartTime { get; set; }
    public List<KeyValueDto>? Tags { get; set; }
}

public sealed class RunResponse
{
    public RunDto? Run { get; set; }
}

public sealed class UpdateRunRequest
{
    public string? RunId { get; set; }
    public string? RunUuid { get; set; }
    public string? Status { get; set; }
    public long? EndTime { get; set; }
    public string? RunName { get; set; }
}

public sealed class UpdateRunResponse
{
    public RunInfoDto? RunInfo { get; set; }
}

public sealed class RunIdRequest
{
    public string? RunId { get; set; }
}

public sealed class SearchRunsRequest
{
    public List<string>? ExperimentIds { get; set; }
    public string? Filter { get; set; }
    public string? RunViewType { get; set; }
    public long? MaxResults { get; set; }
    public List<string>? OrderBy { get; set; }
    public string? PageToken { get; set; }
}

public sealed class SearchRunsResponse
{
    public List<RunDto>? Runs { get; set; }
    public string? NextPageToken { get; set; }
}

public sealed class LogMetricRequest
{
    public string? RunId { get; set; }
    public string? RunUuid { get; set; }
    public string? Key { get; set; }
    public double? Value { get; set; }
    public long? Timestamp { get; set; }
    public long? Step { get; set; }
    public string? ModelId { get; set; }
    public string? DatasetName { get; set; }
    public string? DatasetDigest { get; set; }
}

public sealed class RunKeyValueRequest
{
    public string? RunId { get; set; }
    public string? RunUuid { get; set; }
    public string? Key { get; set; }
    public string? Value { get; set; }
}

public sealed class LogBatchRequest
{
    public string? RunId { get; set; }
    public List<MetricDto>? Metrics { get; set; }
    public List<KeyValueDto>? Params { get; set; }
    public List<KeyValueDto>? Tags { get; set; }
}

public sealed class LogModelRequest
{
    public string? RunId { get; set; }
    public string? ModelJson { get; set; }
}

public sealed class LogInputsRequest
{
    public string? RunId { get; set; }
    public List<DatasetInputDto>? Datasets { get; set; }
    public List<ModelIoDto>? Models { get; set; }
}

public sealed class LogOutputsRequest
{
    public string? RunId { get; set; }
    public List<ModelIoDto>? Models { get; set; }
}

public sealed class MetricsResponse
{
    public List<MetricDto>? Metrics { get; set; }
    public string? NextPageToken { get; set; }
}

public sealed class CreateLoggedModelRequest
{
    public string? ExperimentId { get; set; }
    public string? Name { get; set; }
    public string? ModelType { get; set; }
    public string? SourceRunId { get; set; }
    public List<KeyValueDto>? Params { get; set; }
    public List<KeyValueDto>? Tags { get; set; }
}

public sealed class LoggedModelResponse
{
    public LoggedModelDto? Model { get; set; }
}

public sealed class FinalizeLoggedModelRequest
{
    public string? ModelId { get; set; }
    public string? Status { get; set; }
}

public sealed class SetLoggedModelTagsRequest
{
    public string? ModelId { get; set; }
    public List<KeyValueDto>? Tags { get; set; }
}

public sealed class SearchLoggedModelsRequest
{
    public List<string>? ExperimentIds { get; set; }
    public string? Filter { get; set; }
    public long? MaxResults { get; set; }
    public string? PageToken { get; set; }
}

public sealed class SearchLoggedModelsResponse
{
    public List<LoggedModelDto>? Models { get; set; }
    public string? NextPageToken { get; set; }
}

public sealed class ListArtifactsResponse
{
    public string? RootUri { get; set; }
    public List<FileInfoDto>? Files { get; set; }
    public string? NextPageToken { get; set; }
}

public sealed class CreateRegisteredModelRequest
{
    public string? Name { get; set; }
    public List<KeyValueDto>? Tags { get; set; }
    public string? Description { get; set; }
}

public sealed class RegisteredModelResponse
{
    public RegisteredModelDto? RegisteredModel { get; set; }
}

public sealed class CreateModelVersionRequest
{
    public string? Name { get; set; }
    public string? Source { get; set; }
    public string? RunId { get; set; }
    public List<KeyValueDto>? Tags { get; set; }
    public string? RunLink { get; set; }
    public string? Description { get; set; }
    public string? ModelId { get; set; }
}

public sealed class ModelVersionResponse
{
    public ModelVersionDto? ModelVersion { get; set; }
}

public sealed class GetDownloadUriResponse
{
    public string? ArtifactUri { get; set; }
}

public sealed class LogLoggedModelParamsRequest
{
    public string? ModelId { get; set; }
    public List<KeyValueDto>? Params { get; set; }
}

public sealed class RenameRegisteredModelRequest
{
    public string? Name { get; set; }
    public string? NewName { get; set; }
}

public sealed class RegisteredModelNameRequest
{
    public string? Name { get; set; }
    public string? Description { get; set; }
}

public sealed class SearchRegisteredModelsResponse
{
    public List<RegisteredModelDto>? RegisteredModels { get; set; }
    public string? NextPageToken { get; set; }
}

public sealed class GetLatestVersionsRequest
{
    public string? Name { get; set; }
    public List<string>? Stages { get; set; }
}

public sealed class ModelVersionsResponse
{
    public List<ModelVersionDto>? ModelVersions { get; set; }
    public string? NextPageToken { get; set; }
}

public sealed class RegistryTagRequest
{
    public string? Name { get; set; }
    public string? Version { get; set; }
    public string? Key { get; set; }
    public string? Value { get; set; }
}

public sealed class AliasRequest
{
    public string? Name { get; set; }
    public string? Alias { get; set; }
    public string? Version { get; set; }
}

public sealed class ModelVersionRequest
{
    public string? Name { get; set; }
    public string? Version { get; set; }
    public string? Description { get; set; }
    public string? Stage { get; set; }
    public bool? ArchiveExistingVersions { get; set; }
}
