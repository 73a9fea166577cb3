using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Cairn.Core.Observability;
using Cairn.Server.Observability;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Cairn.Server.Tests.Observability;

/// <summary>OTLP/HTTP ingest driven by the real OpenTelemetry .NET exporter and Microsoft.Extensions.AI, plus bad input and back-pressure.</summary>
public sealed class TraceIngestTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OpenTelemetryExporter_HttpProtobuf_SpansLandWithGenAiFields()
    {
        await using var server = await CairnTestServer.StartAsync();
        var project = "rag-" + Guid.NewGuid().ToString("N")[..8];
        using var source = new ActivitySource("test.rag." + project);
        string traceId;
        using (var provider = Sdk.CreateTracerProviderBuilder()
            .AddSource(source.Name)
            .SetResourceBuilder(ResourceBuilder.CreateDefault().AddService("rag-service"))
            .AddOtlpExporter(o =>
            {
                o.Protocol = OtlpExportProtocol.HttpProtobuf;
                o.Endpoint = new Uri(server.BaseAddress, "/v1/traces");
                o.Headers = "x-cairn-project=" + project;
                o.ExportProcessorType = ExportProcessorType.Simple;
            })
            .Build())
        {
            using (var root = source.StartActivity("answer-question"))
            {
                Assert.NotNull(root);
                traceId = root.TraceId.ToHexString();
                root.SetTag("session.id", "conv-1");
                root.SetTag("user.id", "alice");
                root.SetTag("input.value", "What is Cairn?");
                using (var retrieve = source.StartActivity("retrieve"))
                {
                    retrieve?.SetTag("cairn.span.type", "retrieval");
                }

                using (var chat = source.StartActivity("chat gpt-4o-mini", ActivityKind.Client))
                {
                    Assert.NotNull(chat);
                    chat.SetTag("gen_ai.operation.name", "chat");
                    chat.SetTag("gen_ai.provider.name", "openai");
                    chat.SetTag("gen_ai.request.model", "gpt-4o-mini");
                    chat.SetTag("gen_ai.response.model", "gpt-4o-mini-2024-07-18");
                    chat.SetTag("gen_ai.usage.input_tokens", 1000);
                    chat.SetTag("gen_ai.usage.output_tokens", 200);
                    chat.SetTag("gen_ai.usage.cache_read.input_tokens", 400);
                    chat.SetTag("gen_ai.input.messages", """[{"role":"user","parts":[{"type":"text","content":"What is Cairn?"}]}]""");
                    chat.SetTag("gen_ai.output.messages", """[{"role":"assistant","parts":[{"type":"text","content":"An LLMOps platform."}]}]""");
                }

                using (var failing = source.StartActivity("lookup-tool"))
                {
                    failing?.SetTag("gen_ai.operation.name", "execute_tool");
                    failing?.SetStatus(ActivityStatusCode.Error, "tool timed out");
                }

                root.SetTag("output.value", "An LLMOps platform.");
            }

            Assert.True(provider.ForceFlush(10_000));
        }

        await server.Services.GetRequiredService<TraceWriter>().FlushAsync(Ct);
        var list = await server.GetAsync($"/api/cairn/traces?project={project}");
        var trace = Assert.Single(list["traces"]!.AsArray())!.AsObject();
        Assert.Equal(traceId, trace["trace_id"]!.GetValue<string>());
        Assert.Equal("answer-question", trace["name"]!.GetValue<string>());
        Assert.Equal(4, trace["span_count"]!.GetValue<long>());
        Assert.Equal("error", trace["status"]!.GetValue<string>());
        Assert.Equal(1000, trace["input_tokens"]!.GetValue<long>());
        Assert.Equal(200, trace["output_tokens"]!.GetValue<long>());
        Assert.Equal(400, trace["cached_input_tokens"]!.GetValue<long>());
        Assert.Equal("conv-1", trace["session_id"]!.GetValue<string>());
        Assert.Equal("alice", trace["user_id"]!.GetValue<string>());
        Assert.Equal("rag-service", trace["service_name"]!.GetValue<string>());
        Assert.Equal("What is Cairn?", trace["input"]!.GetValue<string>());
        Assert.Equal(["gpt-4o-mini-2024-07-18"], trace["models"]!.AsArray().Select(m => m!.GetValue<string>()));

        // Cost from the price table, cached tokens at the cached price and not counted twice.
        var price = Cairn.Core.Gateway.PriceTable.Default.Find("gpt-4o-mini-2024-07-18");
        Assert.NotNull(price);
        var expected = price.Cost(new Cairn.Core.Gateway.TokenUsage(1000, 200, 400));
        Assert.Equal(expected, trace["cost_usd"]!.GetValue<decimal>());

        // The tree, lazily: the root, then its three children.
        var top = await server.GetAsync($"/api/cairn/traces/{traceId}/spans?project={project}");
        var rootNode = Assert.Single(top["spans"]!.AsArray())!.AsObject();
        Assert.Equal(3, rootNode["child_count"]!.GetValue<long>());
        var children = await server.GetAsync($"/api/cairn/traces/{traceId}/spans?project={project}&parent_span_id={rootNode["span_id"]}");
        var nodes = children["spans"]!.AsArray().Select(n => n!.AsObject()).ToList();
        Assert.Equal(["retrieve", "chat gpt-4o-mini", "lookup-tool"], nodes.Select(n => n["name"]!.GetValue<string>()));
        Assert.Equal(["retrieval", "generation", "tool"], nodes.Select(n => n["type"]!.GetValue<string>()));
        Assert.Equal("error", nodes[2]["status"]!.GetValue<string>());

        var chatSpan = await server.GetAsync($"/api/cairn/traces/{traceId}/spans/{nodes[1]["span_id"]}?project={project}");
        Assert.Equal("openai", chatSpan["provider"]!.GetValue<string>());
        Assert.Equal("client", chatSpan["kind"]!.GetValue<string>());
        Assert.Contains("An LLMOps platform.", chatSpan["output"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("chat", chatSpan["attributes"]!["gen_ai.operation.name"]!.GetValue<string>());
        Assert.Equal("rag-service", chatSpan["resource"]!["service.name"]!.GetValue<string>());

        var sessions = await server.GetAsync($"/api/cairn/sessions?project={project}");
        Assert.Equal("conv-1", Assert.Single(sessions["sessions"]!.AsArray())!["session_id"]!.GetValue<string>());
        var users = await server.GetAsync($"/api/cairn/users?project={project}");
        var alice = Assert.Single(users["users"]!.AsArray())!;
        Assert.Equal(("alice", 1L, 1L), (alice["user_id"]!.GetValue<string>(), alice["trace_count"]!.GetValue<long>(), alice["session_count"]!.GetValue<long>()));
        await server.GetAsync($"/api/cairn/users?project={project}&max_results=0", 400);
    }

    [Fact]
    public async Task MicrosoftExtensionsAi_UseOpenTelemetry_SpansCarryModelAndTokens()
    {
        await using var server = await CairnTestServer.StartAsync();
        var project = "meai-" + Guid.NewGuid().ToString("N")[..8];
        var sourceName = "test.meai." + project;
        using (var provider = Sdk.CreateTracerProviderBuilder()
            .AddSource(sourceName)
            .AddOtlpExporter(o =>
            {
                o.Protocol = OtlpExportProtocol.HttpProtobuf;
                o.Endpoint = new Uri(server.BaseAddress, "/v1/traces");
                o.Headers = "x-cairn-project=" + project;
                o.ExportProcessorType = ExportProcessorType.Simple;
            })
            .Build())
        {
            using var client = new ChatClientBuilder(new FakeChatClient())
                .UseOpenTelemetry(sourceName: sourceName, configure: c => c.EnableSensitiveData = true)
                .Build();
            var response = await client.GetResponseAsync("Say hello", new ChatOptions { ModelId = "gpt-4o-mini" }, Ct);
            Assert.Equal("Hello!", response.Text);
            Assert.True(provider.ForceFlush(10_000));
        }

        await server.Services.GetRequiredService<TraceWriter>().FlushAsync(Ct);
        var list = await server.GetAsync($"/api/cairn/traces?project={project}");
        var trace = Assert.Single(list["traces"]!.AsArray())!.AsObject();
        Assert.Equal(12, trace["input_tokens"]!.GetValue<long>());
        Assert.Equal(3, trace["output_tokens"]!.GetValue<long>());
        Assert.Contains("gpt-4o-mini", trace["models"]!.AsArray().Select(m => m!.GetValue<string>()));
        var spans = await server.GetAsync($"/api/cairn/traces/{trace["trace_id"]}/spans?project={project}");
        var node = Assert.Single(spans["spans"]!.AsArray())!.AsObject();
        Assert.Equal("generation", node["type"]!.GetValue<string>());
        var span = await server.GetAsync($"/api/cairn/traces/{trace["trace_id"]}/spans/{node["span_id"]}?project={project}");
        Assert.Contains("Say hello", span["input"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("Hello!", span["output"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_GzipAndLangfusePath_PartialSuccessForInvalidSpans()
    {
        await using var server = await CairnTestServer.StartAsync();
        var project = "json-" + Guid.NewGuid().ToString("N")[..8];
        var traceId = Guid.NewGuid().ToString("N");
        var body = $$$"""
        {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"py-app"}}]},
          "scopeSpans":[{"scope":{"name":"manual"},"spans":[
            {"traceId":"{{{traceId}}}","spanId":"eee19b7ec3c1b174","name":"ok-span","kind":1,
             "startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000",
             "attributes":[{"key":"my.count","value":{"intValue":"42"}}]},
            {"traceId":"{{{traceId}}}","name":"no-span-id","startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000"}
          ]}]}]}
        """;
        using var content = new ByteArrayContent(Gzip(Encoding.UTF8.GetBytes(body)));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Headers.ContentEncoding.Add("gzip");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/public/otel/v1/traces") { Content = content };
        request.Headers.Add("x-cairn-project", project);
        using var response = await server.Client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!;
        Assert.Equal("1", answer["partialSuccess"]!["rejectedSpans"]!.ToString());
        Assert.False(string.IsNullOrEmpty(answer["partialSuccess"]!["errorMessage"]!.GetValue<string>()));

        await server.Services.GetRequiredService<TraceWriter>().FlushAsync(Ct);
        var trace = await server.GetAsync($"/api/cairn/traces/{traceId}?project={project}");
        Assert.Equal("ok-span", trace["name"]!.GetValue<string>());
        Assert.Equal(1, trace["span_count"]!.GetValue<long>());
        Assert.Equal(1000, trace["duration_ms"]!.GetValue<double>());
    }

    [Fact]
    public async Task BadInput_GetsOtlpStatusErrors()
    {
        await using var server = await CairnTestServer.StartAsync(configureBuilder: b => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Cairn:Traces:MaxBodyBytes"] = "4096",
        }));

        async Task<(HttpStatusCode Status, string ContentType, byte[] Body)> PostAsync(byte[] body, string contentType, string? encoding = null)
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            if (encoding is not null)
            {
                content.Headers.ContentEncoding.Add(encoding);
            }

            using var response = await server.Client.PostAsync("/v1/traces", content, Ct);
            return (response.StatusCode, response.Content.Headers.ContentType?.MediaType ?? "", await response.Content.ReadAsByteArrayAsync(Ct));
        }

        // Truncated protobuf: a length prefix that runs past the end.
        var truncated = await PostAsync([0x0A, 0x50, 0x0A, 0x10], "application/x-protobuf");
        Assert.Equal(HttpStatusCode.BadRequest, truncated.Status);
        Assert.Equal("application/x-protobuf", truncated.ContentType);
        Assert.Equal(0x08, truncated.Body[0]);
        Assert.Equal(3, truncated.Body[1]);

        var invalidJson = await PostAsync("{not json"u8.ToArray(), "application/json");
        Assert.Equal(HttpStatusCode.BadRequest, invalidJson.Status);
        Assert.Equal(3, JsonNode.Parse(invalidJson.Body)!["code"]!.GetValue<int>());

        var emptyJson = await PostAsync([], "application/json");
        Assert.Equal(HttpStatusCode.BadRequest, emptyJson.Status);

        var emptyProtobuf = await PostAsync([], "application/x-protobuf");
        Assert.Equal(HttpStatusCode.OK, emptyProtobuf.Status);

        var wrongType = await PostAsync("hello"u8.ToArray(), "text/plain");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType.Status);

        var tooLarge = await PostAsync(new byte[5000], "application/x-protobuf");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.Status);

        // A small gzip body that inflates past the limit is refused too.
        var bomb = await PostAsync(Gzip(new byte[100_000]), "application/x-protobuf", "gzip");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, bomb.Status);

        var badGzip = await PostAsync([1, 2, 3, 4], "application/x-protobuf", "gzip");
        Assert.Equal(HttpStatusCode.BadRequest, badGzip.Status);

        var badEncoding = await PostAsync([1, 2, 3, 4], "application/x-protobuf", "br");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, badEncoding.Status);
    }

    [Fact]
    public async Task WriterBehind_IngestAnswers503WithRetryAfter_AndShutdownFlushes()
    {
        var store = new GatedTraceStore();
        var server = await CairnTestServer.StartAsync(configureBuilder: b =>
        {
            b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Cairn:Traces:QueueCapacity"] = "3",
                ["Cairn:Traces:BatchSize"] = "2",
            });
            b.Services.AddSingleton<ITraceStore>(store);
        });
        var accepted = 0;
        var refused = 0;
        for (var i = 0; i < 6; i++)
        {
            using var content = new StringContent(OneSpanJson(Guid.NewGuid().ToString("N")), Encoding.UTF8, "application/json");
            using var response = await server.Client.PostAsync("/v1/traces", content, Ct);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                accepted++;
            }
            else
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                Assert.NotNull(response.Headers.RetryAfter);
                refused++;
            }
        }

        Assert.True(refused > 0, "the writer's backlog never filled");
        Assert.True(accepted > 0);
        store.Open();
        await server.DisposeAsync();
        Assert.Equal(accepted, store.Stored.Count);
    }

    [Fact]
    public async Task Scores_AddListDelete_WithProblemDetailsForBadInput()
    {
        await using var server = await CairnTestServer.StartAsync();
        var traceId = Guid.NewGuid().ToString("N");
        using (var content = new StringContent(OneSpanJson(traceId), Encoding.UTF8, "application/json"))
        {
            using var response = await server.Client.PostAsync("/v1/traces", content, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await server.Services.GetRequiredService<TraceWriter>().FlushAsync(Ct);
        var thumbs = await server.PostJsonAsync("/api/cairn/scores", $$"""{"trace_id":"{{traceId}}","name":"user-feedback","value":true,"source":"human","comment":"great"}""", 201);
        Assert.Equal("boolean", thumbs["data_type"]!.GetValue<string>());
        await server.PostJsonAsync("/api/cairn/scores", $$"""{"trace_id":"{{traceId}}","name":"correctness","value":0.8,"source":"evaluator"}""", 201);
        await server.PostJsonAsync("/api/cairn/scores", $$"""{"trace_id":"{{traceId}}","name":"tone","value":"friendly"}""", 201);

        var trace = await server.GetAsync($"/api/cairn/traces/{traceId}");
        // Scores saved within the same millisecond have no defined order among themselves: look them up by name.
        var scores = trace["scores"]!.AsArray().ToDictionary(s => s!["name"]!.GetValue<string>(), s => s!);
        Assert.Equal(3, scores.Count);
        Assert.True(scores["user-feedback"]["value"]!.GetValue<bool>());
        Assert.Equal(0.8, scores["correctness"]["value"]!.GetValue<double>());
        Assert.Equal("categorical", scores["tone"]["data_type"]!.GetValue<string>());

        var bad = await server.PostJsonAsync("/api/cairn/scores", $$"""{"trace_id":"{{traceId}}","name":"x","value":"yes","data_type":"numeric"}""", 400);
        Assert.Equal("Invalid value", bad["title"]!.GetValue<string>());
        await server.PostJsonAsync("/api/cairn/scores", """{"name":"x","value":1}""", 400);
        await server.PostJsonAsync("/api/cairn/scores", "[1,2", 400);
        await server.PostJsonAsync("/api/cairn/scores", $$"""{"trace_id":"{{traceId}}","name":"x","value":1,"source":"robot"}""", 400);

        using (var delete = await server.Client.DeleteAsync($"/api/cairn/scores/{thumbs["id"]}", Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        using (var again = await server.Client.DeleteAsync($"/api/cairn/scores/{thumbs["id"]}", Ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
            Assert.Equal("application/problem+json", again.Content.Headers.ContentType?.MediaType);
        }

        Assert.Equal(2, (await server.GetAsync($"/api/cairn/traces/{traceId}/scores"))["scores"]!.AsArray().Count);
        await server.GetAsync($"/api/cairn/traces/{Guid.NewGuid():N}", 404);
        await server.GetAsync("/api/cairn/traces?status=maybe", 400);
        await server.GetAsync("/api/cairn/traces?page_token=%25%25", 400);
    }

    [Fact]
    public async Task ApiKeyBoundToProject_DecidesTheProject_UnknownOrRevokedKeysAre401()
    {
        await using var server = await CairnTestServer.StartAsync();
        var created = await server.PostJsonAsync("/api/cairn/gateway/keys", """{"name":"otel exporter","project":"checkout"}""", 201);
        Assert.Equal("checkout", created["project"]!.GetValue<string>());
        var secret = created["key"]!.GetValue<string>();
        await server.PostJsonAsync("/api/cairn/gateway/keys", "{\"name\":\"bad\",\"project\":\"a\u0001b\"}", 400);

        async Task<HttpResponseMessage> SendAsync(string traceId, string? bearer, string? projectHeader)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/traces") { Content = new StringContent(OneSpanJson(traceId), Encoding.UTF8, "application/json") };
            if (bearer is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            }

            if (projectHeader is not null)
            {
                request.Headers.Add("x-cairn-project", projectHeader);
            }

            return await server.Client.SendAsync(request, Ct);
        }

        // The key's project wins over the header; a foreign bearer token (another vendor's key) is ignored.
        var withKey = Guid.NewGuid().ToString("N");
        var foreign = Guid.NewGuid().ToString("N");
        using (var response = await SendAsync(withKey, secret, "elsewhere"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var response = await SendAsync(foreign, "lf-secret-123", "elsewhere"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var response = await SendAsync(Guid.NewGuid().ToString("N"), "sk-cairn-not-a-real-key", null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal(16, JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!["code"]!.GetValue<int>());
        }

        await server.Services.GetRequiredService<TraceWriter>().FlushAsync(Ct);
        await server.GetAsync($"/api/cairn/traces/{withKey}?project=checkout");
        await server.GetAsync($"/api/cairn/traces/{withKey}?project=elsewhere", 404);
        await server.GetAsync($"/api/cairn/traces/{foreign}?project=elsewhere");

        using (var revoke = await server.Client.DeleteAsync($"/api/cairn/gateway/keys/{created["id"]}", Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        using (var response = await SendAsync(Guid.NewGuid().ToString("N"), secret, null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    [Fact]
    public async Task Retention_DeletesTracesOlderThanTheProjectsPeriod()
    {
        await using var server = await CairnTestServer.StartAsync(configureBuilder: b => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Cairn:Traces:RetentionDays"] = "0",
            ["Cairn:Traces:Projects:short:RetentionDays"] = "7",
        }));
        var old = Guid.NewGuid().ToString("N");
        var recent = Guid.NewGuid().ToString("N");
        var keptElsewhere = Guid.NewGuid().ToString("N");
        var nowNs = (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks * 100;
        var tenDaysAgo = nowNs - (10L * 24 * 3600 * 1_000_000_000);
        foreach (var (traceId, start, project) in new[] { (old, tenDaysAgo, "short"), (recent, nowNs, "short"), (keptElsewhere, tenDaysAgo, "default") })
        {
            using var content = new StringContent(OneSpanJson(traceId, start), Encoding.UTF8, "application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/traces") { Content = content };
            request.Headers.Add("x-cairn-project", project);
            using var response = await server.Client.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await server.Services.GetRequiredService<TraceWriter>().FlushAsync(Ct);
        Assert.Equal(1, await server.Services.GetRequiredService<TraceRetentionService>().RunOnceAsync(Ct));
        await server.GetAsync($"/api/cairn/traces/{old}?project=short", 404);
        await server.GetAsync($"/api/cairn/traces/{recent}?project=short");
        await server.GetAsync($"/api/cairn/traces/{keptElsewhere}");
    }

    private static string OneSpanJson(string traceId, long startNs = 1_764_000_000_000_000_000) => $$$"""
        {"resourceSpans":[{"resource":{"attributes":[]},"scopeSpans":[{"scope":{"name":"t"},"spans":[
          {"traceId":"{{{traceId}}}","spanId":"{{{Guid.NewGuid().ToString("N")[..16]}}}","name":"turn","kind":1,
           "startTimeUnixNano":"{{{startNs}}}","endTimeUnixNano":"{{{startNs + 5_000_000}}}"}]}]}]}
        """;

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    /// <summary>A chat client that answers "Hello!" with usage, as a provider's client would.</summary>
    private sealed class FakeChatClient : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "Hello!"))
            {
                ModelId = options?.ModelId,
                Usage = new UsageDetails { InputTokenCount = 12, OutputTokenCount = 3, TotalTokenCount = 15 },
                FinishReason = ChatFinishReason.Stop,
            });

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    /// <summary>A trace store that holds every write until opened.</summary>
    private sealed class GatedTraceStore : ITraceStore
    {
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public System.Collections.Concurrent.ConcurrentQueue<SpanRecord> Stored { get; } = new();

        public void Open() => _open.TrySetResult();

        public async Task AppendAsync(IReadOnlyList<SpanRecord> spans, CancellationToken cancellationToken)
        {
            await _open.Task.WaitAsync(cancellationToken);
            foreach (var span in spans)
            {
                Stored.Enqueue(span);
            }
        }

        public Task<Cairn.Core.Tracking.Page<TraceSummary>> SearchTracesAsync(TraceQuery query, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<TraceSummary?> GetTraceAsync(string project, string traceId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<Cairn.Core.Tracking.Page<SpanNode>> GetChildrenAsync(string project, string traceId, string? parentSpanId, int maxResults, string? pageToken, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<SpanRecord?> GetSpanAsync(string project, string traceId, string spanId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<Cairn.Core.Tracking.Page<SessionSummary>> SearchSessionsAsync(SessionQuery query, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<Cairn.Core.Tracking.Page<UserSummary>> SearchUsersAsync(UserQuery query, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task AddScoreAsync(Score score, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<Score>> GetScoresAsync(string project, string traceId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> DeleteScoreAsync(string project, string scoreId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<long> DeleteTracesBeforeAsync(string project, long startedBefore, CancellationToken cancellationToken) => Task.FromResult(0L);

        public Task<IReadOnlyList<string>> GetProjectsAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<string>>([]);
    }
}
