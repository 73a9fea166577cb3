using System.Text;
using System.Text.Json;
using Cairn.Core.Tracking;

namespace Cairn.Storage.Relational;

/// <summary>MLflow's offset page token: base64 of the JSON <c>{"offset": n}</c>.</summary>
internal static class PageToken
{
    /// <summary>A keyset page token: base64 of the last row's sort key (<c>value|id</c>).</summary>
    public static string Encode(string key) => Convert.ToBase64String(Encoding.UTF8.GetBytes(key));

    /// <summary>The sort key of a keyset page token, or null for the first page.</summary>
    public static string? Decode(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(token));
        }
        catch (FormatException)
        {
            throw TrackingException.Invalid("Invalid page token, could not base64-decode");
        }
    }

    public static string Create(long offset) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{{\"offset\": {offset.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}"));

    public static long ParseOffset(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return 0;
        }

        byte[] decoded;
        try
        {
            decoded = Convert.FromBase64String(token);
        }
        catch (FormatException)
        {
            throw TrackingException.Invalid("Invalid page token, could not base64-decode");
        }

        try
        {
            using var document = JsonDocument.Parse(decoded);
            if (document.RootElement.ValueKind == JsonValueKind.Object &&
                document.RootElement.TryGetProperty("offset", out var offset))
            {
                long value;
                if (offset.ValueKind == JsonValueKind.Number && offset.TryGetInt64(out value) && value >= 0)
                {
                    return value;
                }

                if (offset.ValueKind == JsonValueKind.String && long.TryParse(offset.GetString(), System.Globalization.CultureInfo.InvariantCulture, out value) && value >= 0)
                {
                    return value;
                }
            }

            throw TrackingException.Invalid($"Invalid page token, parsed value={Encoding.UTF8.GetString(decoded)}");
        }
        catch (JsonException)
        {
            throw TrackingException.Invalid($"Invalid page token, decoded value={Encoding.UTF8.GetString(decoded)}");
        }
    }
}
