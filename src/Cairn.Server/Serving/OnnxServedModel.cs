using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cairn.Server.Serving;

/// <summary>A loaded ONNX model; feeds its inputs from rows or tensors in JSON, as MLflow's onnx flavor does, and writes its outputs as JSON.</summary>
/// <remarks>Thread-safe: <see cref="InferenceSession.Run(RunOptions, IReadOnlyDictionary{string, OrtValue}, IReadOnlyCollection{string})"/> may be called concurrently; each call owns its input and output values.</remarks>
internal sealed class OnnxServedModel : IServedModel
{
    private readonly SessionOptions _options;
    private readonly InferenceSession _session;
    private readonly IReadOnlyList<Input> _inputs;
    private readonly IReadOnlyList<OnnxOutput> _outputs;
    private readonly string[] _outputNames;

    private OnnxServedModel(string name, string version, SessionOptions options, InferenceSession session, IReadOnlyList<Input> inputs, IReadOnlyList<OnnxOutput> outputs)
    {
        Name = name;
        Version = version;
        _options = options;
        _session = session;
        _inputs = inputs;
        _outputs = outputs;
        _outputNames = [.. outputs.Select(o => o.Name)];
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public string Version { get; }

    /// <summary>Loads an ONNX model from a file; its external data, if any, is read from the files it names beside it.</summary>
    /// <exception cref="OnnxRuntimeException">ONNX Runtime cannot load the model.</exception>
    /// <exception cref="ServingException">The model has inputs that cannot be fed from JSON.</exception>
    public static OnnxServedModel Load(string name, string version, string path)
    {
        // ONNX Runtime writes warnings (such as unused initializers in exported models) straight to stderr; keep errors only.
        var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        InferenceSession? session = null;
        try
        {
            session = new InferenceSession(path, options);
            var inputs = new List<Input>();
            var batchedInputs = false;
            foreach (var inputName in session.InputNames)
            {
                var metadata = session.InputMetadata[inputName];
                if (metadata.OnnxValueType != OnnxValueType.ONNX_TYPE_TENSOR || !OnnxTensorBuffer.IsSupported(metadata.ElementDataType))
                {
                    var type = metadata.OnnxValueType == OnnxValueType.ONNX_TYPE_TENSOR ? $"a tensor of {metadata.ElementDataType}" : $"of type {metadata.OnnxValueType}";
                    throw new ServingException($"Model '{name}' version {version} has input '{inputName}' {type}, which serving cannot feed from JSON (supported: tensors of float, double, float16, bfloat16, integers, bool and string).");
                }

                var input = new Input(inputName, metadata.ElementDataType, metadata.Dimensions, metadata.SymbolicDimensions);
                batchedInputs |= input.Dimensions is [<= 0, ..];
                inputs.Add(input);
            }

            var outputs = new List<OnnxOutput>();
            foreach (var outputName in session.OutputNames)
            {
                var metadata = session.OutputMetadata[outputName];
                var supported = metadata.OnnxValueType switch
                {
                    OnnxValueType.ONNX_TYPE_TENSOR => OnnxOutputWriter.IsSupported(metadata.ElementDataType),
                    OnnxValueType.ONNX_TYPE_SEQUENCE or OnnxValueType.ONNX_TYPE_MAP => true,
                    _ => false, // optional and sparse tensor outputs are left out
                };
                if (supported)
                {
                    // A tensor whose batch dimension is fixed while the inputs take any batch (such as the constant
                    // 'mlnet.*.unusedOutput' tensors of ML.NET's exporter) holds no per-row values.
                    var fixedBatch = metadata.OnnxValueType == OnnxValueType.ONNX_TYPE_TENSOR && metadata.Dimensions is [> 0, ..];
                    outputs.Add(new OnnxOutput(outputName, !(fixedBatch && batchedInputs)));
                }
            }

            return new OnnxServedModel(name, version, options, session, inputs, outputs);
        }
        catch
        {
            session?.Dispose();
            options.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public byte[] Predict(ServingInput input)
    {
        if (input is RowsInput { Rows.Count: 0 })
        {
            return """{"predictions":[]}"""u8.ToArray();
        }

        var feeds = new Dictionary<string, OrtValue>(StringComparer.Ordinal);
        try
        {
            switch (input)
            {
                case RowsInput rows:
                    FeedRows(rows, feeds);
                    break;
                case NamedTensorsInput named:
                    FeedNamed(named, feeds);
                    break;
                case TensorInput single when _inputs.Count == 1:
                    feeds[_inputs[0].Name] = FromTensor(_inputs[0], single.Tensor);
                    break;
                case TensorInput single:
                    throw new ServingException($"Invalid input. A list in '{single.Field}' feeds a model with exactly one input, but this model has {_inputs.Count}: {DescribeInputs()}. Send '{single.Field}' as an object mapping each input name to its values, or send rows ('dataframe_split' or 'dataframe_records').");
                default:
                    throw new ArgumentException($"Unknown input {input.GetType().Name}.", nameof(input));
            }

            using var runOptions = new RunOptions();
            IDisposableReadOnlyCollection<OrtValue> results;
            try
            {
                results = _session.Run(runOptions, feeds, _outputNames);
            }
            catch (OnnxRuntimeException e)
            {
                throw new ServingException($"The model cannot score this input: {e.Message}");
            }

            using (results)
            {
                return input is RowsInput { Rows.Count: var rowCount }
                    ? OnnxOutputWriter.WriteRows(_outputs, results, rowCount)
                    : OnnxOutputWriter.WriteTensors(_outputs, results);
            }
        }
        finally
        {
            foreach (var value in feeds.Values)
            {
                value.Dispose();
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _session.Dispose();
        _options.Dispose();
    }

    private static OrtValue FromColumn(Input input, IReadOnlyList<IReadOnlyDictionary<string, JsonElement>> rows)
    {
        var buffer = OnnxTensorBuffer.Create(input.ElementType)!;

        // Each row gives one item of the batch: its shape is the declared shape less the batch dimension. An item of a single
        // element ([N] or [N, 1] inputs) may be given as a plain value. An input declared without a shape takes the first row's.
        var itemShape = input.Dimensions.Length > 0 ? input.Dimensions[1..].Select(d => d > 0 ? (long)d : -1L).ToArray() : null;
        var single = itemShape is not null && itemShape.All(d => d == 1);
        for (var i = 0; i < rows.Count; i++)
        {
            if (!rows[i].TryGetValue(input.Name, out var cell))
            {
                throw new ServingException($"Row {i} is missing the column '{input.Name}' for the model's input '{input.Name}' ({input.Signature}).");
            }

            itemShape ??= OnnxTensorBuffer.InferShape(cell);
            var error = single && cell.ValueKind != JsonValueKind.Array
                ? (buffer.TryAdd(cell) ? null : $"expected {buffer.Expected}, got {OnnxTensorBuffer.Abbreviate(cell)}")
                : buffer.TryAppend(cell, itemShape);
            if (error is not null)
            {
                throw new ServingException($"Row {i} has a value of the wrong type or shape in column '{input.Name}' for the model's input '{input.Name}' ({input.Signature}): {error}.");
            }
        }

        long[] shape = [rows.Count, .. itemShape!];
        CheckBatch(input, shape);
        return buffer.ToOrtValue(shape);
    }

    // As MLflow's onnx flavor does for a model with a single input: a row's columns, in order, are the row of the input matrix.
    private static OrtValue FromPackedColumns(Input input, RowsInput rows)
    {
        var width = input.Dimensions[1];
        if (width > 0 && width != rows.Columns.Count)
        {
            throw new ServingException($"The model's single input '{input.Name}' ({input.Signature}) takes {width} values per row, but the rows have {rows.Columns.Count} columns ({string.Join(", ", rows.Columns)}) and none named '{input.Name}'.");
        }

        var buffer = OnnxTensorBuffer.Create(input.ElementType)!;
        for (var i = 0; i < rows.Rows.Count; i++)
        {
            foreach (var column in rows.Columns)
            {
                if (!rows.Rows[i].TryGetValue(column, out var cell))
                {
                    throw new ServingException($"Row {i} is missing column '{column}': every row must give every column, packed in order into the model's single input '{input.Name}' ({input.Signature}).");
                }

                if (!buffer.TryAdd(cell))
                {
                    throw new ServingException($"Row {i} has a value of the wrong type in column '{column}' (packed into the model's input '{input.Name}', {input.Signature}): expected {buffer.Expected}, got {OnnxTensorBuffer.Abbreviate(cell)}.");
                }
            }
        }

        long[] shape = [rows.Rows.Count, rows.Columns.Count];
        CheckBatch(input, shape);
        return buffer.ToOrtValue(shape);
    }

    private static OrtValue FromTensor(Input input, JsonElement value)
    {
        var buffer = OnnxTensorBuffer.Create(input.ElementType)!;
        var shape = input.Dimensions.Length > 0
            ? input.Dimensions.Select(d => d > 0 ? (long)d : -1L).ToArray()
            : OnnxTensorBuffer.InferShape(value);
        var error = buffer.TryAppend(value, shape);
        if (error is not null)
        {
            throw new ServingException($"The value of the model's input '{input.Name}' ({input.Signature}) has the wrong type or shape: {error}.");
        }

        return buffer.ToOrtValue(shape);
    }

    // The other fixed dimensions are checked while reading the values; only the batch dimension is known afterwards.
    private static void CheckBatch(Input input, long[] shape)
    {
        if (input.Dimensions is [> 0 and var batch, ..] && shape[0] != batch)
        {
            throw new ServingException(string.Create(
                CultureInfo.InvariantCulture,
                $"The model's input '{input.Name}' ({input.Signature}) takes exactly {batch} row(s); the request has {shape[0]}."));
        }
    }

    private void FeedRows(RowsInput rows, Dictionary<string, OrtValue> feeds)
    {
        if (_inputs is [{ Dimensions.Length: 2 } single] && !rows.Columns.Contains(single.Name, StringComparer.Ordinal))
        {
            feeds[single.Name] = FromPackedColumns(single, rows);
            return;
        }

        foreach (var input in _inputs)
        {
            feeds[input.Name] = FromColumn(input, rows.Rows);
        }
    }

    private void FeedNamed(NamedTensorsInput request, Dictionary<string, OrtValue> feeds)
    {
        var unknown = request.Tensors.Keys.FirstOrDefault(name => !_inputs.Any(i => i.Name == name));
        if (unknown is not null)
        {
            throw new ServingException($"Invalid input. The model has no input '{unknown}'; its inputs are {DescribeInputs()}.");
        }

        foreach (var input in _inputs)
        {
            if (!request.Tensors.TryGetValue(input.Name, out var value))
            {
                throw new ServingException($"Invalid input. '{request.Field}' is missing the model's input '{input.Name}' ({input.Signature}); the model's inputs are {DescribeInputs()}.");
            }

            feeds[input.Name] = FromTensor(input, value);
        }
    }

    private string DescribeInputs() => string.Join(", ", _inputs.Select(i => $"'{i.Name}' ({i.Signature})"));

    /// <summary>A tensor input: its element type and declared dimensions (-1 where any size goes; none when declared without a shape).</summary>
    private sealed record Input(string Name, TensorElementType ElementType, int[] Dimensions, string[] SymbolicDimensions)
    {
        /// <summary>Gets the input's type as in "Float [N, 4]", with symbolic or unnamed dynamic dimensions by name.</summary>
        public string Signature { get; } = Dimensions.Length == 0
            ? $"{ElementType} of any shape"
            : $"{ElementType} [{string.Join(", ", Dimensions.Select((d, i) => d > 0 ? d.ToString(CultureInfo.InvariantCulture) : SymbolicDimensions.ElementAtOrDefault(i) is { Length: > 0 } symbol ? symbol : i == 0 ? "N" : "?"))}]";
    }
}
