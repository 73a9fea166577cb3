using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Contracts.Prompts;
using Cairn.Core.Prompts;
using Cairn.Core.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using static Cairn.Server.ApiResults;

namespace Cairn.Server.Prompts;

/// <summary>
/// Cairn's REST API for the prompt registry; errors are RFC 9457 problem details. Prompt names may contain <c>/</c>
/// (folders), so the name is always the last part of the path.
/// </summary>
internal static class PromptsApi
{
    /// <summary>The API's JSON: snake_case, and '+' and non-ASCII text written as they are (a diff line's op is "+", not "\u002B").</summary>
    private static readonly PromptJsonContext s_json = new(new JsonSerializerOptions(PromptJsonContext.Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    public static IEndpointRouteBuilder MapPromptsApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/api/cairn/prompts", CreateAsync).WithTags("Prompts").WithName("CreatePromptVersion").DisableAntiforgery();
        endpoints.MapGet("/api/cairn/prompts", SearchAsync).WithTags("Prompts").WithName("SearchPrompts");
        endpoints.MapGet("/api/cairn/prompts/{**name}", GetAsync).WithTags("Prompts").WithName("GetPrompt");
        endpoints.MapDelete("/api/cairn/prompts/{**name}", DeleteAsync).WithTags("Prompts").WithName("DeletePrompt");
        endpoints.MapGet("/api/cairn/prompt-versions/{**name}", VersionsAsync).WithTags("Prompts").WithName("ListPromptVersions");
        endpoints.MapPost("/api/cairn/prompt-labels/{**name}", SetLabelAsync).WithTags("Prompts").WithName("SetPromptLabel").DisableAntiforgery();
        endpoints.MapDelete("/api/cairn/prompt-labels/{**name}", DeleteLabelAsync).WithTags("Prompts").WithName("DeletePromptLabel");
        endpoints.MapPost("/api/cairn/prompt-render/{**name}", RenderAsync).WithTags("Prompts").WithName("RenderPrompt").DisableAntiforgery();
        endpoints.MapGet("/api/cairn/prompt-diff/{**name}", DiffAsync).WithTags("Prompts").WithName("DiffPromptVersions");
        endpoints.MapGet("/api/cairn/prompt-usage/{**name}", UsageAsync).WithTags("Prompts").WithName("PromptUsage");
        return endpoints;
    }

    private static async Task<Results<JsonHttpResult<PromptVersionInfo>, ProblemHttpResult>> CreateAsync(HttpContext context, PromptRegistry prompts, PromptCache cache)
    {
        CreatePromptVersionRequest? request;
        try
        {
            request = await context.Request.ReadFromJsonAsync(PromptJsonContext.Default.CreatePromptVersionRequest, context.RequestAborted);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid request body", $"The body must be a JSON object: {e.Message}");
        }

        if (request is null || request.Name is null)
        {
            return Problem(StatusCodes.Status400BadRequest, "Missing name", "A prompt version needs a 'name'.");
        }

        return await RunAsync(async () =>
        {
            var version = await prompts.CreateVersionAsync(
                new NewPromptVersion
                {
                    Name = request.Name,
                    Text = request.Template,
                    Messages = request.Messages,
                    ModelConfig = request.ModelConfig,
                    ResponseFormat = request.ResponseFormat,
                    CommitMessage = request.CommitMessage,
                    Author = request.Author,
                    Labels = request.Labels ?? [],
                    Description = request.Description,
                },
                context.RequestAborted);
            cache.Invalidate(version.Name);
            context.Response.Headers.Location = $"/api/cairn/prompts/{version.Name}?version={version.Version.ToString(CultureInfo.InvariantCulture)}";
            return TypedResults.Json(ToInfo(version, latest: true), s_json.PromptVersionInfo, statusCode: StatusCodes.Status201Created);
        });
    }

    private static Task<Results<JsonHttpResult<ListPromptsResponse>, ProblemHttpResult>> SearchAsync(HttpContext context, PromptRegistry prompts)
    {
        var q = context.Request.Query;
        return RunAsync(async () =>
        {
            var max = ParseInt(q["max_results"], "max_results") ?? 100;
            var page = await prompts.SearchAsync(QueryText(q["q"]), QueryText(q["folder"]), max, QueryText(q["page_token"]), context.RequestAborted);
            return TypedResults.Json(
                new ListPromptsResponse
                {
                    Prompts = page.Items.Select(p => new PromptInfo
                    {
                        Name = p.Name,
                        Description = p.Description,
                        LatestVersion = p.LatestVersion,
                        Labels = new Dictionary<string, int>(p.Labels, StringComparer.Ordinal),
                        CreatedAt = p.CreatedAt,
                        UpdatedAt = p.UpdatedAt,
                    }).ToList(),
                    NextPageToken = page.NextPageToken,
                },
                s_json.ListPromptsResponse);
        });
    }

    private static Task<Results<JsonHttpResult<PromptVersionInfo>, ProblemHttpResult>> GetAsync(string name, HttpContext context, PromptRegistry prompts, PromptCache cache)
    {
        var q = context.Request.Query;
        return RunAsync(async () =>
        {
            var version = ParseInt(q["version"], "version");
            var label = QueryText(q["label"]);
            var found = await cache.GetAsync(name, version, label, ct => prompts.GetAsync(name, version, label, ct), context.RequestAborted);
            return TypedResults.Json(found, s_json.PromptVersionInfo);
        });
    }

    private static Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string name, HttpContext context, PromptRegistry prompts, PromptCache cache) =>
        RunAsync<NoContent>(async () =>
        {
            await prompts.DeleteAsync(name, ParseInt(context.Request.Query["version"], "version"), context.RequestAborted);
            cache.Invalidate(name);
            return TypedResults.NoContent();
        });

    private static Task<Results<JsonHttpResult<ListPromptVersionsResponse>, ProblemHttpResult>> VersionsAsync(string name, HttpContext context, PromptRegistry prompts) =>
        RunAsync(async () =>
        {
            var versions = await prompts.ListVersionsAsync(name, context.RequestAborted);
            return TypedResults.Json(
                new ListPromptVersionsResponse { Versions = versions.Select((v, i) => ToInfo(v, latest: i == 0)).ToList() },
                s_json.ListPromptVersionsResponse);
        });

    private static async Task<Results<JsonHttpResult<PromptVersionInfo>, ProblemHttpResult>> SetLabelAsync(string name, HttpContext context, PromptRegistry prompts, PromptCache cache)
    {
        SetPromptLabelRequest? request;
        try
        {
            request = await context.Request.ReadFromJsonAsync(PromptJsonContext.Default.SetPromptLabelRequest, context.RequestAborted);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid request body", $"The body must be a JSON object: {e.Message}");
        }

        if (request?.Label is not { } label || request.Version is not { } version)
        {
            return Problem(StatusCodes.Status400BadRequest, "Missing field", "Moving a label needs 'label' and 'version'.");
        }

        return await RunAsync(async () =>
        {
            var moved = await prompts.SetLabelAsync(name, label, version, context.RequestAborted);
            cache.Invalidate(name);
            return TypedResults.Json(ToInfo(moved, latest: false), s_json.PromptVersionInfo);
        });
    }

    private static Task<Results<NoContent, ProblemHttpResult>> DeleteLabelAsync(string name, HttpContext context, PromptRegistry prompts, PromptCache cache) =>
        RunAsync<NoContent>(async () =>
        {
            await prompts.DeleteLabelAsync(name, QueryText(context.Request.Query["label"]) ?? "", context.RequestAborted);
            cache.Invalidate(name);
            return TypedResults.NoContent();
        });

    private static async Task<Results<JsonHttpResult<RenderPromptResponse>, ProblemHttpResult>> RenderAsync(string name, HttpContext context, PromptRegistry prompts, PromptCache cache)
    {
        RenderPromptRequest? request;
        try
        {
            request = await context.Request.ReadFromJsonAsync(PromptJsonContext.Default.RenderPromptRequest, context.RequestAborted);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid request body", $"The body must be a JSON object: {e.Message}");
        }

        request ??= new RenderPromptRequest();
        return await RunAsync(async () =>
        {
            var version = await cache.GetAsync(name, request.Version, request.Label, ct => prompts.GetAsync(name, request.Version, request.Label, ct), context.RequestAborted);
            var variables = (request.Variables ?? []).ToDictionary(static v => v.Key, static v => (object?)v.Value, StringComparer.Ordinal);
            var response = new RenderPromptResponse { Name = version.Name, Version = version.Version, Type = version.Type, ModelConfig = version.ModelConfig };
            if (version.Messages is { } messages)
            {
                response.Messages = [.. ChatPromptTemplate.Parse(messages).Render(variables)];
            }
            else
            {
                response.Text = PromptTemplate.Parse(version.Template ?? "").Render(variables);
            }

            return TypedResults.Json(response, s_json.RenderPromptResponse);
        });
    }

    private static Task<Results<JsonHttpResult<PromptDiffResponse>, ProblemHttpResult>> DiffAsync(string name, HttpContext context, PromptRegistry prompts) =>
        RunAsync(async () =>
        {
            var q = context.Request.Query;
            var from = ParseInt(q["from"], "from") ?? throw TrackingException.Invalid("A diff needs 'from' and 'to' version numbers.");
            var to = ParseInt(q["to"], "to") ?? throw TrackingException.Invalid("A diff needs 'from' and 'to' version numbers.");
            var older = await prompts.GetAsync(name, from, null, context.RequestAborted);
            var newer = await prompts.GetAsync(name, to, null, context.RequestAborted);
            return TypedResults.Json(
                new PromptDiffResponse
                {
                    Name = name,
                    From = from,
                    To = to,
                    Template = Lines(TemplateText(older), TemplateText(newer)),
                    Config = Lines(ConfigText(older), ConfigText(newer)),
                },
                s_json.PromptDiffResponse);
        });

    private static Task<Results<JsonHttpResult<PromptUsageResponse>, ProblemHttpResult>> UsageAsync(
        string name, HttpContext context, PromptRegistry prompts, Cairn.Core.Gateway.IUsageReportStore usage, TimeProvider time) =>
        RunAsync(async () =>
        {
            var days = ParseInt(context.Request.Query["days"], "days") ?? 30;
            await prompts.GetAsync(name, null, null, context.RequestAborted);
            var from = time.GetUtcNow().AddDays(-days).ToUnixTimeMilliseconds();
            var versions = await usage.PromptUsageAsync(name, from, context.RequestAborted);
            return TypedResults.Json(
                new PromptUsageResponse
                {
                    Name = name,
                    From = from,
                    Versions = versions.Select(static v => new PromptVersionUsageInfo
                    {
                        Version = v.Version,
                        Calls = v.Calls,
                        ErrorRate = v.ErrorRate,
                        P50LatencyMs = v.P50LatencyMs,
                        P95LatencyMs = v.P95LatencyMs,
                        InputTokens = v.InputTokens,
                        OutputTokens = v.OutputTokens,
                        CostUsd = v.CostUsd,
                        FeedbackScore = v.FeedbackScore,
                        FeedbackCount = v.FeedbackCount,
                    }).ToList(),
                },
                s_json.PromptUsageResponse);
        });

    /// <summary>The template as diffable lines: a text prompt as is, a chat prompt as <c>[role]</c> headers and contents.</summary>
    internal static string TemplateText(PromptVersion version) =>
        version.Messages is { } messages
            ? string.Join('\n', messages.Select(m => $"[{m.Role}]\n{m.Content}"))
            : version.Text ?? "";

    /// <summary>The configuration as diffable lines: indented JSON of the model configuration and response format.</summary>
    internal static string ConfigText(PromptVersion version)
    {
        var node = new JsonObject
        {
            ["model_config"] = version.ModelConfig?.DeepClone(),
            ["response_format"] = version.ResponseFormat?.DeepClone(),
        };
        return node.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static List<DiffLine> Lines(string older, string newer) =>
        PromptDiff.Lines(older, newer).Select(static l => new DiffLine { Op = l.Op.ToString(), Text = l.Text }).ToList();

    internal static PromptVersionInfo ToInfo(PromptVersion version, bool latest)
    {
        var labels = version.Labels.ToList();
        if (latest && !labels.Contains(PromptRegistry.Latest))
        {
            labels.Insert(0, PromptRegistry.Latest);
        }

        return new PromptVersionInfo
        {
            Name = version.Name,
            Version = version.Version,
            Type = version.IsChat ? "chat" : "text",
            Template = version.Text,
            Messages = version.Messages?.ToList(),
            Variables = [.. version.Variables],
            ModelConfig = version.ModelConfig,
            ResponseFormat = version.ResponseFormat,
            CommitMessage = version.CommitMessage,
            Author = version.Author,
            CreatedAt = version.CreatedAt,
            Labels = labels,
            Tags = new Dictionary<string, string>(version.Tags, StringComparer.Ordinal),
        };
    }

    /// <summary>Runs an API action, turning registry and template errors into problem details.</summary>
    private static async Task<Results<T, ProblemHttpResult>> RunAsync<T>(Func<Task<T>> action)
        where T : IResult
    {
        try
        {
            return await action();
        }
        catch (TrackingException e)
        {
            return e.Code switch
            {
                TrackingErrorCode.ResourceDoesNotExist => Problem(StatusCodes.Status404NotFound, "Not found", e.Message),
                TrackingErrorCode.ResourceAlreadyExists => Problem(StatusCodes.Status409Conflict, "Conflict", e.Message),
                _ => Problem(StatusCodes.Status400BadRequest, "Invalid request", e.Message),
            };
        }
        catch (PromptRenderException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "Missing variables", e.Message);
        }
        catch (PromptTemplateException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid template", e.Message);
        }
    }

    private static Task<Results<JsonHttpResult<T>, ProblemHttpResult>> RunAsync<T>(Func<Task<JsonHttpResult<T>>> action) => RunAsync<JsonHttpResult<T>>(action);

    private static int? ParseInt(Microsoft.Extensions.Primitives.StringValues value, string name) =>
        QueryText(value) is not { } text
            ? null
            : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) && number > 0
                ? number
                : throw TrackingException.Invalid($"{name} must be a positive integer, got '{text}'.");
}

/// <summary>
/// Prompt versions read through the API, kept for a few seconds: fetching a prompt by label (what applications do on
/// every request) is then a dictionary lookup. Writes through Cairn's prompt API clear the prompt's entries at once;
/// changes made through the MLflow API (an alias moved by MLflow's client) show after the time-to-live.
/// </summary>
internal sealed class PromptCache(TimeProvider time)
{
    private static readonly TimeSpan s_ttl = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<(string Name, int? Version, string? Label), (PromptVersionInfo Value, long Expires)> _entries = new();

    public async Task<PromptVersionInfo> GetAsync(string name, int? version, string? label, Func<CancellationToken, Task<PromptVersion>> load, CancellationToken cancellationToken)
    {
        var key = (name, version, version is null ? label?.ToLowerInvariant() switch { null or PromptRegistry.Latest => null, _ => label } : null);
        var now = time.GetTimestamp();
        if (_entries.TryGetValue(key, out var entry) && entry.Expires > now)
        {
            return entry.Value;
        }

        var loaded = await load(cancellationToken);
        var info = PromptsApi.ToInfo(loaded, latest: version is null && key.Item3 is null);
        _entries[key] = (info, now + (long)(s_ttl.TotalSeconds * time.TimestampFrequency));
        return info;
    }

    public void Invalidate(string name)
    {
        foreach (var key in _entries.Keys)
        {
            if (key.Name == name)
            {
                _entries.TryRemove(key, out _);
            }
        }
    }
}
