using Cairn.Contracts.Mlflow;
using Cairn.Core.Tracking;
using Cairn.Core.Tracking.Search;
using Cairn.Server.Registry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using static Cairn.Server.Tracking.MlflowHttp;

namespace Cairn.Server.Tracking;

/// <summary>MLflow's tracking and registry REST API (<c>/api/2.0/mlflow/...</c> and <c>/ajax-api/2.0/mlflow/...</c>).</summary>
internal static class MlflowApi
{
    private const int SearchDefaultMaxResults = 1000;
    private const int SearchMaxResultsLimit = 50000;
    private const int HistoryMaxResultsLimit = 25000;

    public static void MapMlflowApi(this IEndpointRouteBuilder endpoints)
    {
        foreach (var prefix in new[] { "/api/2.0/mlflow", "/ajax-api/2.0/mlflow" })
        {
            var api = endpoints.MapGroup(prefix).AddEndpointFilter<MlflowErrorFilter>().WithTags("MLflow");
            MapExperiments(api.MapGroup("/experiments"));
            MapRuns(api.MapGroup("/runs"));
            api.MapGet("/metrics/get-history", GetMetricHistoryAsync);
            api.MapGet("/metrics/get-history-bulk-interval", GetMetricHistoryBulkIntervalAsync);
            api.MapGet("/artifacts/list", MlflowArtifactsApi.ListRunArtifactsAsync);
            MapLoggedModels(api.MapGroup("/logged-models"));
            api.MapRegistryApi();
            api.Map("/{**rest}", static (HttpContext context) =>
                Error(StatusCodes.Status404NotFound, "ENDPOINT_NOT_FOUND", $"No API endpoint {context.Request.Method} {context.Request.Path}"));
        }
    }

    private static void MapExperiments(RouteGroupBuilder group)
    {
        group.MapPost("/create", static async (HttpContext context, IExperimentStore store) =>
        {
            var request = await ReadAsync(context, Json.CreateExperimentRequest);
            var id = await store.CreateExperimentAsync(Required(request.Name, "name"), request.ArtifactLocation, MlflowMapper.FromDto(request.Tags, "tags"), context.RequestAborted);
            return Ok(new CreateExperimentResponse { ExperimentId = id }, Json.CreateExperimentResponse);
        });
        group.MapGet("/get", static async (HttpContext context, IExperimentStore store) =>
        {
            var experiment = await store.GetExperimentAsync(Required(Query(context, "experiment_id"), "experiment_id"), context.RequestAborted);
            return Ok(new GetExperimentResponse { Experiment = MlflowMapper.ToDto(experiment) }, Json.GetExperimentResponse);
        });
        group.MapGet("/get-by-name", static async (HttpContext context, IExperimentStore store) =>
        {
            var name = Required(Query(context, "experiment_name"), "experiment_name");
            var experiment = await store.GetExperimentByNameAsync(name, context.RequestAborted)
                ?? throw TrackingException.NotFound($"Could not find experiment with name '{name}'");
            return Ok(new GetExperimentResponse { Experiment = MlflowMapper.ToDto(experiment) }, Json.GetExperimentResponse);
        });
        group.MapPost("/search", static async (HttpContext context, IExperimentStore store) =>
            await SearchExperimentsAsync(context, store, await ReadAsync(context, Json.SearchExperimentsRequest)));
        group.MapGet("/search", static async (HttpContext context, IExperimentStore store) =>
            await SearchExperimentsAsync(context, store, new SearchExperimentsRequest
            {
                MaxResults = QueryLong(context, "max_results"),
                PageToken = Query(context, "page_token"),
                Filter = Query(context, "filter"),
                OrderBy = [.. context.Request.Query["order_by"].OfType<string>()],
                ViewType = Query(context, "view_type"),
            }));
        group.MapPost("/update", static async (HttpContext context, IExperimentStore store) =>
        {
            var request = await ReadAsync(context, Json.UpdateExperimentRequest);
            await store.RenameExperimentAsync(Required(request.ExperimentId, "experiment_id"), Required(request.NewName, "new_name"), context.RequestAborted);
            return Empty();
        });
        group.MapPost("/delete", static async (HttpContext context, IExperimentStore store) =>
        {
            var request = await ReadAsync(context, Json.ExperimentIdRequest);
            await store.DeleteExperimentAsync(Required(request.ExperimentId, "experiment_id"), context.RequestAborted);
            return Empty();
        });
        group.MapPost("/restore", static async (HttpContext context, IExperimentStore store) =>
        {
            var request = await ReadAsync(context, Json.ExperimentIdRequest);
            await store.RestoreExperimentAsync(Required(request.ExperimentId, "experiment_id"), context.RequestAborted);
            return Empty();
        });
        group.MapPost("/set-experiment-tag", static async (HttpContext context, IExperimentStore store) =>
        {
            var request = await ReadAsync(context, Json.ExperimentTagRequest);
            var tag = new KeyValue(Required(request.Key, "key"), request.Value ?? string.Empty);
            await store.SetExperimentTagAsync(Required(request.ExperimentId, "experiment_id"), tag, context.RequestAborted);
            return Empty();
        });
        group.MapPost("/delete-experiment-tag", static async (HttpContext context, IExperimentStore store) =>
        {
            var request = await ReadAsync(context, Json.ExperimentTagRequest);
            await store.DeleteExperimentTagAsync(Required(request.ExperimentId, "experiment_id"), Required(request.Key, "key"), context.RequestAborted);
            return Empty();
        });
    }

    private static async Task<IResult> SearchExperimentsAsync(HttpContext context, IExperimentStore store, SearchExperimentsRequest request)
    {
        var query = new ExperimentQuery(
            SearchParser.ParseExperimentFilter(request.Filter),
            SearchParser.ParseExperimentOrderBy(request.OrderBy),
            ParseViewType(request.ViewType, "view_type"),
            MaxResults(request.MaxResults, SearchDefaultMaxResults, SearchMaxResultsLimit),
            NullIfEmpty(request.PageToken));
        var page = await store.SearchExperimentsAsync(query, context.RequestAborted);
        return Ok(
            new SearchExperimentsResponse
            {
                Experiments = page.Items.Count == 0 ? null : page.Items.Select(MlflowMapper.ToDto).ToList(),
                NextPageToken = page.NextPageToken,
            },
            Json.SearchExperimentsResponse);
    }

    private static void MapRuns(RouteGroupBuilder group)
    {
        group.MapPost("/create", static async (HttpContext context, IRunStore store, TimeProvider time) =>
        {
            var request = await ReadAsync(context, Json.CreateRunRequest);
            var tags = MlflowMapper.FromDto(request.Tags, "tags");
            var userId = request.UserId ?? tags.FirstOrDefault(static t => t.Key == "mlflow.user")?.Value ?? string.Empty;
            var run = await store.CreateRunAsync(
                new NewRun(Required(request.ExperimentId, "experiment_id"), NullIfEmpty(request.RunName), userId, request.StartTime ?? time.GetUtcNow().ToUnixTimeMilliseconds(), tags),
                context.RequestAborted);
            return Ok(new RunResponse { Run = MlflowMapper.ToDto(run, includeOutputs: false) }, Json.RunResponse);
        });
        group.MapGet("/get", static async (HttpContext context, IRunStore store) =>
        {
            var run = await store.GetRunAsync(RunId(Query(context, "run_id"), Query(context, "run_uuid")), context.RequestAborted);
            return Ok(new RunResponse { Run = MlflowMapper.ToDto(run) }, Json.RunResponse);
        });
        group.MapPost("/update", static async (HttpContext context, IRunStore store) =>
        {
            var request = await ReadAsync(context, Json.UpdateRunRequest);
            if (request.Status is not null && !RunStatus.IsValid(request.Status))
            {
                throw TrackingException.Invalid($"Invalid value '{request.Status}' for parameter 'status'. Expected one of RUNNING, SCHEDULED, FINISHED, FAILED, KILLED.");
            }

            var info = await store.UpdateRunAsync(RunId(request.RunId, request.RunUuid), request.Status, request.EndTime, NullIfEmpty(request.RunName), context.RequestAborted);
            return Ok(new UpdateRunResponse { RunInfo = MlflowMapper.ToDto(info) }, Json.UpdateRunResponse);
        });
        group.MapPost("/delete", static async (HttpContext context, IRunStore store) =>
        {
            var request = await ReadAsync(context, Json.RunIdRequest);
            await store.DeleteRunAsync(Required(request.RunId, "run_id"), context.RequestAborted);
            return Empty();
        });
        group.MapPost("/restore", static async (HttpContext context, IRunStore store) =>
        {
            var request = await ReadAsync(context, Json.RunIdRequest);
            await store.RestoreRunAsync(Required(request.RunId, "run_id"), context.RequestAborted);
            return Empty();
        });
        group.MapPost("/search", static async (HttpContext context, IRunStore store) =>
        {
            var request = await ReadAsync(context, Json.SearchRunsRequest);
            var query = new RunQuery(
                request.ExperimentIds ?? [],
                SearchParser.ParseRunFilter(request.Filter),
                SearchParser.ParseRunOrderBy(request.OrderBy),
                ParseViewType(request.RunViewType, "run_view_type"),
                MaxResults(request.MaxResults, SearchDefaultMaxResults, SearchMaxResultsLimit),
                NullIfEmpty(request.PageToken));
            var page = await store.SearchRunsAsync(query, context.RequestAborted);
            return Ok(
                new SearchRunsResponse
                {
                    Runs = page.Items.Count == 0 ? null : page.Items.Select(static r => MlflowMapper.ToDto(r)).ToList(),
                    NextPageToken = page.NextPageToken,
                },
                Json.SearchRunsResponse);
        });
        group.MapPost("/log-metric", static async (HttpContext context, IRunStore store) =>
        {
            var request = await ReadAsync(context, Json.LogMetricRequest);
            var metric = new Metric(Required(request.Key, "key"), Required(request.Value, "value"), Required(request.Timestamp, "timestamp"), request.Step ?? 0)
            {
                ModelId = NullIfEmpty(request.ModelId),
                DatasetName = NullIfEmpty(request.DatasetName),
                DatasetDigest = NullIfEmpty(request.DatasetDigest),
            };
            await store.LogBatchAsync(RunId(request.RunId, request.RunUuid), [metric], [], [], context.RequestAborted);
            return Empty();
        });
        group.MapPost("/log-parameter", static async (HttpContext context, IRunStore store) =>
        {
            var request = await ReadAsync(context, Json.RunKeyValueRequest);
            var param = new KeyValue(Required(request.Key, "key"), request.Value ?? throw TrackingException.Invalid("Missing value for required parameter 'value'. See the API docs for more information about request parameters."));
            await store.LogBatchAsync(RunId(request.RunId, request.RunUuid), [], [param], [], context.RequestAborted);
            return Empty();
        });
        group.MapPost("/set-tag", static async (HttpContext context, IRunStore store) =>
        {
            var request = await ReadAsync(context, Json.RunKeyValueRequest);
            var tag = new KeyValue(Required(request.Key, "key"), request.Value ?? string.Empty);
            await store.LogBatchAsync(RunId(request.RunId, request.RunUuid), [], [], [tag], context.RequestAborted);
            return Empty();
        });
        group.MapPost("/delete-tag", static async (HttpContext context, IRunStore store) =>
        {
            var request = await ReadAsync(context, Json.RunKeyValueRequest);
            await store.DeleteTagAsync(Required(request.RunId, "run_id"), Required(request.Key, "key"), context.RequestAborted);
            return Empty();
        });
        group.MapPost("/log-batch", static async (HttpContext context, IRunStore store) =>
        {
            var request = await ReadAsync(context, Json.LogBatchRequest);
            var metrics = new List<Metric>(request.Metrics?.Count ?? 0);
            foreach (var m in request.Metrics ?? [])
            {
                metrics.Add(new Metric(Required(m.Key, "metrics.key"), Required(m.Value, "metrics.value"), Required(m.Timestamp, "metrics.timestamp"), m.Step ?? 0)
                {
                    ModelId = NullIfEmpty(m.ModelId),
                    DatasetName = NullIfEmpty(m.DatasetName),
                    DatasetDigest = NullIfEmpty(m.DatasetDigest),
                });
            }

            await store.LogBatchAsync(
                Required(request.RunId, "run_id"),
                metrics,
                MlflowMapper.FromDto(request.Params, "params"),
                MlflowMapper.FromDto(request.Tags, "tags"),
                context.RequestAborted);
            return Empty();
        });
        group.MapPost("/log-model", static async (HttpContext context, IRunStore store) =>
        {
            var request = await ReadAsync(context, Json.LogModelRequest);
            var runId = Required(request.RunId, "run_id");
            var modelJson = Required(request.ModelJson, "model_json");
            await LegacyModelHistory.AppendAsync(store, runId, modelJson, context.RequestAborted);
            return Empty();
        });
        group.MapPost("/log-inputs", static async (HttpContext context, IRunStore store) =>
        {
            var request = await ReadAsync(context, Json.LogInputsRequest);
            var datasets = new List<DatasetInput>();
            foreach (var input in request.Datasets ?? [])
            {
                var d = input.Dataset ?? throw TrackingException.Invalid("Missing value for required parameter 'datasets.dataset'. See the API docs for more information about request parameters.");
                datasets.Add(new DatasetInput(
                    new Dataset(Required(d.Name, "dataset.name"), Required(d.Digest, "dataset.digest"), Required(d.SourceType, "dataset.source_type"), Required(d.Source, "dataset.source"), d.Schema, d.Profile),
                    MlflowMapper.FromDto(input.Tags, "datasets.tags")));
            }

            var models = (request.Models ?? []).Select(static m => new ModelReference(Required(m.ModelId, "models.model_id"), m.Step ?? 0)).ToList();
            await store.LogInputsAsync(Required(request.RunId, "run_id"), datasets, models, context.RequestAborted);
            return Empty();
        });
        group.MapPost("/outputs", static async (HttpContext context, IRunStore store) =>
        {
            var request = await ReadAsync(context, Json.LogOutputsRequest);
            var models = (request.Models ?? []).Select(static m => new ModelReference(Required(m.ModelId, "models.model_id"), m.Step ?? 0)).ToList();
            await store.LogOutputsAsync(Required(request.RunId, "run_id"), models, context.RequestAborted);
            return Empty();
        });
    }

    private static async Task<IResult> GetMetricHistoryAsync(HttpContext context, IRunStore store)
    {
        var runId = RunId(Query(context, "run_id"), Query(context, "run_uuid"));
        var key = Required(Query(context, "metric_key"), "metric_key");
        var maxResults = MaxResults(QueryLong(context, "max_results"), HistoryMaxResultsLimit, HistoryMaxResultsLimit);
        var page = await store.GetMetricHistoryAsync(runId, key, maxResults, NullIfEmpty(Query(context, "page_token")), context.RequestAborted);
        return Ok(new MetricsResponse { Metrics = MlflowMapper.ToDto(page.Items), NextPageToken = page.NextPageToken }, Json.MetricsResponse);
    }

    private static async Task<IResult> GetMetricHistoryBulkIntervalAsync(HttpContext context, IRunStore store)
    {
        var runIds = context.Request.Query["run_ids"].OfType<string>().Where(static id => id.Length > 0).ToList();
        if (runIds.Count == 0)
        {
            throw TrackingException.Invalid("GetMetricHistoryBulkInterval request must specify at least one run_id.");
        }

        if (runIds.Count > 100)
        {
            throw TrackingException.Invalid($"GetMetricHistoryBulkInterval request cannot specify more than 100 run_ids. Received {runIds.Count} run_ids.");
        }

        var key = Required(Query(context, "metric_key"), "metric_key");
        var start = QueryLong(context, "start_step");
        var end = QueryLong(context, "end_step");
        if ((start is null) != (end is null))
        {
            throw TrackingException.Invalid("If either start step or end step are specified, both must be specified.");
        }

        if (start > end)
        {
            throw TrackingException.Invalid("end_step must be greater than start_step. ");
        }

        var maxResults = MaxResults(QueryLong(context, "max_results"), 320, 1000);
        var metrics = await store.GetMetricHistoryBulkIntervalAsync(runIds, key, start, end, maxResults, context.RequestAborted);
        return Ok(new MetricsResponse { Metrics = MlflowMapper.ToDto(metrics, includeRunId: true) }, Json.MetricsResponse);
    }

    private static void MapLoggedModels(RouteGroupBuilder group)
    {
        group.MapPost("", static async (HttpContext context, ILoggedModelStore store) =>
        {
            var request = await ReadAsync(context, Json.CreateLoggedModelRequest);
            var model = await store.CreateLoggedModelAsync(
                new NewLoggedModel(
                    Required(request.ExperimentId, "experiment_id"),
                    NullIfEmpty(request.Name),
                    NullIfEmpty(request.SourceRunId),
                    request.ModelType ?? string.Empty,
                    MlflowMapper.FromDto(request.Params, "params"),
                    MlflowMapper.FromDto(request.Tags, "tags")),
                context.RequestAborted);
            return Ok(new LoggedModelResponse { Model = MlflowMapper.ToDto(model) }, Json.LoggedModelResponse);
        });
        group.MapPost("/search", static async (HttpContext context, ILoggedModelStore store) =>
        {
            var request = await ReadAsync(context, Json.SearchLoggedModelsRequest);
            var query = new LoggedModelQuery(request.ExperimentIds ?? [], MaxResults(request.MaxResults, 100, SearchMaxResultsLimit), NullIfEmpty(request.PageToken))
            {
                Filter = SearchParser.ParseLoggedModelFilter(request.Filter),
            };
            var page = await store.SearchLoggedModelsAsync(query, context.RequestAborted);
            return Ok(
                new SearchLoggedModelsResponse
                {
                    Models = page.Items.Count == 0 ? null : page.Items.Select(MlflowMapper.ToDto).ToList(),
                    NextPageToken = page.NextPageToken,
                },
                Json.SearchLoggedModelsResponse);
        });
        group.MapGet("/{modelId}", static async (string modelId, HttpContext context, ILoggedModelStore store) =>
            Ok(new LoggedModelResponse { Model = MlflowMapper.ToDto(await store.GetLoggedModelAsync(modelId, context.RequestAborted)) }, Json.LoggedModelResponse));
        group.MapMethods("/{modelId}", ["PATCH"], static async (string modelId, HttpContext context, ILoggedModelStore store) =>
        {
            var request = await ReadAsync(context, Json.FinalizeLoggedModelRequest);
            var model = await store.FinalizeLoggedModelAsync(modelId, Required(request.Status, "status"), context.RequestAborted);
            return Ok(new LoggedModelResponse { Model = MlflowMapper.ToDto(model) }, Json.LoggedModelResponse);
        });
        group.MapDelete("/{modelId}", static async (string modelId, HttpContext context, ILoggedModelStore store) =>
        {
            await store.DeleteLoggedModelAsync(modelId, context.RequestAborted);
            return Empty();
        });
        group.MapMethods("/{modelId}/tags", ["PATCH"], static async (string modelId, HttpContext context, ILoggedModelStore store) =>
        {
            var request = await ReadAsync(context, Json.SetLoggedModelTagsRequest);
            await store.SetLoggedModelTagsAsync(modelId, MlflowMapper.FromDto(request.Tags, "tags"), context.RequestAborted);
            return Empty();
        });
        group.MapPost("/{modelId}/params", static async (string modelId, HttpContext context, ILoggedModelStore store) =>
        {
            var request = await ReadAsync(context, Json.LogLoggedModelParamsRequest);
            await store.LogLoggedModelParamsAsync(modelId, MlflowMapper.FromDto(request.Params, "params"), context.RequestAborted);
            return Empty();
        });

        // Tag keys may contain slashes, so the key is a catch-all segment.
        group.MapDelete("/{modelId}/tags/{**key}", static async (string modelId, string key, HttpContext context, ILoggedModelStore store) =>
        {
            await store.DeleteLoggedModelTagAsync(modelId, key, context.RequestAborted);
            return Empty();
        });
        group.MapGet("/{modelId}/artifacts/directories", MlflowArtifactsApi.ListLoggedModelArtifactsAsync);
    }

    private static string RunId(string? runId, string? runUuid) =>
        !string.IsNullOrEmpty(runId) ? runId : Required(runUuid, "run_id");
}
