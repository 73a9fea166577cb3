using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;

namespace Cairn.Core.Tests.Gateway.Translation;

/// <summary>Assertions over JSON bodies and server-sent-event streams that compare JSON by value, not by text.</summary>
internal static class WireAssert
{
    public static void Json(string expected, JsonNode? actual)
    {
        var expectedNode = JsonNode.Parse(expected);
        if (!JsonNode.DeepEquals(expectedNode, actual))
        {
            Assert.Fail($"JSON differs.\nExpected: {expectedNode?.ToJsonString()}\nActual:   {actual?.ToJsonString()}");
        }
    }

    /// <summary>Compares SSE text frame by frame: event names exactly, JSON data by value, other data exactly.</summary>
    public static void Frames(string expected, string actual)
    {
        var expectedFrames = Split(expected);
        var actualFrames = Split(actual);
        var count = Math.Min(expectedFrames.Count, actualFrames.Count);
        for (var i = 0; i < count; i++)
        {
            var (expectedEvent, expectedData) = expectedFrames[i];
            var (actualEvent, actualData) = actualFrames[i];
            Assert.True(expectedEvent == actualEvent, $"Frame {i}: event '{actualEvent}', expected '{expectedEvent}'.\nActual stream:\n{actual}");
            if (expectedData.StartsWith('{'))
            {
                var e = JsonNode.Parse(expectedData);
                var a = JsonNode.Parse(actualData);
                if (!JsonNode.DeepEquals(e, a))
                {
                    Assert.Fail($"Frame {i} differs.\nExpected: {e?.ToJsonString()}\nActual:   {a?.ToJsonString()}");
                }
            }
            else
            {
                Assert.Equal(expectedData, actualData);
            }
        }

        Assert.True(
            expectedFrames.Count == actualFrames.Count,
            $"Expected {expectedFrames.Count} frames, got {actualFrames.Count}.\nActual stream:\n{actual}");
    }

    public static string Text(ArrayBufferWriter<byte> buffer) => Encoding.UTF8.GetString(buffer.WrittenSpan);

    /// <summary>Splits SSE text into (event, data) frames; every frame must end with a blank line.</summary>
    public static List<(string? Event, string Data)> Split(string sse)
    {
        var frames = new List<(string? Event, string Data)>();
        var normalized = sse.Replace("\r\n", "\n", StringComparison.Ordinal);
        Assert.True(normalized.Length == 0 || normalized.EndsWith("\n\n", StringComparison.Ordinal), $"Stream does not end with a blank line:\n{sse}");
        foreach (var frame in normalized.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string? name = null;
            var data = new StringBuilder();
            foreach (var line in frame.Split('\n'))
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    name = line["event: ".Length..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data.Append(line["data: ".Length..]);
                }
                else
                {
                    Assert.Fail($"Unexpected SSE line '{line}'.");
                }
            }

            frames.Add((name, data.ToString()));
        }

        return frames;
    }

    /// <summary>The frames of upstream SSE text as (event, UTF-8 data) pairs, to feed a translator.</summary>
    public static IEnumerable<(string? Event, byte[] Data)> Upstream(string sse) =>
        Split(sse).Select(f => (f.Event, Encoding.UTF8.GetBytes(f.Data)));
}
