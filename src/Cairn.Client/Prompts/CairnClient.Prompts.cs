using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Cairn.Client.Prompts;
using Cairn.Contracts.Prompts;

namespace Cairn.Client;

// Cairn's prompt registry (api/cairn/prompts/...): prompts fetched through a client-side cache, new versions and labels.
public sealed partial class CairnClient
{
    private const string PromptsPath = "api/cairn/prompts";
    private const string PromptLabelsPath = "api/cairn/prompt-labels/";
    private const string LatestPromptLabel = "latest";

    private PromptCache? _promptCache;
    private PromptCacheOptions _promptCacheOptions = new();

    /// <summary>Occurs when a fetch of a cached prompt fails, most often a background refresh while Cairn is down; the stale prompt keeps being served, except after a 404.</summary>
    /// <remarks>Handlers run on the thread that completed the request (often a thread-pool thread), must be quick, and must not throw.</remarks>
    public event EventHandler<PromptRefreshFailedEventArgs>? PromptRefreshFailed;

    /// <summary>Gets or sets how long <see cref="GetPromptAsync(string, string?, int?, CancellationToken)"/> keeps prompts; a new value applies to the cached prompts too.</summary>
    public PromptCacheOptions PromptCacheOptions
    {
        get => _promptCacheOptions;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            value.Validate();
            _promptCacheOptions = value;
        }
    }

    private PromptCache PromptCacheInstance =>
        LazyInitializer.EnsureInitialized(ref _promptCache, () => new PromptCache(FetchPromptAsync, TimeProvider, OnPromptRefreshFailed));

    /// <summary>Gets a prompt version by label, by number, or the latest version, through the client's prompt cache (<c>GET api/cairn/prompts/{name}</c>).</summary>
    /// <param name="name">The prompt's name; folders are separated by <c>/</c> (<c>support/triage</c>).</param>
    /// <param name="label">A label such as <c>production</c>; null (or <c>latest</c>) for the newest version when <paramref name="version"/> is null too.</param>
    /// <param name="version">A version number, or null; give a label or a version, not both.</param>
    /// <param name="cancellationToken">A token that stops this call from waiting; a request already sent completes and fills the cache.</param>
    /// <returns>The prompt version.</returns>
    /// <remarks>
    /// <para>With neither a label nor a version, the latest version is returned. A version fetched by number is cached for the
    /// client's lifetime (versions are immutable). A version fetched by label, or the latest, follows <see cref="PromptCacheOptions"/>:
    /// fresh for 60 seconds by default, then served stale while one background request refreshes it, and served stale for up to
    /// 24 hours while Cairn cannot be reached. Concurrent calls for the same prompt share one request.</para>
    /// <para>Labels moved through this client clear its cache for that prompt at once; changes made elsewhere show after the time-to-live.</para>
    /// </remarks>
    /// <exception cref="CairnApiException">The prompt, label or version does not exist (404; the prompt is dropped from the cache), or the call failed and no cached prompt could stand in.</exception>
    /// <exception cref="HttpRequestException">Cairn could not be reached and no cached prompt could stand in.</exception>
    /// <exception cref="TimeoutException">Cairn did not answer within <see cref="RequestTimeout"/> and no cached prompt could stand in.</exception>
    public Task<CairnPrompt> GetPromptAsync(string name, string? label = null, int? version = null, CancellationToken cancellationToken = default)
    {
        ValidatePromptName(name, nameof(name));
        if (version is { } number)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(number, nameof(version));
            if (label is not null)
            {
                throw new ArgumentException("Give a label or a version, not both.", nameof(label));
            }
        }
        else if (label is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(label);
        }

        var key = new PromptCacheKey(name, label is null || string.Equals(label, LatestPromptLabel, StringComparison.OrdinalIgnoreCase) ? null : label, version);
        return PromptCacheInstance.GetAsync(key, _promptCacheOptions, cancellationToken);
    }

    /// <summary>Creates a version of a prompt, and the prompt with its first version (<c>POST api/cairn/prompts</c>).</summary>
    /// <param name="request">The prompt's name, either a text <see cref="CreatePromptVersionRequest.Template"/> or chat <see cref="CreatePromptVersionRequest.Messages"/>, and optionally a model configuration, response format, commit message and labels to point at the new version.</param>
    /// <param name="cancellationToken">A token that cancels the call.</param>
    /// <returns>The new version.</returns>
    /// <exception cref="CairnApiException">The request is invalid (400, such as a malformed template), or the call failed.</exception>
    public async Task<CairnPrompt> CreatePromptVersionAsync(CreatePromptVersionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ValidatePromptName(request.Name, nameof(request));
        var info = await SendPromptApiAsync(HttpMethod.Post, PromptsPath, request, PromptJsonContext.Default.CreatePromptVersionRequest, PromptJsonContext.Default.PromptVersionInfo, cancellationToken).ConfigureAwait(false);
        InvalidatePromptCache(request.Name);
        return new CairnPrompt(info);
    }

    /// <summary>Points a label (such as <c>production</c>) of a prompt at a version (<c>POST api/cairn/prompt-labels/{name}</c>).</summary>
    /// <param name="name">The prompt's name.</param>
    /// <param name="label">The label: letters, digits, <c>_</c> and <c>-</c>; <c>latest</c> is automatic and cannot be set.</param>
    /// <param name="version">The version the label points at from now on.</param>
    /// <param name="cancellationToken">A token that cancels the call.</param>
    /// <returns>The version the label now points at.</returns>
    /// <exception cref="CairnApiException">The prompt or version does not exist, the label is invalid, or the call failed.</exception>
    public async Task<CairnPrompt> SetPromptLabelAsync(string name, string label, int version, CancellationToken cancellationToken = default)
    {
        ValidatePromptName(name, nameof(name));
        ArgumentException.ThrowIfNullOrWhiteSpace(label);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(version);
        var request = new SetPromptLabelRequest { Label = label, Version = version };
        var info = await SendPromptApiAsync(HttpMethod.Post, PromptLabelsPath + EscapePromptName(name), request, PromptJsonContext.Default.SetPromptLabelRequest, PromptJsonContext.Default.PromptVersionInfo, cancellationToken).ConfigureAwait(false);
        InvalidatePromptCache(name);
        return new CairnPrompt(info);
    }

    /// <summary>Drops the cached versions of the prompt <paramref name="name"/>, or of every prompt when null, so that the next <see cref="GetPromptAsync(string, string?, int?, CancellationToken)"/> asks Cairn.</summary>
    public void InvalidatePromptCache(string? name = null) => _promptCache?.Invalidate(name);

    private async Task<CairnPrompt> FetchPromptAsync(PromptCacheKey key, CancellationToken cancellationToken)
    {
        var relative = WithQuery(
            PromptsPath + "/" + EscapePromptName(key.Name),
            ("version", key.Version?.ToString(CultureInfo.InvariantCulture)),
            ("label", key.Label));
        var info = await SendPromptApiAsync(HttpMethod.Get, relative, content: null, PromptJsonContext.Default.PromptVersionInfo, cancellationToken).ConfigureAwait(false);
        return new CairnPrompt(info);
    }

    private void OnPromptRefreshFailed(PromptCacheKey key, Exception exception) =>
        PromptRefreshFailed?.Invoke(this, new PromptRefreshFailedEventArgs(key.Name, key.Label, key.Version, exception));

    private Task<TResponse> SendPromptApiAsync<TRequest, TResponse>(HttpMethod method, string relative, TRequest body, JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType, CancellationToken cancellationToken)
    {
        // Serialized up front so that the request carries a Content-Length, as for the MLflow calls.
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, requestType));
        content.Headers.ContentType = s_jsonMediaType;
        return SendPromptApiAsync(method, relative, content, responseType, cancellationToken);
    }

    /// <summary>Sends a call of Cairn's own API, whose errors are RFC 9457 problem details: their <c>detail</c> becomes the exception's server message.</summary>
    private async Task<TResponse> SendPromptApiAsync<TResponse>(HttpMethod method, string relative, HttpContent? content, JsonTypeInfo<TResponse> responseType, CancellationToken cancellationToken)
    {
        try
        {
            return await SendJsonAsync(method, relative, content, responseType, cancellationToken).ConfigureAwait(false);
        }
        catch (CairnApiException e) when (ProblemDetail(e.ServerMessage) is { } detail)
        {
            throw new CairnApiException(e.StatusCode, e.ErrorCode, detail, e.Request);
        }
    }

    private static string? ProblemDetail(string body)
    {
        if (!body.AsSpan().TrimStart().StartsWith("{", StringComparison.Ordinal))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object ? NullIfWhiteSpace(Text(root, "detail")) ?? NullIfWhiteSpace(Text(root, "title")) : null;
        }
        catch (JsonException)
        {
            // Not JSON after all (or cut at the error body limit): the raw body stays the message.
            return null;
        }

        static string? Text(JsonElement root, string name) =>
            root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }

    /// <summary>The name as a URL path: each folder escaped on its own, the <c>/</c> between them kept (the API's route takes the rest of the path).</summary>
    private static string EscapePromptName(string name) => string.Join('/', name.Split('/').Select(Uri.EscapeDataString));

    private static void ValidatePromptName(string? name, string parameterName)
    {
        ArgumentException.ThrowIfNullOrEmpty(name, parameterName);
        foreach (var segment in name.Split('/'))
        {
            // A URI would drop a "." folder and climb out of the API's path for "..".
            if (segment.Length == 0 || segment is "." or "..")
            {
                throw new ArgumentException($"The prompt name '{name}' has an empty, '.' or '..' folder.", parameterName);
            }
        }
    }
}
