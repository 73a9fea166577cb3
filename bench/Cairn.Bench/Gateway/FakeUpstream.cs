using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cairn.Bench.Gateway;

/// <summary>
/// A fast fake OpenAI upstream, run as its own process (<c>Cairn.Bench fake-upstream --port N</c>) so it shares neither the
/// GC nor the thread pool with the gateway under test.
/// </summary>
/// <remarks>
/// <c>POST /v1/chat/completions</c> answers a fixed, pre-serialized <c>chat.completion</c>; with <c>"stream": true</c> it
/// answers an SSE stream: the first chunk right away, then (after <c>--stream-gap-ms</c>) four more chunks, a usage chunk and
/// <c>[DONE]</c>, each flushed. <c>GET /health</c> answers <c>ok</c>.
/// </remarks>
internal static class FakeUpstream
{
    public const string Usage = "usage: Cairn.Bench fake-upstream --port <n> [--stream-gap-ms <ms>]";

    private static readonly byte[] s_ok = "ok"u8.ToArray();

    public static async Task<int> RunAsync(string[] args)
    {
        var port = 0;
        var gapMs = 2.0;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--port":
                    port = int.Parse(args[i + 1], NumberStyles.Integer, CultureInfo.InvariantCulture);
                    break;
                case "--stream-gap-ms":
                    gapMs = double.Parse(args[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture);
                    break;
                default:
                    await Console.Error.WriteLineAsync(Usage);
                    return 2;
            }
        }

        var gap = TimeSpan.FromMilliseconds(gapMs);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, port);
            kestrel.AddServerHeader = false;
        });
        await using var app = builder.Build();
        app.MapGet("/health", static context => context.Response.Body.WriteAsync(s_ok, context.RequestAborted).AsTask());
        app.MapPost("/v1/chat/completions", context => ChatCompletionsAsync(context, gap));
        await app.StartAsync();
        var address = app.Urls.First();
        await Console.Out.WriteLineAsync("fake upstream listening on " + address);
        await Console.Out.FlushAsync();
        await app.WaitForShutdownAsync();
        return 0;
    }

    private static async Task ChatCompletionsAsync(HttpContext context, TimeSpan gap)
    {
        var reader = context.Request.BodyReader;
        ReadResult read;
        while (true)
        {
            read = await reader.ReadAsync(context.RequestAborted);
            if (read.IsCompleted)
            {
                break;
            }

            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }

        var stream = WantsStream(read.Buffer);
        reader.AdvanceTo(read.Buffer.End);
        var response = context.Response;
        if (!stream)
        {
            response.ContentType = "application/json";
            response.ContentLength = GatewayPayloads.Completion.Length;
            await response.Body.WriteAsync(GatewayPayloads.Completion, context.RequestAborted);
            return;
        }

        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        var chunks = GatewayPayloads.StreamChunks;
        await response.Body.WriteAsync(chunks[0], context.RequestAborted);
        await response.Body.FlushAsync(context.RequestAborted);
        if (gap > TimeSpan.Zero)
        {
            await Task.Delay(gap, context.RequestAborted);
        }

        for (var i = 1; i < chunks.Length; i++)
        {
            await response.Body.WriteAsync(chunks[i], context.RequestAborted);
            await response.Body.FlushAsync(context.RequestAborted);
        }
    }

    /// <summary>Whether the top-level <c>stream</c> property of the JSON body is <c>true</c>.</summary>
    private static bool WantsStream(ReadOnlySequence<byte> body)
    {
        var json = new Utf8JsonReader(body);
        try
        {
            while (json.Read())
            {
                if (json.TokenType == JsonTokenType.PropertyName && json.CurrentDepth == 1)
                {
                    var isStream = json.ValueTextEquals("stream"u8);
                    json.Read();
                    if (isStream)
                    {
                        return json.TokenType == JsonTokenType.True;
                    }

                    json.Skip();
                }
            }
        }
        catch (JsonException)
        {
        }

        return false;
    }
}

/// <summary>The request and response bodies of the gateway benchmark: a small chat call and OpenAI-shaped answers.</summary>
internal static class GatewayPayloads
{
    public const string Model = "gpt-4o-mini";

    /// <summary>The non-streaming request every client sends (about 200 bytes).</summary>
    public static readonly byte[] Request = Encoding.UTF8.GetBytes(
        """{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":32,"temperature":0}""");

    /// <summary>The same call with <c>"stream": true</c>.</summary>
    public static readonly byte[] StreamRequest = Encoding.UTF8.GetBytes(
        """{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":32,"temperature":0,"stream":true}""");

    /// <summary>The fake's <c>chat.completion</c> (about 600 bytes, as OpenAI sends it today).</summary>
    public static readonly byte[] Completion = Encoding.UTF8.GetBytes(
        """{"id":"chatcmpl-bench0000000000000000000001","object":"chat.completion","created":1767225600,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":24,"completion_tokens":9,"total_tokens":33,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_bench00001"}""");

    /// <summary>The fake's stream: five content chunks, a usage chunk and <c>[DONE]</c>, one SSE event per array element.</summary>
    public static readonly byte[][] StreamChunks =
    [
        Chunk("""{"role":"assistant","content":"","refusal":null}""", null),
        Chunk("""{"content":"Hello"}""", null),
        Chunk("""{"content":"! How can"}""", null),
        Chunk("""{"content":" I help you today?"}""", null),
        Chunk("{}", "stop"),
        Encoding.UTF8.GetBytes(
            """data: {"id":"chatcmpl-bench0000000000000000000002","object":"chat.completion.chunk","created":1767225600,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_bench00001","choices":[],"usage":{"prompt_tokens":24,"completion_tokens":9,"total_tokens":33,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}""" + "\n\n"),
        "data: [DONE]\n\n"u8.ToArray(),
    ];

    private static byte[] Chunk(string delta, string? finishReason) => Encoding.UTF8.GetBytes(
        "data: {\"id\":\"chatcmpl-bench0000000000000000000002\",\"object\":\"chat.completion.chunk\",\"created\":1767225600,\"model\":\"gpt-4o-mini-2024-07-18\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_bench00001\",\"choices\":[{\"index\":0,\"delta\":" +
        delta + ",\"logprobs\":null,\"finish_reason\":" + (finishReason is null ? "null" : "\"" + finishReason + "\"") + "}],\"usage\":null}\n\n");
}
