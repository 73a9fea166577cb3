using System.Buffers;
using System.Net.Http.Headers;
using Cairn.Core.Gateway;

namespace Cairn.Server.Gateway;

/// <summary>What the gateway knows of an incoming call after reading its body.</summary>
internal sealed class GatewayCall
{
    public required string Endpoint { get; init; }

    /// <summary>The path under the OpenAI API base: <c>chat/completions</c> or <c>embeddings</c>.</summary>
    public required string UpstreamPath { get; init; }

    public required ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>The top-level fields of <see cref="Body"/> when it is an OpenAI request read already (saves a second parse).</summary>
    public OpenAiRequestInfo? Info { get; init; }

    public required string Model { get; init; }

    public bool Stream { get; init; }

    /// <summary>Whether the client asked for the usage chunk at the end of a stream.</summary>
    public bool ClientWantsStreamUsage { get; init; }

    /// <summary>The client's own upstream credential (its <c>Authorization</c> when Cairn's key came in another header).</summary>
    public string? ClientAuthorization { get; init; }

    /// <summary>The <c>created</c> time (Unix seconds) for translated responses.</summary>
    public long Created { get; init; }

    /// <summary>The client's <c>anthropic-version</c> header, passed on to Anthropic upstreams.</summary>
    public string? AnthropicVersion { get; init; }

    /// <summary>The client's <c>anthropic-beta</c> header, passed on to Anthropic upstreams.</summary>
    public string? AnthropicBeta { get; init; }
}

/// <summary>The successful non-streamed answer, in the client's protocol.</summary>
internal sealed record ConvertedResponse(byte[] Body, TokenUsage? Usage, string? Model);

/// <summary>Turns an upstream event stream into the client's protocol, frame by frame, reading usage on the way.</summary>
internal interface IStreamConverter
{
    /// <summary>Handles one upstream frame (event name and data), writing zero or more frames for the client.</summary>
    void OnFrame(ReadOnlySequence<byte> rawFrame, string? eventName, ReadOnlySpan<byte> data, IBufferWriter<byte> output);

    /// <summary>The upstream stream ended; writes any closing frames.</summary>
    void Complete(IBufferWriter<byte> output);

    TokenUsage? Usage { get; }

    string? Model { get; }

    /// <summary>Whether the upstream signalled the end of the answer (so an early end of the connection is an error).</summary>
    bool Finished { get; }

    /// <summary>The upstream's error message when the stream ended with an error event, else null.</summary>
    string? Error => null;
}

/// <summary>Speaks one upstream protocol for OpenAI-shaped calls.</summary>
internal abstract class ProviderAdapter
{
    /// <summary>Builds the upstream request for <paramref name="call"/> sent to <paramref name="target"/>.</summary>
    public abstract HttpRequestMessage CreateRequest(GatewayCall call, UpstreamTarget target);

    /// <summary>Converts a successful upstream body into the client's.</summary>
    public abstract ConvertedResponse ConvertResponse(GatewayCall call, byte[] upstreamBody);

    /// <summary>A converter for a streamed answer.</summary>
    public abstract IStreamConverter CreateStreamConverter(GatewayCall call);

    /// <summary>Converts an upstream error body into OpenAI's error format.</summary>
    public abstract byte[] ConvertError(int status, byte[] upstreamBody);

    /// <summary>Parses a JSON object body (already checked to be one) for translation.</summary>
    protected static System.Text.Json.Nodes.JsonObject ParseObject(ReadOnlyMemory<byte> body) =>
        System.Text.Json.Nodes.JsonNode.Parse(body.Span)?.AsObject() ?? throw GatewayException.InvalidRequest("The request body must be a JSON object.");

    /// <summary>Serialises a translated body.</summary>
    protected static byte[] Serialize(System.Text.Json.Nodes.JsonObject node) =>
        System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(node, GatewayNodeJsonContext.Default.JsonObject);

    /// <summary>Runs a translation, turning what the upstream protocol cannot express into a 400 for the client.</summary>
    protected static T Translate<T>(Func<T> translate)
    {
        try
        {
            return translate();
        }
        catch (Cairn.Core.Gateway.Translation.TranslationException e)
        {
            throw GatewayException.InvalidRequest(e.Message, e.Param);
        }
    }

    protected static string? ResolveSecret(string? configured) =>
        configured is { Length: > 4 } && configured.StartsWith("env:", StringComparison.Ordinal)
            ? Environment.GetEnvironmentVariable(configured[4..])
            : configured;

    /// <summary>The token of a <c>Bearer</c> credential, or null for another scheme.</summary>
    protected static string? BearerToken(string authorization) =>
        authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && authorization.Length > 7 ? authorization[7..].Trim() : null;

    protected static void CopyHeaders(HttpRequestMessage request, ProviderOptions provider)
    {
        foreach (var (name, value) in provider.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
    }

    protected static ByteArrayOrMemoryContent Json(ReadOnlyMemory<byte> body)
    {
        var content = new ByteArrayOrMemoryContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }
}

/// <summary>HTTP content over a block of memory, without copying it.</summary>
internal sealed class ByteArrayOrMemoryContent(ReadOnlyMemory<byte> body) : HttpContent
{
    protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
        stream.WriteAsync(body).AsTask();

    protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken) =>
        stream.WriteAsync(body, cancellationToken).AsTask();

    protected override bool TryComputeLength(out long length)
    {
        length = body.Length;
        return true;
    }
}
