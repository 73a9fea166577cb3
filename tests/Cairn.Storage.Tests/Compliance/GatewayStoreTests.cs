using Cairn.Core.Gateway;
using Cairn.Core.Tracking;

namespace Cairn.Storage.Tests.Compliance;

/// <summary>The gateway's request log, usage reports and virtual keys on every backend.</summary>
public abstract partial class TrackingStoreComplianceTests
{
    private static RequestLogRecord LogRecord(string user, long timestamp, Action<RequestLogRecordBuilder>? configure = null)
    {
        var builder = new RequestLogRecordBuilder
        {
            Record = new RequestLogRecord
            {
                Id = "req_" + Guid.NewGuid().ToString("N"),
                Timestamp = timestamp,
                Endpoint = "chat.completions",
                RequestedModel = "fast",
                ServedModel = "gpt-4o-mini-2024-07-18",
                Provider = "openai",
                Route = "fast",
                Status = 200,
                Outcome = RequestOutcome.Success,
                LatencyMs = 12.5,
                UserId = user,
            },
        };
        configure?.Invoke(builder);
        return builder.Record;
    }

    [Fact]
    public async Task RequestLog_AppendAndGet_RoundTripsEveryField()
    {
        var record = LogRecord(UniqueName("user"), 1_700_000_000_123) with
        {
            KeyId = "key_1",
            Attempts = [new UpstreamAttempt("dead", "gpt-4o-mini", 0, "Connection refused", 3.25), new UpstreamAttempt("openai", "gpt-4o-mini", 200, null, 240.5)],
            Stream = true,
            CacheHit = false,
            TimeToFirstTokenMs = 80.25,
            Usage = new TokenUsage(1000, 250, 400, 10, 64, Estimated: true),
            CostUsd = 0.000123m,
            RequestBody = """{"model":"fast","messages":[{"role":"user","content":"héllo ✓"}]}""",
            ResponseBody = "data: [DONE]\n\n",
            BodyTruncated = true,
            SessionId = "s-1",
            SessionPath = "/plan/search",
            Properties = new Dictionary<string, string> { ["Environment"] = "prod", ["App"] = "checkout" },
            TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            Error = null,
        };
        await Fixture.Storage.RequestLogs.AppendAsync([record], Ct);

        var read = await Fixture.Storage.RequestLogs.GetAsync(record.Id, Ct);
        Assert.NotNull(read);
        Assert.Equal(record.Usage, read.Usage);
        Assert.Equal(record.CostUsd, read.CostUsd);
        Assert.Equal(record.Attempts, read.Attempts);
        Assert.Equal(record.Properties, read.Properties);
        Assert.Equal(record with { Attempts = read.Attempts, Properties = read.Properties }, read);
        Assert.Null(await Fixture.Storage.RequestLogs.GetAsync("req_missing", Ct));
    }

    [Fact]
    public async Task RequestLog_AppendTwice_KeepsOneRecord()
    {
        var user = UniqueName("user");
        var record = LogRecord(user, 1_700_000_000_000) with { Properties = new Dictionary<string, string> { ["a"] = "b" } };
        await Fixture.Storage.RequestLogs.AppendAsync([record], Ct);
        await Fixture.Storage.RequestLogs.AppendAsync([record], Ct);
        var page = await Fixture.Storage.RequestLogs.SearchAsync(new RequestLogQuery { UserId = user }, Ct);
        Assert.Single(page.Items);
    }

    [Fact]
    public async Task RequestLog_Search_FiltersAndPagesNewestFirst()
    {
        var user = UniqueName("user");
        var session = UniqueName("session");
        var records = Enumerable.Range(0, 7)
            .Select(i => LogRecord(user, 1_700_000_100_000 + (i / 2), b =>
            {
                b.Record = b.Record with
                {
                    SessionId = i % 2 == 0 ? session : null,
                    Outcome = i == 3 ? RequestOutcome.Error : RequestOutcome.Success,
                    Status = i == 3 ? 429 : 200,
                    Provider = i == 5 ? "anthropic" : "openai",
                    ServedModel = i == 5 ? "claude-sonnet-4-5-20250929" : b.Record.ServedModel,
                    KeyId = i == 6 ? "key_x" : null,
                    Properties = i == 4 ? new Dictionary<string, string> { ["Feature"] = "search" } : new Dictionary<string, string>(),
                };
            }))
            .ToList();
        await Fixture.Storage.RequestLogs.AppendAsync(records, Ct);
        var store = Fixture.Storage.RequestLogs;

        // Paging over equal timestamps: every record exactly once, newest first.
        var seen = new List<RequestLogRecord>();
        string? token = null;
        do
        {
            var page = await store.SearchAsync(new RequestLogQuery { UserId = user, MaxResults = 2, PageToken = token }, Ct);
            seen.AddRange(page.Items);
            token = page.NextPageToken;
        }
        while (token is not null);

        Assert.Equal(7, seen.Count);
        Assert.Equal(records.Select(r => r.Id).Order(StringComparer.Ordinal), seen.Select(r => r.Id).Order(StringComparer.Ordinal));
        Assert.True(seen.Zip(seen.Skip(1)).All(p => p.First.Timestamp >= p.Second.Timestamp));

        Assert.Equal(4, (await store.SearchAsync(new RequestLogQuery { SessionId = session }, Ct)).Items.Count);
        Assert.Equal(records[3].Id, Assert.Single((await store.SearchAsync(new RequestLogQuery { UserId = user, Outcome = RequestOutcome.Error }, Ct)).Items).Id);
        Assert.Equal(records[5].Id, Assert.Single((await store.SearchAsync(new RequestLogQuery { UserId = user, Provider = "anthropic" }, Ct)).Items).Id);
        Assert.Equal(records[5].Id, Assert.Single((await store.SearchAsync(new RequestLogQuery { UserId = user, Model = "claude-sonnet-4-5-20250929" }, Ct)).Items).Id);
        Assert.Equal(7, (await store.SearchAsync(new RequestLogQuery { UserId = user, Model = "fast" }, Ct)).Items.Count);
        Assert.Equal(records[6].Id, Assert.Single((await store.SearchAsync(new RequestLogQuery { UserId = user, KeyId = "key_x" }, Ct)).Items).Id);
        Assert.Equal(records[4].Id, Assert.Single((await store.SearchAsync(new RequestLogQuery { UserId = user, Property = new("Feature", "search") }, Ct)).Items).Id);
        Assert.Equal(2, (await store.SearchAsync(new RequestLogQuery { UserId = user, From = 1_700_000_100_001, To = 1_700_000_100_002 }, Ct)).Items.Count);

        await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => store.SearchAsync(new RequestLogQuery { PageToken = "not-a-token" }, Ct));
        await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => store.SearchAsync(new RequestLogQuery { MaxResults = 0 }, Ct));
    }

    [Fact]
    public async Task UsageReport_BucketsAndSplits_WithPercentilesAndErrors()
    {
        // A time window of its own, far from the other tests' records.
        const long From = 1_800_000_000_000;
        var userA = UniqueName("ua");
        var userB = UniqueName("ub");
        var records = new List<RequestLogRecord>();
        for (var i = 0; i < 10; i++)
        {
            records.Add(LogRecord(userA, From + (i * 1000), b => b.Record = b.Record with
            {
                LatencyMs = (i + 1) * 10,
                Usage = new TokenUsage(100, 10, 20),
                CostUsd = 0.001m,
            }));
        }

        records.Add(LogRecord(userB, From + 60_000, b => b.Record = b.Record with { Outcome = RequestOutcome.Error, Status = 500, LatencyMs = 5 }));
        await Fixture.Storage.RequestLogs.AppendAsync(records, Ct);

        var total = Assert.Single(await Fixture.Storage.UsageReports.UsageAsync(new UsageQuery(From, From + 120_000, 120_000), Ct));
        Assert.Equal(11, total.Requests);
        Assert.Equal(1, total.Errors);
        Assert.Equal(1000, total.PromptTokens);
        Assert.Equal(100, total.CompletionTokens);
        Assert.Equal(200, total.CachedTokens);
        Assert.Equal(0.01m, total.CostUsd);

        var byUser = await Fixture.Storage.UsageReports.UsageAsync(new UsageQuery(From, From + 120_000, 60_000, UsageSplit.User), Ct);
        Assert.Equal(2, byUser.Count);
        var a = byUser.Single(b => b.Group == userA);
        Assert.Equal(From, a.Start);
        Assert.Equal(10, a.Requests);
        Assert.Equal(50, a.LatencyP50Ms);
        Assert.Equal(100, a.LatencyP95Ms);
        var b = byUser.Single(x => x.Group == userB);
        Assert.Equal(From + 60_000, b.Start);
        Assert.Equal(1, b.Errors);

        await AssertTrackingErrorAsync(TrackingErrorCode.InvalidParameterValue, () => Fixture.Storage.UsageReports.UsageAsync(new UsageQuery(From, From + 100_000_000, 1), Ct));
    }

    [Fact]
    public async Task VirtualKeys_CreateListRevoke_AndSpendFromTheLog()
    {
        var secret = VirtualKey.NewSecret();
        var key = new VirtualKey
        {
            Id = UniqueName("key"),
            Name = "ci",
            Prefix = secret[..15],
            Hash = VirtualKey.HashOf(secret),
            AllowedModels = ["fast", "openai/gpt-4o"],
            RequestsPerMinute = 60,
            TokensPerMinute = 100_000,
            BudgetUsd = 12.5m,
            BudgetPeriod = BudgetPeriod.Day,
            CreatedAt = 1_700_000_000_000,
            Project = "checkout",
        };
        await Fixture.Storage.VirtualKeys.CreateAsync(key, Ct);
        var listed = (await Fixture.Storage.VirtualKeys.ListAsync(Ct)).Single(k => k.Id == key.Id);
        Assert.Equal(key.AllowedModels, listed.AllowedModels);
        Assert.Equal(key with { AllowedModels = listed.AllowedModels }, listed);

        Assert.True(await Fixture.Storage.VirtualKeys.RevokeAsync(key.Id, 1_700_000_500_000, Ct));
        Assert.True(await Fixture.Storage.VirtualKeys.RevokeAsync(key.Id, 1_700_000_900_000, Ct));
        Assert.Equal(1_700_000_500_000, (await Fixture.Storage.VirtualKeys.ListAsync(Ct)).Single(k => k.Id == key.Id).RevokedAt);
        Assert.False(await Fixture.Storage.VirtualKeys.RevokeAsync("key_missing", 1, Ct));

        await Fixture.Storage.RequestLogs.AppendAsync(
            [
                LogRecord("u", 1_700_000_000_000, r => r.Record = r.Record with { KeyId = key.Id, CostUsd = 0.25m }),
                LogRecord("u", 1_700_000_100_000, r => r.Record = r.Record with { KeyId = key.Id, CostUsd = 0.5m }),
                LogRecord("u", 1_700_000_200_000, r => r.Record = r.Record with { KeyId = key.Id }),
            ],
            Ct);
        Assert.Equal(0.75m, await Fixture.Storage.VirtualKeys.SpendSinceAsync(key.Id, 1_600_000_000_000, Ct));
        Assert.Equal(0.5m, await Fixture.Storage.VirtualKeys.SpendSinceAsync(key.Id, 1_700_000_050_000, Ct));
        Assert.Equal(0m, await Fixture.Storage.VirtualKeys.SpendSinceAsync("key_none", 0, Ct));
    }

    /// <summary>Lets a test tweak a record built with defaults.</summary>
    protected sealed class RequestLogRecordBuilder
    {
        public required RequestLogRecord Record { get; set; }
    }
}
