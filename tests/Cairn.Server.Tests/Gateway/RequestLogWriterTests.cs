using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Cairn.Core.Gateway;
using Cairn.Core.Tracking;
using Cairn.Server.Gateway;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Cairn.Server.Tests.Gateway;

/// <summary>The request log's writer: requests never wait for the database, nothing is dropped, shutdown flushes.</summary>
public sealed class RequestLogWriterTests
{
    [Fact]
    public async Task BlockedDatabase_RequestsStillComplete_OverflowKept_AllStoredWhenItRecovers()
    {
        var store = new GatedStore();
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        await using var server = await StartAsync(upstream, store, queueCapacity: 2);

        // The store blocks every write: if a request waited for the log, these would never finish.
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => ChatAsync(server)));
        Assert.All(responses, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.Empty(store.Stored);

        // At most one batch (up to 5) is in the blocked store (none while the writer lets a batch gather); the rest wait
        // in the queue of 2 and the overflow, none dropped.
        var writer = server.Services.GetRequiredService<RequestLogWriter>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (writer.Backlog < 15 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.InRange(writer.Backlog, 15, 20);

        store.Open();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await writer.FlushAsync(timeout.Token);
        Assert.Equal(20, store.Stored.Count);
        Assert.Equal(20, store.Stored.Select(r => r.Id).Distinct().Count());
    }

    [Fact]
    public async Task FailingDatabase_BatchIsRetried_NotLost()
    {
        var store = new GatedStore { FailuresLeft = 2 };
        store.Open();
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        await using var server = await StartAsync(upstream, store, queueCapacity: 100);
        Assert.Equal(HttpStatusCode.OK, await ChatAsync(server));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await server.Services.GetRequiredService<RequestLogWriter>().FlushAsync(timeout.Token);
        Assert.Single(store.Stored);
        Assert.Equal(0, store.FailuresLeft);
    }

    [Fact]
    public async Task GracefulShutdown_FlushesQueuedRecords()
    {
        var store = new GatedStore();
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        var server = await StartAsync(upstream, store, queueCapacity: 1000);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await ChatAsync(server));
        }

        Assert.Empty(store.Stored);
        store.Open();
        await server.DisposeAsync();
        Assert.Equal(10, store.Stored.Count);
    }

    [Fact]
    public async Task ShutdownWithRealDatabase_RecordsSurviveRestart()
    {
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        var configure = Configure(upstream, 1000);
        var server = await CairnTestServer.StartAsync(configureBuilder: configure);
        var dataDirectory = server.DataDirectory;
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await ChatAsync(server));
        }

        await server.DisposeAsync(keepData: true);
        await using var reopened = await CairnTestServer.StartAsync(configure: o => o.DataDirectory = dataDirectory, configureBuilder: configure);
        var page = await reopened.Services.GetRequiredService<IRequestLogStore>().SearchAsync(new RequestLogQuery { MaxResults = 100 }, CancellationToken.None);
        Assert.Equal(5, page.Items.Count);
    }

    private static Task<CairnTestServer> StartAsync(FakeOpenAiUpstream upstream, IRequestLogStore store, int queueCapacity) =>
        CairnTestServer.StartAsync(configureBuilder: builder =>
        {
            Configure(upstream, queueCapacity)(builder);
            builder.Services.AddSingleton(store);
        });

    private static Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder> Configure(FakeOpenAiUpstream upstream, int queueCapacity) => builder =>
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Cairn:Gateway:RequireApiKey"] = "false",
            ["Cairn:Gateway:Log:QueueCapacity"] = queueCapacity.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Cairn:Gateway:Log:BatchSize"] = "5",
            ["Cairn:Gateway:Providers:fake:BaseUrl"] = upstream.BaseUrl,
            ["Cairn:Gateway:Providers:fake:Models:0"] = "gpt-4o-mini",
        });

    private static async Task<HttpStatusCode> ChatAsync(CairnTestServer server)
    {
        using var response = await server.Client.PostAsync(
            "/v1/chat/completions",
            new StringContent("""{"model":"fake/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        return response.StatusCode;
    }

    /// <summary>A request log store that holds every write until opened, and can fail a number of writes first.</summary>
    private sealed class GatedStore : IRequestLogStore
    {
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ConcurrentQueue<RequestLogRecord> Stored { get; } = new();

        public int FailuresLeft { get; set; }

        public void Open() => _open.TrySetResult();

        public async Task AppendAsync(IReadOnlyList<RequestLogRecord> records, CancellationToken cancellationToken)
        {
            await _open.Task.WaitAsync(cancellationToken);
            if (FailuresLeft > 0)
            {
                FailuresLeft--;
                throw new InvalidOperationException("database unavailable");
            }

            foreach (var record in records)
            {
                Stored.Enqueue(record);
            }
        }

        public Task<RequestLogRecord?> GetAsync(string id, CancellationToken cancellationToken) =>
            Task.FromResult(Stored.FirstOrDefault(r => r.Id == id));

        public Task<Page<RequestLogRecord>> SearchAsync(RequestLogQuery query, CancellationToken cancellationToken) =>
            Task.FromResult(new Page<RequestLogRecord>([.. Stored.Reverse()], null));
    }
}
