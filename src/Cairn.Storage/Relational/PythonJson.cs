using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Cairn.Storage.Relational;

/// <summary>Writes JSON exactly as Python's <c>json.dumps</c> does by default (<c>", "</c> and <c>": "</c> separators, ASCII-only output), because MLflow clients compare tag values written that way.</summary>
internal static class PythonJson
{
    /// <summary>Appends <c>{"name": ..., "version": ...}</c> to the JSON array in <paramref name="existing"/> (or a new array).</summary>
    public static string AppendModelVersion(string? existing, string name, long version)
    {
        var sb = new StringBuilder("[");
        var first = true;
        if (!string.IsNullOrEmpty(existing))
        {
            try
            {
                using var document = JsonDocument.Parse(existing);
                if (document.RootElement.ValueKind == JsonValueKind.Array)
                {
                    foreach (var item in document.RootElement.EnumerateArray())
                    {
                        if (!first)
                        {
                            sb.Append(", ");
                        }

                        Write(sb, item);
                        first = false;
                    }
                }
            }
            catch (JsonException)
            {
                // A hand-edited, unreadable tag is replaced rather than blocking registration.
            }
        }

        if (!first)
        {
            sb.Append(", ");
        }

        sb.Append("{\"name\": ");
        WriteString(sb, name);
        sb.Append(", \"version\": ").Append(version.ToString(CultureInfo.InvariantCulture)).Append('}');
        return sb.Append(']').ToString();
    }

    public static void Write(StringBuilder sb, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                sb.Append('{');
                var firstProperty = true;
                foreach (var property in element.EnumerateObject())
                {
                    if (!firstProperty)
                    {
                        sb.Append(", ");
                    }

                    WriteString(sb, property.Name);
                    sb.Append(": ");
                    Write(sb, property.Value);
                    firstProperty = false;
                }

                sb.Append('}');
                break;
            case JsonValueKind.Array:
                sb.Append('[');
                var firstItem = true;
                foreach (var item in element.EnumerateArray())
                {
                    if (!firstItem)
                    {
                        sb.Append(", ");
                    }

                    Write(sb, item);
                    firstItem = false;
                }

                sb.Append(']');
                break;
            case JsonValueKind.String:
                WriteString(sb, element.GetString()!);
                break;
            default:
                sb.Append(element.GetRawText());
                break;
        }
    }

    public static void WriteString(StringBuilder sb, string value)
    {
        sb.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || c > 0x7E)
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append('"');
    }
}
