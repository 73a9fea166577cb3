using System.Text.Json.Nodes;
using Cairn.Server;
using Cairn.Storage.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Cairn.Server.Tests;

/// <summary>Which metadata store a test server runs on.</summary>
public enum Backend
{
    Sqlite,
    Postgres,
}

/// <summary>A real Cairn server started in-process on 127.0.0.1 with a free port and its own data folder (and database).</summary>
public sealed class CairnTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string? _postgresUri;

    private CairnTestServer(WebApplication app, string dataDirectory, string? postgresUri)
    {
        _app = app;
        DataDirectory = dataDirectory;
        _postgresUri = postgresUri;
        BaseAddress = app.GetListeningAddresses()[0];
        Client = new HttpClient { BaseAddress = BaseAddress };
    }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public string DataDirectory { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<CairnTestServer> StartAsync(Backend backend = Backend.Sqlite, Action<CairnServerOptions>? configure = null, Action<WebApplicationBuilder>? configureBuilder = null)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "cairn-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDirectory);
        var postgresUri = backend == Backend.Postgres ? await PostgresDatabase.CreateDatabaseAsync() : null;
        var app = await CairnApp.CreateAsync(
            [],
            options =>
            {
                options.Port = 0;
                options.DataDirectory = dataDirectory;
                options.BackendStoreUri = postgresUri;
                configure?.Invoke(options);
            },
            builder =>
            {
                builder.Logging.SetMinimumLevel(LogLevel.Warning);
                configureBuilder?.Invoke(builder);
            });
        await app.StartAsync();
        return new CairnTestServer(app, dataDirectory, postgresUri);
    }

    public async Task<JsonObject> PostJsonAsync(string path, string json, int expectedStatus = 200)
    {
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var response = await Client.PostAsync(path, content);
        return await ReadAsync(response, expectedStatus);
    }

    public async Task<JsonObject> GetAsync(string path, int expectedStatus = 200)
    {
        using var response = await Client.GetAsync(path);
        return await ReadAsync(response, expectedStatus);
    }

    public static async Task<JsonObject> ReadAsync(HttpResponseMessage response, int expectedStatus)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == expectedStatus, $"Expected HTTP {expectedStatus} but got {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public ValueTask DisposeAsync() => DisposeAsync(keepData: false);

    /// <summary>Stops the server; with <paramref name="keepData"/> the data folder (and database) stay for a restart.</summary>
    public async ValueTask DisposeAsync(bool keepData)
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (keepData)
        {
            return;
        }

        if (_postgresUri is not null)
        {
            await PostgresDatabase.DropDatabaseAsync(_postgresUri);
        }

        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
