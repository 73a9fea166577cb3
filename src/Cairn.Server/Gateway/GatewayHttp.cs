using System.Net;

namespace Cairn.Server.Gateway;

/// <summary>The pooled HTTP connection to upstream providers.</summary>
/// <remarks>One <see cref="SocketsHttpHandler"/> for the process: connections are reused across requests and renewed every few minutes (DNS changes).</remarks>
internal sealed class GatewayHttp : IDisposable
{
    private readonly HttpMessageInvoker _invoker = new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        // Answers are small JSON or event streams: asking for compression costs more than it saves on a proxy.
        AutomaticDecompression = DecompressionMethods.None,
        // The client's own traceparent is recorded in the request log; the runtime does not inject another one upstream.
        ActivityHeadersPropagator = null,
        UseCookies = false,
        AllowAutoRedirect = false,
        UseProxy = false,
        MaxConnectionsPerServer = int.MaxValue,
    });

    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        _invoker.SendAsync(request, cancellationToken);

    public void Dispose() => _invoker.Dispose();
}
