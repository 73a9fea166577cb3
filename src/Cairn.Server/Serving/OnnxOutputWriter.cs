using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cairn.Server.Serving;

/// <summary>One output of an ONNX model that serving returns.</summary>
/// <param name="Name">The output's name.</param>
/// <param name="PerRow">False when the output cannot hold one value per row: its batch dimension is fixed while the model's inputs take any number of rows.</param>
internal sealed record OnnxOutput(string Name, bool PerRow);

/// <summary>Writes the outputs of an ONNX model as the JSON of MLflow's scoring server: tensors as nested lists, sequences as lists, maps as objects.</summary>
internal static class OnnxOutputWriter
{
    /// <summary>Writes <c>{"predictions": [{output: value, ...}, ...]}</c>, one object per row, for an input of <paramref name="rowCount"/> rows.</summary>
    /// <remarks>
    /// Row <c>i</c> gets item <c>i</c> of every output whose first dimension (or sequence length) is the row count: a single value when
    /// the item holds one element, else a nested list. Other outputs, which do not hold one value per row, are left out.
    /// </remarks>
    public static byte[] WriteRows(IReadOnlyList<OnnxOutput> outputs, IReadOnlyList<OrtValue> values, int rowCount)
    {
        var columns = new List<(string Name, Action<Utf8JsonWriter, int> Write)>();
        for (var i = 0; i < outputs.Count; i++)
        {
            if (outputs[i].PerRow && PerRowWriter(values[i], rowCount) is { } write)
            {
                columns.Add((outputs[i].Name, write));
            }
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("predictions");
            for (var row = 0; row < rowCount; row++)
            {
                writer.WriteStartObject();
                foreach (var (name, write) in columns)
                {
                    writer.WritePropertyName(name);
                    write(writer, row);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes <c>{"predictions": {output: value, ...}}</c>, each output whole, as MLflow does for tensor input.</summary>
    public static byte[] WriteTensors(IReadOnlyList<OnnxOutput> outputs, IReadOnlyList<OrtValue> values)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("predictions");
            for (var i = 0; i < outputs.Count; i++)
            {
                writer.WritePropertyName(outputs[i].Name);
                WriteValue(writer, values[i]);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Whether outputs of <paramref name="type"/> can be written.</summary>
    public static bool IsSupported(TensorElementType type) => type switch
    {
        TensorElementType.Float or TensorElementType.Double or TensorElementType.Float16 or TensorElementType.BFloat16
            or TensorElementType.Int8 or TensorElementType.UInt8 or TensorElementType.Int16 or TensorElementType.UInt16
            or TensorElementType.Int32 or TensorElementType.UInt32 or TensorElementType.Int64 or TensorElementType.UInt64
            or TensorElementType.Bool or TensorElementType.String => true,
        _ => false,
    };

    private static Action<Utf8JsonWriter, int>? PerRowWriter(OrtValue value, int rowCount)
    {
        switch (value.OnnxType)
        {
            case OnnxValueType.ONNX_TYPE_TENSOR:
                var shape = value.GetTensorTypeAndShape().Shape;
                if (shape.Length == 0 || shape[0] != rowCount)
                {
                    return null;
                }

                var elements = Elements.From(value);
                var itemShape = shape[1..];
                var itemSize = (int)itemShape.Aggregate(1L, (a, b) => a * b);
                return itemSize == 1
                    ? (writer, row) => elements.Write(writer, row)
                    : (writer, row) =>
                    {
                        var offset = row * itemSize;
                        WriteNested(writer, elements, itemShape, ref offset);
                    };
            case OnnxValueType.ONNX_TYPE_SEQUENCE when value.GetValueCount() == rowCount:
                return (writer, row) =>
                {
                    using var item = value.GetValue(row, OrtAllocator.DefaultInstance);
                    WriteValue(writer, item);
                };
            default:
                return null;
        }
    }

    private static void WriteValue(Utf8JsonWriter writer, OrtValue value)
    {
        switch (value.OnnxType)
        {
            case OnnxValueType.ONNX_TYPE_TENSOR:
                var offset = 0;
                WriteNested(writer, Elements.From(value), value.GetTensorTypeAndShape().Shape, ref offset);
                break;
            case OnnxValueType.ONNX_TYPE_SEQUENCE:
                writer.WriteStartArray();
                var count = value.GetValueCount();
                for (var i = 0; i < count; i++)
                {
                    using var item = value.GetValue(i, OrtAllocator.DefaultInstance);
                    WriteValue(writer, item);
                }

                writer.WriteEndArray();
                break;
            case OnnxValueType.ONNX_TYPE_MAP:
                // ONNX Runtime hands a map out as two tensors of the same length: its keys (index 0) and its values (index 1).
                using (var keys = value.GetValue(0, OrtAllocator.DefaultInstance))
                using (var values = value.GetValue(1, OrtAllocator.DefaultInstance))
                {
                    var keyElements = Elements.From(keys);
                    var valueElements = Elements.From(values);
                    writer.WriteStartObject();
                    for (var i = 0; i < keyElements.Count; i++)
                    {
                        writer.WritePropertyName(keyElements.Key(i));
                        valueElements.Write(writer, i);
                    }

                    writer.WriteEndObject();
                }

                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }

    private static void WriteNested(Utf8JsonWriter writer, Elements elements, ReadOnlySpan<long> shape, ref int offset)
    {
        if (shape.IsEmpty)
        {
            elements.Write(writer, offset++);
            return;
        }

        writer.WriteStartArray();
        for (var i = 0L; i < shape[0]; i++)
        {
            WriteNested(writer, elements, shape[1..], ref offset);
        }

        writer.WriteEndArray();
    }

    /// <summary>The elements of one tensor, copied out of ONNX Runtime's buffer.</summary>
    private abstract class Elements
    {
        public abstract int Count { get; }

        public static Elements From(OrtValue tensor) => tensor.GetTensorTypeAndShape().ElementDataType switch
        {
            TensorElementType.Float => Copy<float>(tensor, OutputWriter.WriteSingle),
            TensorElementType.Double => Copy<double>(tensor, OutputWriter.WriteDouble),
            TensorElementType.Float16 => Copy<Float16>(tensor, static (w, v) => OutputWriter.WriteSingle(w, (float)v)),
            TensorElementType.BFloat16 => Copy<BFloat16>(tensor, static (w, v) => OutputWriter.WriteSingle(w, (float)v)),
            TensorElementType.Int8 => Copy<sbyte>(tensor, static (w, v) => w.WriteNumberValue(v)),
            TensorElementType.UInt8 => Copy<byte>(tensor, static (w, v) => w.WriteNumberValue(v)),
            TensorElementType.Int16 => Copy<short>(tensor, static (w, v) => w.WriteNumberValue(v)),
            TensorElementType.UInt16 => Copy<ushort>(tensor, static (w, v) => w.WriteNumberValue(v)),
            TensorElementType.Int32 => Copy<int>(tensor, static (w, v) => w.WriteNumberValue(v)),
            TensorElementType.UInt32 => Copy<uint>(tensor, static (w, v) => w.WriteNumberValue(v)),
            TensorElementType.Int64 => Copy<long>(tensor, static (w, v) => w.WriteNumberValue(v)),
            TensorElementType.UInt64 => Copy<ulong>(tensor, static (w, v) => w.WriteNumberValue(v)),
            TensorElementType.Bool => Copy<bool>(tensor, static (w, v) => w.WriteBooleanValue(v)),
            TensorElementType.String => new Of<string>(tensor.GetStringTensorAsArray(), static (w, v) => w.WriteStringValue(v)),
            var type => throw new ServingException($"The model returned a tensor of {type} elements, which serving cannot write as JSON."),
        };

        /// <summary>Writes element <paramref name="index"/> as a JSON value.</summary>
        public abstract void Write(Utf8JsonWriter writer, int index);

        /// <summary>Returns element <paramref name="index"/> as a JSON property name (for map keys).</summary>
        public abstract string Key(int index);

        private static Of<T> Copy<T>(OrtValue tensor, Action<Utf8JsonWriter, T> write)
            where T : unmanaged => new(tensor.GetTensorDataAsSpan<T>().ToArray(), write);

        private sealed class Of<T>(T[] values, Action<Utf8JsonWriter, T> write) : Elements
        {
            public override int Count => values.Length;

            public override void Write(Utf8JsonWriter writer, int index) => write(writer, values[index]);

            public override string Key(int index) =>
                values[index] is IFormattable formattable ? formattable.ToString(null, CultureInfo.InvariantCulture) : values[index]?.ToString() ?? string.Empty;
        }
    }
}
