using System.Globalization;
using System.Runtime.CompilerServices;
using Cairn.Contracts.Mlflow;

namespace Cairn.Client;

// Experiments, runs and metrics: one method per MLflow REST call (/api/2.0/mlflow/...).
public sealed partial class CairnClient
{
    private static MlflowJsonContext Json => MlflowJsonContext.Default;

    /// <summary>Creates an experiment (<c>POST experiments/create</c>) and returns its id.</summary>
    /// <param name="name">The experiment's unique name.</param>
    /// <param name="artifactLocation">Where the experiment's artifacts go; the server's default when null.</param>
    /// <param name="tags">Tags to set on the experiment.</param>
    /// <param name="cancellationToken">A token that cancels the call.</param>
    public async Task<string> CreateExperimentAsync(string name, string? artifactLocation = null, IEnumerable<KeyValuePair<string, string>>? tags = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var request = new CreateExperimentRequest { Name = name, ArtifactLocation = artifactLocation, Tags = ToDtos(tags) };
        var response = await PostAsync("experiments/create", request, Json.CreateExperimentRequest, Json.CreateExperimentResponse, cancellationToken).ConfigureAwait(false);
        return Required(response.ExperimentId, "experiment_id");
    }

    /// <summary>Gets an experiment by id (<c>GET experiments/get</c>).</summary>
    public async Task<ExperimentDto> GetExperimentAsync(string experimentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(experimentId);
        var response = await GetAsync(WithQuery("experiments/get", ("experiment_id", experimentId)), Json.GetExperimentResponse, cancellationToken).ConfigureAwait(false);
        return Required(response.Experiment, "experiment");
    }

    /// <summary>Gets an experiment by name (<c>GET experiments/get-by-name</c>), or null when there is none (the server answered 404 <c>RESOURCE_DOES_NOT_EXIST</c>).</summary>
    public async Task<ExperimentDto?> GetExperimentByNameAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        try
        {
            var response = await GetAsync(WithQuery("experiments/get-by-name", ("experiment_name", name)), Json.GetExperimentResponse, cancellationToken).ConfigureAwait(false);
            return Required(response.Experiment, "experiment");
        }
        catch (CairnApiException e) when (IsNotFound(e))
        {
            return null;
        }
    }

    /// <summary>Searches experiments (<c>POST experiments/search</c>); one page of results.</summary>
    /// <param name="filter">An MLflow filter such as <c>name LIKE 'abc%'</c>.</param>
    /// <param name="orderBy">Order clauses such as <c>creation_time DESC</c>.</param>
    /// <param name="maxResults">The page size; the server's default when null.</param>
    /// <param name="pageToken">The <c>next_page_token</c> of the previous page.</param>
    /// <param name="viewType"><c>ACTIVE_ONLY</c> (the default), <c>DELETED_ONLY</c> or <c>ALL</c>.</param>
    /// <param name="cancellationToken">A token that cancels the call.</param>
    public Task<SearchExperimentsResponse> SearchExperimentsAsync(
        string? filter = null,
        IEnumerable<string>? orderBy = null,
        int? maxResults = null,
        string? pageToken = null,
        string? viewType = null,
        CancellationToken cancellationToken = default)
    {
        var request = new SearchExperimentsRequest
        {
            Filter = filter,
            OrderBy = orderBy?.ToList(),
            MaxResults = maxResults,
            PageToken = pageToken,
            ViewType = viewType,
        };
        return PostAsync("experiments/search", request, Json.SearchExperimentsRequest, Json.SearchExperimentsResponse, cancellationToken);
    }

    /// <summary>Renames an experiment (<c>POST experiments/update</c>).</summary>
    public Task UpdateExperimentAsync(string experimentId, string newName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(experimentId);
        ArgumentException.ThrowIfNullOrEmpty(newName);
        var request = new UpdateExperimentRequest { ExperimentId = experimentId, NewName = newName };
        return PostAsync("experiments/update", request, Json.UpdateExperimentRequest, Json.EmptyResponse, cancellationToken);
    }

    /// <summary>Marks an experiment and its runs deleted (<c>POST experiments/delete</c>).</summary>
    public Task DeleteExperimentAsync(string experimentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(experimentId);
        return PostAsync("experiments/delete", new ExperimentIdRequest { ExperimentId = experimentId }, Json.ExperimentIdRequest, Json.EmptyResponse, cancellationToken);
    }

    /// <summary>Restores a deleted experiment (<c>POST experiments/restore</c>).</summary>
    public Task RestoreExperimentAsync(string experimentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(experimentId);
        return PostAsync("experiments/restore", new ExperimentIdRequest { ExperimentId = experimentId }, Json.ExperimentIdRequest, Json.EmptyResponse, cancellationToken);
    }

    /// <summary>Sets a tag on an experiment (<c>POST experiments/set-experiment-tag</c>).</summary>
    public Task SetExperimentTagAsync(string experimentId, string key, string value, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(experimentId);
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        var request = new ExperimentTagRequest { ExperimentId = experimentId, Key = key, Value = value };
        return PostAsync("experiments/set-experiment-tag", request, Json.ExperimentTagRequest, Json.EmptyResponse, cancellationToken);
    }

    /// <summary>Returns the id of the active experiment named <paramref name="name"/>, creating it when there is none.</summary>
    /// <exception cref="InvalidOperationException">The experiment exists but is deleted.</exception>
    public async Task<string> GetOrCreateExperimentIdAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var experiment = await GetExperimentByNameAsync(name, cancellationToken).ConfigureAwait(false);
        if (experiment is null)
        {
            try
            {
                return await CreateExperimentAsync(name, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (CairnApiException e) when (e.ErrorCode == "RESOURCE_ALREADY_EXISTS")
            {
                // Another process created it between our get and create.
                experiment = await GetExperimentByNameAsync(name, cancellationToken).ConfigureAwait(false)
                    ?? throw new InvalidOperationException($"Experiment '{name}' was reported to exist but could not be found.", e);
            }
        }

        if (string.Equals(experiment.LifecycleStage, "deleted", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"Experiment '{name}' (id {experiment.ExperimentId}) is deleted: restore it or use another name.");
        }

        return Required(experiment.ExperimentId, "experiment_id");
    }

    /// <summary>Creates a run (<c>POST runs/create</c>).</summary>
    /// <param name="experimentId">The experiment the run belongs to.</param>
    /// <param name="runName">The run's name; the server picks one when null.</param>
    /// <param name="tags">Tags to set on the run.</param>
    /// <param name="startTime">The run's start time; now when null.</param>
    /// <param name="userId">The user who runs it; <c>mlflow.user</c> is the tag MLflow reads.</param>
    /// <param name="cancellationToken">A token that cancels the call.</param>
    public async Task<RunDto> CreateRunAsync(
        string experimentId,
        string? runName = null,
        IEnumerable<KeyValuePair<string, string>>? tags = null,
        DateTimeOffset? startTime = null,
        string? userId = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(experimentId);
        var request = new CreateRunRequest
        {
            ExperimentId = experimentId,
            RunName = runName,
            UserId = userId,
            StartTime = (startTime ?? TimeProvider.GetUtcNow()).ToUnixTimeMilliseconds(),
            Tags = ToDtos(tags),
        };
        var response = await PostAsync("runs/create", request, Json.CreateRunRequest, Json.RunResponse, cancellationToken).ConfigureAwait(false);
        return Required(response.Run, "run");
    }

    /// <summary>Gets a run with its params, tags and latest metrics (<c>GET runs/get</c>).</summary>
    public async Task<RunDto> GetRunAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        var response = await GetAsync(WithQuery("runs/get", ("run_id", runId)), Json.RunResponse, cancellationToken).ConfigureAwait(false);
        return Required(response.Run, "run");
    }

    /// <summary>Updates a run's status, end time or name (<c>POST runs/update</c>); null leaves a field as it is.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="status">One of <see cref="CairnRunStatus"/>.</param>
    /// <param name="endTime">The run's end time.</param>
    /// <param name="runName">A new name.</param>
    /// <param name="cancellationToken">A token that cancels the call.</param>
    public async Task<RunInfoDto> UpdateRunAsync(string runId, string? status = null, DateTimeOffset? endTime = null, string? runName = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        var request = new UpdateRunRequest
        {
            RunId = runId,
            RunUuid = runId,
            Status = status,
            EndTime = endTime?.ToUnixTimeMilliseconds(),
            RunName = runName,
        };
        var response = await PostAsync("runs/update", request, Json.UpdateRunRequest, Json.UpdateRunResponse, cancellationToken).ConfigureAwait(false);
        return Required(response.RunInfo, "run_info");
    }

    /// <summary>Marks a run deleted (<c>POST runs/delete</c>).</summary>
    public Task DeleteRunAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        return PostAsync("runs/delete", new RunIdRequest { RunId = runId }, Json.RunIdRequest, Json.EmptyResponse, cancellationToken);
    }

    /// <summary>Restores a deleted run (<c>POST runs/restore</c>).</summary>
    public Task RestoreRunAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        return PostAsync("runs/restore", new RunIdRequest { RunId = runId }, Json.RunIdRequest, Json.EmptyResponse, cancellationToken);
    }

    /// <summary>Searches the runs of experiments (<c>POST runs/search</c>); one page of results.</summary>
    /// <param name="experimentIds">The experiments to search.</param>
    /// <param name="filter">An MLflow filter such as <c>metrics.loss &lt; 0.5 and params.lr = '0.1'</c>.</param>
    /// <param name="orderBy">Order clauses such as <c>metrics.loss ASC</c>.</param>
    /// <param name="maxResults">The page size; the server's default when null.</param>
    /// <param name="pageToken">The <c>next_page_token</c> of the previous page.</param>
    /// <param name="runViewType"><c>ACTIVE_ONLY</c> (the default), <c>DELETED_ONLY</c> or <c>ALL</c>.</param>
    /// <param name="cancellationToken">A token that cancels the call.</param>
    public Task<SearchRunsResponse> SearchRunsAsync(
        IEnumerable<string> experimentIds,
        string? filter = null,
        IEnumerable<string>? orderBy = null,
        int? maxResults = null,
        string? pageToken = null,
        string? runViewType = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(experimentIds);
        var request = new SearchRunsRequest
        {
            ExperimentIds = experimentIds.ToList(),
            Filter = filter,
            OrderBy = orderBy?.ToList(),
            MaxResults = maxResults,
            PageToken = pageToken,
            RunViewType = runViewType,
        };
        return PostAsync("runs/search", request, Json.SearchRunsRequest, Json.SearchRunsResponse, cancellationToken);
    }

    /// <summary>Logs metrics, params and tags in one call (<c>POST runs/log-batch</c>); MLflow accepts at most 1000 metrics, 100 params and 100 tags per call.</summary>
    public Task LogBatchAsync(
        string runId,
        IEnumerable<MetricDto>? metrics = null,
        IEnumerable<KeyValueDto>? parameters = null,
        IEnumerable<KeyValueDto>? tags = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        var request = new LogBatchRequest
        {
            RunId = runId,
            Metrics = NullIfEmpty(metrics?.ToList()),
            Params = NullIfEmpty(parameters?.ToList()),
            Tags = NullIfEmpty(tags?.ToList()),
        };
        return PostAsync("runs/log-batch", request, Json.LogBatchRequest, Json.EmptyResponse, cancellationToken);
    }

    /// <summary>Logs one metric value (<c>POST runs/log-metric</c>).</summary>
    /// <param name="runId">The run.</param>
    /// <param name="key">The metric's name.</param>
    /// <param name="value">The value; NaN and infinities are allowed.</param>
    /// <param name="step">The training step.</param>
    /// <param name="timestamp">When the value was measured; now when null.</param>
    /// <param name="cancellationToken">A token that cancels the call.</param>
    public Task LogMetricAsync(string runId, string key, double value, long step = 0, DateTimeOffset? timestamp = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        ArgumentException.ThrowIfNullOrEmpty(key);
        var request = new LogMetricRequest
        {
            RunId = runId,
            RunUuid = runId,
            Key = key,
            Value = value,
            Step = step,
            Timestamp = (timestamp ?? TimeProvider.GetUtcNow()).ToUnixTimeMilliseconds(),
        };
        return PostAsync("runs/log-metric", request, Json.LogMetricRequest, Json.EmptyResponse, cancellationToken);
    }

    /// <summary>Logs a param (<c>POST runs/log-parameter</c>); logging a different value for an existing key fails with <c>INVALID_PARAMETER_VALUE</c>.</summary>
    public Task LogParamAsync(string runId, string key, string value, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        var request = new RunKeyValueRequest { RunId = runId, RunUuid = runId, Key = key, Value = value };
        return PostAsync("runs/log-parameter", request, Json.RunKeyValueRequest, Json.EmptyResponse, cancellationToken);
    }

    /// <summary>Sets a tag on a run (<c>POST runs/set-tag</c>).</summary>
    public Task SetTagAsync(string runId, string key, string value, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        var request = new RunKeyValueRequest { RunId = runId, RunUuid = runId, Key = key, Value = value };
        return PostAsync("runs/set-tag", request, Json.RunKeyValueRequest, Json.EmptyResponse, cancellationToken);
    }

    /// <summary>Deletes a tag of a run (<c>POST runs/delete-tag</c>).</summary>
    public Task DeleteTagAsync(string runId, string key, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        ArgumentException.ThrowIfNullOrEmpty(key);
        var request = new RunKeyValueRequest { RunId = runId, Key = key };
        return PostAsync("runs/delete-tag", request, Json.RunKeyValueRequest, Json.EmptyResponse, cancellationToken);
    }

    /// <summary>Gets one page of a metric's history (<c>GET metrics/get-history</c>).</summary>
    /// <param name="runId">The run.</param>
    /// <param name="metricKey">The metric's name.</param>
    /// <param name="maxResults">The page size; the server's default when null.</param>
    /// <param name="pageToken">The <c>next_page_token</c> of the previous page.</param>
    /// <param name="cancellationToken">A token that cancels the call.</param>
    public Task<MetricsResponse> GetMetricHistoryAsync(string runId, string metricKey, int? maxResults = null, string? pageToken = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        ArgumentException.ThrowIfNullOrEmpty(metricKey);
        var query = WithQuery(
            "metrics/get-history",
            ("run_id", runId),
            ("metric_key", metricKey),
            ("max_results", maxResults?.ToString(CultureInfo.InvariantCulture)),
            ("page_token", string.IsNullOrEmpty(pageToken) ? null : pageToken));
        return GetAsync(query, Json.MetricsResponse, cancellationToken);
    }

    /// <summary>Streams a metric's whole history, following page tokens.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="metricKey">The metric's name.</param>
    /// <param name="pageSize">The size of each page; the server's default when null.</param>
    /// <param name="cancellationToken">A token that cancels the enumeration.</param>
    public async IAsyncEnumerable<MetricDto> EnumerateMetricHistoryAsync(string runId, string metricKey, int? pageSize = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        ArgumentException.ThrowIfNullOrEmpty(metricKey);
        string? pageToken = null;
        do
        {
            var page = await GetMetricHistoryAsync(runId, metricKey, pageSize, pageToken, cancellationToken).ConfigureAwait(false);
            foreach (var metric in page.Metrics ?? [])
            {
                yield return metric;
            }

            pageToken = string.IsNullOrEmpty(page.NextPageToken) ? null : page.NextPageToken;
        }
        while (pageToken is not null);
    }

    private static List<KeyValueDto>? ToDtos(IEnumerable<KeyValuePair<string, string>>? pairs) =>
        pairs is null ? null : NullIfEmpty(pairs.Select(static p => new KeyValueDto { Key = p.Key, Value = p.Value }).ToList());

    private static List<T>? NullIfEmpty<T>(List<T>? list) => list is { Count: > 0 } ? list : null;
}
