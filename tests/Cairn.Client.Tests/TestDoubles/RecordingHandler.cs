using System.Net;
using System.Text;
using System.Text.Json;

namespace Cairn.Client.Tests.TestDoubles;

/// <summary>A request the fake handler saw, with its body read.</summary>
public sealed record RecordedRequest(HttpMethod Method, Uri Uri, byte[] Body, string? ContentType, long? ContentLength)
{
    public string Path => Uri.AbsolutePath;

    public string BodyText => Encoding.UTF8.GetString(Body);

    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    public string? Query(string name)
    {
        foreach (var part in Uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (Uri.UnescapeDataString(part[..eq]) == name)
            {
                return Uri.UnescapeDataString(part[(eq + 1)..]);
            }
        }

        return null;
    }
}

/// <summary>A hand-written HTTP handler that records every request and answers through <see cref="Respond"/>, or like a minimal MLflow server.</summary>
public sealed class RecordingHandler : HttpMessageHandler
{
    public const string ExperimentId = "7";
    public const string RunId = "0123456789abcdef0123456789abcdef";
    public const string ArtifactUri = "mlflow-artifacts:/7/0123456789abcdef0123456789abcdef/artifacts";

    private readonly Lock _gate = new();
    private readonly List<RecordedRequest> _requests = [];

    /// <summary>Answers a request; null falls back to <see cref="DefaultResponse"/>.</summary>
    public Func<RecordedRequest, HttpResponseMessage?>? Respond { get; set; }

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return _requests.ToList();
            }
        }
    }

    public IReadOnlyList<RecordedRequest> RequestsTo(string pathSuffix) =>
        Requests.Where(r => r.Path.EndsWith(pathSuffix, StringComparison.Ordinal)).ToList();

    public static HttpResponseMessage Json(string json, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    public static HttpResponseMessage Error(HttpStatusCode status, string errorCode, string message) =>
        Json(JsonSerializer.Serialize(new Dictionary<string, string> { ["error_code"] = errorCode, ["message"] = message }), status);

    public static HttpResponseMessage DefaultResponse(RecordedRequest request) => request.Path switch
    {
        var p when p.EndsWith("/experiments/get-by-name", StringComparison.Ordinal) =>
            Json($$$$"""{"experiment":{"experiment_id":"{{{{ExperimentId}}}}","name":"{{{{request.Query("experiment_name")}}}}","lifecycle_stage":"active"}}"""),
        var p when p.EndsWith("/runs/create", StringComparison.Ordinal) =>
            Json($$$$"""{"run":{"info":{"run_id":"{{{{RunId}}}}","run_uuid":"{{{{RunId}}}}","experiment_id":"{{{{ExperimentId}}}}","run_name":"brave-owl-1","status":"RUNNING","artifact_uri":"{{{{ArtifactUri}}}}","lifecycle_stage":"active"}}}"""),
        var p when p.EndsWith("/runs/update", StringComparison.Ordinal) =>
            Json($$$$"""{"run_info":{"run_id":"{{{{RunId}}}}","experiment_id":"{{{{ExperimentId}}}}","status":"FINISHED"}}"""),
        _ => Json("{}"),
    };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        var recorded = new RecordedRequest(
            request.Method,
            request.RequestUri!,
            body,
            request.Content?.Headers.ContentType?.MediaType,
            request.Content?.Headers.ContentLength);
        lock (_gate)
        {
            _requests.Add(recorded);
        }

        var response = Respond?.Invoke(recorded) ?? DefaultResponse(recorded);
        response.RequestMessage = request;
        return response;
    }
}
