namespace Cairn.Core.Tracking.Search;

/// <summary>Groups of comparison operators a field accepts.</summary>
[Flags]
internal enum OperatorSet
{
    None = 0,

    /// <summary><c>=</c> and <c>!=</c>.</summary>
    Equality = 1,

    /// <summary><c>&lt; &gt; &lt;= &gt;=</c>.</summary>
    Ordering = 2,

    /// <summary><c>LIKE</c> and <c>ILIKE</c>.</summary>
    Like = 4,

    /// <summary><c>IN</c> and <c>NOT IN</c>.</summary>
    List = 8,

    /// <summary>What numeric fields accept.</summary>
    Numeric = Equality | Ordering,

    /// <summary>What string fields accept.</summary>
    Text = Equality | Like | List,
}

/// <summary>The value type and the operators of a field.</summary>
internal readonly record struct FieldSpec(bool Numeric, OperatorSet Operators)
{
    public static FieldSpec Number { get; } = new(true, OperatorSet.Numeric);
    public static FieldSpec String { get; } = new(false, OperatorSet.Text);
}

/// <summary>An attribute name as written (<see cref="Name"/>) and the canonical key it stands for.</summary>
/// <remarks>Unlisted names are spelling variants left out of the "valid attributes" of error messages.</remarks>
internal sealed record AttributeSpec(string Name, string Canonical, FieldSpec Field, bool Listed = true);

/// <summary>A field a filter or order-by clause resolved to.</summary>
internal readonly record struct SearchTarget(EntityKind Kind, string Key, FieldSpec Field);

/// <summary>What may be searched and ordered by for one kind of entity (runs, experiments, logged models, registered models, model versions).</summary>
internal sealed class SearchGrammar
{
    private static readonly string[] s_datasetKeys = ["name", "digest", "context"];

    /// <summary>What registry names, source paths and tags accept: = != LIKE ILIKE (no lists).</summary>
    private static readonly FieldSpec s_registryText = new(false, OperatorSet.Equality | OperatorSet.Like);

    private static readonly (string Prefix, EntityKind Kind)[] s_registryPrefixes =
    [
        ("attribute", EntityKind.Attribute), ("attributes", EntityKind.Attribute), ("attr", EntityKind.Attribute),
        ("tag", EntityKind.Tag), ("tags", EntityKind.Tag),
    ];

    private readonly (string Prefix, EntityKind Kind)[] _prefixes;
    private readonly AttributeSpec[] _attributes;
    private readonly EntityKind[] _filterKinds;
    private readonly EntityKind[] _orderKinds;
    private readonly string _validAttributes;
    private readonly FieldSpec _tagField;

    private SearchGrammar(
        string entity,
        (string Prefix, EntityKind Kind)[] prefixes,
        AttributeSpec[] attributes,
        EntityKind[] filterKinds,
        EntityKind[] orderKinds,
        string validPrefixes,
        FieldSpec? tagField = null)
    {
        Entity = entity;
        _tagField = tagField ?? FieldSpec.String;
        _prefixes = prefixes;
        _attributes = attributes;
        _filterKinds = filterKinds;
        _orderKinds = orderKinds;
        ValidPrefixes = validPrefixes;
        _validAttributes = string.Join(", ", attributes.Where(a => a.Listed).Select(a => a.Name));
    }

    /// <summary>Run search (<c>SearchUtils</c> in MLflow).</summary>
    public static SearchGrammar Runs { get; } = new(
        "run",
        [
            ("metric", EntityKind.Metric), ("metrics", EntityKind.Metric),
            ("param", EntityKind.Param), ("params", EntityKind.Param),
            ("parameter", EntityKind.Param), ("parameters", EntityKind.Param),
            ("tag", EntityKind.Tag), ("tags", EntityKind.Tag),
            ("attribute", EntityKind.Attribute), ("attributes", EntityKind.Attribute),
            ("attr", EntityKind.Attribute), ("run", EntityKind.Attribute),
            ("dataset", EntityKind.Dataset), ("datasets", EntityKind.Dataset),
        ],
        [
            new("run_id", "run_id", FieldSpec.String),
            new("run_name", "run_name", FieldSpec.String),
            new("status", "status", FieldSpec.String),
            new("user_id", "user_id", FieldSpec.String),
            new("artifact_uri", "artifact_uri", FieldSpec.String),
            new("start_time", "start_time", FieldSpec.Number),
            new("end_time", "end_time", FieldSpec.Number),
            new("created", "start_time", FieldSpec.Number),
            new("Created", "start_time", FieldSpec.Number, Listed: false),
            new("run name", "run_name", FieldSpec.String, Listed: false),
            new("Run name", "run_name", FieldSpec.String, Listed: false),
            new("Run Name", "run_name", FieldSpec.String, Listed: false),
            new("runName", "run_name", FieldSpec.String, Listed: false),
        ],
        [EntityKind.Metric, EntityKind.Param, EntityKind.Tag, EntityKind.Attribute, EntityKind.Dataset],
        // MLflow parses datasets.* in order_by but then fails to sort by it; reject it up front.
        [EntityKind.Metric, EntityKind.Param, EntityKind.Tag, EntityKind.Attribute],
        "metrics, params, tags, attributes, datasets");

    /// <summary>Experiment search (<c>SearchExperimentsUtils</c> in MLflow).</summary>
    public static SearchGrammar Experiments { get; } = new(
        "experiment",
        [
            ("attribute", EntityKind.Attribute), ("attributes", EntityKind.Attribute), ("attr", EntityKind.Attribute),
            ("tag", EntityKind.Tag), ("tags", EntityKind.Tag),
            // Known so that the error says "not supported for experiments" rather than "unknown".
            ("metric", EntityKind.Metric), ("metrics", EntityKind.Metric),
            ("param", EntityKind.Param), ("params", EntityKind.Param),
            ("parameter", EntityKind.Param), ("parameters", EntityKind.Param),
            ("dataset", EntityKind.Dataset), ("datasets", EntityKind.Dataset),
        ],
        [
            // MLflow allows only = != LIKE ILIKE for the name; experiment_id (not searchable in MLflow) takes any string operator.
            new("name", "name", new FieldSpec(false, OperatorSet.Equality | OperatorSet.Like)),
            new("experiment_id", "experiment_id", FieldSpec.String),
            new("creation_time", "creation_time", FieldSpec.Number),
            new("last_update_time", "last_update_time", FieldSpec.Number),
        ],
        [EntityKind.Attribute, EntityKind.Tag],
        // MLflow parses tags.* in an experiment order_by but then rejects it when sorting.
        [EntityKind.Attribute],
        "tags, attributes");

    /// <summary>MLflow 3 logged-model search (<c>SearchLoggedModelsUtils</c> in MLflow), as the client's <c>search_logged_models</c> uses it.</summary>
    public static SearchGrammar LoggedModels { get; } = new(
        "logged model",
        [
            ("attribute", EntityKind.Attribute), ("attributes", EntityKind.Attribute), ("attr", EntityKind.Attribute),
            ("tag", EntityKind.Tag), ("tags", EntityKind.Tag),
            ("param", EntityKind.Param), ("params", EntityKind.Param),
            ("parameter", EntityKind.Param), ("parameters", EntityKind.Param),
            ("metric", EntityKind.Metric), ("metrics", EntityKind.Metric),
            ("dataset", EntityKind.Dataset), ("datasets", EntityKind.Dataset),
        ],
        [
            new("name", "name", FieldSpec.String),
            new("model_id", "model_id", FieldSpec.String),
            new("model_type", "model_type", FieldSpec.String),
            new("status", "status", FieldSpec.String),
            new("source_run_id", "source_run_id", FieldSpec.String),
            new("creation_timestamp", "creation_timestamp", FieldSpec.Number),
            new("creation_time", "creation_timestamp", FieldSpec.Number, Listed: false),
            new("last_updated_timestamp", "last_updated_timestamp", FieldSpec.Number),
        ],
        [EntityKind.Attribute, EntityKind.Tag, EntityKind.Param, EntityKind.Metric],
        [EntityKind.Attribute],
        "attributes, tags, params, metrics");

    /// <summary>Registered-model search filters (<c>SearchModelUtils</c> in MLflow): <c>name</c> and <c>tags.</c>, each = != LIKE ILIKE.</summary>
    public static SearchGrammar RegisteredModels { get; } = new(
        "registered model",
        s_registryPrefixes,
        [new("name", "name", s_registryText)],
        [EntityKind.Attribute, EntityKind.Tag],
        [EntityKind.Attribute],
        "tags, attributes",
        s_registryText);

    /// <summary>Registered-model order-by keys; <c>timestamp</c> stands for <c>last_updated_timestamp</c> as in MLflow.</summary>
    public static SearchGrammar RegisteredModelOrder { get; } = new(
        "registered model",
        s_registryPrefixes,
        [
            new("name", "name", FieldSpec.String),
            new("creation_timestamp", "creation_timestamp", FieldSpec.Number),
            new("last_updated_timestamp", "last_updated_timestamp", FieldSpec.Number),
            new("timestamp", "last_updated_timestamp", FieldSpec.Number),
        ],
        [],
        [EntityKind.Attribute],
        "tags, attributes",
        s_registryText);

    /// <summary>
    /// Model-version search filters (<c>SearchModelVersionUtils</c> in MLflow): <c>name</c> and <c>source_path</c> (= != LIKE ILIKE),
    /// <c>run_id</c> (= != IN NOT IN), <c>version_number</c> (numeric) and <c>tags.</c> (= != LIKE ILIKE).
    /// </summary>
    public static SearchGrammar ModelVersions { get; } = new(
        "model version",
        s_registryPrefixes,
        [
            new("name", "name", s_registryText),
            new("run_id", "run_id", new FieldSpec(false, OperatorSet.Equality | OperatorSet.List)),
            new("source_path", "source_path", s_registryText),
            new("version_number", "version_number", FieldSpec.Number),
        ],
        [EntityKind.Attribute, EntityKind.Tag],
        [EntityKind.Attribute],
        "tags, attributes",
        s_registryText);

    /// <summary>Model-version order-by keys.</summary>
    public static SearchGrammar ModelVersionOrder { get; } = new(
        "model version",
        s_registryPrefixes,
        [
            new("name", "name", FieldSpec.String),
            new("version_number", "version_number", FieldSpec.Number),
            new("creation_timestamp", "creation_timestamp", FieldSpec.Number),
            new("last_updated_timestamp", "last_updated_timestamp", FieldSpec.Number),
        ],
        [],
        [EntityKind.Attribute],
        "tags, attributes",
        s_registryText);

    /// <summary>The searched entity as error messages name it (<c>run</c>, <c>experiment</c>).</summary>
    public string Entity { get; }

    /// <summary>The prefixes the grammar supports, for error messages.</summary>
    public string ValidPrefixes { get; }

    /// <summary>Finds the entity kind of a prefix such as <c>metrics</c> (case-insensitive).</summary>
    public bool TryGetPrefix(ReadOnlySpan<char> prefix, out EntityKind kind)
    {
        foreach (var (name, entityKind) in _prefixes)
        {
            if (prefix.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                kind = entityKind;
                return true;
            }
        }

        kind = default;
        return false;
    }

    /// <summary>Whether filters may address <paramref name="kind"/>.</summary>
    public bool CanFilter(EntityKind kind) => Array.IndexOf(_filterKinds, kind) >= 0;

    /// <summary>Whether order-by clauses may address <paramref name="kind"/>.</summary>
    public bool CanOrder(EntityKind kind) => Array.IndexOf(_orderKinds, kind) >= 0;

    /// <summary>Resolves a key of <paramref name="kind"/> to its canonical form and field type; throws at <paramref name="position"/> if it is not valid.</summary>
    public SearchTarget Resolve(SearchScanner scanner, EntityKind kind, ReadOnlySpan<char> key, int position)
    {
        switch (kind)
        {
            case EntityKind.Metric:
                return new SearchTarget(kind, NonEmptyKey(scanner, kind, key, position), FieldSpec.Number);
            case EntityKind.Param:
                return new SearchTarget(kind, NonEmptyKey(scanner, kind, key, position), FieldSpec.String);
            case EntityKind.Tag:
                return new SearchTarget(kind, NonEmptyKey(scanner, kind, key, position), _tagField);
            case EntityKind.Dataset:
                foreach (var datasetKey in s_datasetKeys)
                {
                    if (key.SequenceEqual(datasetKey))
                    {
                        return new SearchTarget(kind, datasetKey, FieldSpec.String);
                    }
                }

                throw scanner.Error($"unknown dataset field '{key}' (valid fields: {string.Join(", ", s_datasetKeys)})", position);
            default:
                foreach (var attribute in _attributes)
                {
                    if (key.SequenceEqual(attribute.Name))
                    {
                        return new SearchTarget(kind, attribute.Canonical, attribute.Field);
                    }
                }

                throw scanner.Error($"unknown {Entity} attribute '{key}' (valid attributes: {_validAttributes})", position);
        }
    }

    /// <summary>How error messages name a kind of field, such as <c>metric</c>.</summary>
    public static string KindName(EntityKind kind) => kind switch
    {
        EntityKind.Metric => "metric",
        EntityKind.Param => "param",
        EntityKind.Tag => "tag",
        EntityKind.Dataset => "dataset field",
        _ => "attribute",
    };

    /// <summary>How error messages name a field, such as <c>metric 'rmse'</c>.</summary>
    public static string Describe(EntityKind kind, string key) => $"{KindName(kind)} '{key}'";

    private static string NonEmptyKey(SearchScanner scanner, EntityKind kind, ReadOnlySpan<char> key, int position) =>
        key.IsEmpty ? throw scanner.Error($"empty {KindName(kind)} key", position) : key.ToString();
}
