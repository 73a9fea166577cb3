using System.Collections.Concurrent;
using System.Net;
using Cairn.Client.Prompts;
using Cairn.Client.Tests.TestDoubles;
using Microsoft.Extensions.Time.Testing;

namespace Cairn.Client.Tests.Prompts;

public sealed class PromptCacheTests : IDisposable
{
    private const string Name = "support/triage";

    private readonly FakePromptServer _server = new();
    private readonly FakeTimeProvider _time = new(TestClients.Start);
    private readonly ConcurrentQueue<PromptRefreshFailedEventArgs> _failures = new();
    private readonly CairnClient _client;

    public PromptCacheTests()
    {
        _server.AddText(Name, "v1: {{question}}", "production");
        _client = new CairnClient(new HttpClient(_server) { BaseAddress = TestClients.BaseAddress }, _time);
        _client.PromptRefreshFailed += (_, e) => _failures.Enqueue(e);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
    }

    [Fact]
    public async Task GetPromptAsync_ManyGetsWithinTtl_SendsOneRequest()
    {
        var first = await _client.GetPromptAsync(Name, "production", cancellationToken: Ct);
        for (var i = 0; i < 10; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(5));
            Assert.Same(first, await _client.GetPromptAsync(Name, "production", cancellationToken: Ct));
        }

        var request = Assert.Single(_server.Requests);
        Assert.Equal(HttpMethod.Get, request.Method);
        Assert.Equal("/api/cairn/prompts/support/triage", request.Path);
        Assert.Equal("production", request.Query("label"));
        Assert.Null(request.Query("version"));
        Assert.Equal(1, first.Version);
    }

    [Fact]
    public async Task GetPromptAsync_NoLabelAndLatest_ShareTheLatestEntry()
    {
        var latest = await _client.GetPromptAsync(Name, cancellationToken: Ct);
        Assert.Same(latest, await _client.GetPromptAsync(Name, "latest", cancellationToken: Ct));
        await _client.GetPromptAsync(Name, "production", cancellationToken: Ct);

        Assert.Equal(2, _server.Gets);
        Assert.Null(_server.Requests[0].Query("label"));
        Assert.Equal("production", _server.Requests[1].Query("label"));
    }

    [Fact]
    public async Task GetPromptAsync_NameWithReservedCharacters_EscapesEachFolder()
    {
        _server.AddText("team a/q&a?", "hello");

        var prompt = await _client.GetPromptAsync("team a/q&a?", cancellationToken: Ct);

        Assert.Equal("team a/q&a?", prompt.Name);
        Assert.Equal("/api/cairn/prompts/team%20a/q%26a%3F", _server.Requests[0].Uri.AbsolutePath);
        Assert.Equal(string.Empty, _server.Requests[0].Uri.Query);
    }

    [Fact]
    public async Task GetPromptAsync_AfterTtl_ReturnsStaleAtOnceAndRefreshesOnceInBackground()
    {
        await _client.GetPromptAsync(Name, "production", cancellationToken: Ct);
        _server.SetLabel(Name, "production", _server.AddText(Name, "v2: {{question}}").Version);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _server.OnRequest = (_, _) => gate.Task;
        _time.Advance(TimeSpan.FromSeconds(61));

        for (var i = 0; i < 5; i++)
        {
            var get = _client.GetPromptAsync(Name, "production", cancellationToken: Ct);
            Assert.True(get.IsCompletedSuccessfully);
            Assert.Equal(1, (await get).Version);
        }

        await TestClients.WaitUntilAsync(() => _server.Gets == 2, "the background refresh is sent");
        gate.SetResult();
        await WaitForVersionAsync(2);

        Assert.Equal(2, _server.Gets);
        Assert.Empty(_failures);
    }

    [Fact]
    public async Task GetPromptAsync_AfterTtlWithoutStaleWhileRevalidate_WaitsForTheNewVersion()
    {
        _client.PromptCacheOptions = new PromptCacheOptions { Ttl = TimeSpan.FromSeconds(10), StaleWhileRevalidate = false };
        await _client.GetPromptAsync(Name, "production", cancellationToken: Ct);
        _server.SetLabel(Name, "production", _server.AddText(Name, "v2").Version);

        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(1, (await _client.GetPromptAsync(Name, "production", cancellationToken: Ct)).Version);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2, (await _client.GetPromptAsync(Name, "production", cancellationToken: Ct)).Version);
        Assert.Equal(2, _server.Gets);
    }

    public static TheoryData<string> Outages => ["connection refused", "503", "timeout"];

    [Theory]
    [MemberData(nameof(Outages))]
    public async Task GetPromptAsync_CairnDownAfterTtl_ServesStalePrompt(string outage)
    {
        _client.PromptCacheOptions = new PromptCacheOptions { StaleWhileRevalidate = false };
        _client.RequestTimeout = TimeSpan.FromMilliseconds(200);
        var cached = await _client.GetPromptAsync(Name, "production", cancellationToken: Ct);
        PlayOutage(outage);
        _time.Advance(TimeSpan.FromHours(1));

        Assert.Same(cached, await _client.GetPromptAsync(Name, "production", cancellationToken: Ct));
        var failure = Assert.Single(_failures);
        Assert.Equal(Name, failure.Name);
        Assert.Equal("production", failure.Label);
        Assert.Null(failure.Version);

        // After a failure Cairn is left alone for a few seconds; the stale prompt is served meanwhile.
        Assert.Same(cached, await _client.GetPromptAsync(Name, "production", cancellationToken: Ct));
        Assert.Equal(2, _server.Gets);

        _server.OnRequest = null;
        _server.Respond = null;
        _server.SetLabel(Name, "production", _server.AddText(Name, "v2").Version);
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(2, (await _client.GetPromptAsync(Name, "production", cancellationToken: Ct)).Version);
    }

    [Fact]
    public async Task GetPromptAsync_CairnDownDuringBackgroundRefresh_KeepsServingStalePrompt()
    {
        var cached = await _client.GetPromptAsync(Name, "production", cancellationToken: Ct);
        PlayOutage("connection refused");
        _time.Advance(TimeSpan.FromSeconds(61));

        Assert.Same(cached, await _client.GetPromptAsync(Name, "production", cancellationToken: Ct));
        await TestClients.WaitUntilAsync(() => !_failures.IsEmpty, "the background refresh fails");
        Assert.IsType<HttpRequestException>(Assert.Single(_failures).Exception);

        Assert.Same(cached, await _client.GetPromptAsync(Name, "production", cancellationToken: Ct));
        _time.Advance(TimeSpan.FromHours(23));
        Assert.Same(cached, await _client.GetPromptAsync(Name, "production", cancellationToken: Ct));
        await TestClients.WaitUntilAsync(() => _failures.Count == 2, "the second background refresh fails");
        Assert.Equal(3, _server.Gets);
    }

    [Fact]
    public async Task GetPromptAsync_CairnDownBeyondMaxStale_Throws()
    {
        _client.PromptCacheOptions = new PromptCacheOptions { Ttl = TimeSpan.FromMinutes(1), MaxStale = TimeSpan.FromHours(1) };
        await _client.GetPromptAsync(Name, "production", cancellationToken: Ct);
        PlayOutage("503");
        _time.Advance(TimeSpan.FromMinutes(61));

        var e = await Assert.ThrowsAsync<CairnApiException>(() => _client.GetPromptAsync(Name, "production", cancellationToken: Ct));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, e.StatusCode);
        Assert.Equal("Cairn is restarting.", e.ServerMessage);
    }

    [Fact]
    public async Task GetPromptAsync_NotFound_ThrowsProblemDetailAndEvicts()
    {
        _client.PromptCacheOptions = new PromptCacheOptions { StaleWhileRevalidate = false };
        await _client.GetPromptAsync(Name, "production", cancellationToken: Ct);
        _server.DeleteLabel(Name, "production");
        _time.Advance(TimeSpan.FromSeconds(61));

        var notFound = await Assert.ThrowsAsync<CairnApiException>(() => _client.GetPromptAsync(Name, "production", cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        Assert.Equal($"Prompt '{Name}' has no label 'production'.", notFound.ServerMessage);
        Assert.Equal("GET api/cairn/prompts/support/triage", notFound.Request);

        // Evicted: with Cairn down there is no stale prompt left to serve.
        PlayOutage("503");
        var down = await Assert.ThrowsAsync<CairnApiException>(() => _client.GetPromptAsync(Name, "production", cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
    }

    [Fact]
    public async Task GetPromptAsync_NotFoundInBackgroundRefresh_EvictsAndNextGetThrows()
    {
        var cached = await _client.GetPromptAsync(Name, "production", cancellationToken: Ct);
        _server.DeleteLabel(Name, "production");
        _time.Advance(TimeSpan.FromSeconds(61));

        Assert.Same(cached, await _client.GetPromptAsync(Name, "production", cancellationToken: Ct));
        await TestClients.WaitUntilAsync(() => !_failures.IsEmpty, "the background refresh gets a 404");

        var e = await Assert.ThrowsAsync<CairnApiException>(() => _client.GetPromptAsync(Name, "production", cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.NotFound, e.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, Assert.IsType<CairnApiException>(Assert.Single(_failures).Exception).StatusCode);
    }

    [Fact]
    public async Task GetPromptAsync_ByVersion_IsCachedWithoutTtl()
    {
        var pinned = await _client.GetPromptAsync(Name, version: 1, cancellationToken: Ct);
        PlayOutage("503");
        _time.Advance(TimeSpan.FromDays(365));

        Assert.Same(pinned, await _client.GetPromptAsync(Name, version: 1, cancellationToken: Ct));
        var request = Assert.Single(_server.Requests);
        Assert.Equal("1", request.Query("version"));
        Assert.Null(request.Query("label"));
    }

    [Fact]
    public async Task GetPromptAsync_ConcurrentGets_ShareOneRequest()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _server.OnRequest = (_, _) => gate.Task;

        var gets = Enumerable.Range(0, 20).Select(_ => Task.Run(() => _client.GetPromptAsync(Name, "production", cancellationToken: Ct), Ct)).ToArray();
        await TestClients.WaitUntilAsync(() => _server.Gets == 1, "the request is sent");
        await Task.Delay(50, Ct);
        gate.SetResult();
        var prompts = await Task.WhenAll(gets);

        Assert.All(prompts, p => Assert.Same(prompts[0], p));
        Assert.Equal(1, _server.Gets);
    }

    [Fact]
    public async Task GetPromptAsync_OneCallerCancels_OthersGetThePrompt()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _server.OnRequest = (_, _) => gate.Task;
        using var cancel = new CancellationTokenSource();

        var cancelled = _client.GetPromptAsync(Name, "production", cancellationToken: cancel.Token);
        var other = _client.GetPromptAsync(Name, "production", cancellationToken: Ct);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        gate.SetResult();

        Assert.Equal(1, (await other).Version);
        Assert.Equal(1, _server.Gets);
    }

    [Fact]
    public async Task InvalidatePromptCache_Name_NextGetAsksCairn()
    {
        _server.AddText("other", "x");
        await _client.GetPromptAsync(Name, "production", cancellationToken: Ct);
        await _client.GetPromptAsync("other", cancellationToken: Ct);

        _client.InvalidatePromptCache(Name);
        await _client.GetPromptAsync(Name, "production", cancellationToken: Ct);
        await _client.GetPromptAsync("other", cancellationToken: Ct);
        Assert.Equal(3, _server.Gets);

        _client.InvalidatePromptCache();
        await _client.GetPromptAsync("other", cancellationToken: Ct);
        Assert.Equal(4, _server.Gets);
    }

    [Fact]
    public async Task SetPromptLabelAsync_PostsLabelAndClearsThePromptsCache()
    {
        _server.AddText(Name, "v2");
        await _client.GetPromptAsync(Name, "production", cancellationToken: Ct);
        _server.Respond = r => r.Method == HttpMethod.Post
            ? RecordingHandler.Json($$"""{"name":"{{Name}}","version":2,"type":"text","template":"v2","labels":["production"]}""")
            : null;

        var moved = await _client.SetPromptLabelAsync(Name, "production", 2, Ct);
        _server.SetLabel(Name, "production", 2);

        Assert.Equal(2, moved.Version);
        var post = Assert.Single(_server.Requests, r => r.Method == HttpMethod.Post);
        Assert.Equal("/api/cairn/prompt-labels/support/triage", post.Path);
        Assert.Equal("application/json", post.ContentType);
        Assert.Equal("production", post.Json.GetProperty("label").GetString());
        Assert.Equal(2, post.Json.GetProperty("version").GetInt32());
        Assert.Equal(2, (await _client.GetPromptAsync(Name, "production", cancellationToken: Ct)).Version);
    }

    [Fact]
    public async Task CreatePromptVersionAsync_Request_PostsItAndReturnsTheVersion()
    {
        _server.Respond = r => r.Method == HttpMethod.Post
            ? RecordingHandler.Json("""{"name":"greet","version":1,"type":"text","template":"Hi {{name}}","variables":["name"],"labels":["latest","production"],"model_config":{"model_name":"gpt-4o"}}""", HttpStatusCode.Created)
            : null;

        var created = await _client.CreatePromptVersionAsync(
            new Contracts.Prompts.CreatePromptVersionRequest { Name = "greet", Template = "Hi {{name}}", Labels = ["production"], CommitMessage = "first" },
            Ct);

        Assert.Equal("greet@1", created.HeaderValue);
        Assert.Equal(["name"], created.Variables);
        Assert.Equal("gpt-4o", created.ModelConfig.ModelName);
        var post = Assert.Single(_server.Requests);
        Assert.Equal("/api/cairn/prompts", post.Path);
        Assert.Equal("greet", post.Json.GetProperty("name").GetString());
        Assert.Equal("Hi {{name}}", post.Json.GetProperty("template").GetString());
        Assert.Equal("first", post.Json.GetProperty("commit_message").GetString());
        Assert.Equal("production", post.Json.GetProperty("labels")[0].GetString());
        Assert.False(post.Json.TryGetProperty("messages", out _));
    }

    [Fact]
    public async Task CreatePromptVersionAsync_BadTemplate_ThrowsProblemDetail()
    {
        _server.Respond = _ => FakePromptServer.Problem(HttpStatusCode.BadRequest, "Invalid template: unclosed tag.");

        var e = await Assert.ThrowsAsync<CairnApiException>(() => _client.CreatePromptVersionAsync(
            new Contracts.Prompts.CreatePromptVersionRequest { Name = "greet", Template = "Hi {{name" },
            Ct));

        Assert.Equal(HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Equal("Invalid template: unclosed tag.", e.ServerMessage);
    }

    [Fact]
    public async Task GetPromptAsync_InvalidArguments_Throw()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _client.GetPromptAsync(Name, "production", 1, Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _client.GetPromptAsync(Name, version: 0, cancellationToken: Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => _client.GetPromptAsync("a/../b", cancellationToken: Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => _client.GetPromptAsync("", cancellationToken: Ct));
        Assert.Throws<ArgumentOutOfRangeException>(() => _client.PromptCacheOptions = new PromptCacheOptions { Ttl = TimeSpan.FromSeconds(-1) });
        Assert.Empty(_server.Requests);
    }

    private void PlayOutage(string outage)
    {
        switch (outage)
        {
            case "connection refused":
                _server.OnRequest = (_, _) => throw new HttpRequestException("Connection refused (cairn.test:5000)");
                break;
            case "503":
                _server.Respond = _ => FakePromptServer.Problem(HttpStatusCode.ServiceUnavailable, "Cairn is restarting.");
                break;
            case "timeout":
                _server.OnRequest = (_, ct) => Task.Delay(Timeout.Infinite, ct);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(outage), outage, null);
        }
    }

    private async Task WaitForVersionAsync(int version)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while ((await _client.GetPromptAsync(Name, "production", cancellationToken: Ct)).Version != version)
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for version {version}.");
            await Task.Delay(10, Ct);
        }
    }
}
