using System.Text.Json;

namespace Cairn.Server.Serving;

/// <summary>The input of one scoring request: rows of named columns, or tensors.</summary>
internal abstract record ServingInput;

/// <summary>Rows, each a map from column name to value; <see cref="Columns"/> lists the column names in order of first appearance.</summary>
internal sealed record RowsInput(IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyDictionary<string, JsonElement>> Rows) : ServingInput;

/// <summary>Tensors by input name (<c>{"inputs": {"x": [[...]]}}</c>); <see cref="Field"/> is the request field that held them.</summary>
internal sealed record NamedTensorsInput(string Field, IReadOnlyDictionary<string, JsonElement> Tensors) : ServingInput;

/// <summary>One unnamed tensor (<c>{"instances": [[...], [...]]}</c>), for a model with a single input.</summary>
internal sealed record TensorInput(string Field, JsonElement Tensor) : ServingInput;

/// <summary>Reads the input of a scoring request in the JSON shapes of MLflow's scoring server.</summary>
internal static class ServingRequest
{
    public const string RequiredInputFormat =
        "The input must be a JSON dictionary with exactly one of the input fields {'dataframe_split', 'dataframe_records', 'instances', 'inputs'}.";

    private static readonly string[] s_formats = ["dataframe_split", "dataframe_records", "instances", "inputs"];

    /// <summary>Returns the input held by <paramref name="root"/>; its values stay tied to <paramref name="root"/>'s document.</summary>
    public static ServingInput Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new ServingException($"Invalid input. {RequiredInputFormat}");
        }

        var present = s_formats.Where(f => root.TryGetProperty(f, out _)).ToList();
        if (present.Count != 1)
        {
            throw new ServingException(present.Count == 0
                ? $"Invalid input. {RequiredInputFormat}"
                : $"Invalid input. The input holds more than one input field ({string.Join(", ", present)}). {RequiredInputFormat}");
        }

        var format = present[0];
        var value = root.GetProperty(format);
        return format switch
        {
            "dataframe_split" => ReadSplit(value),
            "dataframe_records" => ReadRecords(value, format),
            _ => ReadInstancesOrInputs(value, format),
        };
    }

    private static RowsInput ReadSplit(JsonElement split)
    {
        if (split.ValueKind != JsonValueKind.Object
            || !split.TryGetProperty("columns", out var columnsElement) || columnsElement.ValueKind != JsonValueKind.Array
            || !split.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            throw new ServingException("Invalid input. 'dataframe_split' must be an object with a 'columns' list of column names and a 'data' list of rows.");
        }

        var columns = new List<string>();
        foreach (var column in columnsElement.EnumerateArray())
        {
            columns.Add(column.ValueKind == JsonValueKind.String
                ? column.GetString()!
                : throw new ServingException("Invalid input. The 'columns' of 'dataframe_split' must be strings."));
        }

        var rows = new List<IReadOnlyDictionary<string, JsonElement>>();
        foreach (var row in data.EnumerateArray())
        {
            if (row.ValueKind != JsonValueKind.Array || row.GetArrayLength() != columns.Count)
            {
                throw new ServingException($"Invalid input. Row {rows.Count} of 'dataframe_split' must be a list of {columns.Count} values, one per column.");
            }

            var values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            var i = 0;
            foreach (var cell in row.EnumerateArray())
            {
                values[columns[i++]] = cell;
            }

            rows.Add(values);
        }

        return new RowsInput(columns.Distinct(StringComparer.Ordinal).ToList(), rows);
    }

    private static ServingInput ReadInstancesOrInputs(JsonElement value, string format)
    {
        if (value.ValueKind == JsonValueKind.Object)
        {
            var tensors = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var property in value.EnumerateObject())
            {
                if (!tensors.TryAdd(property.Name, property.Value))
                {
                    throw new ServingException($"Invalid input. '{format}' names input '{property.Name}' more than once.");
                }
            }

            return new NamedTensorsInput(format, tensors);
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new ServingException($"Invalid input. '{format}' must be a list of row objects, a list of values (one tensor), or an object mapping input names to values.");
        }

        var objects = value.EnumerateArray().Count(item => item.ValueKind == JsonValueKind.Object);
        if (objects == value.GetArrayLength())
        {
            return ReadRecords(value, format);
        }

        return objects == 0
            ? new TensorInput(format, value)
            : throw new ServingException($"Invalid input. '{format}' mixes row objects with other values; send either a list of row objects or a (nested) list of values.");
    }

    private static RowsInput ReadRecords(JsonElement records, string format)
    {
        if (records.ValueKind != JsonValueKind.Array)
        {
            throw new ServingException($"Invalid input. '{format}' must be a list of row objects.");
        }

        var columns = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var rows = new List<IReadOnlyDictionary<string, JsonElement>>();
        foreach (var record in records.EnumerateArray())
        {
            if (record.ValueKind != JsonValueKind.Object)
            {
                throw new ServingException($"Invalid input. Item {rows.Count} of '{format}' must be an object mapping column names to values.");
            }

            var values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var property in record.EnumerateObject())
            {
                values[property.Name] = property.Value;
                if (seen.Add(property.Name))
                {
                    columns.Add(property.Name);
                }
            }

            rows.Add(values);
        }

        return new RowsInput(columns, rows);
    }
}
