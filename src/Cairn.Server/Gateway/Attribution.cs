using Microsoft.AspNetCore.Http;

namespace Cairn.Server.Gateway;

/// <summary>Who and what a request is for, read from <c>Cairn-*</c> headers or their Helicone equivalents.</summary>
internal sealed record Attribution(
    string? UserId,
    string? SessionId,
    string? SessionPath,
    IReadOnlyDictionary<string, string> Properties,
    string? TraceParent,
    string? PromptName = null,
    int? PromptVersion = null)
{
    /// <summary>The header that names the prompt version a request was rendered from: <c>name@version</c>.</summary>
    public const string PromptHeader = "Cairn-Prompt";

    private const string CairnPropertyPrefix = "Cairn-Property-";
    private const string HeliconePropertyPrefix = "Helicone-Property-";
    private const int MaxValueLength = 1024;
    private const int MaxProperties = 50;

    public static Attribution From(IHeaderDictionary headers)
    {
        Dictionary<string, string>? properties = null;
        foreach (var (name, values) in headers)
        {
            var prefix = name.StartsWith(CairnPropertyPrefix, StringComparison.OrdinalIgnoreCase) ? CairnPropertyPrefix.Length
                : name.StartsWith(HeliconePropertyPrefix, StringComparison.OrdinalIgnoreCase) ? HeliconePropertyPrefix.Length
                : -1;
            if (prefix < 0 || name.Length == prefix)
            {
                continue;
            }

            properties ??= new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            if (properties.Count < MaxProperties)
            {
                // Cairn's header wins over Helicone's for the same name.
                var key = name[prefix..];
                if (prefix == CairnPropertyPrefix.Length || !properties.ContainsKey(key))
                {
                    properties[key] = Cap(values.ToString())!;
                }
            }
        }

        var (promptName, promptVersion) = ParsePrompt(headers[PromptHeader].ToString());
        return new Attribution(
            Header(headers, "Cairn-User-Id", "Helicone-User-Id"),
            Header(headers, "Cairn-Session-Id", "Helicone-Session-Id"),
            Header(headers, "Cairn-Session-Path", "Helicone-Session-Path"),
            properties ?? (IReadOnlyDictionary<string, string>)new Dictionary<string, string>(),
            Cap(headers["traceparent"].ToString()) is { Length: > 0 } traceParent ? traceParent : null,
            promptName,
            promptVersion);
    }

    /// <summary>Reads <c>name@version</c>; anything else (no version, a bad name) is not recorded.</summary>
    internal static (string? Name, int? Version) ParsePrompt(string value)
    {
        var at = value.LastIndexOf('@');
        return at > 0
            && int.TryParse(value.AsSpan(at + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version)
            && version > 0
            && Cairn.Contracts.Prompts.PromptName.TryValidate(value[..at], out _)
                ? (value[..at], version)
                : (null, null);
    }

    private static string? Header(IHeaderDictionary headers, string name, string fallback)
    {
        var value = headers[name].ToString();
        if (value.Length == 0)
        {
            value = headers[fallback].ToString();
        }

        return value.Length == 0 ? null : Cap(value);
    }

    private static string? Cap(string? value) => value is { Length: > MaxValueLength } ? value[..MaxValueLength] : value;
}
