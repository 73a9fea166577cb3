using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cairn.Server.Serving;

/// <summary>Writes the values of ML.NET output columns as JSON: numbers, booleans, strings, lists of them, and key values as their labels.</summary>
internal static class OutputWriter
{
    private const string KeyValuesKind = "KeyValues";

    private static readonly Type[] s_scalarTypes = [typeof(float), typeof(double), typeof(int), typeof(long), typeof(uint), typeof(ulong), typeof(bool), typeof(ReadOnlyMemory<char>)];

    public static bool IsSupported(DataViewSchema.Column column) => column.Type switch
    {
        KeyDataViewType key => key.RawType == typeof(uint),
        VectorDataViewType vector => vector.ItemType is not KeyDataViewType && s_scalarTypes.Contains(vector.ItemType.RawType),
        var type => s_scalarTypes.Contains(type.RawType),
    };

    /// <summary>Returns a writer of the current value of <paramref name="column"/> under <paramref name="cursor"/>.</summary>
    public static Action<Utf8JsonWriter> Create(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        if (column.Type is KeyDataViewType)
        {
            return Key(cursor, column);
        }

        if (column.Type is VectorDataViewType vector)
        {
            var raw = vector.ItemType.RawType;
            return raw == typeof(float) ? Vector<float>(cursor, column, WriteSingle)
                : raw == typeof(double) ? Vector<double>(cursor, column, WriteDouble)
                : raw == typeof(int) ? Vector<int>(cursor, column, static (w, v) => w.WriteNumberValue(v))
                : raw == typeof(long) ? Vector<long>(cursor, column, static (w, v) => w.WriteNumberValue(v))
                : raw == typeof(uint) ? Vector<uint>(cursor, column, static (w, v) => w.WriteNumberValue(v))
                : raw == typeof(ulong) ? Vector<ulong>(cursor, column, static (w, v) => w.WriteNumberValue(v))
                : raw == typeof(bool) ? Vector<bool>(cursor, column, static (w, v) => w.WriteBooleanValue(v))
                : Vector<ReadOnlyMemory<char>>(cursor, column, static (w, v) => w.WriteStringValue(v.Span));
        }

        var type = column.Type.RawType;
        return type == typeof(float) ? Scalar<float>(cursor, column, WriteSingle)
            : type == typeof(double) ? Scalar<double>(cursor, column, WriteDouble)
            : type == typeof(int) ? Scalar<int>(cursor, column, static (w, v) => w.WriteNumberValue(v))
            : type == typeof(long) ? Scalar<long>(cursor, column, static (w, v) => w.WriteNumberValue(v))
            : type == typeof(uint) ? Scalar<uint>(cursor, column, static (w, v) => w.WriteNumberValue(v))
            : type == typeof(ulong) ? Scalar<ulong>(cursor, column, static (w, v) => w.WriteNumberValue(v))
            : type == typeof(bool) ? Scalar<bool>(cursor, column, static (w, v) => w.WriteBooleanValue(v))
            : Scalar<ReadOnlyMemory<char>>(cursor, column, static (w, v) => w.WriteStringValue(v.Span));
    }

    private static Action<Utf8JsonWriter> Key(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        var getter = cursor.GetGetter<uint>(column);
        string[]? labels = null;
        var kind = column.Annotations.Schema.GetColumnOrNull(KeyValuesKind);
        if (kind is { Type: VectorDataViewType { ItemType: TextDataViewType } })
        {
            VBuffer<ReadOnlyMemory<char>> values = default;
            column.Annotations.GetValue(KeyValuesKind, ref values);
            labels = [.. values.DenseValues().Select(v => v.ToString())];
        }

        return writer =>
        {
            uint key = 0;
            getter(ref key);
            if (key == 0)
            {
                writer.WriteNullValue(); // key 0 is ML.NET's missing value
            }
            else if (labels is not null && key <= labels.Length)
            {
                writer.WriteStringValue(labels[key - 1]);
            }
            else
            {
                writer.WriteNumberValue(key);
            }
        };
    }

    private static Action<Utf8JsonWriter> Scalar<T>(DataViewRowCursor cursor, DataViewSchema.Column column, Action<Utf8JsonWriter, T> write)
    {
        var getter = cursor.GetGetter<T>(column);
        return writer =>
        {
            T value = default!;
            getter(ref value);
            write(writer, value);
        };
    }

    private static Action<Utf8JsonWriter> Vector<T>(DataViewRowCursor cursor, DataViewSchema.Column column, Action<Utf8JsonWriter, T> write)
    {
        var getter = cursor.GetGetter<VBuffer<T>>(column);
        VBuffer<T> buffer = default;
        return writer =>
        {
            getter(ref buffer);
            writer.WriteStartArray();
            foreach (var value in buffer.DenseValues())
            {
                write(writer, value);
            }

            writer.WriteEndArray();
        };
    }

    /// <summary>Writes a number; JSON has no NaN or infinities, so they are written as null.</summary>
    internal static void WriteSingle(Utf8JsonWriter writer, float value)
    {
        if (float.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteNullValue();
        }
    }

    /// <summary>Writes a number; JSON has no NaN or infinities, so they are written as null.</summary>
    internal static void WriteDouble(Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}
