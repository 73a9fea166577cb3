namespace Cairn.Client.Prompts;

/// <summary>
/// Adds <c>Cairn-Prompt: name@version</c> to the requests an HTTP client sends while a prompt is in use
/// (<see cref="CairnPrompt.Use"/>), so that calls through Cairn's gateway are counted for that prompt version without
/// setting the header by hand. Put it in the pipeline of the <see cref="HttpClient"/> your OpenAI (or other) client uses:
/// <code>
/// var http = new HttpClient(new CairnPromptHandler { InnerHandler = new SocketsHttpHandler() });
/// var openAi = new OpenAIClient(new ApiKeyCredential(cairnKey), new OpenAIClientOptions
/// {
///     Endpoint = new Uri("http://127.0.0.1:5000/v1"),
///     Transport = new HttpClientPipelineTransport(http),
/// });
/// using (prompt.Use())
/// {
///     var answer = await chatClient.GetResponseAsync(prompt.ToChatMessages(("question", question)));
/// }
/// </code>
/// A header the request already has is left alone.
/// </summary>
public sealed class CairnPromptHandler : DelegatingHandler
{
    private static readonly AsyncLocal<CairnPrompt?> s_current = new();

    /// <summary>The prompt in use in the current async flow, or null.</summary>
    public static CairnPrompt? Current => s_current.Value;

    internal static IDisposable Enter(CairnPrompt prompt)
    {
        var previous = s_current.Value;
        s_current.Value = prompt;
        return new Scope(previous);
    }

    /// <inheritdoc />
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (s_current.Value is { } prompt && !request.Headers.Contains(CairnPrompt.HeaderName))
        {
            request.Headers.TryAddWithoutValidation(CairnPrompt.HeaderName, prompt.HeaderValue);
        }

        return base.SendAsync(request, cancellationToken);
    }

    private sealed class Scope(CairnPrompt? previous) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                s_current.Value = previous;
            }
        }
    }
}
