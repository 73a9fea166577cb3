using System.Buffers;

namespace Cairn.Server.Gateway;

/// <summary>Splits a server-sent-events byte stream into frames (an event's lines up to and including the blank line).</summary>
internal static class SseFrames
{
    /// <summary>Takes the first complete frame off <paramref name="buffer"/>; false when the buffer holds no complete frame yet.</summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> frame)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
        {
            if (line.Length == 0 || (line.Length == 1 && line.FirstSpan[0] == (byte)'\r'))
            {
                frame = buffer.Slice(0, reader.Position);
                buffer = buffer.Slice(reader.Position);
                if (frame.Length <= line.Length + 1)
                {
                    // A blank line with no event before it (keep-alive padding): skip it.
                    return TryRead(ref buffer, out frame);
                }

                return true;
            }
        }

        frame = default;
        return false;
    }

    /// <summary>The event name and the joined <c>data:</c> lines of a frame (comments and other fields are ignored).</summary>
    public static (string? Event, byte[] Data) Parse(ReadOnlySequence<byte> frame)
    {
        string? name = null;
        var data = new ArrayBufferWriter<byte>();
        var reader = new SequenceReader<byte>(frame);
        var first = true;
        while (reader.TryReadTo(out ReadOnlySequence<byte> lineSequence, (byte)'\n'))
        {
            var line = lineSequence.IsSingleSegment ? lineSequence.FirstSpan : lineSequence.ToArray();
            if (line.Length > 0 && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }

            if (line.StartsWith("data:"u8))
            {
                var value = line[5..];
                if (value.Length > 0 && value[0] == (byte)' ')
                {
                    value = value[1..];
                }

                if (!first)
                {
                    data.Write("\n"u8);
                }

                data.Write(value);
                first = false;
            }
            else if (line.StartsWith("event:"u8))
            {
                name = System.Text.Encoding.UTF8.GetString(line[6..]).Trim();
            }
        }

        return (name, data.WrittenSpan.ToArray());
    }
}
