using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Cairn.Server.Gateway;

/// <summary>The API a client speaks to the gateway.</summary>
internal enum ClientProtocol
{
    /// <summary>OpenAI's (chat completions, embeddings).</summary>
    OpenAI,

    /// <summary>Anthropic's Messages API.</summary>
    Anthropic,
}

/// <summary>A failure answered in OpenAI's error format: <c>{"error":{"message","type","param","code"}}</c>.</summary>
internal sealed class GatewayException(int status, string message, string type, string? code = null, string? param = null, TimeSpan? retryAfter = null)
    : Exception(message)
{
    public int Status { get; } = status;

    public string Type { get; } = type;

    public string? Code { get; } = code;

    public string? Param { get; } = param;

    public TimeSpan? RetryAfter { get; } = retryAfter;

    public static GatewayException InvalidRequest(string message, string? param = null, string? code = null) =>
        new(StatusCodes.Status400BadRequest, message, "invalid_request_error", code, param);

    public static GatewayException ModelNotFound(string model) =>
        new(StatusCodes.Status404NotFound, $"The model '{model}' does not exist or is not configured in this Cairn gateway.", "invalid_request_error", "model_not_found", "model");

    public static GatewayException Unauthorized(string message) =>
        new(StatusCodes.Status401Unauthorized, message, "invalid_request_error", "invalid_api_key");

    public static GatewayException TooLarge(long limit) =>
        new(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than the gateway's limit of {limit} bytes.", "invalid_request_error", "request_too_large");

    /// <summary>Writes the error in the client's protocol (and <c>Retry-After</c> when set) unless the response has started.</summary>
    public async Task WriteAsync(HttpContext context, ClientProtocol protocol = ClientProtocol.OpenAI)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.StatusCode = Status;
        context.Response.ContentType = "application/json";
        if (RetryAfter is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        await context.Response.Body.WriteAsync(protocol == ClientProtocol.Anthropic ? AnthropicErrors.Format(Status, Message) : Body(), context.RequestAborted);
    }

    /// <summary>The error as OpenAI's JSON.</summary>
    public byte[] Body() => Format(Message, Type, Code, Param);

    public static byte[] Format(string message, string type, string? code, string? param)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("error");
            writer.WriteString("message", message);
            writer.WriteString("type", type);
            WriteNullable(writer, "param", param);
            WriteNullable(writer, "code", code);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static void WriteNullable(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }
}
