using Cairn.Core.Tracking.Search;
using System.Data.Common;
using Cairn.Core.Tracking;

namespace Cairn.Storage.Relational;

internal sealed partial class RelationalTrackingStore
{
    private const string LoggedModelColumns =
        "lm.model_id, lm.experiment_id, lm.name, lm.artifact_location, lm.status, lm.status_message, lm.model_type, lm.source_run_id, " +
        "lm.creation_timestamp_ms, lm.last_updated_timestamp_ms, lm.lifecycle_stage";

    /// <inheritdoc />
    public async Task<LoggedModel> CreateLoggedModelAsync(NewLoggedModel model, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        Validation.ValidateLoggedModelName(model.Name);
        var parameters = DedupeLastWins(model.Params ?? []);
        var tags = DedupeLastWins(model.Tags ?? []);

        if (!TryParseId(model.ExperimentId, out var experimentId))
        {
            throw ExperimentNotFound(model.ExperimentId);
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
                throw ExperimentNotFound(model.ExperimentId);
            }

            if (reader.GetString(0) != LifecycleStage.Active)
            {
                throw ExperimentNotActive(model.ExperimentId, reader.GetString(0));
            }

            location = reader.GetString(1);
        }

        var now = Now();
        var modelId = "m-" + Guid.NewGuid().ToString("N");
        var created = new LoggedModel(
            modelId,
            IdString(experimentId),
            model.Name ?? RunNameGenerator.Generate(),
            BackendStore.AppendPath(location, "models", modelId, "artifacts"),
            LoggedModelStatus.Pending,
            null,
            model.ModelType ?? string.Empty,
            string.IsNullOrEmpty(model.SourceRunId) ? null : model.SourceRunId,
            now,
            now,
            LifecycleStage.Active,
            tags.OrderBy(t => t.Key, StringComparer.Ordinal).ToList(),
            parameters.OrderBy(p => p.Key, StringComparer.Ordinal).ToList(),
            []);
        {
            var insert = session.Command(
                "INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, creation_timestamp_ms, last_updated_timestamp_ms, " +
                "status, status_message, model_type, source_run_id, lifecycle_stage) " +
                "VALUES (@id, @experiment, @name, @location, @now, @now, @status, NULL, @type, @run, 'active')");
            await using var insertScope = insert.ConfigureAwait(false);
            insert.Add("@id", modelId);
            insert.Add("@experiment", experimentId);
            insert.Add("@name", created.Name);
            insert.Add("@location", created.ArtifactUri);
            insert.Add("@now", now);
            insert.Add("@status", created.Status);
            insert.Add("@type", created.ModelType);
            insert.Add("@run", created.SourceRunId);
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await _db.InsertAsync(session, KeyValueBatch("logged_model_params", "model_id", modelId, parameters), string.Empty, cancellationToken).ConfigureAwait(false);
        await _db.InsertAsync(session, KeyValueBatch("logged_model_tags", "model_id", modelId, tags), string.Empty, cancellationToken).ConfigureAwait(false);
        await session.CommitAsync().ConfigureAwait(false);
        return created;
    }

    /// <inheritdoc />
    public async Task<LoggedModel> GetLoggedModelAsync(string modelId, CancellationToken cancellationToken)
    {
        var connection = await _db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var filter = new SqlFilter(_db);
        filter.Conditions.Add($"lm.model_id = {filter.Parameter(modelId)}");
        filter.Conditions.Add("lm.lifecycle_stage = 'active'");
        var models = await QueryLoggedModelsAsync(connection, null, filter, "lm.model_id", 1, 0, cancellationToken).ConfigureAwait(false);
        return models.Count == 1 ? models[0] : throw LoggedModelNotFound(modelId);
    }

    /// <inheritdoc />
    public async Task<LoggedModel> FinalizeLoggedModelAsync(string modelId, string status, CancellationToken cancellationToken)
    {
        if (status is not (LoggedModelStatus.Ready or LoggedModelStatus.Failed))
        {
            throw TrackingException.Invalid(
                $"Invalid logged model status '{status}'. A logged model can only be finalized with status " +
                $"{LoggedModelStatus.Ready} or {LoggedModelStatus.Failed}.");
        }

        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        await LockLoggedModelAsync(session, modelId, cancellationToken).ConfigureAwait(false);
        {
            var update = session.Command("UPDATE logged_models SET status = @status, last_updated_timestamp_ms = @now WHERE model_id = @id");
            await using var updateScope = update.ConfigureAwait(false);
            update.Add("@status", status);
            update.Add("@now", Now());
            update.Add("@id", modelId);
            await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        var filter = new SqlFilter(_db);
        filter.Conditions.Add($"lm.model_id = {filter.Parameter(modelId)}");
        var models = await QueryLoggedModelsAsync(session.Connection, session.Transaction, filter, "lm.model_id", 1, 0, cancellationToken).ConfigureAwait(false);
        await session.CommitAsync().ConfigureAwait(false);
        return models[0];
    }

    /// <inheritdoc />
    public async Task DeleteLoggedModelAsync(string modelId, CancellationToken cancellationToken)
    {
        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        await LockLoggedModelAsync(session, modelId, cancellationToken).ConfigureAwait(false);
        {
            var update = session.Command(
                "UPDATE logged_models SET lifecycle_stage = 'deleted', last_updated_timestamp_ms = @now WHERE model_id = @id");
            await using var updateScope = update.ConfigureAwait(false);
            update.Add("@now", Now());
            update.Add("@id", modelId);
            await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await session.CommitAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task LogLoggedModelParamsAsync(string modelId, IReadOnlyList<KeyValue> parameters, CancellationToken cancellationToken)
    {
        parameters ??= [];
        foreach (var param in parameters)
        {
            Validation.ValidateParam(param);
        }

        Validation.ValidateParamKeysUnique(parameters);
        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        await LockLoggedModelAsync(session, modelId, cancellationToken).ConfigureAwait(false);
        if (parameters.Count == 0)
        {
            return;
        }

        {
            var select = session.Command($"SELECT key, value FROM logged_model_params WHERE model_id = @id AND {_db.InArray("key", "@keys")}");
            await using var selectScope = select.ConfigureAwait(false);
            select.Add("@id", modelId);
            _db.AddArray(select, "@keys", parameters.Select(static p => p.Key).ToList());
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            var wanted = parameters.ToDictionary(static p => p.Key, static p => p.Value, StringComparer.Ordinal);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var key = reader.GetString(0);
                var value = reader.GetString(1);
                if (wanted[key] != value)
                {
                    throw TrackingException.Invalid(
                        $"Changing param values is not allowed. Param with key='{key}' was already logged with value='{value}' for logged model ID='{modelId}'. Attempted logging new value '{wanted[key]}'.");
                }
            }
        }

        await _db.InsertAsync(session, KeyValueBatch("logged_model_params", "model_id", modelId, parameters), "ON CONFLICT DO NOTHING", cancellationToken).ConfigureAwait(false);
        await session.CommitAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task SetLoggedModelTagsAsync(string modelId, IReadOnlyList<KeyValue> tags, CancellationToken cancellationToken)
    {
        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        await LockLoggedModelAsync(session, modelId, cancellationToken).ConfigureAwait(false);
        await _db.InsertAsync(
            session,
            KeyValueBatch("logged_model_tags", "model_id", modelId, DedupeLastWins(tags ?? [])),
            "ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value",
            cancellationToken).ConfigureAwait(false);
        await session.CommitAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task DeleteLoggedModelTagAsync(string modelId, string key, CancellationToken cancellationToken)
    {
        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        await LockLoggedModelAsync(session, modelId, cancellationToken).ConfigureAwait(false);
        if (await ExecuteAsync(session, "DELETE FROM logged_model_tags WHERE model_id = @id AND key = @key", cancellationToken, ("@id", modelId), ("@key", key)).ConfigureAwait(false) == 0)
        {
            throw TrackingException.NotFound($"No tag with key '{key}' found for model with ID '{modelId}'.");
        }

        await session.CommitAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<Page<LoggedModel>> SearchLoggedModelsAsync(LoggedModelQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ValidateMaxResults(query.MaxResults);
        var offset = PageToken.ParseOffset(query.PageToken);
        var experimentIds = (query.ExperimentIds ?? []).Select(id => TryParseId(id, out var v) ? v : -1).Where(v => v >= 0).Distinct().ToArray();
        if (experimentIds.Length == 0)
        {
            return new Page<LoggedModel>([], null);
        }

        var filter = new SqlFilter(_db);
        filter.Conditions.Add(_db.InArray("lm.experiment_id", filter.IntArray(experimentIds)));
        filter.Conditions.Add("lm.lifecycle_stage = 'active'");
        foreach (var clause in query.Filter.Clauses)
        {
            filter.Conditions.Add(LoggedModelCondition(filter, clause));
        }

        var connection = await _db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var models = await QueryLoggedModelsAsync(
            connection, null, filter, "lm.creation_timestamp_ms DESC, lm.model_id" + _db.OrderCollation, query.MaxResults + 1, offset, cancellationToken).ConfigureAwait(false);
        if (models.Count > query.MaxResults)
        {
            models.RemoveAt(models.Count - 1);
            return new Page<LoggedModel>(models, PageToken.Create(offset + query.MaxResults));
        }

        return new Page<LoggedModel>(models, null);
    }

    private static string LoggedModelCondition(SqlFilter filter, Comparison clause) => clause.Kind switch
    {
        EntityKind.Attribute => clause.Key switch
        {
            "name" => filter.CompareText("lm.name", clause),
            "model_id" => filter.CompareText("lm.model_id", clause),
            "model_type" => filter.CompareText("lm.model_type", clause),
            "status" => filter.CompareText("lm.status", clause),
            "source_run_id" => filter.CompareText("lm.source_run_id", clause),
            "creation_timestamp" => filter.CompareNumber("lm.creation_timestamp_ms", clause, integral: true),
            "last_updated_timestamp" => filter.CompareNumber("lm.last_updated_timestamp_ms", clause, integral: true),
            _ => throw TrackingException.Invalid($"Invalid attribute key '{clause.Key}' for logged models."),
        },
        EntityKind.Tag => $"lm.model_id IN (SELECT t.model_id FROM logged_model_tags t WHERE t.key = {filter.Parameter(clause.Key)} AND {filter.CompareText("t.value", clause)})",
        EntityKind.Param => $"lm.model_id IN (SELECT p.model_id FROM logged_model_params p WHERE p.key = {filter.Parameter(clause.Key)} AND {filter.CompareText("p.value", clause)})",
        EntityKind.Metric =>
            $"lm.model_id IN (SELECT m.model_id FROM logged_model_metrics m WHERE m.key = {filter.Parameter(clause.Key)} AND m.is_nan = FALSE AND {filter.CompareNumber("m.value", clause, integral: false)})",
        _ => throw TrackingException.Invalid($"Logged models cannot be filtered by '{clause.Kind}'."),
    };

    private static TrackingException LoggedModelNotFound(string modelId) => TrackingException.NotFound($"Logged model with ID '{modelId}' not found.");

    private async Task LockLoggedModelAsync(WriteSession session, string modelId, CancellationToken cancellationToken)
    {
        var select = session.Command(
            "SELECT lm.lifecycle_stage FROM logged_models lm JOIN experiments e ON e.experiment_id = lm.experiment_id " +
            $"WHERE lm.model_id = @id AND e.workspace_id = @ws{_db.ForUpdateOf("lm")}");
        await using var selectScope = select.ConfigureAwait(false);
        select.Add("@id", modelId);
        select.Add("@ws", _workspaceId);
        if (await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not string stage || stage != LifecycleStage.Active)
        {
            throw LoggedModelNotFound(modelId);
        }
    }

    private async Task<List<LoggedModel>> QueryLoggedModelsAsync(
        DbConnection connection, DbTransaction? transaction, SqlFilter filter, string orderBy, int limit, long offset, CancellationToken cancellationToken)
    {
        filter.Conditions.Add($"e.workspace_id = {filter.Parameter(_workspaceId)}");
        var rows = new List<LoggedModel>();
        {
            var select = connection.Command(
                $"SELECT {LoggedModelColumns} FROM logged_models lm JOIN experiments e ON e.experiment_id = lm.experiment_id " +
                $"WHERE {filter.Where} ORDER BY {orderBy} LIMIT {limit} OFFSET {offset}");
            await using var selectScope = select.ConfigureAwait(false);
            select.Transaction = transaction;
            filter.ApplyTo(select);
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add(new LoggedModel(
                    reader.GetString(0),
                    IdString(reader.GetInt64(1)),
                    reader.GetString(2),
                    reader.GetString(3),
                    reader.GetString(4),
                    reader.GetNullableString(5),
                    reader.GetString(6),
                    reader.GetNullableString(7),
                    reader.GetInt64(8),
                    reader.GetInt64(9),
                    reader.GetString(10),
                    [],
                    [],
                    []));
            }
        }

        if (rows.Count == 0)
        {
            return rows;
        }

        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var tags = new List<KeyValue>[rows.Count];
        var parameters = new List<KeyValue>[rows.Count];
        var metrics = new List<Metric>[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            index[rows[i].ModelId] = i;
            tags[i] = [];
            parameters[i] = [];
            metrics[i] = [];
        }

        {
            var select = connection.Command(
                $"SELECT model_id, key, value FROM logged_model_tags WHERE {_db.InArray("model_id", "@ids")} ORDER BY model_id, key{_db.OrderCollation};\n" +
                $"SELECT model_id, key, value FROM logged_model_params WHERE {_db.InArray("model_id", "@ids")} ORDER BY model_id, key{_db.OrderCollation};\n" +
                "SELECT model_id, run_uuid, key, value, timestamp, step, is_nan, dataset_name, dataset_digest FROM logged_model_metrics " +
                $"WHERE {_db.InArray("model_id", "@ids")} ORDER BY key{_db.OrderCollation}, step, timestamp, run_uuid{_db.OrderCollation}");
            await using var selectScope = select.ConfigureAwait(false);
            select.Transaction = transaction;
            _db.AddArray(select, "@ids", index.Keys);
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                tags[index[reader.GetString(0)]].Add(new KeyValue(reader.GetString(1), reader.GetString(2)));
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                parameters[index[reader.GetString(0)]].Add(new KeyValue(reader.GetString(1), reader.GetString(2)));
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var modelId = reader.GetString(0);
                metrics[index[modelId]].Add(new Metric(reader.GetString(2), reader.GetMetricValue(3, 6), reader.GetInt64(4), reader.GetInt64(5))
                {
                    RunId = reader.GetString(1),
                    ModelId = modelId,
                    DatasetName = reader.GetNullableString(7),
                    DatasetDigest = reader.GetNullableString(8),
                });
            }
        }

        return rows.Select((m, i) => m with { Tags = tags[i], Params = parameters[i], Metrics = metrics[i] }).ToList();
    }
}
