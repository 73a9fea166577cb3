using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Cairn.Bench.Http;

/// <summary>A thin <see cref="HttpClient"/> wrapper: pre-built UTF-8 JSON bodies in, whole response bodies out, non-2xx answers as exceptions.</summary>
internal sealed class BenchClient : IDisposable
{
    private readonly HttpClient _http;

    public BenchClient(Uri baseAddress, int maxConnections)
    {
        BaseAddress = baseAddress;
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        _http = new HttpClient(handler, disposeHandler: true) { Timeout = TimeSpan.FromSeconds(60) };
    }

    public Uri BaseAddress { get; }

    public Uri Endpoint(string pathAndQuery) => new(BaseAddress, pathAndQuery);

    public async Task<byte[]> GetAsync(Uri uri, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        return await SendAsync(request, cancellationToken);
    }

    public async Task<byte[]> PostAsync(Uri uri, ReadOnlyMemory<byte> json, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ReadOnlyMemoryContent(json) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return await SendAsync(request, cancellationToken);
    }

    /// <summary>GETs and reads the whole body into a pooled buffer without keeping it (large responses would otherwise put the client's copies on the large object heap); returns the body's length.</summary>
    public async Task<long> GetAndDiscardAsync(Uri uri, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        return await SendAndDiscardAsync(request, cancellationToken);
    }

    /// <summary>POSTs and reads the whole body into a pooled buffer without keeping it; returns the body's length.</summary>
    public async Task<long> PostAndDiscardAsync(Uri uri, ReadOnlyMemory<byte> json, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ReadOnlyMemoryContent(json) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return await SendAndDiscardAsync(request, cancellationToken);
    }

    public void Dispose() => _http.Dispose();

    /// <summary>Reads the string value of the first property called <paramref name="name"/> anywhere in a JSON document.</summary>
    public static string FindString(ReadOnlySpan<byte> json, ReadOnlySpan<byte> name)
    {
        var reader = new Utf8JsonReader(json);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals(name) && reader.Read() && reader.TokenType == JsonTokenType.String)
            {
                return reader.GetString()!;
            }
        }

        throw new BenchRequestException($"No '{Encoding.UTF8.GetString(name)}' in response: {Truncate(json)}");
    }

    private async Task<byte[]> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new BenchRequestException($"{request.Method} {request.RequestUri?.PathAndQuery} answered {(int)response.StatusCode}: {Truncate(body)}");
        }

        return body;
    }

    private async Task<long> SendAndDiscardAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var error = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            throw new BenchRequestException($"{request.Method} {request.RequestUri?.PathAndQuery} answered {(int)response.StatusCode}: {Truncate(error)}");
        }

        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            long total = 0;
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                total += read;
            }

            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static string Truncate(ReadOnlySpan<byte> body) =>
        body.Length <= 300 ? Encoding.UTF8.GetString(body) : Encoding.UTF8.GetString(body[..300]) + "...";
}

/// <summary>A request the server refused or answered unexpectedly.</summary>
internal sealed class BenchRequestException : Exception
{
    public BenchRequestException()
    {
    }

    public BenchRequestException(string message)
        : base(message)
    {
    }

    public BenchRequestException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
