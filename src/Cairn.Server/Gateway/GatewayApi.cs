using System.Text.Json;
using Cairn.Core.Gateway;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Cairn.Server.Gateway;

/// <summary>The OpenAI-compatible gateway endpoints.</summary>
internal static class GatewayApi
{
    public static IEndpointRouteBuilder MapGateway(this IEndpointRouteBuilder endpoints)
    {
        var v1 = endpoints.MapGroup("/v1").WithTags("Gateway");
        v1.MapPost("/chat/completions", static (HttpContext context, GatewayHandler handler) => handler.HandleAsync(context, "chat.completions", "chat/completions", ClientProtocol.OpenAI))
            .WithName("ChatCompletions");
        v1.MapPost("/embeddings", static (HttpContext context, GatewayHandler handler) => handler.HandleAsync(context, "embeddings", "embeddings", ClientProtocol.OpenAI))
            .WithName("Embeddings");
        v1.MapPost("/messages", static (HttpContext context, GatewayHandler handler) => handler.HandleAsync(context, "messages", "messages", ClientProtocol.Anthropic))
            .WithName("AnthropicMessages");
        v1.MapGet("/models", ListModelsAsync).WithName("ListModels");
        return endpoints;
    }

    private static async Task ListModelsAsync(HttpContext context, GatewayRouter router, GatewayKeys keys)
    {
        try
        {
            var identity = await keys.AuthenticateAsync(context, context.RequestAborted);
            context.Response.ContentType = "application/json";
            await using var writer = new Utf8JsonWriter(context.Response.Body);
            writer.WriteStartObject();
            writer.WriteString("object", "list");
            writer.WriteStartArray("data");
            foreach (var (id, ownedBy) in router.ListModels())
            {
                if (identity.Key is { AllowedModels.Count: > 0 } key && !key.AllowedModels.Contains(id, StringComparer.OrdinalIgnoreCase))
                {
                    continue;
                }

                writer.WriteStartObject();
                writer.WriteString("id", id);
                writer.WriteString("object", "model");
                writer.WriteNumber("created", 0);
                writer.WriteString("owned_by", ownedBy);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        catch (GatewayException e)
        {
            await e.WriteAsync(context);
        }
    }
}
