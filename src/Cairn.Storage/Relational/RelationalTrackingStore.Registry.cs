using System.Data.Common;
using System.Globalization;
using System.Text.RegularExpressions;
using Cairn.Core.Registry;
using Cairn.Core.Tracking;
using Cairn.Core.Tracking.Search;

namespace Cairn.Storage.Relational;

internal sealed partial class RelationalTrackingStore
{
    private const string StageNone = "None";
    private const string StageDeletedInternal = "Deleted_Internal";
    private const string VersionStatusReady = "READY";
    private const int MaxAliasLength = 255;

    /// <summary>MLflow's <c>SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD</c>.</summary>
    private const int RegisteredModelSearchMaxResults = 1000;

    /// <summary>MLflow's <c>SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD</c>.</summary>
    private const int ModelVersionSearchMaxResults = 200_000;

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
        return await LoadRegisteredModelAsync(connection, null, name, cancellationToken).ConfigureAwait(false);
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

        var created = await QueryModelVersionsAsync(session.Connection, session.Transaction, registeredModelId, [number], cancellationToken).ConfigureAwait(false);
        await session.CommitAsync().ConfigureAwait(false);
        return created[0];
    }


    /// <inheritdoc />
    public async Task<ModelVersion> GetModelVersionAsync(string name, string version, CancellationToken cancellationToken)
    {
        Validation.ValidateRegisteredModelName(name);
        var number = ParseVersionNumber(version);
        var connection = await _db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var registeredModelId = await FindRegisteredModelIdAsync(connection, null, name, forUpdate: false, cancellationToken).ConfigureAwait(false);
        if (registeredModelId is not null)
        {
            var versions = await QueryModelVersionsAsync(connection, null, registeredModelId.Value, [number], cancellationToken).ConfigureAwait(false);
            if (versions.Count == 1)
            {
                return versions[0];
            }
        }

        throw ModelVersionNotFound(name, version);
    }

    /// <inheritdoc />
    public async Task<RegisteredModel> RenameRegisteredModelAsync(string name, string newName, CancellationToken cancellationToken)
    {
        Validation.ValidateRegisteredModelName(name);
        Validation.ValidateRegisteredModelName(newName);
        var now = Now();
        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        var id = await LockRegisteredModelAsync(session, name, cancellationToken).ConfigureAwait(false);
        try
        {
            await ExecuteAsync(
                session,
                "UPDATE registered_models SET name = @name, last_updated_time = @now WHERE registered_model_id = @id",
                cancellationToken,
                ("@name", newName),
                ("@now", now),
                ("@id", id)).ConfigureAwait(false);
        }
        catch (DbException e) when (_db.IsUniqueViolation(e))
        {
            throw new TrackingException(TrackingErrorCode.ResourceAlreadyExists, $"Registered Model (name={newName}) already exists.", e);
        }

        // MLflow renames every version too, touching each of them.
        await ExecuteAsync(
            session, "UPDATE model_versions SET last_updated_time = @now WHERE registered_model_id = @id", cancellationToken, ("@now", now), ("@id", id)).ConfigureAwait(false);
        var model = await LoadRegisteredModelAsync(session.Connection, session.Transaction, newName, cancellationToken).ConfigureAwait(false);
        await session.CommitAsync().ConfigureAwait(false);
        return model;
    }

    /// <inheritdoc />
    public async Task<RegisteredModel> UpdateRegisteredModelAsync(string name, string? description, CancellationToken cancellationToken)
    {
        Validation.ValidateRegisteredModelName(name);
        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        var id = await LockRegisteredModelAsync(session, name, cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(
            session,
            "UPDATE registered_models SET description = @description, last_updated_time = @now WHERE registered_model_id = @id",
            cancellationToken,
            ("@description", description),
            ("@now", Now()),
            ("@id", id)).ConfigureAwait(false);
        var model = await LoadRegisteredModelAsync(session.Connection, session.Transaction, name, cancellationToken).ConfigureAwait(false);
        await session.CommitAsync().ConfigureAwait(false);
        return model;
    }

    /// <inheritdoc />
    public async Task DeleteRegisteredModelAsync(string name, CancellationToken cancellationToken)
    {
        Validation.ValidateRegisteredModelName(name);
        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        var id = await LockRegisteredModelAsync(session, name, cancellationToken).ConfigureAwait(false);
        foreach (var table in (string[])["model_version_tags", "registered_model_aliases", "model_versions", "registered_model_tags", "registered_models"])
        {
            await ExecuteAsync(session, $"DELETE FROM {table} WHERE registered_model_id = @id", cancellationToken, ("@id", id)).ConfigureAwait(false);
        }

        await session.CommitAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<Page<RegisteredModel>> SearchRegisteredModelsAsync(RegistryQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ValidateRegistryMaxResults(query.MaxResults, RegisteredModelSearchMaxResults);
        var offset = PageToken.ParseOffset(query.PageToken);
        var filter = new SqlFilter(_db);
        filter.Conditions.Add($"rm.workspace_id = {filter.Parameter(_workspaceId)}");
        foreach (var clause in query.Filter?.Clauses ?? [])
        {
            filter.Conditions.Add(RegisteredModelCondition(filter, clause));
        }

        var orderBy = RegisteredModelOrderBy(query.OrderBy);
        var connection = await _db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var rows = new List<RegisteredModelRow>();
        {
            var select = connection.Command(
                "SELECT rm.registered_model_id, rm.name, rm.creation_time, rm.last_updated_time, rm.description FROM registered_models rm " +
                $"WHERE {filter.Where} ORDER BY {orderBy} LIMIT {query.MaxResults + 1} OFFSET {offset}");
            await using var selectScope = select.ConfigureAwait(false);
            filter.ApplyTo(select);
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add(ReadRegisteredModelRow(reader));
            }
        }

        string? next = null;
        if (rows.Count > query.MaxResults)
        {
            rows.RemoveAt(rows.Count - 1);
            next = PageToken.Create(offset + query.MaxResults);
        }

        var models = await LoadRegisteredModelsAsync(connection, null, rows, cancellationToken).ConfigureAwait(false);
        return new Page<RegisteredModel>(models, next);
    }

    /// <inheritdoc />
    /// <remarks>As MLflow, the latest version of each requested stage that has one; ordered by version number ascending.</remarks>
    public async Task<IReadOnlyList<ModelVersion>> GetLatestVersionsAsync(string name, IReadOnlyList<string> stages, CancellationToken cancellationToken)
    {
        Validation.ValidateRegisteredModelName(name);
        HashSet<string>? wanted = null;
        foreach (var stage in stages ?? [])
        {
            wanted ??= new HashSet<string>(StringComparer.Ordinal);
            wanted.Add(CanonicalStage(stage));
        }

        var model = await GetRegisteredModelAsync(name, cancellationToken).ConfigureAwait(false);
        return model.LatestVersions
            .Where(v => wanted is null || wanted.Contains(v.CurrentStage))
            .OrderBy(v => long.Parse(v.Version, CultureInfo.InvariantCulture))
            .ToList();
    }

    /// <inheritdoc />
    public async Task SetRegisteredModelTagAsync(string name, KeyValue tag, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tag);
        Validation.ValidateRegisteredModelName(name);
        Validation.ValidateRegistryTag(tag);
        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        var id = await LockRegisteredModelAsync(session, name, cancellationToken).ConfigureAwait(false);
        await _db.InsertAsync(
            session,
            KeyValueBatch("registered_model_tags", "registered_model_id", id, [tag]),
            "ON CONFLICT (registered_model_id, key) DO UPDATE SET value = excluded.value",
            cancellationToken).ConfigureAwait(false);
        await session.CommitAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>As MLflow, deleting a tag the model does not have succeeds.</remarks>
    public async Task DeleteRegisteredModelTagAsync(string name, string key, CancellationToken cancellationToken)
    {
        Validation.ValidateRegisteredModelName(name);
        Validation.ValidateRegistryTag(new KeyValue(key, string.Empty));
        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        var id = await LockRegisteredModelAsync(session, name, cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(
            session, "DELETE FROM registered_model_tags WHERE registered_model_id = @id AND key = @key", cancellationToken, ("@id", id), ("@key", key)).ConfigureAwait(false);
        await session.CommitAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task SetAliasAsync(string name, string alias, string version, CancellationToken cancellationToken)
    {
        Validation.ValidateRegisteredModelName(name);
        ValidateAliasName(alias);
        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        var (id, number) = await LockModelVersionAsync(session, name, version, cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(
            session,
            "INSERT INTO registered_model_aliases (registered_model_id, alias, version) VALUES (@id, @alias, @version) " +
            "ON CONFLICT (registered_model_id, alias) DO UPDATE SET version = excluded.version",
            cancellationToken,
            ("@id", id),
            ("@alias", alias),
            ("@version", number)).ConfigureAwait(false);
        await session.CommitAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>As MLflow, deleting an alias the model does not have succeeds.</remarks>
    public async Task DeleteAliasAsync(string name, string alias, CancellationToken cancellationToken)
    {
        Validation.ValidateRegisteredModelName(name);
        ValidateAliasName(alias);
        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        var id = await LockRegisteredModelAsync(session, name, cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(
            session, "DELETE FROM registered_model_aliases WHERE registered_model_id = @id AND alias = @alias", cancellationToken, ("@id", id), ("@alias", alias)).ConfigureAwait(false);
        await session.CommitAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>An unknown alias is INVALID_PARAMETER_VALUE, as MLflow answers (clients match on that code).</remarks>
    public async Task<ModelVersion> GetModelVersionByAliasAsync(string name, string alias, CancellationToken cancellationToken)
    {
        Validation.ValidateRegisteredModelName(name);
        ValidateAliasName(alias);
        var connection = await _db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var id = await FindRegisteredModelIdAsync(connection, null, name, forUpdate: false, cancellationToken).ConfigureAwait(false)
            ?? throw RegisteredModelNotFound(name);
        long number;
        {
            var select = connection.Command("SELECT version FROM registered_model_aliases WHERE registered_model_id = @id AND alias = @alias");
            await using var selectScope = select.ConfigureAwait(false);
            select.Add("@id", id);
            select.Add("@alias", alias);
            number = await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is { } value and not DBNull
                ? Convert.ToInt64(value, CultureInfo.InvariantCulture)
                : throw TrackingException.Invalid($"Registered model alias {alias} not found.");
        }

        var versions = await QueryModelVersionsAsync(connection, null, id, [number], cancellationToken).ConfigureAwait(false);
        return versions.Count == 1 ? versions[0] : throw ModelVersionNotFound(name, IdString(number));
    }

    /// <inheritdoc />
    public async Task<ModelVersion> UpdateModelVersionAsync(string name, string version, string? description, CancellationToken cancellationToken)
    {
        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        var (id, number) = await LockModelVersionAsync(session, name, version, cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(
            session,
            "UPDATE model_versions SET description = @description, last_updated_time = @now WHERE registered_model_id = @id AND version = @version",
            cancellationToken,
            ("@description", description ?? string.Empty),
            ("@now", Now()),
            ("@id", id),
            ("@version", number)).ConfigureAwait(false);
        var updated = await QueryModelVersionsAsync(session.Connection, session.Transaction, id, [number], cancellationToken).ConfigureAwait(false);
        await session.CommitAsync().ConfigureAwait(false);
        return updated[0];
    }

    /// <inheritdoc />
    /// <remarks>
    /// As MLflow, the version row stays behind, redacted and in the internal <c>Deleted_Internal</c> stage, so that its number
    /// is never reused; every read ignores it. Its tags and the aliases pointing at it are deleted.
    /// </remarks>
    public async Task DeleteModelVersionAsync(string name, string version, CancellationToken cancellationToken)
    {
        var now = Now();
        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        var (id, number) = await LockModelVersionAsync(session, name, version, cancellationToken).ConfigureAwait(false);
        foreach (var table in (string[])["model_version_tags", "registered_model_aliases"])
        {
            await ExecuteAsync(
                session, $"DELETE FROM {table} WHERE registered_model_id = @id AND version = @version", cancellationToken, ("@id", id), ("@version", number)).ConfigureAwait(false);
        }

        await ExecuteAsync(
            session,
            "UPDATE model_versions SET current_stage = @stage, last_updated_time = @now, description = '', user_id = NULL, " +
            "source = 'REDACTED-SOURCE-PATH', run_id = NULL, run_link = 'REDACTED-RUN-LINK', model_id = NULL, status_message = NULL " +
            "WHERE registered_model_id = @id AND version = @version",
            cancellationToken,
            ("@stage", StageDeletedInternal),
            ("@now", now),
            ("@id", id),
            ("@version", number)).ConfigureAwait(false);
        await TouchRegisteredModelAsync(session, id, now, cancellationToken).ConfigureAwait(false);
        await session.CommitAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<Page<ModelVersion>> SearchModelVersionsAsync(RegistryQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ValidateRegistryMaxResults(query.MaxResults, ModelVersionSearchMaxResults);
        var offset = PageToken.ParseOffset(query.PageToken);
        var filter = new SqlFilter(_db);
        filter.Conditions.Add($"rm.workspace_id = {filter.Parameter(_workspaceId)}");
        filter.Conditions.Add($"mv.current_stage <> {filter.Parameter(StageDeletedInternal)}");
        foreach (var clause in query.Filter?.Clauses ?? [])
        {
            filter.Conditions.Add(ModelVersionCondition(filter, clause));
        }

        var orderBy = ModelVersionOrderBy(query.OrderBy);
        var connection = await _db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var versions = await QueryVersionsAsync(
            connection, null, filter, orderBy, $" LIMIT {query.MaxResults + 1} OFFSET {offset}", cancellationToken).ConfigureAwait(false);
        string? next = null;
        if (versions.Count > query.MaxResults)
        {
            versions.RemoveAt(versions.Count - 1);
            next = PageToken.Create(offset + query.MaxResults);
        }

        return new Page<ModelVersion>(versions.Select(v => v.Version).ToList(), next);
    }

    /// <inheritdoc />
    public async Task<ModelVersion> TransitionModelVersionStageAsync(
        string name, string version, string stage, bool archiveExistingVersions, CancellationToken cancellationToken)
    {
        var canonical = CanonicalStage(stage);
        if (archiveExistingVersions && canonical is not (ModelStage.Staging or ModelStage.Production))
        {
            throw TrackingException.Invalid(
                $"Model version transition cannot archive existing model versions because '{stage}' is not an Active stage. Valid stages are ['Staging', 'Production']");
        }

        var now = Now();
        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        var (id, number) = await LockModelVersionAsync(session, name, version, cancellationToken).ConfigureAwait(false);
        if (archiveExistingVersions)
        {
            await ExecuteAsync(
                session,
                "UPDATE model_versions SET current_stage = @archived, last_updated_time = @now " +
                "WHERE registered_model_id = @id AND version <> @version AND current_stage = @stage",
                cancellationToken,
                ("@archived", ModelStage.Archived),
                ("@now", now),
                ("@id", id),
                ("@version", number),
                ("@stage", canonical)).ConfigureAwait(false);
        }

        await ExecuteAsync(
            session,
            "UPDATE model_versions SET current_stage = @stage, last_updated_time = @now WHERE registered_model_id = @id AND version = @version",
            cancellationToken,
            ("@stage", canonical),
            ("@now", now),
            ("@id", id),
            ("@version", number)).ConfigureAwait(false);
        await TouchRegisteredModelAsync(session, id, now, cancellationToken).ConfigureAwait(false);
        var updated = await QueryModelVersionsAsync(session.Connection, session.Transaction, id, [number], cancellationToken).ConfigureAwait(false);
        await session.CommitAsync().ConfigureAwait(false);
        return updated[0];
    }

    /// <inheritdoc />
    public async Task SetModelVersionTagAsync(string name, string version, KeyValue tag, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tag);
        Validation.ValidateRegistryTag(tag);
        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        var (id, number) = await LockModelVersionAsync(session, name, version, cancellationToken).ConfigureAwait(false);
        await _db.InsertAsync(
            session,
            KeyValueBatch("model_version_tags", "registered_model_id", id, [tag]).Constant("version", number),
            "ON CONFLICT (registered_model_id, version, key) DO UPDATE SET value = excluded.value",
            cancellationToken).ConfigureAwait(false);
        await session.CommitAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>As MLflow, deleting a tag the version does not have succeeds.</remarks>
    public async Task DeleteModelVersionTagAsync(string name, string version, string key, CancellationToken cancellationToken)
    {
        Validation.ValidateRegistryTag(new KeyValue(key, string.Empty));
        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        var (id, number) = await LockModelVersionAsync(session, name, version, cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(
            session,
            "DELETE FROM model_version_tags WHERE registered_model_id = @id AND version = @version AND key = @key",
            cancellationToken,
            ("@id", id),
            ("@version", number),
            ("@key", key)).ConfigureAwait(false);
        await session.CommitAsync().ConfigureAwait(false);
    }

    private static TrackingException RegisteredModelNotFound(string name) => TrackingException.NotFound($"Registered Model with name={name} not found");

    private static TrackingException ModelVersionNotFound(string name, string version) =>
        TrackingException.NotFound($"Model Version (name={name}, version={version}) not found");

    private static long ParseVersionNumber(string? version) =>
        long.TryParse(version, NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw TrackingException.Invalid($"Model version must be an integer, got '{version}'");

    private static string CanonicalStage(string? stage) =>
        ModelStage.Canonical(stage ?? string.Empty)
        ?? throw TrackingException.Invalid(
            $"Invalid Model Version stage: {stage}. Value must be one of {ModelStage.None}, {ModelStage.Staging}, {ModelStage.Production}, {ModelStage.Archived}.");

    /// <summary>Validates an alias name as MLflow's <c>_validate_model_alias_name</c>.</summary>
    private static void ValidateAliasName(string? alias)
    {
        if (string.IsNullOrEmpty(alias))
        {
            throw TrackingException.Invalid("Registered model alias name cannot be empty.");
        }

        if (!AliasPattern().IsMatch(alias))
        {
            throw TrackingException.Invalid($"Invalid alias name: '{alias}'. Names may only contain alphanumerics, underscores (_), and dashes (-).");
        }

        if (alias.Length > MaxAliasLength)
        {
            throw TrackingException.Invalid(
                $"Registered model alias name '{alias[..250]}' had length {alias.Length}, which exceeded length limit of {MaxAliasLength}");
        }

        if (alias.Equals("latest", StringComparison.OrdinalIgnoreCase))
        {
            throw TrackingException.Invalid("'latest' alias name (case insensitive) is reserved.");
        }

        if (VersionAliasPattern().IsMatch(alias))
        {
            throw TrackingException.Invalid($"Version alias name '{alias}' is reserved.");
        }
    }

    [GeneratedRegex(@"^[\w\-]*\z")]
    private static partial Regex AliasPattern();

    [GeneratedRegex(@"^[vV]\d+\z")]
    private static partial Regex VersionAliasPattern();

    private static void ValidateRegistryMaxResults(int maxResults, int threshold)
    {
        if (maxResults < 1)
        {
            throw TrackingException.Invalid($"Invalid value for max_results. It must be a positive integer, but got {maxResults}");
        }

        if (maxResults > threshold)
        {
            throw TrackingException.Invalid($"Invalid value for request parameter max_results. It must be at most {threshold}, but got value {maxResults}");
        }
    }

    private static void RequireOperator(Comparison clause, string what, params ComparisonOperator[] allowed)
    {
        if (Array.IndexOf(allowed, clause.Operator) < 0)
        {
            throw TrackingException.Invalid($"Invalid comparator for {what}: {SqlFilter.Symbol(clause.Operator)}");
        }
    }

    private static readonly ComparisonOperator[] s_registryTextOperators =
        [ComparisonOperator.Equal, ComparisonOperator.NotEqual, ComparisonOperator.Like, ComparisonOperator.ILike];

    private static string RegisteredModelCondition(SqlFilter filter, Comparison clause)
    {
        switch (clause.Kind)
        {
            case EntityKind.Attribute when clause.Key == "name":
                RequireOperator(clause, "attribute", s_registryTextOperators);
                return filter.CompareText("rm.name", clause);
            case EntityKind.Attribute:
                throw TrackingException.Invalid($"Invalid attribute name: {clause.Key}");
            case EntityKind.Tag:
                RequireOperator(clause, "tag", s_registryTextOperators);
                return "rm.registered_model_id IN (SELECT t.registered_model_id FROM registered_model_tags t " +
                    $"WHERE t.key = {filter.Parameter(clause.Key)} AND {filter.CompareText("t.value", clause)})";
            default:
                throw TrackingException.Invalid($"Invalid token type: {clause.Kind.ToString().ToLowerInvariant()}");
        }
    }

    private static string ModelVersionCondition(SqlFilter filter, Comparison clause)
    {
        switch (clause.Kind)
        {
            case EntityKind.Attribute:
                switch (clause.Key)
                {
                    case "name":
                        RequireOperator(clause, "attribute", s_registryTextOperators);
                        return filter.CompareText("rm.name", clause);
                    case "source_path":
                        RequireOperator(clause, "attribute", s_registryTextOperators);
                        return filter.CompareText("mv.source", clause);
                    case "run_id":
                        RequireOperator(clause, "attribute", ComparisonOperator.Equal, ComparisonOperator.NotEqual, ComparisonOperator.In, ComparisonOperator.NotIn);
                        return filter.CompareText("mv.run_id", clause);
                    case "version_number":
                        return filter.CompareNumber("mv.version", clause, integral: true);
                    default:
                        throw TrackingException.Invalid($"Invalid attribute name: {clause.Key}");
                }

            case EntityKind.Tag:
                RequireOperator(clause, "tag", s_registryTextOperators);
                return "EXISTS (SELECT 1 FROM model_version_tags t WHERE t.registered_model_id = mv.registered_model_id AND t.version = mv.version " +
                    $"AND t.key = {filter.Parameter(clause.Key)} AND {filter.CompareText("t.value", clause)})";
            default:
                throw TrackingException.Invalid($"Invalid token type: {clause.Kind.ToString().ToLowerInvariant()}");
        }
    }

    /// <summary>MLflow's registered-model order: the given keys, then <c>name ASC</c> unless the name was among them.</summary>
    private string RegisteredModelOrderBy(IReadOnlyList<OrderBy>? orderBy)
    {
        var terms = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var term in orderBy ?? [])
        {
            var column = term.Kind != EntityKind.Attribute ? null : term.Key switch
            {
                "name" => "rm.name" + _db.OrderCollation,
                "creation_timestamp" => "rm.creation_time",
                "last_updated_timestamp" or "timestamp" => "rm.last_updated_time",
                _ => null,
            };
            if (column is null)
            {
                throw TrackingException.Invalid(
                    $"Invalid order by key '{term.Key}' specified. Valid keys are '['name', 'creation_timestamp', 'last_updated_timestamp']'");
            }

            if (!seen.Add(column))
            {
                throw TrackingException.Invalid($"`order_by` contains duplicate fields: {term.Key}");
            }

            terms.Add(column + (term.Ascending ? " ASC" : " DESC"));
        }

        if (!seen.Contains("rm.name" + _db.OrderCollation))
        {
            terms.Add($"rm.name{_db.OrderCollation} ASC");
        }

        return string.Join(", ", terms);
    }

    /// <summary>MLflow's model-version order: the given keys (by default <c>last_updated_timestamp DESC</c>), then <c>name ASC</c>, <c>version DESC</c>.</summary>
    private string ModelVersionOrderBy(IReadOnlyList<OrderBy>? orderBy)
    {
        var name = "rm.name" + _db.OrderCollation;
        var terms = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (orderBy is null || orderBy.Count == 0)
        {
            orderBy = [new OrderBy(EntityKind.Attribute, "last_updated_timestamp", Ascending: false)];
        }

        foreach (var term in orderBy)
        {
            var column = term.Kind != EntityKind.Attribute ? null : term.Key switch
            {
                "name" => name,
                "version_number" => "mv.version",
                "creation_timestamp" => "mv.creation_time",
                "last_updated_timestamp" => "mv.last_updated_time",
                _ => null,
            };
            if (column is null)
            {
                throw TrackingException.Invalid(
                    $"Invalid order by key '{term.Key}' specified. Valid keys are ['name', 'version_number', 'creation_timestamp', 'last_updated_timestamp']");
            }

            if (!seen.Add(column))
            {
                throw TrackingException.Invalid($"`order_by` contains duplicate fields: {term.Key}");
            }

            terms.Add(column + (term.Ascending ? " ASC" : " DESC"));
        }

        if (!seen.Contains(name))
        {
            terms.Add(name + " ASC");
        }

        if (!seen.Contains("mv.version"))
        {
            terms.Add("mv.version DESC");
        }

        return string.Join(", ", terms);
    }

    private static Task TouchRegisteredModelAsync(WriteSession session, long id, long now, CancellationToken cancellationToken) =>
        ExecuteAsync(session, "UPDATE registered_models SET last_updated_time = @now WHERE registered_model_id = @id", cancellationToken, ("@now", now), ("@id", id));

    private async Task<long?> FindRegisteredModelIdAsync(DbConnection connection, DbTransaction? transaction, string name, bool forUpdate, CancellationToken cancellationToken)
    {
        var select = connection.Command(
            $"SELECT registered_model_id FROM registered_models WHERE workspace_id = @ws AND name = @name{(forUpdate ? _db.ForUpdate : string.Empty)}");
        await using var selectScope = select.ConfigureAwait(false);
        select.Transaction = transaction;
        select.Add("@ws", _workspaceId);
        select.Add("@name", name);
        return await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is { } value and not DBNull
            ? Convert.ToInt64(value, CultureInfo.InvariantCulture)
            : null;
    }

    /// <summary>Locks a registered model for the rest of the write; throws NotFound when it does not exist.</summary>
    private async Task<long> LockRegisteredModelAsync(WriteSession session, string name, CancellationToken cancellationToken) =>
        await FindRegisteredModelIdAsync(session.Connection, session.Transaction, name, forUpdate: true, cancellationToken).ConfigureAwait(false)
            ?? throw RegisteredModelNotFound(name);

    /// <summary>Locks the registered model of a live (not deleted) version; throws NotFound when either does not exist.</summary>
    private async Task<(long RegisteredModelId, long Version)> LockModelVersionAsync(WriteSession session, string name, string version, CancellationToken cancellationToken)
    {
        Validation.ValidateRegisteredModelName(name);
        var number = ParseVersionNumber(version);
        var id = await FindRegisteredModelIdAsync(session.Connection, session.Transaction, name, forUpdate: true, cancellationToken).ConfigureAwait(false)
            ?? throw ModelVersionNotFound(name, version);
        var count = session.Command("SELECT COUNT(*) FROM model_versions WHERE registered_model_id = @id AND version = @version AND current_stage <> @deleted");
        await using var countScope = count.ConfigureAwait(false);
        count.Add("@id", id);
        count.Add("@version", number);
        count.Add("@deleted", StageDeletedInternal);
        return await ExecuteScalarInt64Async(count, cancellationToken).ConfigureAwait(false) == 0
            ? throw ModelVersionNotFound(name, version)
            : (id, number);
    }

    private readonly record struct RegisteredModelRow(long Id, string Name, long Created, long Updated, string? Description);

    private static RegisteredModelRow ReadRegisteredModelRow(DbDataReader reader) =>
        new(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetNullableString(4));

    private async Task<RegisteredModel> LoadRegisteredModelAsync(DbConnection connection, DbTransaction? transaction, string name, CancellationToken cancellationToken)
    {
        RegisteredModelRow row;
        {
            var select = connection.Command(
                "SELECT registered_model_id, name, creation_time, last_updated_time, description FROM registered_models WHERE workspace_id = @ws AND name = @name");
            await using var selectScope = select.ConfigureAwait(false);
            select.Transaction = transaction;
            select.Add("@ws", _workspaceId);
            select.Add("@name", name);
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw RegisteredModelNotFound(name);
            }

            row = ReadRegisteredModelRow(reader);
        }

        var models = await LoadRegisteredModelsAsync(connection, transaction, [row], cancellationToken).ConfigureAwait(false);
        return models[0];
    }

    /// <summary>Builds registered models with their tags, aliases and latest versions, in the order of <paramref name="rows"/>.</summary>
    private async Task<List<RegisteredModel>> LoadRegisteredModelsAsync(
        DbConnection connection, DbTransaction? transaction, IReadOnlyList<RegisteredModelRow> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return [];
        }

        var ids = rows.Select(r => r.Id).Distinct().ToArray();
        var tags = new Dictionary<long, List<KeyValue>>();
        var aliases = new Dictionary<long, List<KeyValue>>();
        var latest = new Dictionary<long, List<long>>();
        {
            var select = connection.Command(
                $"SELECT registered_model_id, key, value FROM registered_model_tags WHERE {_db.InArray("registered_model_id", "@ids")} " +
                $"ORDER BY registered_model_id, key{_db.OrderCollation};\n" +
                $"SELECT registered_model_id, alias, version FROM registered_model_aliases WHERE {_db.InArray("registered_model_id", "@ids")} " +
                $"ORDER BY registered_model_id, alias{_db.OrderCollation};\n" +
                // MLflow's latest_versions: the highest version of each stage, stages in the order they first appear.
                $"SELECT registered_model_id, MAX(version) FROM model_versions WHERE {_db.InArray("registered_model_id", "@ids")} AND current_stage <> @deleted " +
                "GROUP BY registered_model_id, current_stage ORDER BY registered_model_id, MIN(version)");
            await using var selectScope = select.ConfigureAwait(false);
            select.Transaction = transaction;
            _db.AddArray(select, "@ids", ids);
            select.Add("@deleted", StageDeletedInternal);
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                Append(tags, reader.GetInt64(0), new KeyValue(reader.GetString(1), reader.GetString(2)));
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                Append(aliases, reader.GetInt64(0), new KeyValue(reader.GetString(1), IdString(reader.GetInt64(2))));
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                Append(latest, reader.GetInt64(0), reader.GetInt64(1));
            }
        }

        var versions = new Dictionary<(long, string), ModelVersion>();
        var numbers = latest.Values.SelectMany(v => v).Distinct().ToArray();
        if (numbers.Length > 0)
        {
            var filter = new SqlFilter(_db);
            filter.Conditions.Add(_db.InArray("mv.registered_model_id", filter.IntArray(latest.Keys.ToArray())));
            filter.Conditions.Add(_db.InArray("mv.version", filter.IntArray(numbers)));
            foreach (var (registeredModelId, version) in await QueryVersionsAsync(connection, transaction, filter, "mv.registered_model_id, mv.version", string.Empty, cancellationToken).ConfigureAwait(false))
            {
                versions[(registeredModelId, version.Version)] = version;
            }
        }

        return rows.Select(r => new RegisteredModel(
            r.Name,
            r.Created,
            r.Updated,
            r.Description,
            tags.TryGetValue(r.Id, out var t) ? t : [],
            latest.TryGetValue(r.Id, out var l) ? l.Select(v => versions[(r.Id, IdString(v))]).ToList() : [],
            aliases.TryGetValue(r.Id, out var a) ? a : [])).ToList();
    }

    private static void Append<T>(Dictionary<long, List<T>> lists, long key, T item)
    {
        if (!lists.TryGetValue(key, out var list))
        {
            lists[key] = list = [];
        }

        list.Add(item);
    }

    private static void Append<T>(Dictionary<(long, long), List<T>> lists, (long, long) key, T item)
    {
        if (!lists.TryGetValue(key, out var list))
        {
            lists[key] = list = [];
        }

        list.Add(item);
    }

    /// <summary>The live versions <paramref name="versions"/> of one registered model, by version number.</summary>
    private async Task<List<ModelVersion>> QueryModelVersionsAsync(
        DbConnection connection, DbTransaction? transaction, long registeredModelId, IReadOnlyCollection<long> versions, CancellationToken cancellationToken)
    {
        if (versions.Count == 0)
        {
            return [];
        }

        var filter = new SqlFilter(_db);
        filter.Conditions.Add($"mv.registered_model_id = {filter.Parameter(registeredModelId)}");
        filter.Conditions.Add(_db.InArray("mv.version", filter.IntArray(versions)));
        filter.Conditions.Add($"mv.current_stage <> {filter.Parameter(StageDeletedInternal)}");
        var rows = await QueryVersionsAsync(connection, transaction, filter, "mv.version", string.Empty, cancellationToken).ConfigureAwait(false);
        return rows.Select(r => r.Version).ToList();
    }

    /// <summary>
    /// Reads the model versions matching <paramref name="filter"/> (over <c>model_versions mv JOIN registered_models rm</c>) in
    /// <paramref name="orderBy"/> order, with their tags and aliases.
    /// </summary>
    private async Task<List<(long RegisteredModelId, ModelVersion Version)>> QueryVersionsAsync(
        DbConnection connection, DbTransaction? transaction, SqlFilter filter, string orderBy, string limit, CancellationToken cancellationToken)
    {
        var rows = new List<(long RegisteredModelId, string Name, long Version, long Created, long Updated, string Stage, string Description, string Source,
            string? RunId, string? ModelId, string Status, string RunLink)>();
        {
            var select = connection.Command(
                $"SELECT rm.registered_model_id, rm.name, {VersionColumns} FROM model_versions mv " +
                $"JOIN registered_models rm ON rm.registered_model_id = mv.registered_model_id WHERE {filter.Where} ORDER BY {orderBy}{limit}");
            await using var selectScope = select.ConfigureAwait(false);
            select.Transaction = transaction;
            filter.ApplyTo(select);
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetString(5), reader.GetString(6),
                    reader.GetString(7), reader.GetNullableString(8), reader.GetNullableString(9), reader.GetString(10), reader.GetString(11)));
            }
        }

        var result = new List<(long, ModelVersion)>(rows.Count);
        if (rows.Count == 0)
        {
            return result;
        }

        // Tags and aliases of every (model, version) pair in the cross product of the page's models and numbers; the extra pairs are dropped below.
        var tags = new Dictionary<(long, long), List<KeyValue>>();
        var aliases = new Dictionary<(long, long), List<string>>();
        {
            var where = $"{_db.InArray("registered_model_id", "@ids")} AND {_db.InArray("version", "@versions")}";
            var select = connection.Command(
                $"SELECT registered_model_id, version, key, value FROM model_version_tags WHERE {where} ORDER BY registered_model_id, version, key{_db.OrderCollation};\n" +
                $"SELECT registered_model_id, version, alias FROM registered_model_aliases WHERE {where} ORDER BY registered_model_id, version, alias{_db.OrderCollation}");
            await using var selectScope = select.ConfigureAwait(false);
            select.Transaction = transaction;
            _db.AddArray(select, "@ids", rows.Select(r => r.RegisteredModelId).Distinct().ToArray());
            _db.AddArray(select, "@versions", rows.Select(r => r.Version).Distinct().ToArray());
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                Append(tags, (reader.GetInt64(0), reader.GetInt64(1)), new KeyValue(reader.GetString(2), reader.GetString(3)));
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                Append(aliases, (reader.GetInt64(0), reader.GetInt64(1)), reader.GetString(2));
            }
        }

        foreach (var r in rows)
        {
            var key = (r.RegisteredModelId, r.Version);
            result.Add((r.RegisteredModelId, new ModelVersion(
                r.Name,
                IdString(r.Version),
                r.Created,
                r.Updated,
                r.Stage,
                r.Description,
                r.Source,
                r.RunId,
                r.ModelId,
                r.Status,
                r.RunLink,
                tags.TryGetValue(key, out var t) ? t : [],
                aliases.TryGetValue(key, out var a) ? a : [])));
        }

        return result;
    }
}
