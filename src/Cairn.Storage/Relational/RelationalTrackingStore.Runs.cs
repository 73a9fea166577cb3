using System.Data.Common;
using Cairn.Core.Tracking;

namespace Cairn.Storage.Relational;

internal sealed partial class RelationalTrackingStore
{
    private const string RunColumns = "r.run_uuid, r.experiment_id, r.name, r.user_id, r.status, r.start_time, r.end_time, r.artifact_uri, r.lifecycle_stage";

    private static readonly RunInputs s_noInputs = new([], []);
    private static readonly RunOutputs s_noOutputs = new([]);

    /// <inheritdoc />
    public async Task<Run> CreateRunAsync(NewRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        var givenTags = run.Tags ?? [];
        foreach (var tag in givenTags)
        {
            Validation.ValidateTag(tag);
        }

        var tags = DedupeLastWins(givenTags);
        var nameTag = tags.FirstOrDefault(t => t.Key == RunNameTag)?.Value;
        if (!string.IsNullOrEmpty(run.RunName) && !string.IsNullOrEmpty(nameTag) && run.RunName != nameTag)
        {
            throw TrackingException.Invalid(
                "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with " +
                $"different values (run_name='{run.RunName}', mlflow.runName='{nameTag}').");
        }

        var runName = !string.IsNullOrEmpty(run.RunName) ? run.RunName : !string.IsNullOrEmpty(nameTag) ? nameTag : RunNameGenerator.Generate();
        var nameIndex = tags.FindIndex(t => t.Key == RunNameTag);
        if (nameIndex < 0)
        {
            tags.Add(new KeyValue(RunNameTag, runName));
        }
        else
        {
            tags[nameIndex] = new KeyValue(RunNameTag, runName);
        }

        if (!TryParseId(run.ExperimentId, out var experimentId))
        {
            throw ExperimentNotFound(run.ExperimentId);
        }

        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        string location;
        {
            var select = session.Command(
                $"SELECT lifecycle_stage, artifact_location FROM experiments WHERE experiment_id = @id AND workspace_id = @ws{_db.ForShare}");
            await using var selectScope = select.ConfigureAwait(false);
            select.Add("@id", experimentId);
            select.Add("@ws", _workspaceId);
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw ExperimentNotFound(run.ExperimentId);
            }

            var stage = reader.GetString(0);
            if (stage != LifecycleStage.Active)
            {
                throw ExperimentNotActive(run.ExperimentId, stage);
            }

            location = reader.GetString(1);
        }

        var runId = Guid.NewGuid().ToString("N");
        var info = new RunInfo(
            runId,
            IdString(experimentId),
            runName,
            run.UserId ?? string.Empty,
            RunStatus.Running,
            run.StartTime,
            null,
            BackendStore.AppendPath(location, runId, "artifacts"),
            LifecycleStage.Active);
        await session.QueueAsync(
            "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, end_time, deleted_time, artifact_uri, lifecycle_stage) " +
            "VALUES (@id, @experiment, @name, @user, @status, @start, NULL, NULL, @uri, 'active')",
            [
                _db.Parameter("@id", runId),
                _db.Parameter("@experiment", experimentId),
                _db.Parameter("@name", info.RunName),
                _db.Parameter("@user", info.UserId),
                _db.Parameter("@status", info.Status),
                _db.Parameter("@start", info.StartTime),
                _db.Parameter("@uri", info.ArtifactUri),
            ],
            cancellationToken).ConfigureAwait(false);
        await _db.InsertAsync(session, KeyValueBatch("tags", "run_uuid", runId, tags), string.Empty, cancellationToken, deferred: true).ConfigureAwait(false);
        await session.CommitAsync().ConfigureAwait(false);
        return new Run(info, new RunData([], [], tags), s_noInputs, s_noOutputs);
    }

    /// <inheritdoc />
    public async Task<Run> GetRunAsync(string runId, CancellationToken cancellationToken)
    {
        var connection = await _db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        RunInfo info;
        {
            var select = connection.Command(
                $"SELECT {RunColumns} FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id WHERE r.run_uuid = @id AND e.workspace_id = @ws");
            await using var selectScope = select.ConfigureAwait(false);
            select.Add("@id", runId);
            select.Add("@ws", _workspaceId);
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw RunNotFound(runId);
            }

            info = ReadRunInfo(reader);
        }

        var runs = await LoadRunDataAsync(connection, [info], cancellationToken).ConfigureAwait(false);
        return runs[0];
    }

    /// <inheritdoc />
    public async Task<RunInfo> UpdateRunAsync(string runId, string? status, long? endTime, string? runName, CancellationToken cancellationToken)
    {
        if (status is not null && !RunStatus.IsValid(status))
        {
            throw TrackingException.Invalid(
                $"Invalid run status '{status}'. Valid run statuses are RUNNING, SCHEDULED, FINISHED, FAILED and KILLED.");
        }

        if (!string.IsNullOrEmpty(runName))
        {
            Validation.ValidateTag(new KeyValue(RunNameTag, runName));
        }

        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        await LockActiveRunAsync(session, runId, cancellationToken).ConfigureAwait(false);
        var sets = new List<string>();
        {
            var update = session.Command(string.Empty);
            await using var updateScope = update.ConfigureAwait(false);
            if (status is not null)
            {
                sets.Add("status = @status");
                update.Add("@status", status);
            }

            if (endTime is not null)
            {
                sets.Add("end_time = @end");
                update.Add("@end", endTime.Value);
            }

            if (!string.IsNullOrEmpty(runName))
            {
                sets.Add("name = @name");
                update.Add("@name", runName);
            }

            if (sets.Count > 0)
            {
                update.CommandText = $"UPDATE runs SET {string.Join(", ", sets)} WHERE run_uuid = @id";
                update.Add("@id", runId);
                await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        if (!string.IsNullOrEmpty(runName))
        {
            await UpsertRunTagsAsync(session, runId, [new KeyValue(RunNameTag, runName)], deferred: false, cancellationToken).ConfigureAwait(false);
        }

        RunInfo info;
        {
            var select = session.Command($"SELECT {RunColumns} FROM runs r WHERE r.run_uuid = @id");
            await using var selectScope = select.ConfigureAwait(false);
            select.Add("@id", runId);
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            info = ReadRunInfo(reader);
        }

        await session.CommitAsync().ConfigureAwait(false);
        return info;
    }

    /// <inheritdoc />
    public Task DeleteRunAsync(string runId, CancellationToken cancellationToken) =>
        SetRunLifecycleAsync(runId, LifecycleStage.Deleted, cancellationToken);

    /// <inheritdoc />
    public Task RestoreRunAsync(string runId, CancellationToken cancellationToken) =>
        SetRunLifecycleAsync(runId, LifecycleStage.Active, cancellationToken);

    /// <inheritdoc />
    public async Task LogBatchAsync(string runId, IReadOnlyList<Metric> metrics, IReadOnlyList<KeyValue> parameters, IReadOnlyList<KeyValue> tags, CancellationToken cancellationToken)
    {
        metrics ??= [];
        parameters ??= [];
        tags ??= [];
        Validation.ValidateRunId(runId);
        Validation.ValidateLogBatch(metrics, parameters, tags);

        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);

        // One round trip to lock the run and read the params it already has, one for every write, one to commit.
        var existing = await LockRunAndReadParamsAsync(session, runId, parameters, cancellationToken).ConfigureAwait(false);
        if (parameters.Count > 0)
        {
            await InsertParamsAsync(session, runId, parameters, existing, cancellationToken).ConfigureAwait(false);
        }

        if (metrics.Count > 0)
        {
            await InsertMetricsAsync(session, runId, metrics, cancellationToken).ConfigureAwait(false);
        }

        if (tags.Count > 0)
        {
            await UpsertRunTagsAsync(session, runId, DedupeLastWins(tags), deferred: true, cancellationToken).ConfigureAwait(false);
        }

        await session.CommitAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task DeleteTagAsync(string runId, string key, CancellationToken cancellationToken)
    {
        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        await LockActiveRunAsync(session, runId, cancellationToken).ConfigureAwait(false);
        if (await ExecuteAsync(session, "DELETE FROM tags WHERE run_uuid = @id AND key = @key", cancellationToken, ("@id", runId), ("@key", key)).ConfigureAwait(false) == 0)
        {
            throw TrackingException.NotFound($"No tag with name: {key} in run with id {runId}");
        }

        await session.CommitAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task LogInputsAsync(string runId, IReadOnlyList<DatasetInput> datasets, IReadOnlyList<ModelReference> models, CancellationToken cancellationToken)
    {
        datasets ??= [];
        models ??= [];
        Validation.ValidateDatasetInputs(datasets);
        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        var experimentId = await LockActiveRunAsync(session, runId, cancellationToken).ConfigureAwait(false);

        var seen = new HashSet<(string, string)>();
        foreach (var input in datasets)
        {
            var d = input.Dataset;
            if (!seen.Add((d.Name, d.Digest)))
            {
                continue;
            }

            {
                var upsert = session.Command(
                    "INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, dataset_source_type, dataset_source, dataset_schema, dataset_profile) " +
                    "VALUES (@uuid, @experiment, @name, @digest, @sourceType, @source, @schema, @profile) ON CONFLICT (experiment_id, name, digest) DO NOTHING");
                await using var upsertScope = upsert.ConfigureAwait(false);
                upsert.Add("@uuid", Guid.NewGuid().ToString("N"));
                upsert.Add("@experiment", experimentId);
                upsert.Add("@name", d.Name);
                upsert.Add("@digest", d.Digest);
                upsert.Add("@sourceType", d.SourceType ?? string.Empty);
                upsert.Add("@source", d.Source ?? string.Empty);
                upsert.Add("@schema", d.Schema);
                upsert.Add("@profile", d.Profile);
                await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            string datasetUuid;
            {
                var select = session.Command("SELECT dataset_uuid FROM datasets WHERE experiment_id = @experiment AND name = @name AND digest = @digest");
                await using var selectScope = select.ConfigureAwait(false);
                select.Add("@experiment", experimentId);
                select.Add("@name", d.Name);
                select.Add("@digest", d.Digest);
                datasetUuid = (string)(await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            }

            var inputUuid = Guid.NewGuid().ToString("N");
            {
                var link = session.Command(
                    "INSERT INTO inputs (input_uuid, source_type, source_id, destination_type, destination_id, step) " +
                    "VALUES (@uuid, 'DATASET', @dataset, 'RUN', @run, 0) ON CONFLICT (source_type, source_id, destination_type, destination_id) DO NOTHING");
                await using var linkScope = link.ConfigureAwait(false);
                link.Add("@uuid", inputUuid);
                link.Add("@dataset", datasetUuid);
                link.Add("@run", runId);
                if (await link.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
                {
                    // Already linked: MLflow keeps the first link and its tags.
                    continue;
                }
            }

            await _db.InsertAsync(
                session,
                KeyValueBatch("input_tags", "input_uuid", inputUuid, DedupeLastWins(input.Tags ?? []), keyColumn: "name"),
                string.Empty,
                cancellationToken).ConfigureAwait(false);
        }

        if (models.Count > 0)
        {
            await InsertModelLinksAsync(session, runId, models, "RUN_INPUT", "MODEL_INPUT", cancellationToken).ConfigureAwait(false);
        }

        await session.CommitAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task LogOutputsAsync(string runId, IReadOnlyList<ModelReference> models, CancellationToken cancellationToken)
    {
        models ??= [];
        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        await LockActiveRunAsync(session, runId, cancellationToken).ConfigureAwait(false);
        await InsertModelLinksAsync(session, runId, models, "RUN_OUTPUT", "MODEL_OUTPUT", cancellationToken).ConfigureAwait(false);
        await session.CommitAsync().ConfigureAwait(false);
    }

    private static TrackingException RunNotFound(string runId) => TrackingException.NotFound($"Run with id={runId} not found");

    private static RunInfo ReadRunInfo(DbDataReader reader) => new(
        reader.GetString(0),
        IdString(reader.GetInt64(1)),
        reader.GetString(2),
        reader.GetString(3),
        reader.GetString(4),
        reader.GetInt64(5),
        reader.GetNullableInt64(6),
        reader.GetString(7),
        reader.GetString(8));

    private async Task InsertModelLinksAsync(WriteSession session, string runId, IReadOnlyList<ModelReference> models, string sourceType, string destinationType, CancellationToken cancellationToken)
    {
        var latest = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var model in models)
        {
            latest[model.ModelId] = model.Step;
        }

        var uuids = new string?[latest.Count];
        var modelIds = new string?[latest.Count];
        var steps = new long[latest.Count];
        var i = 0;
        foreach (var (modelId, step) in latest)
        {
            uuids[i] = Guid.NewGuid().ToString("N");
            modelIds[i] = modelId;
            steps[i] = step;
            i++;
        }

        var batch = new ColumnBatch("inputs", latest.Count)
            .Constant("source_type", sourceType)
            .Constant("source_id", runId)
            .Constant("destination_type", destinationType)
            .Column("input_uuid", uuids)
            .Column("destination_id", modelIds)
            .Column("step", steps);
        await _db.InsertAsync(
            session,
            batch,
            "ON CONFLICT (source_type, source_id, destination_type, destination_id) DO UPDATE SET step = excluded.step",
            cancellationToken).ConfigureAwait(false);
    }

    private async Task SetRunLifecycleAsync(string runId, string stage, CancellationToken cancellationToken)
    {
        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        {
            var update = session.Command(
                "UPDATE runs SET lifecycle_stage = @stage, deleted_time = @deleted WHERE run_uuid = @id " +
                "AND experiment_id IN (SELECT experiment_id FROM experiments WHERE workspace_id = @ws)");
            await using var updateScope = update.ConfigureAwait(false);
            update.Add("@stage", stage);
            update.Add("@deleted", stage == LifecycleStage.Deleted ? Now() : null);
            update.Add("@id", runId);
            update.Add("@ws", _workspaceId);
            if (await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                throw RunNotFound(runId);
            }
        }

        await session.CommitAsync().ConfigureAwait(false);
    }

    private string LockRunSql =>
        "SELECT r.lifecycle_stage, r.experiment_id FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id " +
        $"WHERE r.run_uuid = @id AND e.workspace_id = @ws{_db.ForUpdateOf("r")}";

    private static void CheckRunIsActive(string runId, string? stage)
    {
        if (stage is null)
        {
            throw RunNotFound(runId);
        }

        if (stage != LifecycleStage.Active)
        {
            throw TrackingException.Invalid($"The run {runId} must be in the 'active' state. Current state is {stage}.");
        }
    }

    /// <summary>Locks the run's row for the rest of the transaction (serializing writers of one run) and checks it is active; returns its experiment id.</summary>
    private async Task<long> LockActiveRunAsync(WriteSession session, string runId, CancellationToken cancellationToken)
    {
        var select = session.Command(LockRunSql);
        await using (select.ConfigureAwait(false))
        {
            select.Add("@id", runId);
            select.Add("@ws", _workspaceId);
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                var found = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                CheckRunIsActive(runId, found ? reader.GetString(0) : null);
                return reader.GetInt64(1);
            }
        }
    }

    /// <summary>Locks the run (see <see cref="LockActiveRunAsync"/>) and returns the values of those of <paramref name="parameters"/> it already has.</summary>
    private async Task<Dictionary<string, string>> LockRunAndReadParamsAsync(
        WriteSession session, string runId, IReadOnlyList<KeyValue> parameters, CancellationToken cancellationToken)
    {
        var existing = new Dictionary<string, string>(StringComparer.Ordinal);
        var select = session.Command(
            LockRunSql + (parameters.Count > 0 ? $";\nSELECT key, value FROM params WHERE run_uuid = @id AND {_db.InArray("key", "@keys")}" : string.Empty));
        await using (select.ConfigureAwait(false))
        {
            select.Add("@id", runId);
            select.Add("@ws", _workspaceId);
            if (parameters.Count > 0)
            {
                _db.AddArray(select, "@keys", parameters.Select(p => p.Key).ToArray());
            }

            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                CheckRunIsActive(runId, await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? reader.GetString(0) : null);
                if (parameters.Count > 0)
                {
                    await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        existing[reader.GetString(0)] = reader.GetString(1);
                    }
                }
            }
        }

        return existing;
    }

    private async Task InsertParamsAsync(
        WriteSession session, string runId, IReadOnlyList<KeyValue> parameters, Dictionary<string, string> existing, CancellationToken cancellationToken)
    {
        var fresh = new List<KeyValue>(parameters.Count);
        foreach (var p in parameters)
        {
            if (!existing.TryGetValue(p.Key, out var old))
            {
                fresh.Add(p);
            }
            else if (old != p.Value)
            {
                throw TrackingException.Invalid(
                    $"Changing param values is not allowed. Param with key='{p.Key}' was already logged with value='{old}' " +
                    $"for run ID='{runId}'. Attempted logging new value '{p.Value}'.");
            }
        }

        await _db.InsertAsync(session, KeyValueBatch("params", "run_uuid", runId, fresh), "ON CONFLICT DO NOTHING", cancellationToken, deferred: true).ConfigureAwait(false);
    }

    private async Task InsertMetricsAsync(WriteSession session, string runId, IReadOnlyList<Metric> metrics, CancellationToken cancellationToken)
    {
        var n = metrics.Count;
        var keys = new string?[n];
        var values = new double[n];
        var timestamps = new long[n];
        var steps = new long[n];
        var nans = new bool[n];
        var modelIds = new string?[n];
        var datasetNames = new string?[n];
        var datasetDigests = new string?[n];
        var latest = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < n; i++)
        {
            var m = metrics[i];
            keys[i] = m.Key;
            nans[i] = double.IsNaN(m.Value);
            values[i] = nans[i] ? 0 : m.Value;
            timestamps[i] = m.Timestamp;
            steps[i] = m.Step;
            modelIds[i] = m.ModelId;
            datasetNames[i] = m.DatasetName;
            datasetDigests[i] = m.DatasetDigest;
            if (!latest.TryGetValue(m.Key, out var best) || IsNewer(steps[i], timestamps[i], values[i], steps[best], timestamps[best], values[best]))
            {
                latest[m.Key] = i;
            }
        }

        var history = new ColumnBatch("metrics", n)
            .Constant("run_uuid", runId)
            .Column("key", keys)
            .Column("value", values)
            .Column("timestamp", timestamps)
            .Column("step", steps)
            .Column("is_nan", nans)
            .Column("model_id", modelIds)
            .Column("dataset_name", datasetNames)
            .Column("dataset_digest", datasetDigests);

        // Identical (key, step, timestamp, value) entries are stored once, as MLflow's primary key does.
        await _db.InsertAsync(session, history, "ON CONFLICT DO NOTHING", cancellationToken, deferred: true).ConfigureAwait(false);
        await InsertLoggedModelMetricsAsync(session, runId, metrics, keys, values, nans, cancellationToken).ConfigureAwait(false);

        var count = latest.Count;
        var latestKeys = new string?[count];
        var latestValues = new double[count];
        var latestTimestamps = new long[count];
        var latestSteps = new long[count];
        var latestNans = new bool[count];
        var j = 0;
        foreach (var i in latest.Values)
        {
            latestKeys[j] = keys[i];
            latestValues[j] = values[i];
            latestTimestamps[j] = timestamps[i];
            latestSteps[j] = steps[i];
            latestNans[j] = nans[i];
            j++;
        }

        var latestBatch = new ColumnBatch("latest_metrics", count)
            .Constant("run_uuid", runId)
            .Column("key", latestKeys)
            .Column("value", latestValues)
            .Column("timestamp", latestTimestamps)
            .Column("step", latestSteps)
            .Column("is_nan", latestNans);

        // MLflow's rule: a value becomes the latest when (step, timestamp, value) is strictly greater; NaN compares as 0.
        await _db.InsertAsync(
            session,
            latestBatch,
            "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp, step = excluded.step, is_nan = excluded.is_nan " +
            "WHERE (excluded.step, excluded.timestamp, excluded.value) > (latest_metrics.step, latest_metrics.timestamp, latest_metrics.value)",
            cancellationToken,
            deferred: true).ConfigureAwait(false);
    }

    /// <summary>Records the values that carry a model id as that logged model's metrics (MLflow 3).</summary>
    private async Task InsertLoggedModelMetricsAsync(WriteSession session, string runId, IReadOnlyList<Metric> metrics, string?[] keys, double[] values, bool[] nans, CancellationToken cancellationToken)
    {
        var rows = new List<int>();
        for (var i = 0; i < metrics.Count; i++)
        {
            if (metrics[i].ModelId is not null)
            {
                rows.Add(i);
            }
        }

        if (rows.Count == 0)
        {
            return;
        }

        var batch = new ColumnBatch("logged_model_metrics", rows.Count)
            .Constant("run_uuid", runId)
            .Column("model_id", rows.Select(i => metrics[i].ModelId).ToArray())
            .Column("key", rows.Select(i => keys[i]).ToArray())
            .Column("value", rows.Select(i => values[i]).ToArray())
            .Column("timestamp", rows.Select(i => metrics[i].Timestamp).ToArray())
            .Column("step", rows.Select(i => metrics[i].Step).ToArray())
            .Column("is_nan", rows.Select(i => nans[i]).ToArray())
            .Column("dataset_name", rows.Select(i => metrics[i].DatasetName).ToArray())
            .Column("dataset_digest", rows.Select(i => metrics[i].DatasetDigest).ToArray());
        await _db.InsertAsync(session, batch, "ON CONFLICT DO NOTHING", cancellationToken, deferred: true).ConfigureAwait(false);
    }

    private static bool IsNewer(long step, long timestamp, double value, long otherStep, long otherTimestamp, double otherValue) =>
        step != otherStep ? step > otherStep : timestamp != otherTimestamp ? timestamp > otherTimestamp : value > otherValue;

    private async Task UpsertRunTagsAsync(WriteSession session, string runId, IReadOnlyList<KeyValue> tags, bool deferred, CancellationToken cancellationToken)
    {
        await _db.InsertAsync(
            session,
            KeyValueBatch("tags", "run_uuid", runId, tags),
            "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value",
            cancellationToken,
            deferred).ConfigureAwait(false);
        var name = tags.LastOrDefault(t => t.Key == RunNameTag);
        if (name is not null)
        {
            await session.QueueAsync(
                "UPDATE runs SET name = @name WHERE run_uuid = @id",
                [_db.Parameter("@name", name.Value), _db.Parameter("@id", runId)],
                cancellationToken).ConfigureAwait(false);
            if (!deferred)
            {
                await session.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Loads latest metrics, params, tags, inputs and outputs of a page of runs: one statement per child table for the whole page.</summary>
    private async Task<List<Run>> LoadRunDataAsync(DbConnection connection, IReadOnlyList<RunInfo> infos, CancellationToken cancellationToken)
    {
        var result = new List<Run>(infos.Count);
        if (infos.Count == 0)
        {
            return result;
        }

        var index = new Dictionary<string, int>(infos.Count, StringComparer.Ordinal);
        var metrics = new List<Metric>[infos.Count];
        var parameters = new List<KeyValue>[infos.Count];
        var tags = new List<KeyValue>[infos.Count];
        var datasets = new List<(string InputUuid, Dataset Dataset)>[infos.Count];
        var modelInputs = new List<ModelReference>[infos.Count];
        var modelOutputs = new List<ModelReference>[infos.Count];
        for (var i = 0; i < infos.Count; i++)
        {
            index[infos[i].RunId] = i;
            metrics[i] = [];
            parameters[i] = [];
            tags[i] = [];
            datasets[i] = [];
            modelInputs[i] = [];
            modelOutputs[i] = [];
        }

        var inputTags = new Dictionary<string, List<KeyValue>>(StringComparer.Ordinal);
        var ids = _db.InArray("run_uuid", "@ids");
        var command = connection.Command(
            $"SELECT run_uuid, key, value, timestamp, step, is_nan FROM latest_metrics WHERE {ids} ORDER BY seq;\n" +
            $"SELECT run_uuid, key, value FROM params WHERE {ids} ORDER BY seq;\n" +
            $"SELECT run_uuid, key, value FROM tags WHERE {ids} ORDER BY seq;\n" +
            "SELECT i.destination_id, i.input_uuid, d.name, d.digest, d.dataset_source_type, d.dataset_source, d.dataset_schema, d.dataset_profile " +
            "FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id " +
            $"WHERE i.source_type = 'DATASET' AND i.destination_type = 'RUN' AND {_db.InArray("i.destination_id", "@ids")} ORDER BY i.seq;\n" +
            "SELECT t.input_uuid, t.name, t.value FROM input_tags t JOIN inputs i ON i.input_uuid = t.input_uuid " +
            $"WHERE i.source_type = 'DATASET' AND i.destination_type = 'RUN' AND {_db.InArray("i.destination_id", "@ids")} ORDER BY t.seq;\n" +
            "SELECT source_id, source_type, destination_id, step FROM inputs " +
            $"WHERE source_type IN ('RUN_INPUT', 'RUN_OUTPUT') AND {_db.InArray("source_id", "@ids")} ORDER BY seq");
        await using var commandScope = command.ConfigureAwait(false);
        _db.AddArray(command, "@ids", index.Keys);
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                metrics[index[reader.GetString(0)]].Add(new Metric(reader.GetString(1), reader.GetMetricValue(2, 5), reader.GetInt64(3), reader.GetInt64(4)));
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                parameters[index[reader.GetString(0)]].Add(new KeyValue(reader.GetString(1), reader.GetString(2)));
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                tags[index[reader.GetString(0)]].Add(new KeyValue(reader.GetString(1), reader.GetString(2)));
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                datasets[index[reader.GetString(0)]].Add((reader.GetString(1), new Dataset(
                    reader.GetString(2),
                    reader.GetString(3),
                    reader.GetString(4),
                    reader.GetString(5),
                    reader.GetNullableString(6),
                    reader.GetNullableString(7))));
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var inputUuid = reader.GetString(0);
                if (!inputTags.TryGetValue(inputUuid, out var list))
                {
                    inputTags[inputUuid] = list = [];
                }

                list.Add(new KeyValue(reader.GetString(1), reader.GetString(2)));
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var i = index[reader.GetString(0)];
                var reference = new ModelReference(reader.GetString(2), reader.GetInt64(3));
                (reader.GetString(1) == "RUN_INPUT" ? modelInputs[i] : modelOutputs[i]).Add(reference);
            }
        }

        for (var i = 0; i < infos.Count; i++)
        {
            var datasetInputs = datasets[i]
                .Select(d => new DatasetInput(d.Dataset, inputTags.TryGetValue(d.InputUuid, out var t) ? t : []))
                .ToList();
            result.Add(new Run(
                infos[i],
                new RunData(metrics[i], parameters[i], tags[i]),
                datasetInputs.Count == 0 && modelInputs[i].Count == 0 ? s_noInputs : new RunInputs(datasetInputs, modelInputs[i]),
                modelOutputs[i].Count == 0 ? s_noOutputs : new RunOutputs(modelOutputs[i])));
        }

        return result;
    }
}
