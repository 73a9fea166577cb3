using System.Buffers.Binary;
using System.Text;

namespace Cairn.Server.Tests.Serving;

/// <summary>Writes small ONNX models (the <c>ModelProto</c> of onnx.proto) as protobuf bytes, for serving tests.</summary>
/// <remarks>Only what the tests need: typed graph inputs and outputs, nodes with int, ints and string attributes, and float initializers.</remarks>
internal sealed class OnnxModelBuilder
{
    // TensorProto.DataType values.
    public const int Float = 1;
    public const int Int32 = 6;
    public const int Int64 = 7;
    public const int String = 8;
    public const int Bool = 9;
    public const int Double = 11;

    private readonly List<ProtoWriter> _nodes = [];
    private readonly List<ProtoWriter> _initializers = [];
    private readonly List<ProtoWriter> _inputs = [];
    private readonly List<ProtoWriter> _outputs = [];
    private readonly Dictionary<string, MemoryStream> _externalFiles = new(StringComparer.Ordinal);

    /// <summary>Gets the external-data files that <see cref="ExternalInitializer"/> filled, by name, to be placed beside the model.</summary>
    public IReadOnlyDictionary<string, byte[]> ExternalFiles => _externalFiles.ToDictionary(f => f.Key, f => f.Value.ToArray());

    /// <summary>A tensor type; each dimension is a <see cref="long"/> (fixed) or a <see cref="string"/> (symbolic).</summary>
    public static ProtoWriter Tensor(int elementType, params object[] dims)
    {
        var shape = new ProtoWriter();
        foreach (var dim in dims)
        {
            var dimension = dim switch
            {
                string symbol => new ProtoWriter().String(2, symbol),
                _ => new ProtoWriter().Varint(1, Convert.ToInt64(dim, System.Globalization.CultureInfo.InvariantCulture)),
            };
            shape.Message(1, dimension);
        }

        return new ProtoWriter().Message(1, new ProtoWriter().Varint(1, elementType).Message(2, shape));
    }

    /// <summary>The type <c>seq(map(keyType, tensor(valueType)))</c>, as produced by the ZipMap operator.</summary>
    public static ProtoWriter SequenceOfMaps(int keyType, int valueType)
    {
        var value = new ProtoWriter().Message(1, new ProtoWriter().Varint(1, valueType));
        var map = new ProtoWriter().Varint(1, keyType).Message(2, value);
        return new ProtoWriter().Message(4, new ProtoWriter().Message(1, new ProtoWriter().Message(5, map)));
    }

    public OnnxModelBuilder Input(string name, ProtoWriter type)
    {
        _inputs.Add(new ProtoWriter().String(1, name).Message(2, type));
        return this;
    }

    public OnnxModelBuilder Output(string name, ProtoWriter type)
    {
        _outputs.Add(new ProtoWriter().String(1, name).Message(2, type));
        return this;
    }

    public OnnxModelBuilder Initializer(string name, long[] dims, float[] values)
    {
        _initializers.Add(TensorHeader(name, dims).Bytes(9, ToBytes(values)));
        return this;
    }

    /// <summary>Adds a float initializer whose data is kept in the external file <paramref name="location"/>, as <c>onnx.save_model(..., save_as_external_data=True)</c> writes it.</summary>
    public OnnxModelBuilder ExternalInitializer(string name, long[] dims, float[] values, string location)
    {
        if (!_externalFiles.TryGetValue(location, out var file))
        {
            _externalFiles[location] = file = new MemoryStream();
        }

        var offset = file.Length;
        var raw = ToBytes(values);
        file.Write(raw);
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        _initializers.Add(TensorHeader(name, dims)
            .Message(13, new ProtoWriter().String(1, "location").String(2, location))
            .Message(13, new ProtoWriter().String(1, "offset").String(2, offset.ToString(culture)))
            .Message(13, new ProtoWriter().String(1, "length").String(2, raw.Length.ToString(culture)))
            .Varint(14, 1)); // data_location: EXTERNAL
        return this;
    }

    private static ProtoWriter TensorHeader(string name, long[] dims)
    {
        var tensor = new ProtoWriter();
        foreach (var dim in dims)
        {
            tensor.Varint(1, dim);
        }

        return tensor.Varint(2, Float).String(8, name);
    }

    private static byte[] ToBytes(float[] values)
    {
        var raw = new byte[values.Length * sizeof(float)];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * sizeof(float)), values[i]);
        }

        return raw;
    }

    /// <summary>Adds a node; attribute values are <see cref="long"/>, <see cref="long"/>[] or <see cref="string"/>.</summary>
    public OnnxModelBuilder Node(string opType, string[] inputs, string[] outputs, string domain = "", params (string Name, object Value)[] attributes)
    {
        var node = new ProtoWriter();
        foreach (var input in inputs)
        {
            node.String(1, input);
        }

        foreach (var output in outputs)
        {
            node.String(2, output);
        }

        node.String(4, opType);
        if (domain.Length > 0)
        {
            node.String(7, domain);
        }

        foreach (var (name, value) in attributes)
        {
            var attribute = new ProtoWriter().String(1, name);
            switch (value)
            {
                case long i:
                    attribute.Varint(20, 2).Varint(3, i);
                    break;
                case long[] ints:
                    attribute.Varint(20, 7);
                    foreach (var i in ints)
                    {
                        attribute.Varint(8, i);
                    }

                    break;
                case string s:
                    attribute.Varint(20, 3).String(4, s);
                    break;
                default:
                    throw new ArgumentException($"Unsupported attribute value {value}.", nameof(attributes));
            }

            node.Message(5, attribute);
        }

        _nodes.Add(node);
        return this;
    }

    public byte[] Build()
    {
        var graph = new ProtoWriter();
        foreach (var node in _nodes)
        {
            graph.Message(1, node);
        }

        graph.String(2, "cairn-test");
        foreach (var initializer in _initializers)
        {
            graph.Message(5, initializer);
        }

        foreach (var input in _inputs)
        {
            graph.Message(11, input);
        }

        foreach (var output in _outputs)
        {
            graph.Message(12, output);
        }

        return new ProtoWriter()
            .Varint(1, 7) // IR version 7
            .String(2, "cairn-tests")
            .Message(7, graph)
            .Message(8, new ProtoWriter().Varint(2, 13)) // the default domain, opset 13
            .Message(8, new ProtoWriter().String(1, "ai.onnx.ml").Varint(2, 1))
            .ToArray();
    }

    /// <summary>The protobuf wire format: varints (type 0) and length-delimited fields (type 2).</summary>
    internal sealed class ProtoWriter
    {
        private readonly MemoryStream _buffer = new();

        public ProtoWriter Varint(int field, long value)
        {
            WriteVarint((ulong)(field << 3));
            WriteVarint((ulong)value);
            return this;
        }

        public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public ProtoWriter Message(int field, ProtoWriter message) => Bytes(field, message.ToArray());

        public ProtoWriter Bytes(int field, byte[] value)
        {
            WriteVarint((ulong)((field << 3) | 2));
            WriteVarint((ulong)value.Length);
            _buffer.Write(value);
            return this;
        }

        public byte[] ToArray() => _buffer.ToArray();

        private void WriteVarint(ulong value)
        {
            while (value >= 0x80)
            {
                _buffer.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }

            _buffer.WriteByte((byte)value);
        }
    }
}
