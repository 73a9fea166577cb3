using System.Net;
using Cairn.Client.Tests.TestDoubles;
using Microsoft.Extensions.Time.Testing;

namespace Cairn.Client.Tests;

public sealed class CairnRunTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<(CairnRun Run, RecordingHandler Handler, FakeTimeProvider Time)> StartAsync(TimeSpan? flushInterval = null)
    {
        var handler = new RecordingHandler();
        var time = new FakeTimeProvider(TestClients.Start);
        var client = TestClients.Create(handler, time);
        client.RunOptions = new CairnRunOptions { FlushInterval = flushInterval ?? Timeout.InfiniteTimeSpan };
        var run = await client.StartRunByExperimentIdAsync(RecordingHandler.ExperimentId, cancellationToken: Ct);
        return (run, handler, time);
    }

    private static List<(string Key, double Value, long Step)> LoggedMetrics(RecordingHandler handler) =>
        handler.RequestsTo("/runs/log-batch")
            .SelectMany(r => r.Json.TryGetProperty("metrics", out var m) ? m.EnumerateArray() : Enumerable.Empty<System.Text.Json.JsonElement>())
            .Select(m => (m.GetProperty("key").GetString()!, m.GetProperty("value").GetDouble(), m.GetProperty("step").GetInt64()))
            .ToList();

    [Fact]
    public async Task LogMetricAsync_999Values_SendsNothingUntilFlush()
    {
        var (run, handler, _) = await StartAsync();

        for (var i = 0; i < 999; i++)
        {
            await run.LogMetricAsync("m", i, step: i, cancellationToken: Ct);
        }

        Assert.Empty(handler.RequestsTo("/runs/log-batch"));
        await run.FlushAsync(Ct);
        Assert.Single(handler.RequestsTo("/runs/log-batch"));
        await run.DisposeAsync();
    }

    [Fact]
    public async Task LogMetricAsync_1000Values_SendsOneBatch()
    {
        var (run, handler, _) = await StartAsync();

        for (var i = 0; i < 1000; i++)
        {
            await run.LogMetricAsync("m", i, step: i, cancellationToken: Ct);
        }

        var batch = Assert.Single(handler.RequestsTo("/runs/log-batch"));
        Assert.Equal(1000, batch.Json.GetProperty("metrics").GetArrayLength());
        Assert.Equal(RecordingHandler.RunId, batch.Json.GetProperty("run_id").GetString());
        await run.DisposeAsync();
        Assert.Single(handler.RequestsTo("/runs/log-batch"));
    }

    [Fact]
    public async Task DisposeAsync_1001Values_SendsSecondBatchAndEndsRun()
    {
        var (run, handler, time) = await StartAsync();
        for (var i = 0; i < 1001; i++)
        {
            await run.LogMetricAsync("m", i, step: i, cancellationToken: Ct);
        }

        time.Advance(TimeSpan.FromSeconds(5));
        await run.DisposeAsync();

        var batches = handler.RequestsTo("/runs/log-batch");
        Assert.Equal([1000, 1], batches.Select(b => b.Json.GetProperty("metrics").GetArrayLength()));
        var update = Assert.Single(handler.RequestsTo("/runs/update")).Json;
        Assert.Equal("FINISHED", update.GetProperty("status").GetString());
        Assert.Equal(TestClients.Start.AddSeconds(5).ToUnixTimeMilliseconds(), update.GetProperty("end_time").GetInt64());
        Assert.Equal(RecordingHandler.RunId, update.GetProperty("run_id").GetString());
        Assert.Equal("/api/2.0/mlflow/runs/update", handler.Requests[^1].Path);
    }

    [Fact]
    public async Task LogMetricAsync_ManyValues_PreservesOrderAndFields()
    {
        var (run, handler, time) = await StartAsync();
        var timestamp = TestClients.Start.AddMinutes(1);

        for (var i = 0; i < 2500; i++)
        {
            await run.LogMetricAsync(i % 2 == 0 ? "even" : "odd", i, step: i, timestamp: i == 0 ? timestamp : null, cancellationToken: Ct);
        }

        await run.EndAsync(cancellationToken: Ct);

        var logged = LoggedMetrics(handler);
        Assert.Equal(Enumerable.Range(0, 2500).Select(i => (double)i), logged.Select(m => m.Value));
        Assert.Equal(Enumerable.Range(0, 2500).Select(i => (long)i), logged.Select(m => m.Step));
        Assert.Equal(3, handler.RequestsTo("/runs/log-batch").Count);
        var first = handler.RequestsTo("/runs/log-batch")[0].Json.GetProperty("metrics")[0];
        Assert.Equal(timestamp.ToUnixTimeMilliseconds(), first.GetProperty("timestamp").GetInt64());
        var second = handler.RequestsTo("/runs/log-batch")[0].Json.GetProperty("metrics")[1];
        Assert.Equal(TestClients.Start.ToUnixTimeMilliseconds(), second.GetProperty("timestamp").GetInt64());
    }

    [Fact]
    public async Task LogMetricsAsync_Dictionary_BuffersAllWithOneStepAndTimestamp()
    {
        var (run, handler, _) = await StartAsync();

        await run.LogMetricsAsync(new Dictionary<string, double> { ["loss"] = 0.5, ["acc"] = 0.9 }, step: 4, cancellationToken: Ct);
        await run.FlushAsync(Ct);

        Assert.Equal([("loss", 0.5, 4L), ("acc", 0.9, 4L)], LoggedMetrics(handler));
        await run.DisposeAsync();
    }

    [Fact]
    public async Task LogMetricAsync_SeveralThreads_SendsEveryValueInPerKeyOrder()
    {
        var (run, handler, _) = await StartAsync();
        const int Threads = 8;
        const int PerThread = 1250;

        await Parallel.ForEachAsync(Enumerable.Range(0, Threads), Ct, async (thread, ct) =>
        {
            for (var i = 0; i < PerThread; i++)
            {
                await run.LogMetricAsync($"m{thread}", i, step: i, cancellationToken: ct);
            }
        });
        await run.EndAsync(cancellationToken: Ct);

        var logged = LoggedMetrics(handler);
        Assert.Equal(Threads * PerThread, logged.Count);
        foreach (var group in logged.GroupBy(m => m.Key))
        {
            Assert.Equal(Enumerable.Range(0, PerThread).Select(i => (long)i), group.Select(m => m.Step));
        }

        Assert.All(handler.RequestsTo("/runs/log-batch"), b => Assert.InRange(b.Json.GetProperty("metrics").GetArrayLength(), 1, 1000));
    }

    [Fact]
    public async Task FlushInterval_Elapsed_SendsPendingMetricsInBackground()
    {
        var (run, handler, time) = await StartAsync(TimeSpan.FromSeconds(1));
        await run.LogMetricAsync("m", 1, cancellationToken: Ct);

        time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Empty(handler.RequestsTo("/runs/log-batch"));
        time.Advance(TimeSpan.FromMilliseconds(1));

        await TestClients.WaitUntilAsync(() => handler.RequestsTo("/runs/log-batch").Count == 1, "the background flush sent a batch");
        await run.DisposeAsync();
        Assert.Single(handler.RequestsTo("/runs/log-batch"));
    }

    [Fact]
    public async Task FlushInterval_BackgroundFlushFails_RethrowsFromNextCallOnce()
    {
        var (run, handler, time) = await StartAsync(TimeSpan.FromSeconds(1));
        handler.Respond = r => r.Path.EndsWith("/log-batch", StringComparison.Ordinal)
            ? RecordingHandler.Error(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", "bad metric")
            : null;
        await run.LogMetricAsync("m", 1, cancellationToken: Ct);

        time.Advance(TimeSpan.FromSeconds(1));
        await TestClients.WaitUntilAsync(() => handler.RequestsTo("/runs/log-batch").Count == 1, "the background flush failed");

        var e = await Assert.ThrowsAsync<CairnApiException>(async () => await run.LogMetricAsync("m", 2, cancellationToken: Ct));
        Assert.Equal("INVALID_PARAMETER_VALUE", e.ErrorCode);
        await run.LogMetricAsync("m", 3, cancellationToken: Ct);
        handler.Respond = null;
        await run.FlushAsync(Ct);
        Assert.Equal([1.0, 3.0], LoggedMetrics(handler).Select(m => m.Value));
        await run.DisposeAsync();
    }

    [Fact]
    public async Task EndAsync_BackgroundFlushFailed_EndsRunThenThrows()
    {
        var (run, handler, time) = await StartAsync(TimeSpan.FromSeconds(1));
        handler.Respond = r => r.Path.EndsWith("/log-batch", StringComparison.Ordinal)
            ? RecordingHandler.Error(HttpStatusCode.ServiceUnavailable, "TEMPORARILY_UNAVAILABLE", "down")
            : null;
        await run.LogMetricAsync("m", 1, cancellationToken: Ct);
        time.Advance(TimeSpan.FromSeconds(1));
        await TestClients.WaitUntilAsync(() => handler.RequestsTo("/runs/log-batch").Count == 1, "the background flush failed");

        var e = await Assert.ThrowsAsync<CairnApiException>(() => run.EndAsync(CairnRunStatus.Failed, Ct));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, e.StatusCode);
        Assert.Equal("FAILED", Assert.Single(handler.RequestsTo("/runs/update")).Json.GetProperty("status").GetString());
        await run.DisposeAsync();
        Assert.Single(handler.RequestsTo("/runs/update"));
    }

    [Fact]
    public async Task EndAsync_FinalFlushFails_StillSendsOtherBatchesAndEndsRun()
    {
        var (run, handler, _) = await StartAsync();
        for (var i = 0; i < 999; i++)
        {
            await run.LogMetricAsync("m", i, step: i, cancellationToken: Ct);
        }

        handler.Respond = r => r.Path.EndsWith("/log-batch", StringComparison.Ordinal) ? RecordingHandler.Error(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", "no") : null;

        await Assert.ThrowsAsync<CairnApiException>(() => run.EndAsync(cancellationToken: Ct));
        Assert.Single(handler.RequestsTo("/runs/update"));
    }

    [Fact]
    public async Task DisposeAsync_CalledTwice_EndsRunOnce()
    {
        var (run, handler, _) = await StartAsync();

        await run.DisposeAsync();
        await run.DisposeAsync();
        await run.EndAsync(CairnRunStatus.Killed, Ct);

        Assert.Equal("FINISHED", Assert.Single(handler.RequestsTo("/runs/update")).Json.GetProperty("status").GetString());
    }

    [Fact]
    public async Task LogMetricAsync_AfterEnd_Throws()
    {
        var (run, _, _) = await StartAsync();
        await run.EndAsync(cancellationToken: Ct);

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await run.LogMetricAsync("m", 1, cancellationToken: Ct));
        await Assert.ThrowsAsync<InvalidOperationException>(() => run.LogParamAsync("p", "v", Ct));
    }

    [Fact]
    public async Task EndAsync_UpdateFails_CanBeRetried()
    {
        var (run, handler, _) = await StartAsync();
        handler.Respond = r => r.Path.EndsWith("/runs/update", StringComparison.Ordinal) ? RecordingHandler.Error(HttpStatusCode.InternalServerError, "INTERNAL_ERROR", "x") : null;

        await Assert.ThrowsAsync<CairnApiException>(() => run.EndAsync(cancellationToken: Ct));
        handler.Respond = null;
        await run.EndAsync(cancellationToken: Ct);

        Assert.Equal(2, handler.RequestsTo("/runs/update").Count);
    }

    [Fact]
    public async Task LogParamAsync_Always_SendsAtOnce()
    {
        var (run, handler, _) = await StartAsync();

        await run.LogParamAsync("lr", "0.1", Ct);
        await run.SetTagAsync("stage", "dev", Ct);

        var param = Assert.Single(handler.RequestsTo("/runs/log-parameter")).Json;
        Assert.Equal(RecordingHandler.RunId, param.GetProperty("run_id").GetString());
        Assert.Equal("lr", param.GetProperty("key").GetString());
        Assert.Equal("0.1", param.GetProperty("value").GetString());
        Assert.Equal("dev", Assert.Single(handler.RequestsTo("/runs/set-tag")).Json.GetProperty("value").GetString());
        await run.DisposeAsync();
    }

    [Fact]
    public async Task LogParamAsync_ChangedValue_ThrowsApiException()
    {
        var (run, handler, _) = await StartAsync();
        handler.Respond = r => r.Path.EndsWith("/log-parameter", StringComparison.Ordinal)
            ? RecordingHandler.Error(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", "Changing param values is not allowed.")
            : null;

        var e = await Assert.ThrowsAsync<CairnApiException>(() => run.LogParamAsync("lr", "0.2", Ct));

        Assert.Equal("INVALID_PARAMETER_VALUE", e.ErrorCode);
        await run.DisposeAsync();
    }

    [Fact]
    public async Task LogParamsAsync_250Params_SendsBatchesOfAtMost100()
    {
        var (run, handler, _) = await StartAsync();

        await run.LogParamsAsync(Enumerable.Range(0, 250).Select(i => new KeyValuePair<string, string>($"p{i}", $"{i}")), Ct);
        await run.SetTagsAsync(Enumerable.Range(0, 101).Select(i => new KeyValuePair<string, string>($"t{i}", "x")), Ct);

        var batches = handler.RequestsTo("/runs/log-batch");
        Assert.Equal([100, 100, 50], batches.Take(3).Select(b => b.Json.GetProperty("params").GetArrayLength()));
        Assert.Equal([100, 1], batches.Skip(3).Select(b => b.Json.GetProperty("tags").GetArrayLength()));
        Assert.All(batches, b => Assert.False(b.Json.TryGetProperty("metrics", out _)));
        Assert.Equal("p249", batches[2].Json.GetProperty("params")[49].GetProperty("key").GetString());
        await run.DisposeAsync();
    }

    [Fact]
    public async Task ListArtifactsAsync_PagedListing_ReturnsAllPages()
    {
        var (run, handler, _) = await StartAsync();
        handler.Respond = r => r.Query("page_token") is null
            ? RecordingHandler.Json("""{"files":[{"path":"a","is_dir":true}],"next_page_token":"2"}""")
            : RecordingHandler.Json("""{"files":[{"path":"b.txt","is_dir":false,"file_size":1}]}""");

        var files = await run.ListArtifactsAsync(cancellationToken: Ct);

        Assert.Equal(["a", "b.txt"], files.Select(f => f.Path));
        handler.Respond = null;
        await run.DisposeAsync();
    }
}
