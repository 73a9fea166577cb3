using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cairn.Server.Serving;

/// <summary>Collects the elements of one ONNX input tensor read from JSON values, then hands them to ONNX Runtime.</summary>
internal abstract class OnnxTensorBuffer
{
    private delegate bool Reader<T>(JsonElement element, out T value);

    /// <summary>Gets what one element must look like in JSON, such as "a number".</summary>
    public abstract string Expected { get; }

    /// <summary>Whether inputs with elements of <paramref name="type"/> can be read from JSON.</summary>
    public static bool IsSupported(TensorElementType type) => Create(type) is not null;

    /// <summary>Returns an empty buffer for elements of <paramref name="type"/>, or null when JSON values cannot be read as such.</summary>
    public static OnnxTensorBuffer? Create(TensorElementType type) => type switch
    {
        TensorElementType.Float => new Numeric<float>("a number", static (JsonElement e, out float v) =>
        {
            var ok = TryReadDouble(e, out var d);
            v = (float)d;
            return ok;
        }),
        TensorElementType.Double => new Numeric<double>("a number", TryReadDouble),
        TensorElementType.Float16 => new Numeric<Float16>("a number", static (JsonElement e, out Float16 v) =>
        {
            var ok = TryReadDouble(e, out var d);
            v = (Float16)(float)d;
            return ok;
        }),
        TensorElementType.BFloat16 => new Numeric<BFloat16>("a number", static (JsonElement e, out BFloat16 v) =>
        {
            var ok = TryReadDouble(e, out var d);
            v = (BFloat16)(float)d;
            return ok;
        }),
        TensorElementType.Int8 => new Numeric<sbyte>("an 8-bit integer", static (JsonElement e, out sbyte v) => IsNumber(e, out v) && e.TryGetSByte(out v)),
        TensorElementType.UInt8 => new Numeric<byte>("an unsigned 8-bit integer", static (JsonElement e, out byte v) => IsNumber(e, out v) && e.TryGetByte(out v)),
        TensorElementType.Int16 => new Numeric<short>("a 16-bit integer", static (JsonElement e, out short v) => IsNumber(e, out v) && e.TryGetInt16(out v)),
        TensorElementType.UInt16 => new Numeric<ushort>("an unsigned 16-bit integer", static (JsonElement e, out ushort v) => IsNumber(e, out v) && e.TryGetUInt16(out v)),
        TensorElementType.Int32 => new Numeric<int>("a 32-bit integer", static (JsonElement e, out int v) => IsNumber(e, out v) && e.TryGetInt32(out v)),
        TensorElementType.UInt32 => new Numeric<uint>("an unsigned 32-bit integer", static (JsonElement e, out uint v) => IsNumber(e, out v) && e.TryGetUInt32(out v)),
        TensorElementType.Int64 => new Numeric<long>("a 64-bit integer", static (JsonElement e, out long v) => IsNumber(e, out v) && e.TryGetInt64(out v)),
        TensorElementType.UInt64 => new Numeric<ulong>("an unsigned 64-bit integer", static (JsonElement e, out ulong v) => IsNumber(e, out v) && e.TryGetUInt64(out v)),
        TensorElementType.Bool => new Numeric<bool>("a boolean", static (JsonElement e, out bool v) =>
        {
            v = e.ValueKind == JsonValueKind.True;
            return e.ValueKind is JsonValueKind.True or JsonValueKind.False;
        }),
        TensorElementType.String => new Strings(),
        _ => null,
    };

    /// <summary>Returns the shape of a nested JSON list, every size unknown (-1), for an input declared without a shape.</summary>
    public static long[] InferShape(JsonElement value)
    {
        var rank = 0;
        while (value.ValueKind == JsonValueKind.Array)
        {
            rank++;
            if (value.GetArrayLength() == 0)
            {
                break;
            }

            value = value[0];
        }

        return Enumerable.Repeat(-1L, rank).ToArray();
    }

    /// <summary>Returns a JSON value shortened for an error message.</summary>
    public static string Abbreviate(JsonElement value)
    {
        var text = value.GetRawText();
        return text.Length > 50 ? string.Concat(text.AsSpan(0, 50), "…") : text;
    }

    /// <summary>Adds one element; false when <paramref name="value"/> is not of the element type.</summary>
    public abstract bool TryAdd(JsonElement value);

    /// <summary>
    /// Adds the elements of <paramref name="value"/>, a nested list of rank <c>shape.Length</c> (a single value for rank 0).
    /// Sizes of <paramref name="shape"/> that are -1 are taken from the first list met at that depth; later lists must match.
    /// </summary>
    /// <returns>Null, or why <paramref name="value"/> does not fit.</returns>
    public string? TryAppend(JsonElement value, long[] shape) => TryAppend(value, shape, 0);

    /// <summary>Creates the tensor of the added elements; sizes still unknown (below an empty list) become 0.</summary>
    public OrtValue ToOrtValue(long[] shape)
    {
        for (var i = 0; i < shape.Length; i++)
        {
            shape[i] = Math.Max(shape[i], 0);
        }

        return Create(shape);
    }

    protected abstract OrtValue Create(long[] shape);

    private static bool TryReadDouble(JsonElement element, out double value)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Number:
                return element.TryGetDouble(out value);
            case JsonValueKind.Null:
                // As for ML.NET inputs: a missing number is NaN (pandas writes NaN as null).
                value = double.NaN;
                return true;
            default:
                value = 0;
                return false;
        }
    }

    private static bool IsNumber<T>(JsonElement element, out T value)
        where T : struct
    {
        value = default;
        return element.ValueKind == JsonValueKind.Number;
    }

    private string? TryAppend(JsonElement value, long[] shape, int depth)
    {
        if (depth == shape.Length)
        {
            return TryAdd(value) ? null : $"expected {Expected}, got {Abbreviate(value)}";
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            var rank = shape.Length - depth;
            return rank == 1
                ? $"expected a list, got {Abbreviate(value)}"
                : $"expected a {rank}-dimensional nested list, got {Abbreviate(value)}";
        }

        var length = value.GetArrayLength();
        if (shape[depth] < 0)
        {
            shape[depth] = length;
        }
        else if (shape[depth] != length)
        {
            return string.Create(
                CultureInfo.InvariantCulture,
                $"expected a list of {shape[depth]} {(shape[depth] == 1 ? "item" : "items")}, got a list of {length}: {Abbreviate(value)}");
        }

        foreach (var item in value.EnumerateArray())
        {
            var error = TryAppend(item, shape, depth + 1);
            if (error is not null)
            {
                return error;
            }
        }

        return null;
    }

    private sealed class Numeric<T>(string expected, Reader<T> read) : OnnxTensorBuffer
        where T : unmanaged
    {
        private readonly List<T> _values = [];

        public override string Expected => expected;

        public override bool TryAdd(JsonElement value)
        {
            if (!read(value, out var item))
            {
                return false;
            }

            _values.Add(item);
            return true;
        }

        protected override OrtValue Create(long[] shape) => OrtValue.CreateTensorValueFromMemory(_values.ToArray(), shape);
    }

    private sealed class Strings : OnnxTensorBuffer
    {
        private readonly List<string> _values = [];

        public override string Expected => "a string";

        public override bool TryAdd(JsonElement value)
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.String:
                    _values.Add(value.GetString()!);
                    return true;
                case JsonValueKind.Null:
                    _values.Add(string.Empty);
                    return true;
                default:
                    return false;
            }
        }

        protected override OrtValue Create(long[] shape)
        {
            var tensor = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, shape);
            for (var i = 0; i < _values.Count; i++)
            {
                tensor.StringTensorSetElementAt(_values[i].AsSpan(), i);
            }

            return tensor;
        }
    }
}
