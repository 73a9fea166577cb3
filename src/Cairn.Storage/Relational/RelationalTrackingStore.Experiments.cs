using System.Data.Common;
using Cairn.Core.Tracking;
using Cairn.Core.Tracking.Search;

namespace Cairn.Storage.Relational;

internal sealed partial class RelationalTrackingStore
{
    private const string ExperimentColumns = "e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage, e.creation_time, e.last_update_time";

    /// <inheritdoc />
    public async Task<string> CreateExperimentAsync(string name, string? artifactLocation, IReadOnlyList<KeyValue> tags, CancellationToken cancellationToken)
    {
        Validation.ValidateExperimentName(name);
        tags ??= [];
        foreach (var tag in tags)
        {
            Validation.ValidateExperimentTag(tag);
        }

        var now = Now();
        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        long id;
        try
        {
            var insert = session.Command(
                "INSERT INTO experiments (workspace_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) " +
                "VALUES (@ws, @name, @location, 'active', @now, @now) RETURNING experiment_id");
            await using var insertScope = insert.ConfigureAwait(false);
            insert.Add("@ws", _workspaceId);
            insert.Add("@name", name);
            insert.Add("@location", string.IsNullOrEmpty(artifactLocation) ? string.Empty : artifactLocation);
            insert.Add("@now", now);
            id = await ExecuteScalarInt64Async(insert, cancellationToken).ConfigureAwait(false);
        }
        catch (DbException e) when (_db.IsUniqueViolation(e))
        {
            throw new TrackingException(TrackingErrorCode.ResourceAlreadyExists, $"Experiment(name={name}) already exists.", e);
        }

        if (string.IsNullOrEmpty(artifactLocation))
        {
            var update = session.Command("UPDATE experiments SET artifact_location = @location WHERE experiment_id = @id");
            await using var updateScope = update.ConfigureAwait(false);
            update.Add("@location", BackendStore.AppendPath(_artifactRoot, IdString(id)));
            update.Add("@id", id);
            await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await _db.InsertAsync(
            session,
            KeyValueBatch("experiment_tags", "experiment_id", id, DedupeLastWins(tags)),
            "ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value",
            cancellationToken).ConfigureAwait(false);
        await session.CommitAsync().ConfigureAwait(false);
        return IdString(id);
    }

    /// <inheritdoc />
    public async Task<Experiment> GetExperimentAsync(string experimentId, CancellationToken cancellationToken)
    {
        if (TryParseId(experimentId, out var id))
        {
            var filter = new SqlFilter(_db);
            filter.Conditions.Add($"e.experiment_id = {filter.Parameter(id)}");
            var found = await QueryExperimentsAsync(filter, "e.experiment_id", limit: 1, offset: 0, cancellationToken).ConfigureAwait(false);
            if (found.Count == 1)
            {
                return found[0];
            }
        }

        throw ExperimentNotFound(experimentId);
    }

    /// <inheritdoc />
    public async Task<Experiment?> GetExperimentByNameAsync(string name, CancellationToken cancellationToken)
    {
        var filter = new SqlFilter(_db);
        filter.Conditions.Add($"e.name = {filter.Parameter(name)}");
        var found = await QueryExperimentsAsync(filter, "e.experiment_id", limit: 1, offset: 0, cancellationToken).ConfigureAwait(false);
        return found.Count == 1 ? found[0] : null;
    }

    /// <inheritdoc />
    public async Task<Page<Experiment>> SearchExperimentsAsync(ExperimentQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ValidateMaxResults(query.MaxResults);
        var offset = PageToken.ParseOffset(query.PageToken);
        var filter = new SqlFilter(_db);
        filter.Conditions.Add(StageCondition("e.lifecycle_stage", query.ViewType));
        foreach (var clause in query.Filter?.Clauses ?? [])
        {
            filter.Conditions.Add(ExperimentCondition(filter, clause));
        }

        var orderBy = ExperimentOrderBy(query.OrderBy);
        var experiments = await QueryExperimentsAsync(filter, orderBy, query.MaxResults + 1, offset, cancellationToken).ConfigureAwait(false);
        if (experiments.Count > query.MaxResults)
        {
            experiments.RemoveAt(experiments.Count - 1);
            return new Page<Experiment>(experiments, PageToken.Create(offset + query.MaxResults));
        }

        return new Page<Experiment>(experiments, null);
    }

    /// <inheritdoc />
    public async Task RenameExperimentAsync(string experimentId, string newName, CancellationToken cancellationToken)
    {
        Validation.ValidateExperimentName(newName);
        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        var (id, stage) = await LockExperimentAsync(session, experimentId, cancellationToken).ConfigureAwait(false);
        if (stage != LifecycleStage.Active)
        {
            throw TrackingException.Invalid("Cannot rename a non-active experiment.");
        }

        try
        {
            var update = session.Command("UPDATE experiments SET name = @name, last_update_time = @now WHERE experiment_id = @id");
            await using var updateScope = update.ConfigureAwait(false);
            update.Add("@name", newName);
            update.Add("@now", Now());
            update.Add("@id", id);
            await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DbException e) when (_db.IsUniqueViolation(e))
        {
            throw new TrackingException(TrackingErrorCode.ResourceAlreadyExists, $"Experiment(name={newName}) already exists.", e);
        }

        await session.CommitAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task DeleteExperimentAsync(string experimentId, CancellationToken cancellationToken)
    {
        if (experimentId == DefaultExperimentId)
        {
            throw TrackingException.Invalid(
                $"Cannot delete the default experiment '{DefaultExperimentId}'. This is an internally reserved experiment.");
        }

        await SetExperimentLifecycleAsync(experimentId, from: LifecycleStage.Active, to: LifecycleStage.Deleted, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task RestoreExperimentAsync(string experimentId, CancellationToken cancellationToken) =>
        SetExperimentLifecycleAsync(experimentId, from: LifecycleStage.Deleted, to: LifecycleStage.Active, cancellationToken);

    /// <inheritdoc />
    public async Task SetExperimentTagAsync(string experimentId, KeyValue tag, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tag);
        Validation.ValidateExperimentTag(tag);
        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        var id = await LockActiveExperimentAsync(session, experimentId, cancellationToken).ConfigureAwait(false);
        await _db.InsertAsync(
            session,
            KeyValueBatch("experiment_tags", "experiment_id", id, [tag]),
            "ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value",
            cancellationToken).ConfigureAwait(false);
        await TouchExperimentAsync(session, id, cancellationToken).ConfigureAwait(false);
        await session.CommitAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task DeleteExperimentTagAsync(string experimentId, string key, CancellationToken cancellationToken)
    {
        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        var id = await LockActiveExperimentAsync(session, experimentId, cancellationToken).ConfigureAwait(false);
        if (await ExecuteAsync(session, "DELETE FROM experiment_tags WHERE experiment_id = @id AND key = @key", cancellationToken, ("@id", id), ("@key", key)).ConfigureAwait(false) == 0)
        {
            throw TrackingException.NotFound($"No tag with name: {key} in experiment with id {experimentId}");
        }

        await TouchExperimentAsync(session, id, cancellationToken).ConfigureAwait(false);
        await session.CommitAsync().ConfigureAwait(false);
    }

    private static TrackingException ExperimentNotFound(string experimentId) =>
        TrackingException.NotFound($"No Experiment with id={experimentId} exists");

    private static TrackingException ExperimentNotActive(string experimentId, string stage) =>
        TrackingException.Invalid($"The experiment {experimentId} must be in the 'active' state. Current state is {stage}.");

    private async Task SetExperimentLifecycleAsync(string experimentId, string from, string to, CancellationToken cancellationToken)
    {
        var session = await _db.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await using var sessionScope = session.ConfigureAwait(false);
        var (id, stage) = await LockExperimentAsync(session, experimentId, cancellationToken).ConfigureAwait(false);
        if (stage != from)
        {
            throw ExperimentNotFound(experimentId);
        }

        var now = Now();
        {
            var update = session.Command("UPDATE experiments SET lifecycle_stage = @stage, last_update_time = @now WHERE experiment_id = @id");
            await using var updateScope = update.ConfigureAwait(false);
            update.Add("@stage", to);
            update.Add("@now", now);
            update.Add("@id", id);
            await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        // Like MLflow's SQL store, the experiment's runs follow it into (and out of) the deleted stage.
        {
            var runs = session.Command("UPDATE runs SET lifecycle_stage = @stage, deleted_time = @deleted WHERE experiment_id = @id");
            await using var runsScope = runs.ConfigureAwait(false);
            runs.Add("@stage", to);
            runs.Add("@deleted", to == LifecycleStage.Deleted ? now : null);
            runs.Add("@id", id);
            await runs.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await session.CommitAsync().ConfigureAwait(false);
    }

    private async Task<(long Id, string Stage)> LockExperimentAsync(WriteSession session, string experimentId, CancellationToken cancellationToken)
    {
        if (!TryParseId(experimentId, out var id))
        {
            throw ExperimentNotFound(experimentId);
        }

        var select = session.Command(
            $"SELECT lifecycle_stage FROM experiments WHERE experiment_id = @id AND workspace_id = @ws{_db.ForUpdate}");
        await using var selectScope = select.ConfigureAwait(false);
        select.Add("@id", id);
        select.Add("@ws", _workspaceId);
        var stage = await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string
            ?? throw ExperimentNotFound(experimentId);
        return (id, stage);
    }

    private async Task<long> LockActiveExperimentAsync(WriteSession session, string experimentId, CancellationToken cancellationToken)
    {
        var (id, stage) = await LockExperimentAsync(session, experimentId, cancellationToken).ConfigureAwait(false);
        if (stage != LifecycleStage.Active)
        {
            throw ExperimentNotActive(experimentId, stage);
        }

        return id;
    }

    private async Task TouchExperimentAsync(WriteSession session, long id, CancellationToken cancellationToken)
    {
        var touch = session.Command("UPDATE experiments SET last_update_time = @now WHERE experiment_id = @id");
        await using var touchScope = touch.ConfigureAwait(false);
        touch.Add("@now", Now());
        touch.Add("@id", id);
        await touch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private string ExperimentCondition(SqlFilter filter, Comparison clause)
    {
        switch (clause.Kind)
        {
            case EntityKind.Attribute:
                return clause.Key switch
                {
                    "name" => filter.CompareText("e.name", clause),
                    "creation_time" => filter.CompareNumber("e.creation_time", clause, integral: true),
                    "last_update_time" => filter.CompareNumber("e.last_update_time", clause, integral: true),
                    "experiment_id" => ExperimentIdCondition(filter, clause),
                    _ => throw TrackingException.Invalid(
                        $"Invalid attribute key '{clause.Key}' specified. Valid keys are '['name', 'creation_time', 'last_update_time', 'experiment_id']'"),
                };
            case EntityKind.Tag:
                if (clause.Operator is not (ComparisonOperator.Equal or ComparisonOperator.NotEqual or ComparisonOperator.Like or ComparisonOperator.ILike))
                {
                    throw TrackingException.Invalid($"Invalid comparator for tag: {SqlFilter.Symbol(clause.Operator)}");
                }

                return $"e.experiment_id IN (SELECT t.experiment_id FROM experiment_tags t WHERE t.key = {filter.Parameter(clause.Key)} AND {filter.CompareText("t.value", clause)})";
            default:
                throw TrackingException.Invalid($"Invalid token type: {clause.Kind.ToString().ToLowerInvariant()}");
        }
    }

    private static string ExperimentIdCondition(SqlFilter filter, Comparison clause)
    {
        if (clause.Operator is ComparisonOperator.In or ComparisonOperator.NotIn)
        {
            var ids = (clause.List ?? []).Select(s => TryParseId(s, out var v) ? v : -1).ToArray();
            return filter.Dialect.InArray("e.experiment_id", filter.IntArray(ids), negate: clause.Operator == ComparisonOperator.NotIn);
        }

        if (clause.Operator is ComparisonOperator.Like or ComparisonOperator.ILike)
        {
            return filter.CompareText("CAST(e.experiment_id AS TEXT)", clause);
        }

        return filter.CompareNumber("e.experiment_id", clause, integral: true);
    }

    private string ExperimentOrderBy(IReadOnlyList<OrderBy>? orderBy)
    {
        if (orderBy is null || orderBy.Count == 0)
        {
            // MLflow orders by creation_time DESC; on ties, the newest id first keeps the Default experiment last.
            return "e.creation_time DESC, e.experiment_id DESC";
        }

        var terms = new List<string>();
        var hasId = false;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var term in orderBy)
        {
            if (term.Kind != EntityKind.Attribute)
            {
                throw TrackingException.Invalid($"Invalid order_by entity: {term.Kind.ToString().ToLowerInvariant()}");
            }

            var column = term.Key switch
            {
                "name" => "e.name" + _db.OrderCollation,
                "experiment_id" => "e.experiment_id",
                "creation_time" => "e.creation_time",
                "last_update_time" => "e.last_update_time",
                _ => throw TrackingException.Invalid(
                    $"Invalid attribute key '{term.Key}' specified. Valid keys are '['name', 'experiment_id', 'creation_time', 'last_update_time']'"),
            };
            if (!seen.Add(term.Key))
            {
                throw TrackingException.Invalid($"`order_by` contains duplicate fields: {term.Key}");
            }

            hasId |= term.Key == "experiment_id";
            terms.Add(column + (term.Ascending ? " ASC" : " DESC"));
        }

        if (!hasId)
        {
            terms.Add("e.experiment_id DESC");
        }

        return string.Join(", ", terms);
    }

    private async Task<List<Experiment>> QueryExperimentsAsync(SqlFilter filter, string orderBy, int limit, long offset, CancellationToken cancellationToken)
    {
        filter.Conditions.Add($"e.workspace_id = {filter.Parameter(_workspaceId)}");
        var connection = await _db.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var rows = new List<(long Id, string Name, string Location, string Stage, long Created, long Updated)>();
        {
            var select = connection.Command(
                $"SELECT {ExperimentColumns} FROM experiments e WHERE {filter.Where} ORDER BY {orderBy} LIMIT {limit} OFFSET {offset}");
            await using var selectScope = select.ConfigureAwait(false);
            filter.ApplyTo(select);
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4), reader.GetInt64(5)));
            }
        }

        var tags = new Dictionary<long, List<KeyValue>>();
        if (rows.Count > 0)
        {
            var select = connection.Command(
                $"SELECT experiment_id, key, value FROM experiment_tags WHERE {_db.InArray("experiment_id", "@ids")} ORDER BY seq");
            await using var selectScope = select.ConfigureAwait(false);
            _db.AddArray(select, "@ids", rows.Select(r => r.Id).ToArray());
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var id = reader.GetInt64(0);
                if (!tags.TryGetValue(id, out var list))
                {
                    tags[id] = list = [];
                }

                list.Add(new KeyValue(reader.GetString(1), reader.GetString(2)));
            }
        }

        return rows
            .Select(r => new Experiment(IdString(r.Id), r.Name, r.Location, r.Stage, r.Created, r.Updated, tags.TryGetValue(r.Id, out var t) ? t : []))
            .ToList();
    }
}
