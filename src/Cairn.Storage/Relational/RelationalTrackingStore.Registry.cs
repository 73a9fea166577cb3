using System.Data.Common;
using System.Globalization;
using Cairn.Core.Registry;
using Cairn.Core.Tracking;

namespace Cairn.Storage.Relational;

internal sealed partial class RelationalTrackingStore
{
    private const string StageNone = "None";
    private const string StageDeletedInternal = "Deleted_Internal";
    private const string VersionStatusReady = "READY";

    private const string VersionColumns =
        "mv.version, mv.creation_time, mv.last_updated_time, mv.current_stage, mv.description, mv.source, mv.run_id, mv.model_id, mv.status, mv.run_link";

    /// <inheritdoc />
    public async Task<RegisteredModel> CreateRegisteredModelAsync(string name, string? description, IReadOnlyList<KeyValue> tags, CancellationToken cancellationToken)
    {
        Validation.ValidateRegisteredModelName(name);
        tags = DedupeLastWins(tags ?? []);
        foreach (var tag in tags)
        {
            Validation.ValidateRegistryTag(tag);
        }

        var now = Now();
        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        long id;
        try
        {
            var insert = session.Command(
                "INSERT INTO registered_models (workspace_id, name, creation_time, last_updated_time, description) " +
                "VALUES (@ws, @name, @now, @now, @description) RETURNING registered_model_id");
            await using var insertScope = insert.ConfigureAwait(false);
            insert.Add("@ws", _workspaceId);
            insert.Add("@name", name);
            insert.Add("@now", now);
            insert.Add("@description", description);
            id = await ExecuteScalarInt64Async(insert, cancellationToken).ConfigureAwait(false);
        }
        catch (DbException e) when (_db.IsUniqueViolation(e))
        {
            throw new TrackingException(TrackingErrorCode.ResourceAlreadyExists, $"Registered Model (name={name}) already exists.", e);
        }

        await _db.InsertAsync(session, KeyValueBatch("registered_model_tags", "registered_model_id", id, tags), string.Empty, cancellationToken).ConfigureAwait(false);
        await session.CommitAsync().ConfigureAwait(false);
        return new RegisteredModel(name, now, now, description, tags.OrderBy(t => t.Key, StringComparer.Ordinal).ToList(), [], []);
    }

    /// <inheritdoc />
    public async Task<RegisteredModel> GetRegisteredModelAsync(string name, CancellationToken cancellationToken)
    {
        Validation.ValidateRegisteredModelName(name);
        var connection = await _db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        long id;
        long created;
        long updated;
        string? description;
        {
            var select = connection.Command(
                "SELECT registered_model_id, creation_time, last_updated_time, description FROM registered_models WHERE workspace_id = @ws AND name = @name");
            await using var selectScope = select.ConfigureAwait(false);
            select.Add("@ws", _workspaceId);
            select.Add("@name", name);
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw RegisteredModelNotFound(name);
            }

            (id, created, updated, description) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetNullableString(3));
        }

        var tags = new List<KeyValue>();
        var aliases = new List<KeyValue>();
        var latest = new List<long>();
        {
            var select = connection.Command(
                $"SELECT key, value FROM registered_model_tags WHERE registered_model_id = @id ORDER BY key{_db.OrderCollation};\n" +
                $"SELECT alias, version FROM registered_model_aliases WHERE registered_model_id = @id ORDER BY alias{_db.OrderCollation};\n" +
                // MLflow's latest_versions: the highest version of each stage, stages in the order they first appear.
                "SELECT MAX(version) FROM model_versions WHERE registered_model_id = @id AND current_stage <> @deleted " +
                "GROUP BY current_stage ORDER BY MIN(version)");
            await using var selectScope = select.ConfigureAwait(false);
            select.Add("@id", id);
            select.Add("@deleted", StageDeletedInternal);
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                tags.Add(new KeyValue(reader.GetString(0), reader.GetString(1)));
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                aliases.Add(new KeyValue(reader.GetString(0), reader.GetInt64(1).ToString(CultureInfo.InvariantCulture)));
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                latest.Add(reader.GetInt64(0));
            }
        }

        var versions = await QueryModelVersionsAsync(connection, null, name, id, latest, cancellationToken).ConfigureAwait(false);
        var ordered = latest.Select(v => versions.First(mv => mv.Version == v.ToString(CultureInfo.InvariantCulture))).ToList();
        return new RegisteredModel(name, created, updated, description, tags, ordered, aliases);
    }

    /// <inheritdoc />
    public async Task<ModelVersion> CreateModelVersionAsync(NewModelVersion version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        Validation.ValidateRegisteredModelName(version.Name);
        var tags = DedupeLastWins(version.Tags ?? []);
        foreach (var tag in tags)
        {
            Validation.ValidateRegistryTag(tag);
        }

        var now = Now();
        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);

        // Locking the registered model serializes version numbering per model.
        long registeredModelId;
        {
            var select = session.Command(
                $"SELECT registered_model_id FROM registered_models WHERE workspace_id = @ws AND name = @name{_db.ForUpdate}");
            await using var selectScope = select.ConfigureAwait(false);
            select.Add("@ws", _workspaceId);
            select.Add("@name", version.Name);
            registeredModelId = await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is { } value and not DBNull
                ? Convert.ToInt64(value, CultureInfo.InvariantCulture)
                : throw RegisteredModelNotFound(version.Name);
        }

        var runId = string.IsNullOrEmpty(version.RunId) ? null : version.RunId;
        string? modelVersionsTag = null;
        if (!string.IsNullOrEmpty(version.ModelId))
        {
            var select = session.Command(
                "SELECT lm.source_run_id, (SELECT t.value FROM logged_model_tags t WHERE t.model_id = lm.model_id AND t.key = @tag) " +
                "FROM logged_models lm JOIN experiments e ON e.experiment_id = lm.experiment_id " +
                $"WHERE lm.model_id = @id AND e.workspace_id = @ws AND lm.lifecycle_stage = 'active'{_db.ForUpdateOf("lm")}");
            await using var selectScope = select.ConfigureAwait(false);
            select.Add("@tag", ModelVersionsTag);
            select.Add("@id", version.ModelId);
            select.Add("@ws", _workspaceId);
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw LoggedModelNotFound(version.ModelId);
            }

            runId ??= reader.GetNullableString(0);
            modelVersionsTag = reader.GetNullableString(1);
        }

        long number;
        {
            var next = session.Command("SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE registered_model_id = @id");
            await using var nextScope = next.ConfigureAwait(false);
            next.Add("@id", registeredModelId);
            number = await ExecuteScalarInt64Async(next, cancellationToken).ConfigureAwait(false);
        }

        {
            var insert = session.Command(
                "INSERT INTO model_versions (registered_model_id, version, creation_time, last_updated_time, description, user_id, current_stage, " +
                "source, storage_location, run_id, run_link, model_id, status, status_message) " +
                "VALUES (@id, @version, @now, @now, @description, NULL, @stage, @source, NULL, @run, @link, @model, @status, NULL)");
            await using var insertScope = insert.ConfigureAwait(false);
            insert.Add("@id", registeredModelId);
            insert.Add("@version", number);
            insert.Add("@now", now);
            insert.Add("@description", version.Description ?? string.Empty);
            insert.Add("@stage", StageNone);
            insert.Add("@source", version.Source ?? string.Empty);
            insert.Add("@run", runId);
            insert.Add("@link", version.RunLink ?? string.Empty);
            insert.Add("@model", string.IsNullOrEmpty(version.ModelId) ? null : version.ModelId);
            insert.Add("@status", VersionStatusReady);
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        if (tags.Count > 0)
        {
            var batch = KeyValueBatch("model_version_tags", "registered_model_id", registeredModelId, tags).Constant("version", number);
            await _db.InsertAsync(session, batch, string.Empty, cancellationToken).ConfigureAwait(false);
        }

        {
            var touch = session.Command("UPDATE registered_models SET last_updated_time = @now WHERE registered_model_id = @id");
            await using var touchScope = touch.ConfigureAwait(false);
            touch.Add("@now", now);
            touch.Add("@id", registeredModelId);
            await touch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        if (!string.IsNullOrEmpty(version.ModelId))
        {
            var value = PythonJson.AppendModelVersion(modelVersionsTag, version.Name, number);
            await _db.InsertAsync(
                session,
                KeyValueBatch("logged_model_tags", "model_id", version.ModelId, [new KeyValue(ModelVersionsTag, value)]),
                "ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value",
                cancellationToken).ConfigureAwait(false);
        }

        var created = await QueryModelVersionsAsync(session.Connection, session.Transaction, version.Name, registeredModelId, [number], cancellationToken).ConfigureAwait(false);
        await session.CommitAsync().ConfigureAwait(false);
        return created[0];
    }

    /// <inheritdoc />
    public async Task<ModelVersion> GetModelVersionAsync(string name, string version, CancellationToken cancellationToken)
    {
        Validation.ValidateRegisteredModelName(name);
        if (!long.TryParse(version, NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite, CultureInfo.InvariantCulture, out var number))
        {
            throw TrackingException.Invalid($"Model version must be an integer, got '{version}'");
        }

        var connection = await _db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        long? registeredModelId;
        {
            var select = connection.Command("SELECT registered_model_id FROM registered_models WHERE workspace_id = @ws AND name = @name");
            await using var selectScope = select.ConfigureAwait(false);
            select.Add("@ws", _workspaceId);
            select.Add("@name", name);
            registeredModelId = await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is { } value and not DBNull
                ? Convert.ToInt64(value, CultureInfo.InvariantCulture)
                : null;
        }

        if (registeredModelId is not null)
        {
            var versions = await QueryModelVersionsAsync(connection, null, name, registeredModelId.Value, [number], cancellationToken).ConfigureAwait(false);
            if (versions.Count == 1 && versions[0].CurrentStage != StageDeletedInternal)
            {
                return versions[0];
            }
        }

        throw TrackingException.NotFound($"Model Version (name={name}, version={version}) not found");
    }

    private static TrackingException RegisteredModelNotFound(string name) => TrackingException.NotFound($"Registered Model with name={name} not found");

    private async Task<List<ModelVersion>> QueryModelVersionsAsync(
        DbConnection connection, DbTransaction? transaction, string name, long registeredModelId, IReadOnlyCollection<long> versions, CancellationToken cancellationToken)
    {
        var result = new List<ModelVersion>();
        if (versions.Count == 0)
        {
            return result;
        }

        var rows = new List<(long Version, long Created, long Updated, string Stage, string Description, string Source, string? RunId, string? ModelId, string Status, string RunLink)>();
        var tags = new Dictionary<long, List<KeyValue>>();
        var aliases = new Dictionary<long, List<string>>();
        {
            var select = connection.Command(
                $"SELECT {VersionColumns} FROM model_versions mv WHERE mv.registered_model_id = @id AND {_db.InArray("mv.version", "@versions")} ORDER BY mv.version;\n" +
                $"SELECT version, key, value FROM model_version_tags WHERE registered_model_id = @id AND {_db.InArray("version", "@versions")} ORDER BY version, key{_db.OrderCollation};\n" +
                $"SELECT version, alias FROM registered_model_aliases WHERE registered_model_id = @id AND {_db.InArray("version", "@versions")} ORDER BY version, alias{_db.OrderCollation}");
            await using var selectScope = select.ConfigureAwait(false);
            select.Transaction = transaction;
            select.Add("@id", registeredModelId);
            _db.AddArray(select, "@versions", versions);
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add((reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                    reader.GetNullableString(6), reader.GetNullableString(7), reader.GetString(8), reader.GetString(9)));
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var v = reader.GetInt64(0);
                if (!tags.TryGetValue(v, out var list))
                {
                    tags[v] = list = [];
                }

                list.Add(new KeyValue(reader.GetString(1), reader.GetString(2)));
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var v = reader.GetInt64(0);
                if (!aliases.TryGetValue(v, out var list))
                {
                    aliases[v] = list = [];
                }

                list.Add(reader.GetString(1));
            }
        }

        foreach (var r in rows)
        {
            result.Add(new ModelVersion(
                name,
                r.Version.ToString(CultureInfo.InvariantCulture),
                r.Created,
                r.Updated,
                r.Stage,
                r.Description,
                r.Source,
                r.RunId,
                r.ModelId,
                r.Status,
                r.RunLink,
                tags.TryGetValue(r.Version, out var t) ? t : [],
                aliases.TryGetValue(r.Version, out var a) ? a : []));
        }

        return result;
    }
}
