using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cairn.Server.Serving;

/// <summary>A loaded ML.NET model and the input columns it reads; scores batches of JSON rows.</summary>
/// <remarks>Thread-safe: each call builds its own <see cref="IDataView"/> and calls <see cref="ITransformer.Transform"/>, never a shared <c>PredictionEngine</c>.</remarks>
internal sealed class MlNetServedModel : IServedModel
{
    private readonly ITransformer _transformer;
    private readonly IReadOnlyList<InputColumn> _inputs;

    private MlNetServedModel(string name, string version, ITransformer transformer, IReadOnlyList<InputColumn> inputs)
    {
        Name = name;
        Version = version;
        _transformer = transformer;
        _inputs = inputs;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public string Version { get; }

    /// <summary>Loads a model saved with <c>mlContext.Model.Save</c>; the stream must be seekable.</summary>
    public static MlNetServedModel Load(string name, string version, Stream zip)
    {
        var context = new MLContext();
        var transformer = context.Model.Load(zip, out var inputSchema);
        if (inputSchema is null)
        {
            throw new ServingException($"Model '{name}' version {version} was saved without its input schema; save it with mlContext.Model.Save(model, data.Schema, path).");
        }

        var inputs = new List<InputColumn>();
        foreach (var column in inputSchema.Where(c => !c.IsHidden))
        {
            // A column is required when the model cannot be applied to the schema without it.
            var without = new InMemoryDataView(
                [.. inputSchema.Where(c => !c.IsHidden && c.Name != column.Name).Select(c => (InMemoryColumn)new InMemoryColumn<bool>(c.Name, c.Type, []))],
                0);
            bool required;
            try
            {
                transformer.GetOutputSchema(without.Schema);
                required = false;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
            {
                required = true;
            }

            inputs.Add(new InputColumn(column.Name, column.Type, required));
        }

        return new MlNetServedModel(name, version, transformer, inputs);
    }

    /// <inheritdoc />
    public byte[] Predict(ServingInput input)
    {
        if (input is not RowsInput { Rows: var rows })
        {
            throw new ServingException("ML.NET models score rows: send 'dataframe_split', 'dataframe_records', or 'instances'/'inputs' as a list of row objects. Tensor inputs are served for ONNX models only.");
        }

        var columns = new List<InMemoryColumn>();
        foreach (var column in _inputs)
        {
            var present = rows.Count(r => r.ContainsKey(column.Name));
            if (present == 0 && !column.Required)
            {
                continue;
            }

            if (present < rows.Count)
            {
                var missingAt = rows.Select((r, i) => (r, i)).First(x => !x.r.ContainsKey(column.Name)).i;
                throw new ServingException($"Row {missingAt} is missing the model's required input column '{column.Name}' ({Describe(column.Type)}).");
            }

            columns.Add(BuildColumn(column, rows));
        }

        var data = new InMemoryDataView(columns, rows.Count);
        IDataView scored;
        try
        {
            scored = _transformer.Transform(data);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
        {
            throw new ServingException($"The model cannot score this input: {e.Message}");
        }

        var inputNames = new HashSet<string>(columns.Select(c => c.Name), StringComparer.Ordinal);
        var outputs = scored.Schema.Where(c => !c.IsHidden && !inputNames.Contains(c.Name) && OutputWriter.IsSupported(c)).ToList();
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("predictions");
            using (var cursor = scored.GetRowCursor(outputs))
            {
                var writers = outputs.Select(c => (c.Name, Write: OutputWriter.Create(cursor, c))).ToList();
                while (cursor.MoveNext())
                {
                    writer.WriteStartObject();
                    foreach (var (columnName, write) in writers)
                    {
                        writer.WritePropertyName(columnName);
                        write(writer);
                    }

                    writer.WriteEndObject();
                }
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <inheritdoc />
    public void Dispose() => (_transformer as IDisposable)?.Dispose();

    private static InMemoryColumn BuildColumn(InputColumn input, IReadOnlyList<IReadOnlyDictionary<string, JsonElement>> rows)
    {
        var type = input.Type;
        if (type is VectorDataViewType vector && vector.ItemType.RawType == typeof(float))
        {
            var values = new VBuffer<float>[rows.Count];
            for (var i = 0; i < rows.Count; i++)
            {
                values[i] = ReadFloatVector(input, vector, rows[i][input.Name], i);
            }

            return new InMemoryVectorColumn<float>(input.Name, vector, values);
        }

        if (type is not (NumberDataViewType or BooleanDataViewType or TextDataViewType))
        {
            throw new ServingException($"The model's input column '{input.Name}' has type {type}, which serving does not support yet (supported: float, double, int, long, bool, string and fixed-size float vectors).");
        }

        var raw = type.RawType;
        if (raw == typeof(float))
        {
            return Scalars(input, rows, (e, i) => (float)ReadDouble(input, e, i));
        }

        if (raw == typeof(double))
        {
            return Scalars(input, rows, (e, i) => ReadDouble(input, e, i));
        }

        if (raw == typeof(int))
        {
            return Scalars(input, rows, (e, i) => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var v) ? v : throw WrongType(input, e, i));
        }

        if (raw == typeof(long))
        {
            return Scalars(input, rows, (e, i) => e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var v) ? v : throw WrongType(input, e, i));
        }

        if (raw == typeof(bool))
        {
            return Scalars(input, rows, (e, i) => e.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw WrongType(input, e, i),
            });
        }

        if (raw == typeof(ReadOnlyMemory<char>))
        {
            return Scalars(input, rows, (e, i) => e.ValueKind switch
            {
                JsonValueKind.String => e.GetString().AsMemory(),
                JsonValueKind.Null => ReadOnlyMemory<char>.Empty,
                _ => throw WrongType(input, e, i),
            });
        }

        throw new ServingException($"The model's input column '{input.Name}' has type {type}, which serving does not support yet (supported: float, double, int, long, bool, string and fixed-size float vectors).");
    }

    private static InMemoryColumn<T> Scalars<T>(InputColumn input, IReadOnlyList<IReadOnlyDictionary<string, JsonElement>> rows, Func<JsonElement, int, T> read)
    {
        var values = new T[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            values[i] = read(rows[i][input.Name], i);
        }

        return new InMemoryColumn<T>(input.Name, input.Type, values);
    }

    private static double ReadDouble(InputColumn input, JsonElement element, int row) => element.ValueKind switch
    {
        JsonValueKind.Number => element.GetDouble(),
        JsonValueKind.Null => double.NaN,
        _ => throw WrongType(input, element, row),
    };

    private static VBuffer<float> ReadFloatVector(InputColumn input, VectorDataViewType type, JsonElement element, int row)
    {
        if (element.ValueKind != JsonValueKind.Array || (type.Size > 0 && element.GetArrayLength() != type.Size))
        {
            throw WrongType(input, element, row);
        }

        var values = new float[element.GetArrayLength()];
        var i = 0;
        foreach (var item in element.EnumerateArray())
        {
            values[i++] = item.ValueKind switch
            {
                JsonValueKind.Number => item.GetSingle(),
                JsonValueKind.Null => float.NaN,
                _ => throw WrongType(input, element, row),
            };
        }

        return new VBuffer<float>(values.Length, values);
    }

    private static ServingException WrongType(InputColumn input, JsonElement value, int row)
    {
        var text = value.GetRawText();
        if (text.Length > 50)
        {
            text = string.Concat(text.AsSpan(0, 50), "…");
        }

        return new ServingException($"Row {row} has a value of the wrong type for input column '{input.Name}': expected {Describe(input.Type)}, got {text}.");
    }

    private static string Describe(DataViewType type) => type switch
    {
        VectorDataViewType { Size: > 0 } v => string.Create(CultureInfo.InvariantCulture, $"a list of {v.Size} {Describe(v.ItemType)} values"),
        VectorDataViewType v => $"a list of {Describe(v.ItemType)} values",
        TextDataViewType => "a string",
        BooleanDataViewType => "a boolean",
        _ when type.RawType == typeof(float) || type.RawType == typeof(double) => "a number",
        _ when type.RawType == typeof(int) || type.RawType == typeof(long) => "an integer",
        _ => type.ToString() ?? "a value",
    };

    private sealed record InputColumn(string Name, DataViewType Type, bool Required);
}
