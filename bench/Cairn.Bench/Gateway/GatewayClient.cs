using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;

namespace Cairn.Bench.Gateway;

/// <summary>The figures of one streaming run: time to the first body byte and to the end of the stream, in milliseconds.</summary>
internal sealed record StreamResult(string Target, long Samples, long Errors, double TtfbP50Ms, double TtfbP99Ms, double TotalP50Ms, CpuUse Cpu);

/// <summary>The benchmark's own HTTP client (<see cref="HttpClient"/> over one <see cref="SocketsHttpHandler"/>): streaming time to first byte, the paced soak, smoke tests.</summary>
internal sealed class GatewayClient : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = 1024,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectTimeout = TimeSpan.FromSeconds(10),
    })
    {
        Timeout = TimeSpan.FromSeconds(60),
    };

    public void Dispose() => _http.Dispose();

    public static HttpRequestMessage Request(GatewayTarget target, byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, target.Url)
        {
            Content = new ByteArrayContent(body),
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        foreach (var (name, value) in target.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    /// <summary>Sends one request and returns the status and the whole body as text (for smoke tests).</summary>
    public async Task<(int Status, string Body)> SendAsync(GatewayTarget target, byte[] body, CancellationToken cancellationToken)
    {
        using var request = Request(target, body);
        using var response = await _http.SendAsync(request, cancellationToken);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
    }

    /// <summary>Sends one request and reads the body to its end into a pooled buffer; returns whether the status was 2xx.</summary>
    public async Task<bool> SendAndDrainAsync(GatewayTarget target, byte[] body, CancellationToken cancellationToken)
    {
        using var request = Request(target, body);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = ArrayPool<byte>.Shared.Rent(8192);
        try
        {
            while (await stream.ReadAsync(buffer, cancellationToken) > 0)
            {
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return response.IsSuccessStatusCode;
    }

    /// <summary>
    /// One client, one request at a time, for <paramref name="duration"/>: a streaming chat call, timed from just before
    /// sending to the first body byte (<see cref="HttpCompletionOption.ResponseHeadersRead"/>, then the first read), and to the
    /// end of the stream.
    /// </summary>
    public async Task<StreamResult> MeasureStreamAsync(GatewayTarget target, TimeSpan duration, IReadOnlyList<ChildProcess> servers, CancellationToken cancellationToken)
    {
        var processes = servers.Select(static s => (s.Name, (Func<TimeSpan>)s.CpuTime)).Prepend(("bench client", SelfCpu)).ToArray();
        var window = new CpuWindow(processes);
        var ttfb = new List<long>(64 * 1024);
        var total = new List<long>(64 * 1024);
        long errors = 0;
        var buffer = new byte[16 * 1024];
        var end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < end)
        {
            var started = Stopwatch.GetTimestamp();
            using var request = Request(target, GatewayPayloads.StreamRequest);
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            var read = await stream.ReadAsync(buffer, cancellationToken);
            var first = Stopwatch.GetTimestamp();
            var length = read;
            var text = System.Text.Encoding.ASCII.GetString(buffer, 0, Math.Min(read, 64));
            while (read > 0)
            {
                read = await stream.ReadAsync(buffer, cancellationToken);
                length += read;
            }

            var done = Stopwatch.GetTimestamp();
            if (!response.IsSuccessStatusCode || length == 0 || !text.StartsWith("data: ", StringComparison.Ordinal))
            {
                errors++;
                continue;
            }

            ttfb.Add(first - started);
            total.Add(done - started);
        }

        var cpu = window.Stop();
        return new StreamResult(target.Name, ttfb.Count, errors, PercentileMs(ttfb, 0.50), PercentileMs(ttfb, 0.99), PercentileMs(total, 0.50), cpu);
    }

    public static TimeSpan SelfCpu()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    /// <summary>The nearest-rank percentile of Stopwatch ticks, in milliseconds (sorts the list).</summary>
    public static double PercentileMs(List<long> ticks, double p)
    {
        if (ticks.Count == 0)
        {
            return double.NaN;
        }

        ticks.Sort();
        var rank = (int)Math.Ceiling(p * ticks.Count) - 1;
        return ticks[Math.Clamp(rank, 0, ticks.Count - 1)] * 1000.0 / Stopwatch.Frequency;
    }
}
