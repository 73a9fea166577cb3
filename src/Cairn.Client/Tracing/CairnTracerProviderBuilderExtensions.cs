using Cairn.Client.Tracing;
using OpenTelemetry.Exporter;

namespace OpenTelemetry.Trace;

/// <summary>Sends traces to Cairn from an OpenTelemetry <see cref="TracerProviderBuilder"/>.</summary>
public static class CairnTracerProviderBuilderExtensions
{
    private static int s_exporterCount;

    /// <summary>Subscribes to Cairn's steps (and, by default, Microsoft.Extensions.AI's spans) and exports the provider's spans to Cairn over OTLP/HTTP with protobuf.</summary>
    /// <param name="builder">The tracer provider builder.</param>
    /// <param name="cairnBaseUrl">The Cairn server's base address, such as <c>http://127.0.0.1:5000</c>; spans go to <c>{cairnBaseUrl}/v1/traces</c>.</param>
    /// <param name="project">The project the spans belong to (the <c>x-cairn-project</c> header); the server's default project when null.</param>
    /// <param name="apiKey">The API key, sent as <c>Authorization: Bearer {apiKey}</c>; none when null.</param>
    /// <param name="includeMicrosoftExtensionsAI">Whether to also subscribe to <see cref="CairnTracing.MicrosoftExtensionsAISourceName"/>, the default source of Microsoft.Extensions.AI's <c>UseOpenTelemetry()</c>.</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// The exporter gets every span the provider records, from any source it was given. It is a named OTLP exporter of its own, so an
    /// <c>AddOtlpExporter()</c> to another backend on the same provider keeps its own settings. Spans are sent in batches (every 5 s by
    /// default); disposing the provider, or <see cref="TracerProviderExtensions.ForceFlush"/>, sends what is buffered.
    /// </remarks>
    public static TracerProviderBuilder AddCairnExporter(
        this TracerProviderBuilder builder,
        Uri cairnBaseUrl,
        string? project = null,
        string? apiKey = null,
        bool includeMicrosoftExtensionsAI = true)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(cairnBaseUrl);
        var endpoint = GetTracesEndpoint(cairnBaseUrl);
        var headers = GetHeaders(project, apiKey);

        builder.AddSource(CairnTracing.SourceName);
        if (includeMicrosoftExtensionsAI)
        {
            builder.AddSource(CairnTracing.MicrosoftExtensionsAISourceName);
        }

        builder.AddProcessor(new CairnContextProcessor());

        // Each call gets its own options name: the configure callbacks of one name all apply to one options instance, so a shared name
        // would send every exporter to the last Cairn (or point an unnamed AddOtlpExporter at Cairn).
        var name = "Cairn" + Interlocked.Increment(ref s_exporterCount).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return builder.AddOtlpExporter(name, options =>
        {
            options.Protocol = OtlpExportProtocol.HttpProtobuf;
            options.Endpoint = endpoint;
            options.Headers = headers;
        });
    }

    internal static Uri GetTracesEndpoint(Uri cairnBaseUrl)
    {
        if (!cairnBaseUrl.IsAbsoluteUri || (cairnBaseUrl.Scheme != Uri.UriSchemeHttp && cairnBaseUrl.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"The Cairn base address '{cairnBaseUrl}' must be an absolute http:// or https:// URL.", nameof(cairnBaseUrl));
        }

        var text = cairnBaseUrl.GetLeftPart(UriPartial.Path);
        return new Uri(new Uri(text.EndsWith('/') ? text : text + "/"), "v1/traces");
    }

    internal static string? GetHeaders(string? project, string? apiKey)
    {
        var headers = new List<string>(2);
        if (!string.IsNullOrEmpty(project))
        {
            headers.Add("x-cairn-project=" + HeaderValue(project, nameof(project)));
        }

        if (!string.IsNullOrEmpty(apiKey))
        {
            headers.Add("Authorization=" + HeaderValue("Bearer " + apiKey, nameof(apiKey)));
        }

        return headers.Count == 0 ? null : string.Join(',', headers);
    }

    // OtlpExporterOptions.Headers is "k1=v1,k2=v2": the exporter percent-decodes the whole string, then splits it at ',' and each pair at
    // its first '=' (so a '%' is escaped and a ',' cannot be carried). HttpClient sends only ASCII header values.
    private static string HeaderValue(string value, string parameterName)
    {
        foreach (var c in value)
        {
            if (c is < ' ' or > '~' or ',')
            {
                throw new ArgumentException("A header value must be printable ASCII text without a comma.", parameterName);
            }
        }

        return value.Replace("%", "%25", StringComparison.Ordinal);
    }
}
