using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Cairn.Core.Tracking;

/// <summary>MLflow's input validation rules for tracking entities; every failure is an <see cref="TrackingErrorCode.InvalidParameterValue"/>.</summary>
/// <remarks>Rules and messages follow <c>mlflow/utils/validation.py</c> so clients see the errors they expect.</remarks>
public static partial class Validation
{
    /// <summary>The most metrics one log-batch request may carry.</summary>
    public const int MaxMetricsPerBatch = 1000;

    /// <summary>The most params, and separately the most tags, one log-batch request may carry.</summary>
    public const int MaxParamsTagsPerBatch = 100;

    /// <summary>The most metrics, params and tags together one log-batch request may carry.</summary>
    public const int MaxEntitiesPerBatch = 1000;

    /// <summary>The longest metric, param or tag key.</summary>
    public const int MaxEntityKeyLength = 250;

    /// <summary>The longest param value.</summary>
    public const int MaxParamValueLength = 6000;

    /// <summary>The longest run tag value.</summary>
    public const int MaxTagValueLength = 8000;

    /// <summary>The longest experiment name.</summary>
    public const int MaxExperimentNameLength = 500;

    /// <summary>The longest experiment tag key.</summary>
    public const int MaxExperimentTagKeyLength = 250;

    /// <summary>The longest experiment tag value.</summary>
    public const int MaxExperimentTagValueLength = 5000;

    /// <summary>The longest registered model or model version tag key.</summary>
    public const int MaxRegistryTagKeyLength = 250;

    /// <summary>The longest registered model or model version tag value.</summary>
    public const int MaxRegistryTagValueLength = 100_000;

    /// <summary>The longest dataset name.</summary>
    public const int MaxDatasetNameLength = 500;

    /// <summary>The longest dataset digest.</summary>
    public const int MaxDatasetDigestLength = 36;

    /// <summary>The longest dataset schema.</summary>
    public const int MaxDatasetSchemaLength = 1048575;

    /// <summary>The longest dataset source.</summary>
    public const int MaxDatasetSourceLength = 65535;

    /// <summary>The longest dataset profile.</summary>
    public const int MaxDatasetProfileLength = 16777215;

    /// <summary>The longest input tag key.</summary>
    public const int MaxInputTagKeyLength = 255;

    /// <summary>The longest input tag value.</summary>
    public const int MaxInputTagValueLength = 500;

    private const string BadCharactersMessage =
        "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/).";

    [GeneratedRegex(@"^[/\w.\- ]*\z", RegexOptions.CultureInvariant)]
    private static partial Regex ValidNameRegex();

    [GeneratedRegex(@"^[a-zA-Z0-9][\w\-]{0,255}\z", RegexOptions.CultureInvariant)]
    private static partial Regex RunIdRegex();

    /// <summary>Whether <paramref name="name"/> is a valid metric, param or tag key.</summary>
    public static bool IsValidKey(string? name) =>
        name is not null && ValidNameRegex().IsMatch(name) && !PathNotUnique(name);

    /// <summary>Validates one metric: its key, its timestamp (non-negative) and the key length. NaN and infinite values are allowed.</summary>
    public static void ValidateMetric(Metric metric)
    {
        ArgumentNullException.ThrowIfNull(metric);
        ValidateName("metric", "Metric", metric.Key);
        if (metric.Timestamp < 0)
        {
            throw TrackingException.Invalid(
                $"Got invalid timestamp {metric.Timestamp} for metric '{metric.Key}' (value={FormatDouble(metric.Value)}). " +
                "Timestamp must be a nonnegative long (64-bit integer) ");
        }

        ValidateLength("Metric name", MaxEntityKeyLength, metric.Key);
    }

    /// <summary>Validates a run param's key and value.</summary>
    public static void ValidateParam(KeyValue param)
    {
        ArgumentNullException.ThrowIfNull(param);
        ValidateName("parameter", "Parameter", param.Key);
        ValidateLength("Param key", MaxEntityKeyLength, param.Key);
        ValidateLength("Param value", MaxParamValueLength, param.Value);
    }

    /// <summary>Validates a run tag's key and value.</summary>
    public static void ValidateTag(KeyValue tag)
    {
        ArgumentNullException.ThrowIfNull(tag);
        ValidateName("tag", "Tag", tag.Key);
        ValidateLength("Tag key", MaxEntityKeyLength, tag.Key);
        ValidateLength("Tag value", MaxTagValueLength, tag.Value);
    }

    /// <summary>Validates an experiment tag's key and value.</summary>
    public static void ValidateExperimentTag(KeyValue tag)
    {
        ArgumentNullException.ThrowIfNull(tag);
        ValidateName("tag", "Tag", tag.Key);
        ValidateLength("Tag key", MaxExperimentTagKeyLength, tag.Key);
        ValidateLength("Tag value", MaxExperimentTagValueLength, tag.Value);
    }

    /// <summary>Validates a registered model or model version tag's key and value.</summary>
    public static void ValidateRegistryTag(KeyValue tag)
    {
        ArgumentNullException.ThrowIfNull(tag);
        ValidateName("tag", "Tag", tag.Key);
        ValidateLength("Registered model key", MaxRegistryTagKeyLength, tag.Key);
        ValidateLength("Registered model value", MaxRegistryTagValueLength, tag.Value);
    }

    /// <summary>Validates a registered model name: non-empty.</summary>
    public static void ValidateRegisteredModelName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw TrackingException.Invalid("Registered model name cannot be empty.");
        }
    }

    /// <summary>Validates an experiment name: non-empty and at most <see cref="MaxExperimentNameLength"/> characters.</summary>
    public static void ValidateExperimentName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw TrackingException.Invalid($"Invalid experiment name: '{name}'");
        }

        if (name.Length > MaxExperimentNameLength)
        {
            throw TrackingException.Invalid($"Experiment name exceeds the maximum length of {MaxExperimentNameLength} characters");
        }
    }

    /// <summary>Validates the shape of a run id (alphanumeric start, then word characters or dashes, at most 256 characters).</summary>
    public static void ValidateRunId(string? runId)
    {
        if (runId is null || !RunIdRegex().IsMatch(runId))
        {
            throw TrackingException.Invalid($"Invalid run ID: '{runId}'");
        }
    }

    /// <summary>Validates the entry counts of a log-batch request.</summary>
    public static void ValidateBatchLimits(int metricCount, int paramCount, int tagCount)
    {
        ValidateBatchLimit("metrics", MaxMetricsPerBatch, metricCount);
        ValidateBatchLimit("params", MaxParamsTagsPerBatch, paramCount);
        ValidateBatchLimit("tags", MaxParamsTagsPerBatch, tagCount);
        ValidateBatchLimit("metrics, params, and tags", MaxEntitiesPerBatch, metricCount + paramCount + tagCount);
    }

    /// <summary>Rejects a params list that names a key more than once.</summary>
    public static void ValidateParamKeysUnique(IReadOnlyList<KeyValue> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Count < 2)
        {
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        List<string>? duplicates = null;
        foreach (var p in parameters)
        {
            if (!seen.Add(p.Key))
            {
                (duplicates ??= []).Add(p.Key);
            }
        }

        if (duplicates is not null)
        {
            throw TrackingException.Invalid(
                $"Duplicate parameter keys have been submitted: {PythonList(duplicates)}. Please ensure " +
                "the request contains only one param value per param key.");
        }
    }

    /// <summary>Validates a whole log-batch request: counts first, then every entry, then param key uniqueness.</summary>
    public static void ValidateLogBatch(IReadOnlyList<Metric> metrics, IReadOnlyList<KeyValue> parameters, IReadOnlyList<KeyValue> tags)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(tags);
        ValidateBatchLimits(metrics.Count, parameters.Count, tags.Count);

        // Batches repeat a few keys many times: check each distinct key once, every timestamp.
        HashSet<string>? validKeys = null;
        foreach (var m in metrics)
        {
            ArgumentNullException.ThrowIfNull(m);
            if (m.Key is not null && (validKeys ??= new(StringComparer.Ordinal)).Contains(m.Key) && m.Timestamp >= 0)
            {
                continue;
            }

            ValidateMetric(m);
            validKeys!.Add(m.Key!);
        }

        foreach (var p in parameters)
        {
            ValidateParam(p);
        }

        foreach (var t in tags)
        {
            ValidateTag(t);
        }

        ValidateParamKeysUnique(parameters);
    }

    /// <summary>Validates datasets logged as run inputs and their input tags.</summary>
    public static void ValidateDatasetInputs(IReadOnlyList<DatasetInput> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ValidateBatchLimit("datasets", MaxEntitiesPerBatch, inputs.Count);
        foreach (var input in inputs)
        {
            var d = input.Dataset ?? throw TrackingException.Invalid("Dataset input must have a dataset associated with it.");
            if (string.IsNullOrEmpty(d.Name))
            {
                throw TrackingException.Invalid("Dataset name must be a non-empty string.");
            }

            if (string.IsNullOrEmpty(d.Digest))
            {
                throw TrackingException.Invalid("Dataset digest must be a non-empty string.");
            }

            ValidateLength("Dataset name", MaxDatasetNameLength, d.Name);
            ValidateLength("Dataset digest", MaxDatasetDigestLength, d.Digest);
            ValidateLength("Dataset source", MaxDatasetSourceLength, d.Source);
            ValidateLength("Dataset schema", MaxDatasetSchemaLength, d.Schema);
            ValidateLength("Dataset profile", MaxDatasetProfileLength, d.Profile);
            foreach (var tag in input.Tags)
            {
                if (string.IsNullOrEmpty(tag.Key))
                {
                    throw TrackingException.Invalid("Input tag key must be a non-empty string.");
                }

                ValidateLength("Input tag key", MaxInputTagKeyLength, tag.Key);
                ValidateLength("Input tag value", MaxInputTagValueLength, tag.Value);
            }
        }
    }

    /// <summary>Validates a logged model name, if one is given: non-empty and free of <c>/ : . % " '</c>.</summary>
    public static void ValidateLoggedModelName(string? name)
    {
        if (name is null)
        {
            return;
        }

        if (name.Length == 0 || name.AsSpan().IndexOfAny("/:.%\"'") >= 0)
        {
            throw TrackingException.Invalid(
                $"Invalid model name ('{name}') provided. Model name must be a non-empty string and cannot contain " +
                "the following characters: ('/', ':', '.', '%', '\"', \"'\")");
        }
    }

    private static void ValidateName(string kind, string capitalizedKind, string? name)
    {
        if (name is null)
        {
            throw TrackingException.Invalid($"{capitalizedKind} name cannot be None. A key name must be provided.");
        }

        if (!ValidNameRegex().IsMatch(name))
        {
            throw TrackingException.Invalid($"Invalid {kind} name: '{name}'. {BadCharactersMessage}");
        }

        if (PathNotUnique(name))
        {
            throw TrackingException.Invalid(
                $"Invalid {kind} name: '{name}'. Names may be treated as files in certain cases, and must not resolve to " +
                $"other names when treated as such. This name would resolve to '{NormalizePosixPath(name)}'");
        }
    }

    private static void ValidateLength(string entityName, int limit, string? value)
    {
        if (value is not null && value.Length > limit)
        {
            throw TrackingException.Invalid(
                $"{entityName} '{value[..Math.Min(250, value.Length)]}' had length {value.Length}, which exceeded length limit of {limit}");
        }
    }

    private static void ValidateBatchLimit(string entityName, int limit, int length)
    {
        if (length > limit)
        {
            throw TrackingException.Invalid(
                $"A batch logging request can contain at most {limit} {entityName}. Got {length} {entityName}. " +
                $"Please split up {entityName} across multiple requests and try again.");
        }
    }

    private static bool PathNotUnique(string name)
    {
        if (IsPlainPath(name))
        {
            return false;
        }

        var norm = NormalizePosixPath(name);
        return norm != name || norm == "." || norm.StartsWith("..", StringComparison.Ordinal) || norm.StartsWith('/');
    }

    /// <summary>Whether <c>normpath(name) == name</c> and the name is relative and not <c>..</c>-led, without allocating.</summary>
    private static bool IsPlainPath(string name)
    {
        if (name.Length == 0 || name[0] == '/' || name[^1] == '/' || name.StartsWith("..", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var range in name.AsSpan().Split('/'))
        {
            var segment = name.AsSpan()[range];
            if (segment.Length == 0 || segment is "." or "..")
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Python's <c>posixpath.normpath</c>.</summary>
    internal static string NormalizePosixPath(string path)
    {
        if (path.Length == 0)
        {
            return ".";
        }

        var initialSlashes = path.StartsWith('/') ? 1 : 0;
        if (initialSlashes == 1 && path.StartsWith("//", StringComparison.Ordinal) && !path.StartsWith("///", StringComparison.Ordinal))
        {
            initialSlashes = 2;
        }

        var comps = new List<string>();
        foreach (var comp in path.Split('/'))
        {
            if (comp.Length == 0 || comp == ".")
            {
                continue;
            }

            if (comp != ".." || (initialSlashes == 0 && comps.Count == 0) || (comps.Count > 0 && comps[^1] == ".."))
            {
                comps.Add(comp);
            }
            else if (comps.Count > 0)
            {
                comps.RemoveAt(comps.Count - 1);
            }
        }

        var result = new string('/', initialSlashes) + string.Join('/', comps);
        return result.Length == 0 ? "." : result;
    }

    private static string PythonList(List<string> items)
    {
        var sb = new StringBuilder("[");
        for (var i = 0; i < items.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(", ");
            }

            sb.Append('\'').Append(items[i]).Append('\'');
        }

        return sb.Append(']').ToString();
    }

    private static string FormatDouble(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
