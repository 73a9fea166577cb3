using System.Text.Json;
using Cairn.Server.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Cairn.Server.Serving;

/// <summary>MLflow-style scoring of registered models: <c>POST /serving/models/{name}/{versionOrAlias}/invocations</c>.</summary>
internal static class ServingApi
{
    public static void MapServing(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/serving/models/{name}/{versionOrAlias}/invocations", InvokeAsync)
            .AddEndpointFilter<MlflowErrorFilter>()
            .WithTags("Serving");
    }

    private static async Task<IResult> InvokeAsync(string name, string versionOrAlias, HttpContext context, ModelServer server)
    {
        try
        {
            var model = await server.GetAsync(name, versionOrAlias, context.RequestAborted);
            JsonDocument document;
            try
            {
                document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            }
            catch (JsonException)
            {
                throw new ServingException("Failed to parse input from JSON. Ensure that input is a valid JSON formatted string.");
            }

            using (document)
            {
                var input = ServingRequest.Read(document.RootElement);
                return Results.Bytes(model.Predict(input), "application/json");
            }
        }
        catch (ServingException e)
        {
            return MlflowHttp.Error(StatusCodes.Status400BadRequest, "BAD_REQUEST", e.Message);
        }
    }
}
