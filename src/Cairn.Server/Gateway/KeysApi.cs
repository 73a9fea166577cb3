using Cairn.Contracts.Gateway;
using Cairn.Core.Gateway;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using static Cairn.Server.ApiResults;

namespace Cairn.Server.Gateway;

/// <summary>Cairn's REST API for virtual keys; errors are RFC 9457 problem details.</summary>
internal static class KeysApi
{
    public static IEndpointRouteBuilder MapGatewayKeys(this IEndpointRouteBuilder endpoints)
    {
        var keys = endpoints.MapGroup("/api/cairn/gateway/keys").WithTags("Gateway keys");
        keys.MapPost("", CreateAsync).WithName("CreateGatewayKey");
        keys.MapGet("", ListAsync).WithName("ListGatewayKeys");
        keys.MapDelete("/{id}", RevokeAsync).WithName("RevokeGatewayKey");
        return endpoints;
    }

    private static async Task<Results<JsonHttpResult<KeyInfo>, ProblemHttpResult>> CreateAsync(
        HttpContext context, IVirtualKeyStore store, GatewayKeys cache, TimeProvider time)
    {
        CreateKeyRequest? request;
        try
        {
            request = await context.Request.ReadFromJsonAsync(GatewayJsonContext.Default.CreateKeyRequest, context.RequestAborted);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid request body", $"The body must be a JSON object: {e.Message}");
        }

        if (request is null || string.IsNullOrWhiteSpace(request.Name))
        {
            return Problem(StatusCodes.Status400BadRequest, "Missing name", "A key needs a 'name'.");
        }

        if (request.RequestsPerMinute is <= 0 || request.TokensPerMinute is <= 0 || request.BudgetUsd is < 0)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid limit", "requests_per_minute and tokens_per_minute must be positive and budget_usd must not be negative.");
        }

        if (request.BudgetPeriod is not (null or "day" or "month"))
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid budget period", "budget_period must be 'day' or 'month'.");
        }

        if (request.Project is { } project && !Observability.TraceIngestApi.IsValidProject(project))
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid project", "A project name is 1 to 200 characters without control characters.");
        }

        var secret = VirtualKey.NewSecret();
        var key = new VirtualKey
        {
            Id = "key_" + Guid.CreateVersion7().ToString("N")[..20],
            Name = request.Name.Trim(),
            Prefix = secret[..(VirtualKey.KeyPrefix.Length + 6)],
            Hash = VirtualKey.HashOf(secret),
            AllowedModels = request.AllowedModels?.Where(m => !string.IsNullOrWhiteSpace(m)).Select(m => m.Trim()).ToList() ?? [],
            RequestsPerMinute = request.RequestsPerMinute,
            TokensPerMinute = request.TokensPerMinute,
            BudgetUsd = request.BudgetUsd,
            BudgetPeriod = request.BudgetPeriod == "day" ? BudgetPeriod.Day : BudgetPeriod.Month,
            CreatedAt = time.GetUtcNow().ToUnixTimeMilliseconds(),
            Project = request.Project?.Trim(),
        };
        await store.CreateAsync(key, context.RequestAborted);
        cache.Invalidate();
        var info = ToInfo(key);
        info.Key = secret;
        context.Response.Headers.Location = $"/api/cairn/gateway/keys/{key.Id}";
        return TypedResults.Json(info, GatewayJsonContext.Default.KeyInfo, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<JsonHttpResult<ListKeysResponse>> ListAsync(HttpContext context, IVirtualKeyStore store)
    {
        var keys = await store.ListAsync(context.RequestAborted);
        return TypedResults.Json(new ListKeysResponse { Keys = keys.Select(ToInfo).ToList() }, GatewayJsonContext.Default.ListKeysResponse);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(string id, HttpContext context, IVirtualKeyStore store, GatewayKeys cache, TimeProvider time)
    {
        if (!await store.RevokeAsync(id, time.GetUtcNow().ToUnixTimeMilliseconds(), context.RequestAborted))
        {
            return Problem(StatusCodes.Status404NotFound, "Key not found", $"There is no key '{id}'.");
        }

        cache.Invalidate();
        return TypedResults.NoContent();
    }

    private static KeyInfo ToInfo(VirtualKey key) => new()
    {
        Id = key.Id,
        Name = key.Name,
        Prefix = key.Prefix,
        AllowedModels = [.. key.AllowedModels],
        RequestsPerMinute = key.RequestsPerMinute,
        TokensPerMinute = key.TokensPerMinute,
        BudgetUsd = key.BudgetUsd,
        BudgetPeriod = key.BudgetPeriod == BudgetPeriod.Day ? "day" : "month",
        CreatedAt = key.CreatedAt,
        RevokedAt = key.RevokedAt,
        Project = key.Project,
    };
}
