using Cairn.Contracts.Mlflow;
using Cairn.Core.Registry;
using Cairn.Core.Tracking;

namespace Cairn.Server.Tracking;

/// <summary>Maps domain entities to MLflow's wire shapes, omitting empty repeated fields as protobuf's JSON printer does.</summary>
internal static class MlflowMapper
{
    public static List<KeyValueDto>? ToDto(IReadOnlyList<KeyValue> values)
    {
        if (values.Count == 0)
        {
            return null;
        }

        var list = new List<KeyValueDto>(values.Count);
        foreach (var kv in values)
        {
            list.Add(new KeyValueDto { Key = kv.Key, Value = kv.Value });
        }

        return list;
    }

    public static List<KeyValue> FromDto(List<KeyValueDto>? values, string what)
    {
        if (values is null || values.Count == 0)
        {
            return [];
        }

        var list = new List<KeyValue>(values.Count);
        foreach (var kv in values)
        {
            if (kv is null || string.IsNullOrEmpty(kv.Key))
            {
                throw TrackingException.Invalid($"Missing value for required parameter '{what}.key'. See the API docs for more information about request parameters.");
            }

            list.Add(new KeyValue(kv.Key, kv.Value ?? string.Empty));
        }

        return list;
    }

    public static ExperimentDto ToDto(Experiment e) => new()
    {
        ExperimentId = e.ExperimentId,
        Name = e.Name,
        ArtifactLocation = e.ArtifactLocation,
        LifecycleStage = e.LifecycleStage,
        LastUpdateTime = e.LastUpdateTime,
        CreationTime = e.CreationTime,
        Tags = ToDto(e.Tags),
    };

    public static MetricDto ToDto(Metric m, bool includeRunId = false) => new()
    {
        Key = m.Key,
        Value = m.Value,
        Timestamp = m.Timestamp,
        Step = m.Step,
        DatasetName = m.DatasetName,
        DatasetDigest = m.DatasetDigest,
        ModelId = m.ModelId,
        RunId = includeRunId ? m.RunId : null,
    };

    public static List<MetricDto>? ToDto(IReadOnlyList<Metric> metrics, bool includeRunId = false)
    {
        if (metrics.Count == 0)
        {
            return null;
        }

        var list = new List<MetricDto>(metrics.Count);
        foreach (var m in metrics)
        {
            list.Add(ToDto(m, includeRunId));
        }

        return list;
    }

    /// <summary>A run's latest metrics carry only key, value, timestamp and step, as MLflow's latest-metrics table does.</summary>
    private static List<MetricDto>? ToLatestDto(IReadOnlyList<Metric> metrics)
    {
        if (metrics.Count == 0)
        {
            return null;
        }

        var list = new List<MetricDto>(metrics.Count);
        foreach (var m in metrics)
        {
            list.Add(new MetricDto { Key = m.Key, Value = m.Value, Timestamp = m.Timestamp, Step = m.Step });
        }

        return list;
    }

    public static RunInfoDto ToDto(RunInfo info) => new()
    {
        RunUuid = info.RunId,
        ExperimentId = info.ExperimentId,
        RunName = info.RunName,
        UserId = info.UserId,
        Status = info.Status,
        StartTime = info.StartTime,
        EndTime = info.EndTime,
        ArtifactUri = info.ArtifactUri,
        LifecycleStage = info.LifecycleStage,
        RunId = info.RunId,
    };

    public static RunDto ToDto(Run run, bool includeOutputs = true) => new()
    {
        Info = ToDto(run.Info),
        Data = new RunDataDto
        {
            Metrics = ToLatestDto(run.Data.Metrics),
            Params = ToDto(run.Data.Params),
            Tags = ToDto(run.Data.Tags),
        },
        Inputs = new RunInputsDto
        {
            DatasetInputs = run.Inputs.DatasetInputs.Count == 0 ? null : run.Inputs.DatasetInputs.Select(static d => new DatasetInputDto
            {
                Tags = ToDto(d.Tags),
                Dataset = new DatasetDto
                {
                    Name = d.Dataset.Name,
                    Digest = d.Dataset.Digest,
                    SourceType = d.Dataset.SourceType,
                    Source = d.Dataset.Source,
                    Schema = d.Dataset.Schema,
                    Profile = d.Dataset.Profile,
                },
            }).ToList(),
            ModelInputs = run.Inputs.ModelInputs.Count == 0 ? null : run.Inputs.ModelInputs.Select(static m => new ModelIoDto { ModelId = m.ModelId }).ToList(),
        },
        Outputs = includeOutputs
            ? new RunOutputsDto
            {
                ModelOutputs = run.Outputs.ModelOutputs.Count == 0 ? null : run.Outputs.ModelOutputs.Select(static m => new ModelIoDto { ModelId = m.ModelId, Step = m.Step }).ToList(),
            }
            : null,
    };

    public static LoggedModelDto ToDto(LoggedModel m) => new()
    {
        Info = new LoggedModelInfoDto
        {
            ModelId = m.ModelId,
            ExperimentId = m.ExperimentId,
            Name = m.Name,
            CreationTimestampMs = m.CreationTimestampMs,
            LastUpdatedTimestampMs = m.LastUpdatedTimestampMs,
            ArtifactUri = m.ArtifactUri,
            Status = m.Status,
            StatusMessage = m.StatusMessage,
            ModelType = m.ModelType,
            SourceRunId = m.SourceRunId,
            Tags = ToDto(m.Tags),
        },
        Data = new LoggedModelDataDto
        {
            Params = ToDto(m.Params),
            Metrics = ToDto(m.Metrics, includeRunId: true),
        },
    };

    public static RegisteredModelDto ToDto(RegisteredModel m) => new()
    {
        Name = m.Name,
        CreationTimestamp = m.CreationTimestamp,
        LastUpdatedTimestamp = m.LastUpdatedTimestamp,
        Description = m.Description,
        LatestVersions = m.LatestVersions.Count == 0 ? null : m.LatestVersions.Select(ToDto).ToList(),
        Tags = ToDto(m.Tags),
        Aliases = m.Aliases.Count == 0 ? null : m.Aliases.Select(static a => new AliasDto { Alias = a.Key, Version = a.Value }).ToList(),
    };

    // MLflow's registry does not echo model_id on model versions; Cairn keeps the link internally (lineage) and matches the wire.
    public static ModelVersionDto ToDto(ModelVersion v) => new()
    {
        Name = v.Name,
        Version = v.Version,
        CreationTimestamp = v.CreationTimestamp,
        LastUpdatedTimestamp = v.LastUpdatedTimestamp,
        CurrentStage = v.CurrentStage,
        Description = v.Description,
        Source = v.Source,
        RunId = v.RunId,
        Status = v.Status,
        Tags = ToDto(v.Tags),
        RunLink = v.RunLink,
        Aliases = v.Aliases.Count == 0 ? null : v.Aliases.ToList(),
    };
}
