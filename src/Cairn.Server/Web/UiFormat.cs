using System.Globalization;
using System.Text;

namespace Cairn.Server.Web;

/// <summary>Formatting and URL helpers shared by the UI's pages.</summary>
internal static class UiFormat
{
    public static string Time(long? epochMs) => epochMs is { } ms and > 0
        ? DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC"
        : "—";

    public static string Duration(long start, long? end)
    {
        if (start <= 0 || end is null || end < start)
        {
            return "—";
        }

        var span = TimeSpan.FromMilliseconds(end.Value - start);
        return span.TotalSeconds < 1 ? $"{span.TotalMilliseconds:0} ms"
            : span.TotalMinutes < 1 ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.#} s")
            : span.TotalHours < 1 ? $"{(int)span.TotalMinutes} min {span.Seconds} s"
            : $"{(int)span.TotalHours} h {span.Minutes} min";
    }

    public static string Number(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    public static string Size(long? bytes) => bytes switch
    {
        null => "",
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):0.##} GB"),
    };

    /// <summary>Quotes a string literal for an MLflow filter, doubling embedded quotes.</summary>
    public static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";


    /// <summary>The proxied download URL of an artifact-store path.</summary>
    public static string DownloadUrl(string storePath) => "/api/2.0/mlflow-artifacts/artifacts/" + EscapePath(storePath);

    public static string EscapePath(string path)
    {
        var builder = new StringBuilder();
        foreach (var segment in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (builder.Length > 0)
            {
                builder.Append('/');
            }

            builder.Append(Uri.EscapeDataString(segment));
        }

        return builder.ToString();
    }

    /// <summary>A relative URL with the given query parameters (null or empty ones are left out).</summary>
    public static string Url(string path, params (string Name, string? Value)[] query)
    {
        var builder = new StringBuilder(path);
        var first = true;
        foreach (var (name, value) in query)
        {
            if (string.IsNullOrEmpty(value))
            {
                continue;
            }

            builder.Append(first ? '?' : '&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
            first = false;
        }

        return builder.ToString();
    }

    /// <summary>A duration in milliseconds, as "850 ms" or "2.4 s".</summary>
    public static string Milliseconds(double ms) => ms < 1000
        ? ms.ToString(ms < 10 ? "0.0" : "0", CultureInfo.InvariantCulture) + " ms"
        : (ms / 1000).ToString("0.0#", CultureInfo.InvariantCulture) + " s";

    /// <summary>A cost in US dollars with enough digits for fractions of a cent, or empty when unknown.</summary>
    public static string Cost(decimal? usd) => usd switch
    {
        null => "",
        0 => "$0",
        < 0.01m => "$" + usd.Value.ToString("0.######", CultureInfo.InvariantCulture),
        _ => "$" + usd.Value.ToString("0.####", CultureInfo.InvariantCulture),
    };
}
