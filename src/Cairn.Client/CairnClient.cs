using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Cairn.Contracts.Mlflow;

namespace Cairn.Client;

/// <summary>A client of a Cairn (or MLflow) tracking server: low-level calls that mirror MLflow's REST API, and <see cref="StartRunAsync(string, string?, IEnumerable{KeyValuePair{string, string}}?, CancellationToken)"/> for logging a run.</summary>
/// <remarks>The client is thread-safe. It owns the <see cref="HttpClient"/> it creates from a base address, and never disposes one it is given.</remarks>
public sealed partial class CairnClient : IDisposable
{
    /// <summary>The tracking URI used when neither <c>CAIRN_TRACKING_URI</c> nor <c>MLFLOW_TRACKING_URI</c> is set.</summary>
    public const string DefaultTrackingUri = "http://127.0.0.1:5000";

    private const string ApiPrefix = "api/2.0/mlflow/";
    private const int ErrorBodyLimit = 4096;

    private static readonly MediaTypeHeaderValue s_jsonMediaType = new("application/json") { CharSet = "utf-8" };

    private readonly HttpClient _http;
    private readonly bool _ownsHttpClient;
    private CairnRunOptions _runOptions = new();
    private TimeSpan _requestTimeout = TimeSpan.FromSeconds(100);

    /// <summary>Creates a client of the server at <paramref name="baseAddress"/>, such as <c>http://127.0.0.1:5000</c>.</summary>
    /// <param name="baseAddress">The server's base address; a path (for a server behind a prefix) is kept.</param>
    /// <param name="timeProvider">The clock for run start and end times and metric timestamps; <see cref="TimeProvider.System"/> when null.</param>
    public CairnClient(Uri baseAddress, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        BaseAddress = NormalizeBaseAddress(baseAddress, nameof(baseAddress));
        TimeProvider = timeProvider ?? TimeProvider.System;

        // Artifact transfers can take longer than HttpClient's default 100 s; API calls get RequestTimeout instead.
        _http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        _ownsHttpClient = true;
    }

    /// <summary>Creates a client that sends its requests through <paramref name="httpClient"/>, whose <see cref="HttpClient.BaseAddress"/> is the server's address.</summary>
    /// <param name="httpClient">The HTTP client to use; it is not disposed with this client, and its own timeout applies to every call.</param>
    /// <param name="timeProvider">The clock for run start and end times and metric timestamps; <see cref="TimeProvider.System"/> when null.</param>
    public CairnClient(HttpClient httpClient, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        var baseAddress = httpClient.BaseAddress ?? throw new ArgumentException("The HttpClient has no BaseAddress; set it to the tracking server's address.", nameof(httpClient));
        BaseAddress = NormalizeBaseAddress(baseAddress, nameof(httpClient));
        TimeProvider = timeProvider ?? TimeProvider.System;
        _http = httpClient;
        _ownsHttpClient = false;
    }

    /// <summary>Gets the server's base address, always ending in a slash.</summary>
    public Uri BaseAddress { get; }

    /// <summary>Gets the clock used for timestamps.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>Gets or sets how long an API call (not an artifact transfer) may take before it fails with a <see cref="TimeoutException"/>; 100 seconds by default.</summary>
    public TimeSpan RequestTimeout
    {
        get => _requestTimeout;
        set
        {
            if (value <= TimeSpan.Zero && value != Timeout.InfiniteTimeSpan)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "The request timeout must be positive or Timeout.InfiniteTimeSpan.");
            }

            _requestTimeout = value;
        }
    }

    /// <summary>Gets or sets the settings of the runs that this client starts.</summary>
    public CairnRunOptions RunOptions
    {
        get => _runOptions;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            value.Validate();
            _runOptions = value;
        }
    }

    /// <summary>Creates a client of the server named by <c>CAIRN_TRACKING_URI</c>, else <c>MLFLOW_TRACKING_URI</c>, else <see cref="DefaultTrackingUri"/>.</summary>
    /// <param name="timeProvider">The clock for timestamps; <see cref="TimeProvider.System"/> when null.</param>
    /// <returns>A client that owns its HTTP client.</returns>
    public static CairnClient FromEnvironment(TimeProvider? timeProvider = null) =>
        FromEnvironment(Environment.GetEnvironmentVariable, timeProvider);

    internal static CairnClient FromEnvironment(Func<string, string?> getVariable, TimeProvider? timeProvider)
    {
        var text = NullIfWhiteSpace(getVariable("CAIRN_TRACKING_URI")) ?? NullIfWhiteSpace(getVariable("MLFLOW_TRACKING_URI")) ?? DefaultTrackingUri;
        if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new InvalidOperationException($"The tracking URI '{text}' is not supported: the .NET SDK talks to a tracking server over http:// or https://.");
        }

        return new CairnClient(uri, timeProvider);
    }

    /// <summary>Disposes the HTTP client if this client created it.</summary>
    public void Dispose()
    {
        if (_ownsHttpClient)
        {
            _http.Dispose();
        }
    }

    private static Uri NormalizeBaseAddress(Uri address, string parameterName)
    {
        if (!address.IsAbsoluteUri)
        {
            throw new ArgumentException($"The base address '{address}' must be absolute.", parameterName);
        }

        var text = address.GetLeftPart(UriPartial.Path);
        return new Uri(text.EndsWith('/') ? text : text + "/");
    }

    private static string? NullIfWhiteSpace(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private Uri Url(string relative) => new(BaseAddress, relative);

    private static string WithQuery(string path, params ReadOnlySpan<(string Name, string? Value)> parameters)
    {
        var builder = new StringBuilder(path);
        var separator = '?';
        foreach (var (name, value) in parameters)
        {
            if (value is null)
            {
                continue;
            }

            builder.Append(separator).Append(name).Append('=').Append(Uri.EscapeDataString(value));
            separator = '&';
        }

        return builder.ToString();
    }

    private Task<TResponse> PostAsync<TRequest, TResponse>(string method, TRequest body, JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType, CancellationToken cancellationToken)
    {
        // Serialized up front so that the request carries a Content-Length: some WSGI servers do not read chunked bodies.
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, requestType));
        content.Headers.ContentType = s_jsonMediaType;
        return SendJsonAsync(HttpMethod.Post, ApiPrefix + method, content, responseType, cancellationToken);
    }

    private Task<TResponse> GetAsync<TResponse>(string pathAndQuery, JsonTypeInfo<TResponse> responseType, CancellationToken cancellationToken) =>
        SendJsonAsync(HttpMethod.Get, ApiPrefix + pathAndQuery, content: null, responseType, cancellationToken);

    private async Task<TResponse> SendJsonAsync<TResponse>(HttpMethod method, string relative, HttpContent? content, JsonTypeInfo<TResponse> responseType, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, Url(relative)) { Content = content };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        var timeout = RequestTimeout;
        using var timeoutSource = timeout == Timeout.InfiniteTimeSpan ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource?.CancelAfter(timeout);
        var token = timeoutSource?.Token ?? cancellationToken;
        try
        {
            using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, token).ConfigureAwait(false);
            var value = await response.Content.ReadFromJsonAsync(responseType, token).ConfigureAwait(false);
            return value ?? throw new InvalidOperationException($"{method} {relative} returned an empty body.");
        }
        catch (OperationCanceledException e) when (timeoutSource is { IsCancellationRequested: true } && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{method} {relative} did not complete within {timeout.TotalSeconds:0.###} s.", e);
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"{method} {relative} returned a body that is not the expected JSON: {e.Message}", e);
        }
    }

    /// <summary>Sends a request and returns its successful response; a failed one becomes a <see cref="CairnApiException"/>.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        var response = await _http.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw await CreateExceptionAsync(request, response, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<CairnApiException> CreateExceptionAsync(HttpRequestMessage request, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = string.Empty;
        try
        {
            body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            // The status is what matters; a body that cannot be read leaves the reason phrase as the message.
        }

        ErrorDto? error = null;
        if (body.AsSpan().TrimStart().StartsWith("{", StringComparison.Ordinal))
        {
            try
            {
                error = JsonSerializer.Deserialize(body, MlflowJsonContext.Default.ErrorDto);
            }
            catch (JsonException)
            {
                // Not MLflow's error JSON: the raw body becomes the message.
            }
        }

        var message = error?.Message
            ?? (body.Length == 0 ? response.ReasonPhrase ?? response.StatusCode.ToString()
            : body.Length > ErrorBodyLimit ? body[..ErrorBodyLimit] + "…" : body);
        var path = request.RequestUri is { } uri ? uri.AbsolutePath : string.Empty;
        var basePath = BaseAddress.AbsolutePath;
        if (path.StartsWith(basePath, StringComparison.Ordinal))
        {
            path = path[basePath.Length..];
        }

        return new CairnApiException(response.StatusCode, NullIfWhiteSpace(error?.ErrorCode), message, $"{request.Method} {path}");
    }

    private static T Required<T>(T? value, string what)
        where T : class =>
        value ?? throw new InvalidOperationException($"The server's response has no '{what}'.");

    private static bool IsNotFound(CairnApiException e) =>
        e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode is "RESOURCE_DOES_NOT_EXIST";
}
