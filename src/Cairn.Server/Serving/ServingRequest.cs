using System.Text.Json;

namespace Cairn.Server.Serving;

/// <summary>Reads the rows of a scoring request in the JSON shapes of MLflow's scoring server.</summary>
internal static class ServingRequest
{
    public const string RequiredInputFormat =
        "The input must be a JSON dictionary with exactly one of the input fields {'dataframe_split', 'dataframe_records', 'instances', 'inputs'}.";

    private static readonly string[] s_formats = ["dataframe_split", "dataframe_records", "instances", "inputs"];

    /// <summary>Returns the rows of <paramref name="root"/>, each a map from column name to value.</summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, JsonElement>> ReadRows(JsonElement root)
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
            _ => ReadRecords(value, format),
        };
    }

    private static List<IReadOnlyDictionary<string, JsonElement>> ReadSplit(JsonElement split)
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

        return rows;
    }

    private static List<IReadOnlyDictionary<string, JsonElement>> ReadRecords(JsonElement records, string format)
    {
        if (records.ValueKind != JsonValueKind.Array)
        {
            throw new ServingException(format == "inputs"
                ? "Invalid input. Only a list of row objects is supported for 'inputs' (tensor inputs are not served yet)."
                : $"Invalid input. '{format}' must be a list of row objects.");
        }

        var rows = new List<IReadOnlyDictionary<string, JsonElement>>();
        foreach (var record in records.EnumerateArray())
        {
            if (record.ValueKind != JsonValueKind.Object)
            {
                throw new ServingException(format == "inputs"
                    ? "Invalid input. Only a list of row objects is supported for 'inputs' (tensor inputs are not served yet)."
                    : $"Invalid input. Item {rows.Count} of '{format}' must be an object mapping column names to values.");
            }

            var values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var property in record.EnumerateObject())
            {
                values[property.Name] = property.Value;
            }

            rows.Add(values);
        }

        return rows;
    }
}
