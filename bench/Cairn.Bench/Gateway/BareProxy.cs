using System.Buffers;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cairn.Bench.Gateway;

/// <summary>
/// The floor for a .NET proxy on this machine, run as its own process (<c>Cairn.Bench bare-proxy --port N --upstream URL</c>):
/// Kestrel in, one pooled <see cref="SocketsHttpHandler"/> out, the body relayed as it is, no routing, no logging, no
/// parsing. The same server GC and runtime as Cairn, so the gap between it and Cairn is what Cairn's own work costs.
/// </summary>
internal static class BareProxy
{
    public const string Usage = "usage: Cairn.Bench bare-proxy --port <n> --upstream <base URL, e.g. http://127.0.0.1:9000/v1>";

    public static async Task<int> RunAsync(string[] args)
    {
        var port = 0;
        string? upstream = null;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--port":
                    port = int.Parse(args[i + 1], NumberStyles.Integer, CultureInfo.InvariantCulture);
                    break;
                case "--upstream":
                    upstream = args[i + 1].TrimEnd('/');
                    break;
                default:
                    await Console.Error.WriteLineAsync(Usage);
                    return 2;
            }
        }

        if (upstream is null)
        {
            await Console.Error.WriteLineAsync(Usage);
            return 2;
        }

        using var http = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseCookies = false,
            AllowAutoRedirect = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
            MaxConnectionsPerServer = int.MaxValue,
        });
        var target = new Uri(upstream + "/chat/completions");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, port);
            kestrel.AddServerHeader = false;
        });
        await using var app = builder.Build();
        app.MapPost("/v1/chat/completions", context => ForwardAsync(context, http, target));
        await app.StartAsync();
        await Console.Out.WriteLineAsync("bare proxy listening on " + app.Urls.First());
        await Console.Out.FlushAsync();
        await app.WaitForShutdownAsync();
        return 0;
    }

    private static async Task ForwardAsync(HttpContext context, HttpMessageInvoker http, Uri target)
    {
        var body = new ArrayBufferWriter<byte>((int)(context.Request.ContentLength ?? 4096) + 1);
        while (true)
        {
            var read = await context.Request.Body.ReadAsync(body.GetMemory(8192), context.RequestAborted);
            if (read == 0)
            {
                break;
            }

            body.Advance(read);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new ReadOnlyMemoryContent(body.WrittenMemory), Version = HttpVersion.Version11 };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", context.Request.ContentType);
        if (context.Request.Headers.Authorization.Count > 0)
        {
            request.Headers.TryAddWithoutValidation("Authorization", context.Request.Headers.Authorization.ToString());
        }

        using var response = await http.SendAsync(request, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        context.Response.ContentType = response.Content.Headers.ContentType?.ToString();
        var streaming = response.Content.Headers.ContentType?.MediaType == "text/event-stream";
        if (streaming)
        {
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        }
        else if (response.Content.Headers.ContentLength is { } length)
        {
            context.Response.ContentLength = length;
        }

        await using var stream = await response.Content.ReadAsStreamAsync(context.RequestAborted);
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
                if (streaming)
                {
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
