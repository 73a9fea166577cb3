using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Client.Tests.TestDoubles;
using Cairn.Contracts.Prompts;

namespace Cairn.Client.Tests.Prompts;

/// <summary>A hand-written HTTP handler that answers Cairn's prompt API from memory and records every request.</summary>
public sealed class FakePromptServer : HttpMessageHandler
{
    private const string PromptsPrefix = "/api/cairn/prompts/";

    private readonly Lock _gate = new();
    private readonly List<RecordedRequest> _requests = [];
    private readonly Dictionary<string, List<PromptVersionInfo>> _versions = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Name, string Label), int> _labels = [];

    /// <summary>Awaited before every answer: can wait on a gate, or throw to play a Cairn that is down.</summary>
    public Func<RecordedRequest, CancellationToken, Task>? OnRequest { get; set; }

    /// <summary>Answers a request instead of the in-memory prompts when it returns non-null.</summary>
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

    public int Gets => Requests.Count(r => r.Method == HttpMethod.Get);

    public static HttpResponseMessage Problem(HttpStatusCode status, string detail) =>
        RecordingHandler.Json(
            JsonSerializer.Serialize(new Dictionary<string, object> { ["title"] = status.ToString(), ["status"] = (int)status, ["detail"] = detail }),
            status);

    public PromptVersionInfo AddText(string name, string template, params string[] labels) =>
        Add(new PromptVersionInfo { Name = name, Type = "text", Template = template }, labels);

    public PromptVersionInfo AddChat(string name, IEnumerable<PromptMessage> messages, params string[] labels) =>
        Add(new PromptVersionInfo { Name = name, Type = "chat", Messages = [.. messages] }, labels);

    public PromptVersionInfo Add(PromptVersionInfo version, params string[] labels)
    {
        lock (_gate)
        {
            if (!_versions.TryGetValue(version.Name, out var versions))
            {
                _versions[version.Name] = versions = [];
            }

            version.Version = versions.Count + 1;
            version.CreatedAt = 1_700_000_000_000 + version.Version;
            version.ModelConfig ??= new JsonObject { ["model_name"] = "gpt-4o-mini", ["temperature"] = 0.2 };
            versions.Add(version);
            foreach (var label in labels)
            {
                _labels[(version.Name, label)] = version.Version;
            }

            return version;
        }
    }

    public void SetLabel(string name, string label, int version)
    {
        lock (_gate)
        {
            _labels[(name, label)] = version;
        }
    }

    public void DeleteLabel(string name, string label)
    {
        lock (_gate)
        {
            _labels.Remove((name, label));
        }
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        var recorded = new RecordedRequest(request.Method, request.RequestUri!, body, request.Content?.Headers.ContentType?.MediaType, request.Content?.Headers.ContentLength);
        lock (_gate)
        {
            _requests.Add(recorded);
        }

        if (OnRequest is { } onRequest)
        {
            await onRequest(recorded, cancellationToken);
        }

        var response = Respond?.Invoke(recorded) ?? Answer(recorded);
        response.RequestMessage = request;
        return response;
    }

    private HttpResponseMessage Answer(RecordedRequest request)
    {
        if (request.Method != HttpMethod.Get || !request.Path.StartsWith(PromptsPrefix, StringComparison.Ordinal))
        {
            return Problem(HttpStatusCode.NotFound, "No such route in the fake.");
        }

        var name = string.Join('/', request.Path[PromptsPrefix.Length..].Split('/').Select(Uri.UnescapeDataString));
        lock (_gate)
        {
            if (!_versions.TryGetValue(name, out var versions))
            {
                return Problem(HttpStatusCode.NotFound, $"Prompt '{name}' does not exist.");
            }

            int number;
            if (request.Query("version") is { } version)
            {
                number = int.Parse(version, CultureInfo.InvariantCulture);
            }
            else if (request.Query("label") is { } label)
            {
                if (!_labels.TryGetValue((name, label), out number))
                {
                    return Problem(HttpStatusCode.NotFound, $"Prompt '{name}' has no label '{label}'.");
                }
            }
            else
            {
                number = versions.Count;
            }

            if (number < 1 || number > versions.Count)
            {
                return Problem(HttpStatusCode.NotFound, $"Prompt '{name}' has no version {number}.");
            }

            var found = versions[number - 1];
            found.Labels = [.. _labels.Where(l => l.Key.Name == name && l.Value == number).Select(l => l.Key.Label).Order(StringComparer.Ordinal)];
            return new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent(JsonSerializer.Serialize(found, PromptJsonContext.Default.PromptVersionInfo), Encoding.UTF8, "application/json"),
            };
        }
    }
}
