using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Cairn.Core.Gateway;
using Cairn.Server.Gateway;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Cairn.Server.Tests.Gateway;

/// <summary>A Cairn server whose gateway is configured (from a JSON file, reloaded on change) in front of fake upstreams.</summary>
public sealed class GatewayHarness : IAsyncDisposable
{
    private GatewayHarness(CairnTestServer server, FakeOpenAiUpstream upstream, string configPath)
    {
        Server = server;
        Upstream = upstream;
        ConfigPath = configPath;
    }

    public CairnTestServer Server { get; }

    public FakeOpenAiUpstream Upstream { get; }

    public string ConfigPath { get; }

    public Uri V1 => new(Server.BaseAddress, "/v1");

    /// <summary>
    /// Starts a fake OpenAI upstream and Cairn with providers <c>fake</c> (the upstream) and <c>dead</c> (a closed port),
    /// and routes <c>fast</c> (→ fake gpt-4o-mini) plus whatever <paramref name="configure"/> adds to the gateway section.
    /// </summary>
    public static async Task<GatewayHarness> StartAsync(Action<JsonObject>? configure = null, Backend backend = Backend.Sqlite, bool requireKey = false)
    {
        var upstream = await FakeOpenAiUpstream.StartAsync();
        var gateway = new JsonObject
        {
            ["RequireApiKey"] = requireKey,
            ["Retry"] = new JsonObject { ["MaxRetries"] = 2, ["InitialDelayMs"] = 10, ["MaxDelayMs"] = 2000 },
            ["Providers"] = new JsonObject
            {
                ["fake"] = new JsonObject { ["Kind"] = "OpenAI", ["BaseUrl"] = upstream.BaseUrl, ["ApiKey"] = "sk-upstream-secret", ["Models"] = new JsonArray("gpt-4o-mini", "gpt-4o", "text-embedding-3-small") },
                ["dead"] = new JsonObject { ["Kind"] = "OpenAI", ["BaseUrl"] = "http://127.0.0.1:9/v1", ["ApiKey"] = "sk-dead" },
            },
            ["Routes"] = new JsonObject
            {
                ["fast"] = new JsonObject { ["Deployments"] = new JsonArray(new JsonObject { ["Provider"] = "fake", ["Model"] = "gpt-4o-mini" }) },
            },
        };
        configure?.Invoke(gateway);
        var configPath = Path.Combine(Path.GetTempPath(), "cairn-tests", $"gateway-{Guid.NewGuid():N}.json");
        Directory.CreateDirectory(Path.GetDirectoryName(configPath)!);
        await File.WriteAllTextAsync(configPath, new JsonObject { ["Cairn"] = new JsonObject { ["Gateway"] = gateway } }.ToJsonString());
        var server = await CairnTestServer.StartAsync(backend, configureBuilder: builder => builder.Configuration.AddJsonFile(configPath, optional: false, reloadOnChange: true));
        return new GatewayHarness(server, upstream, configPath);
    }

    /// <summary>Rewrites the gateway section of the configuration file (the server reloads it).</summary>
    public Task RewriteConfigAsync(JsonObject gateway) =>
        File.WriteAllTextAsync(ConfigPath, new JsonObject { ["Cairn"] = new JsonObject { ["Gateway"] = gateway } }.ToJsonString());

    /// <summary>Waits until every queued request record is stored, then reads one.</summary>
    /// <remarks>A response can reach the client a moment before the gateway queues its record, so this polls.</remarks>
    public async Task<RequestLogRecord> RecordAsync(string requestId)
    {
        var store = Server.Services.GetRequiredService<IRequestLogStore>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            await FlushAsync();
            if (await store.GetAsync(requestId, CancellationToken.None) is { } record)
            {
                return record;
            }

            Assert.True(DateTime.UtcNow < deadline, $"No request record {requestId} within 30 s.");
            await Task.Delay(20);
        }
    }

    /// <summary>Waits until <paramref name="count"/> records are stored and returns them, newest first.</summary>
    public async Task<IReadOnlyList<RequestLogRecord>> RecordsAsync(int count, RequestLogQuery? query = null)
    {
        var store = Server.Services.GetRequiredService<IRequestLogStore>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            await FlushAsync();
            var page = await store.SearchAsync((query ?? new RequestLogQuery()) with { MaxResults = 1000 }, CancellationToken.None);
            if (page.Items.Count >= count)
            {
                return page.Items;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Only {page.Items.Count} of {count} request records within 30 s.");
            await Task.Delay(20);
        }
    }

    public async Task FlushAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Server.Services.GetRequiredService<RequestLogWriter>().FlushAsync(timeout.Token);
    }

    /// <summary>Creates a virtual key through the REST API and returns its secret.</summary>
    public async Task<(string Id, string Secret)> CreateKeyAsync(JsonObject request)
    {
        using var response = await Server.Client.PostAsJsonAsync("/api/cairn/gateway/keys", request);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        return (body["id"]!.GetValue<string>(), body["key"]!.GetValue<string>());
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Upstream.DisposeAsync();
        File.Delete(ConfigPath);
    }
}
