using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Contracts.Observability;
using Cairn.Core.Observability;
using Cairn.Core.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using static Cairn.Server.ApiResults;

namespace Cairn.Server.Observability;

/// <summary>Cairn's REST API over traces, spans, sessions and scores; errors are RFC 9457 problem details.</summary>
internal static class TracesApi
{
    public static IEndpointRouteBuilder MapTracesApi(this IEndpointRouteBuilder endpoints)
    {
        var traces = endpoints.MapGroup("/api/cairn/traces").WithTags("Traces");
        traces.MapGet("", SearchAsync).WithName("SearchTraces");
        traces.MapGet("/{traceId}", GetAsync).WithName("GetTrace");
        traces.MapGet("/{traceId}/spans", ChildrenAsync).WithName("ListTraceSpans");
        traces.MapGet("/{traceId}/spans/{spanId}", SpanAsync).WithName("GetSpan");
        traces.MapGet("/{traceId}/scores", ScoresAsync).WithName("ListTraceScores");
        endpoints.MapGet("/api/cairn/sessions", SessionsAsync).WithTags("Traces").WithName("SearchSessions");
        endpoints.MapGet("/api/cairn/users", UsersAsync).WithTags("Traces").WithName("SearchUsers");
        var scores = endpoints.MapGroup("/api/cairn/scores").WithTags("Traces");
        scores.MapPost("", AddScoreAsync).WithName("CreateScore").DisableAntiforgery();
        scores.MapDelete("/{id}", DeleteScoreAsync).WithName("DeleteScore");
        return endpoints;
    }

    private static async Task<Results<JsonHttpResult<ListTracesResponse>, ProblemHttpResult>> SearchAsync(HttpContext context, ITraceStore store)
    {
        var q = context.Request.Query;
        TraceQuery query;
        try
        {
            query = new TraceQuery
            {
                Project = Project(q["project"]),
                Name = QueryText(q["name"]),
                From = Time(q["from"], "from"),
                To = Time(q["to"], "to"),
                HasError = QueryText(q["status"]) switch
                {
                    null => null,
                    "error" => true,
                    "ok" => false,
                    var other => throw new ArgumentException($"status must be 'error' or 'ok', got '{other}'."),
                },
                MinDurationMs = Number(q["min_duration_ms"], "min_duration_ms"),
                MaxDurationMs = Number(q["max_duration_ms"], "max_duration_ms"),
                MinCostUsd = Number(q["min_cost_usd"], "min_cost_usd") is { } cost ? (decimal)cost : null,
                MinTokens = Number(q["min_tokens"], "min_tokens") is { } tokens ? (long)tokens : null,
                Model = QueryText(q["model"]),
                UserId = QueryText(q["user_id"]),
                SessionId = QueryText(q["session_id"]),
                Tag = QueryText(q["tag"]),
                Attribute = QueryText(q["attribute"]) is { } attribute ? ParseAttribute(attribute) : null,
                Order = QueryText(q["order"]) switch
                {
                    null or "newest" => TraceOrder.Newest,
                    "oldest" => TraceOrder.Oldest,
                    "slowest" => TraceOrder.Slowest,
                    "costliest" => TraceOrder.Costliest,
                    "most_tokens" => TraceOrder.MostTokens,
                    var other => throw new ArgumentException($"order must be newest, oldest, slowest, costliest or most_tokens, got '{other}'."),
                },
                MaxResults = (int)(Number(q["max_results"], "max_results") ?? 50),
                PageToken = QueryText(q["page_token"]),
            };
        }
        catch (ArgumentException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid query", e.Message);
        }

        try
        {
            var page = await store.SearchTracesAsync(query, context.RequestAborted);
            return TypedResults.Json(
                new ListTracesResponse { Traces = page.Items.Select(t => ToInfo(t)).ToList(), NextPageToken = page.NextPageToken },
                TraceJsonContext.Default.ListTracesResponse);
        }
        catch (TrackingException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid query", e.Message);
        }
    }

    private static async Task<Results<JsonHttpResult<TraceInfo>, ProblemHttpResult>> GetAsync(string traceId, HttpContext context, ITraceStore store)
    {
        var project = Project(context.Request.Query["project"]);
        var trace = await store.GetTraceAsync(project, traceId, context.RequestAborted);
        if (trace is null)
        {
            return NotFound(traceId, project);
        }

        var scores = await store.GetScoresAsync(project, traceId, context.RequestAborted);
        return TypedResults.Json(ToInfo(trace, scores), TraceJsonContext.Default.TraceInfo);
    }

    private static async Task<Results<JsonHttpResult<ListSpansResponse>, ProblemHttpResult>> ChildrenAsync(string traceId, HttpContext context, ITraceStore store)
    {
        var q = context.Request.Query;
        var project = Project(q["project"]);
        int maxResults;
        try
        {
            maxResults = (int)(Number(q["max_results"], "max_results") ?? 200);
        }
        catch (ArgumentException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid query", e.Message);
        }

        try
        {
            var page = await store.GetChildrenAsync(project, traceId, QueryText(q["parent_span_id"]), maxResults, QueryText(q["page_token"]), context.RequestAborted);
            if (page.Items.Count == 0 && QueryText(q["parent_span_id"]) is null && await store.GetTraceAsync(project, traceId, context.RequestAborted) is null)
            {
                return NotFound(traceId, project);
            }

            return TypedResults.Json(
                new ListSpansResponse { Spans = page.Items.Select(ToInfo).ToList(), NextPageToken = page.NextPageToken },
                TraceJsonContext.Default.ListSpansResponse);
        }
        catch (TrackingException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid query", e.Message);
        }
    }

    private static async Task<Results<JsonHttpResult<SpanInfo>, ProblemHttpResult>> SpanAsync(string traceId, string spanId, HttpContext context, ITraceStore store)
    {
        var project = Project(context.Request.Query["project"]);
        var span = await store.GetSpanAsync(project, traceId, spanId, context.RequestAborted);
        return span is null
            ? Problem(StatusCodes.Status404NotFound, "Span not found", $"No span {spanId} in trace {traceId} of project '{project}'.")
            : TypedResults.Json(ToInfo(span), TraceJsonContext.Default.SpanInfo);
    }

    private static async Task<JsonHttpResult<ListScoresResponse>> ScoresAsync(string traceId, HttpContext context, ITraceStore store)
    {
        var scores = await store.GetScoresAsync(Project(context.Request.Query["project"]), traceId, context.RequestAborted);
        return TypedResults.Json(new ListScoresResponse { Scores = scores.Select(ToInfo).ToList() }, TraceJsonContext.Default.ListScoresResponse);
    }

    private static async Task<Results<JsonHttpResult<ListSessionsResponse>, ProblemHttpResult>> SessionsAsync(HttpContext context, ITraceStore store)
    {
        var q = context.Request.Query;
        try
        {
            var page = await store.SearchSessionsAsync(
                new SessionQuery
                {
                    Project = Project(q["project"]),
                    UserId = QueryText(q["user_id"]),
                    MaxResults = (int)(Number(q["max_results"], "max_results") ?? 50),
                    PageToken = QueryText(q["page_token"]),
                },
                context.RequestAborted);
            return TypedResults.Json(
                new ListSessionsResponse
                {
                    Sessions = page.Items.Select(s => new SessionInfo
                    {
                        SessionId = s.SessionId,
                        UserId = s.UserId,
                        TraceCount = s.TraceCount,
                        StartTime = FromNanos(s.StartTimeUnixNano),
                        EndTime = FromNanos(s.EndTimeUnixNano),
                        TotalTokens = s.TotalTokens,
                        CostUsd = s.CostUsd,
                        ErrorCount = s.ErrorCount,
                    }).ToList(),
                    NextPageToken = page.NextPageToken,
                },
                TraceJsonContext.Default.ListSessionsResponse);
        }
        catch (Exception e) when (e is ArgumentException or TrackingException)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid query", e.Message);
        }
    }

    private static async Task<Results<JsonHttpResult<ListUsersResponse>, ProblemHttpResult>> UsersAsync(HttpContext context, ITraceStore store)
    {
        var q = context.Request.Query;
        try
        {
            var page = await store.SearchUsersAsync(
                new UserQuery
                {
                    Project = Project(q["project"]),
                    MaxResults = (int)(Number(q["max_results"], "max_results") ?? 50),
                    PageToken = QueryText(q["page_token"]),
                },
                context.RequestAborted);
            return TypedResults.Json(
                new ListUsersResponse
                {
                    Users = page.Items.Select(u => new UserInfo
                    {
                        UserId = u.UserId,
                        TraceCount = u.TraceCount,
                        SessionCount = u.SessionCount,
                        FirstSeen = FromNanos(u.FirstSeenUnixNano),
                        LastSeen = FromNanos(u.LastSeenUnixNano),
                        TotalTokens = u.TotalTokens,
                        CostUsd = u.CostUsd,
                        ErrorCount = u.ErrorCount,
                    }).ToList(),
                    NextPageToken = page.NextPageToken,
                },
                TraceJsonContext.Default.ListUsersResponse);
        }
        catch (Exception e) when (e is ArgumentException or TrackingException)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid query", e.Message);
        }
    }

    private static async Task<Results<JsonHttpResult<ScoreInfo>, ProblemHttpResult>> AddScoreAsync(HttpContext context, ITraceStore store, TimeProvider time)
    {
        CreateScoreRequest? request;
        try
        {
            request = await context.Request.ReadFromJsonAsync(TraceJsonContext.Default.CreateScoreRequest, context.RequestAborted);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid request body", $"The body must be a JSON object: {e.Message}");
        }

        if (request is null || string.IsNullOrWhiteSpace(request.TraceId) || string.IsNullOrWhiteSpace(request.Name))
        {
            return Problem(StatusCodes.Status400BadRequest, "Missing field", "A score needs 'trace_id' and 'name'.");
        }

        if (request.Project is { } p && !TraceIngestApi.IsValidProject(p))
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid project", "A project name is 1 to 200 characters without control characters.");
        }

        if (request.Name.Length > 200)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid name", "A score name is at most 200 characters.");
        }

        if (request.Value is not { } value)
        {
            return Problem(StatusCodes.Status400BadRequest, "Missing value", "A score needs a 'value': a number, true or false, or a string.");
        }

        ScoreDataType type;
        double? number = null;
        string? text = null;
        switch (request.DataType ?? (value.ValueKind switch
        {
            JsonValueKind.Number => "numeric",
            JsonValueKind.True or JsonValueKind.False => "boolean",
            JsonValueKind.String => "categorical",
            _ => "invalid",
        }))
        {
            case "numeric" when value.ValueKind == JsonValueKind.Number && double.IsFinite(value.GetDouble()):
                type = ScoreDataType.Numeric;
                number = value.GetDouble();
                break;
            case "boolean" when value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                type = ScoreDataType.Boolean;
                number = value.GetBoolean() ? 1 : 0;
                break;
            case "boolean" when value.ValueKind == JsonValueKind.Number && value.GetDouble() is 0 or 1:
                type = ScoreDataType.Boolean;
                number = value.GetDouble();
                break;
            case "categorical" or "text" when value.ValueKind == JsonValueKind.String:
                type = request.DataType == "text" ? ScoreDataType.Text : ScoreDataType.Categorical;
                text = value.GetString();
                break;
            default:
                return Problem(StatusCodes.Status400BadRequest, "Invalid value",
                    "data_type must be numeric (a finite number), boolean (true, false, 1 or 0), categorical or text (a string), and the value must match it.");
        }

        var source = request.Source switch
        {
            null or "api" => (ScoreSource?)ScoreSource.Api,
            "human" => ScoreSource.Human,
            "evaluator" => ScoreSource.Evaluator,
            _ => null,
        };
        if (source is null)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid source", "source must be human, api or evaluator.");
        }

        var score = new Score
        {
            Id = "score_" + Guid.CreateVersion7().ToString("N"),
            Project = request.Project?.Trim() ?? ObservabilityDefaults.Project,
            TraceId = request.TraceId.Trim().ToLowerInvariant(),
            SpanId = string.IsNullOrWhiteSpace(request.SpanId) ? null : request.SpanId.Trim().ToLowerInvariant(),
            Name = request.Name.Trim(),
            DataType = type,
            Value = number,
            StringValue = text,
            Source = source.Value,
            Comment = request.Comment,
            Author = request.Author,
            Timestamp = time.GetUtcNow().ToUnixTimeMilliseconds(),
        };
        await store.AddScoreAsync(score, context.RequestAborted);
        context.Response.Headers.Location = $"/api/cairn/traces/{score.TraceId}/scores";
        return TypedResults.Json(ToInfo(score), TraceJsonContext.Default.ScoreInfo, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteScoreAsync(string id, HttpContext context, ITraceStore store)
    {
        var project = Project(context.Request.Query["project"]);
        return await store.DeleteScoreAsync(project, id, context.RequestAborted)
            ? TypedResults.NoContent()
            : Problem(StatusCodes.Status404NotFound, "Score not found", $"No score '{id}' in project '{project}'.");
    }

    internal static TraceInfo ToInfo(TraceSummary t, IReadOnlyList<Score>? scores = null) => new()
    {
        Project = t.Project,
        TraceId = t.TraceId,
        Name = t.Name,
        RootSpanId = t.RootSpanId,
        StartTime = FromNanos(t.StartTimeUnixNano),
        StartTimeUnixNano = t.StartTimeUnixNano,
        DurationMs = t.DurationMs,
        SpanCount = t.SpanCount,
        ErrorCount = t.ErrorCount,
        Status = t.HasError ? "error" : "ok",
        InputTokens = t.InputTokens,
        OutputTokens = t.OutputTokens,
        CachedInputTokens = t.CachedInputTokens,
        TotalTokens = t.TotalTokens,
        CostUsd = t.CostUsd,
        UserId = t.UserId,
        SessionId = t.SessionId,
        ServiceName = t.ServiceName,
        Models = [.. t.Models],
        Tags = [.. t.Tags],
        Input = t.Input,
        Output = t.Output,
        Scores = scores?.Select(ToInfo).ToList(),
    };

    private static SpanNodeInfo ToInfo(SpanNode n) => new()
    {
        SpanId = n.SpanId,
        ParentSpanId = n.ParentSpanId,
        Name = n.Name,
        Type = n.Type,
        StartTimeUnixNano = n.StartTimeUnixNano,
        EndTimeUnixNano = n.EndTimeUnixNano,
        DurationMs = n.DurationMs,
        Status = StatusName(n.StatusCode),
        Model = n.Model,
        TotalTokens = n.TotalTokens,
        CostUsd = n.CostUsd,
        ChildCount = n.ChildCount,
    };

    private static SpanInfo ToInfo(SpanRecord s) => new()
    {
        Project = s.Project,
        TraceId = s.TraceId,
        SpanId = s.SpanId,
        ParentSpanId = s.ParentSpanId,
        Name = s.Name,
        Kind = s.Kind.ToString().ToLowerInvariant(),
        Type = s.Type,
        StartTimeUnixNano = s.StartTimeUnixNano,
        EndTimeUnixNano = s.EndTimeUnixNano,
        DurationMs = s.DurationMs,
        Status = StatusName(s.StatusCode),
        StatusMessage = s.StatusMessage,
        Operation = s.Operation,
        Provider = s.Provider,
        RequestModel = s.RequestModel,
        ResponseModel = s.ResponseModel,
        InputTokens = s.InputTokens,
        OutputTokens = s.OutputTokens,
        CachedInputTokens = s.CachedInputTokens,
        CacheWriteTokens = s.CacheWriteTokens,
        ReasoningTokens = s.ReasoningTokens,
        CostUsd = s.CostUsd,
        Input = s.Input,
        Output = s.Output,
        UserId = s.UserId,
        SessionId = s.SessionId,
        ServiceName = s.ServiceName,
        ScopeName = s.ScopeName,
        Tags = [.. s.Tags],
        Attributes = JsonNode.Parse(s.AttributesJson),
        Resource = JsonNode.Parse(s.ResourceJson),
        Events = s.EventsJson is null ? null : JsonNode.Parse(s.EventsJson),
        Links = s.LinksJson is null ? null : JsonNode.Parse(s.LinksJson),
        Truncated = s.Flags.HasFlag(SpanFlags.Truncated),
        ClockSkew = s.Flags.HasFlag(SpanFlags.EndBeforeStart),
        RequestLogId = s.RequestLogId,
    };

    private static ScoreInfo ToInfo(Score s) => new()
    {
        Id = s.Id,
        TraceId = s.TraceId,
        SpanId = s.SpanId,
        Name = s.Name,
        DataType = s.DataType.ToString().ToLowerInvariant(),
        Value = s.DataType switch
        {
            ScoreDataType.Boolean => JsonValue.Create(s.Value == 1),
            ScoreDataType.Numeric => JsonValue.Create(s.Value),
            _ => JsonValue.Create(s.StringValue),
        },
        Source = s.Source.ToString().ToLowerInvariant(),
        Comment = s.Comment,
        Author = s.Author,
        Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(s.Timestamp),
    };

    private static string StatusName(SpanStatusCode code) => code switch
    {
        SpanStatusCode.Error => "error",
        SpanStatusCode.Ok => "ok",
        _ => "unset",
    };

    private static DateTimeOffset FromNanos(long nanos) => DateTimeOffset.UnixEpoch.AddTicks(nanos / 100);

    private static string Project(Microsoft.Extensions.Primitives.StringValues value) =>
        QueryText(value) is { } project && TraceIngestApi.IsValidProject(project) ? project.Trim() : ObservabilityDefaults.Project;

    private static double? Number(Microsoft.Extensions.Primitives.StringValues value, string name) =>
        QueryText(value) is not { } text
            ? null
            : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
                ? number
                : throw new ArgumentException($"{name} must be a number, got '{text}'.");

    /// <summary>A time given as an ISO 8601 date or time, or as Unix milliseconds; returned in Unix nanoseconds.</summary>
    private static long? Time(Microsoft.Extensions.Primitives.StringValues value, string name)
    {
        if (QueryText(value) is not { } text)
        {
            return null;
        }

        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms))
        {
            return ms * 1_000_000;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100
            : throw new ArgumentException($"{name} must be an ISO 8601 time or Unix milliseconds, got '{text}'.");
    }

    private static KeyValuePair<string, string> ParseAttribute(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon <= 0
            ? throw new ArgumentException($"attribute must be key:value, got '{text}'.")
            : new KeyValuePair<string, string>(text[..colon], text[(colon + 1)..]);
    }

    private static ProblemHttpResult NotFound(string traceId, string project) =>
        Problem(StatusCodes.Status404NotFound, "Trace not found", $"No trace {traceId} in project '{project}'.");
}
