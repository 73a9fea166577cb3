using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cairn.Client.Tests.Tracing;

/// <summary>A request that reached <see cref="OtlpCaptureServer"/>.</summary>
internal sealed record CapturedRequest(string Method, string Path, string? ContentType, IReadOnlyDictionary<string, string> Headers, byte[] Body);

/// <summary>A Kestrel server on a free loopback port that answers every request 200 and records it, standing in for Cairn's OTLP endpoint.</summary>
internal sealed class OtlpCaptureServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Channel<CapturedRequest> _requests = Channel.CreateUnbounded<CapturedRequest>();

    private OtlpCaptureServer(WebApplication app) => _app = app;

    public Uri BaseAddress { get; private set; } = null!;

    public static async Task<OtlpCaptureServer> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        var server = new OtlpCaptureServer(builder.Build());
        server._app.Run(server.CaptureAsync);
        await server._app.StartAsync(cancellationToken);
        var address = server._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        server.BaseAddress = new Uri(address);
        return server;
    }

    /// <summary>Waits for the next request, failing after <paramref name="timeout"/>.</summary>
    public async Task<CapturedRequest> NextRequestAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        return await _requests.Reader.ReadAsync(cts.Token);
    }

    /// <summary>Takes the requests received so far.</summary>
    public List<CapturedRequest> Drain()
    {
        var list = new List<CapturedRequest>();
        while (_requests.Reader.TryRead(out var request))
        {
            list.Add(request);
        }

        return list;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }

    private async Task CaptureAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        _requests.Writer.TryWrite(new CapturedRequest(context.Request.Method, context.Request.Path, context.Request.ContentType, headers, body.ToArray()));

        // An empty ExportTraceServiceResponse: the protobuf message with no fields.
        context.Response.ContentType = "application/x-protobuf";
        context.Response.StatusCode = StatusCodes.Status200OK;
    }
}
