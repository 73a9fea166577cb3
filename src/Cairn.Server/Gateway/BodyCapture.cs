using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Core.Gateway;

namespace Cairn.Server.Gateway;

/// <summary>Keeps the first bytes of a body for the request log, cut at the configured size and with chosen fields redacted.</summary>
internal sealed class BodyCapture(int limit)
{
    private readonly MemoryStream _buffer = new();

    public bool Truncated { get; private set; }

    public string Text => Encoding.UTF8.GetString(_buffer.GetBuffer(), 0, (int)_buffer.Length);

    public void Append(ReadOnlySpan<byte> bytes)
    {
        var room = limit - (int)_buffer.Length;
        if (room <= 0)
        {
            Truncated |= bytes.Length > 0;
            return;
        }

        if (bytes.Length > room)
        {
            Truncated = true;
            bytes = bytes[..room];
        }

        _buffer.Write(bytes);
    }

    /// <summary>The body as text for the log: redacted when fields are configured, cut at the limit.</summary>
    public static string Capture(ReadOnlySpan<byte> body, RequestLogOptions options, out bool truncated)
    {
        if (options.RedactFields.Count > 0)
        {
            try
            {
                var node = JsonNode.Parse(body);
                if (node is not null)
                {
                    Redact(node, new HashSet<string>(options.RedactFields, StringComparer.OrdinalIgnoreCase));
                    body = JsonSerializer.SerializeToUtf8Bytes(node, GatewayNodeJsonContext.Default.JsonNode);
                }
            }
            catch (JsonException)
            {
            }
        }

        truncated = body.Length > options.MaxBodyBytes;
        var kept = truncated ? body[..Utf8Boundary(body, options.MaxBodyBytes)] : body;
        return Encoding.UTF8.GetString(kept);
    }

    private static int Utf8Boundary(ReadOnlySpan<byte> body, int limit)
    {
        var end = Math.Max(0, limit);
        while (end > 0 && (body[end] & 0xC0) == 0x80)
        {
            end--;
        }

        return end;
    }

    private static void Redact(JsonNode node, HashSet<string> fields)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var name in obj.Select(p => p.Key).ToList())
                {
                    if (fields.Contains(name))
                    {
                        obj[name] = "[REDACTED]";
                    }
                    else if (obj[name] is { } child)
                    {
                        Redact(child, fields);
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    if (item is not null)
                    {
                        Redact(item, fields);
                    }
                }

                break;
        }
    }
}
