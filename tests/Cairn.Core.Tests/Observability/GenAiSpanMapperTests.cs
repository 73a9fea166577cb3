using System.Text.Json;
using Cairn.Core.Gateway;
using Cairn.Core.Observability;
using Cairn.Core.Observability.Otlp;
using Cairn.Core.Observability.Otlp.Proto;
using static Cairn.Core.Tests.Observability.Otlp;
using ProtoSpan = Cairn.Core.Observability.Otlp.Proto.Span;

namespace Cairn.Core.Tests.Observability;

public sealed class GenAiSpanMapperTests
{
    [Fact]
    public void Map_OpenAiChat_CostsCachedAndReasoningTokensOnce()
    {
        var record = DecodeOne(Span("chat gpt-4o-mini",
            Attr("gen_ai.operation.name", "chat"),
            Attr("gen_ai.provider.name", "openai"),
            Attr("gen_ai.request.model", "gpt-4o-mini"),
            Attr("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
            Attr("gen_ai.usage.input_tokens", 1000L),
            Attr("gen_ai.usage.output_tokens", 200L),
            Attr("gen_ai.usage.cache_read.input_tokens", 400L),
            Attr("gen_ai.usage.reasoning.output_tokens", 50L)));

        Assert.Equal(SpanTypes.Generation, record.Type);
        Assert.Equal("chat", record.Operation);
        Assert.Equal("openai", record.Provider);
        Assert.Equal("gpt-4o-mini", record.RequestModel);
        Assert.Equal("gpt-4o-mini-2024-07-18", record.ResponseModel);
        Assert.Equal(1000, record.InputTokens);
        Assert.Equal(200, record.OutputTokens);
        Assert.Equal(400, record.CachedInputTokens);
        Assert.Null(record.CacheWriteTokens);
        Assert.Equal(50, record.ReasoningTokens);
        var price = PriceTable.Default.Find("gpt-4o-mini")!;
        Assert.Equal(price.Cost(new TokenUsage(1000, 200, CachedInputTokens: 400, ReasoningTokens: 50)), record.CostUsd);
        // 600 uncached + 400 cached input, 200 output (reasoning at the output price): nothing counted twice.
        Assert.Equal(((600 * 0.15m) + (400 * 0.075m) + (200 * 0.6m)) / 1_000_000m, record.CostUsd);
    }

    [Fact]
    public void Map_AnthropicInputExcludingTheCache_AddsCacheReadsAndWrites()
    {
        var record = DecodeOne(Span("chat",
            Attr("gen_ai.operation.name", "chat"),
            Attr("gen_ai.provider.name", "anthropic"),
            Attr("gen_ai.request.model", "claude-sonnet-4-5-20250929"),
            Attr("gen_ai.usage.input_tokens", 20L),
            Attr("gen_ai.usage.cache_read_input_tokens", 3000L),
            Attr("gen_ai.usage.cache_creation_input_tokens", 500L),
            Attr("gen_ai.usage.output_tokens", 100L)));

        Assert.Equal(3520, record.InputTokens);
        Assert.Equal(3000, record.CachedInputTokens);
        Assert.Equal(500, record.CacheWriteTokens);
        var expected = ((20 * 3m) + (3000 * 0.3m) + (500 * 3.75m) + (100 * 15m)) / 1_000_000m;
        Assert.Equal(expected, record.CostUsd);
    }

    [Fact]
    public void Map_InputAlreadyIncludingTheCache_IsKept()
    {
        var record = DecodeOne(Span("chat",
            Attr("gen_ai.provider.name", "anthropic"),
            Attr("gen_ai.usage.input_tokens", 3520L),
            Attr("gen_ai.usage.cache_read.input_tokens", 3000L),
            Attr("gen_ai.usage.cache_creation.input_tokens", 500L)));

        Assert.Equal(3520, record.InputTokens);
    }

    [Fact]
    public void Map_OutputBelowReasoning_AddsTheReasoning()
    {
        var record = DecodeOne(Span("generate_content",
            Attr("gen_ai.usage.output_tokens", 10L),
            Attr("gen_ai.usage.reasoning_tokens", 90L)));

        Assert.Equal(100, record.OutputTokens);
        Assert.Equal(90, record.ReasoningTokens);
    }

    [Fact]
    public void Map_OpenInferenceLlmSpan_ReadsLlmAttributesAndInputValue()
    {
        var record = DecodeOne(Span("ChatCompletion",
            Attr("openinference.span.kind", "LLM"),
            Attr("llm.provider", "openai"),
            Attr("llm.system", "openai"),
            Attr("llm.model_name", "gpt-4o-mini"),
            Attr("llm.token_count.prompt", 100L),
            Attr("llm.token_count.completion", 20L),
            Attr("llm.token_count.prompt_details.cache_read", 40L),
            Attr("llm.token_count.completion_details.reasoning", 5L),
            Attr("input.value", """{"messages":[{"role":"user","content":"hi"}],"model":"gpt-4o-mini"}"""),
            Attr("input.mime_type", "application/json"),
            Attr("output.value", "Hello there"),
            Attr("llm.input_messages.0.message.role", "user"),
            Attr("llm.input_messages.0.message.content", "hi")));

        Assert.Equal(SpanTypes.Generation, record.Type);
        Assert.Equal("openai", record.Provider);
        Assert.Equal("gpt-4o-mini", record.RequestModel);
        Assert.Null(record.ResponseModel);
        Assert.Equal(100, record.InputTokens);
        Assert.Equal(20, record.OutputTokens);
        Assert.Equal(40, record.CachedInputTokens);
        Assert.Equal(5, record.ReasoningTokens);
        Assert.Equal(PriceTable.Default.Find("gpt-4o-mini")!.Cost(new TokenUsage(100, 20, 40, 0, 5)), record.CostUsd);
        Assert.Equal("""{"messages":[{"role":"user","content":"hi"}],"model":"gpt-4o-mini"}""", record.Input);
        Assert.Equal("Hello there", record.Output);
        using var attributes = JsonDocument.Parse(record.AttributesJson);
        Assert.False(attributes.RootElement.TryGetProperty("input.value", out _));
        Assert.False(attributes.RootElement.TryGetProperty("output.value", out _));
        Assert.True(attributes.RootElement.TryGetProperty("llm.input_messages.0.message.role", out _));
        Assert.True(attributes.RootElement.TryGetProperty("input.mime_type", out _));
    }

    [Fact]
    public void Map_OpenInferenceFlattenedMessages_BecomeAMessageArray()
    {
        var record = DecodeOne(Span("llm",
            Attr("openinference.span.kind", "LLM"),
            Attr("llm.input_messages.1.message.role", "user"),
            Attr("llm.input_messages.1.message.content", "hi"),
            Attr("llm.input_messages.0.message.role", "system"),
            Attr("llm.input_messages.0.message.content", "be brief"),
            Attr("llm.output_messages.0.message.role", "assistant"),
            Attr("llm.output_messages.0.message.content", "hello")));

        JsonEqual("""[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]""", record.Input);
        JsonEqual("""[{"role":"assistant","content":"hello"}]""", record.Output);
        JsonEqual("""{"openinference.span.kind":"LLM"}""", record.AttributesJson);
    }

    [Fact]
    public void Map_OpenLlmetryFlattenedPrompt_BecomesAMessageArray()
    {
        var record = DecodeOne(Span("openai.chat",
            Attr("llm.request.type", "chat"),
            Attr("gen_ai.system", "openai"),
            Attr("gen_ai.prompt.0.role", "user"),
            Attr("gen_ai.prompt.0.content", "hi"),
            Attr("gen_ai.completion.0.role", "assistant"),
            Attr("gen_ai.completion.0.content", "hello"),
            Attr("gen_ai.completion.0.finish_reason", "stop")));

        Assert.Equal(SpanTypes.Generation, record.Type);
        Assert.Equal("openai", record.Provider);
        JsonEqual("""[{"role":"user","content":"hi"}]""", record.Input);
        JsonEqual("""[{"role":"assistant","content":"hello","finish_reason":"stop"}]""", record.Output);
    }

    [Fact]
    public void Map_CurrentMessagesWithSystemInstructions_PrependsTheSystemMessage()
    {
        var record = DecodeOne(Span("chat",
            Attr("gen_ai.operation.name", "chat"),
            Attr("gen_ai.system_instructions", """[{"type":"text","content":"Be brief."}]"""),
            Attr("gen_ai.input.messages", """[{"role":"user","parts":[{"type":"text","content":"hi"}]}]"""),
            Attr("gen_ai.output.messages", """[{"role":"assistant","parts":[{"type":"text","content":"hello"}],"finish_reason":"stop"}]""")));

        JsonEqual(
            """[{"role":"system","parts":[{"type":"text","content":"Be brief."}]},{"role":"user","parts":[{"type":"text","content":"hi"}]}]""",
            record.Input);
        Assert.Equal("""[{"role":"assistant","parts":[{"type":"text","content":"hello"}],"finish_reason":"stop"}]""", record.Output);
        JsonEqual("""{"gen_ai.operation.name":"chat"}""", record.AttributesJson);
    }

    [Fact]
    public void Map_OlderPromptAndCompletion_AreKeptAsText()
    {
        var record = DecodeOne(Span("chat", Attr("gen_ai.prompt", "Tell me a joke"), Attr("gen_ai.completion", "No.")));

        Assert.Equal("Tell me a joke", record.Input);
        Assert.Equal("No.", record.Output);
    }

    [Fact]
    public void Map_MessageEvents_BecomeInputAndOutputArrays()
    {
        var span = Span("chat", Attr("gen_ai.operation.name", "chat"));
        span.Events.Add(Event("gen_ai.system.message", Attr("gen_ai.system", "openai"), Attr("content", "be brief")));
        span.Events.Add(Event("gen_ai.user.message", Attr("content", "hi")));
        span.Events.Add(Event("gen_ai.choice",
            Attr("index", 0L), Attr("finish_reason", "stop"), Attr("message", new[] { Attr("role", "assistant"), Attr("content", "hello") })));

        var record = DecodeOne(span);

        JsonEqual("""[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]""", record.Input);
        JsonEqual("""[{"role":"assistant","index":0,"finish_reason":"stop","content":"hello"}]""", record.Output);
        using var events = JsonDocument.Parse(record.EventsJson!);
        Assert.Equal(3, events.RootElement.GetArrayLength());
    }

    [Fact]
    public void Map_ChoiceEventWithJsonMessage_FlattensIt()
    {
        var span = Span("chat");
        span.Events.Add(Event("gen_ai.choice", Attr("message", """{"role":"assistant","content":"hi","tool_calls":[]}""")));

        JsonEqual("""[{"role":"assistant","content":"hi","tool_calls":[]}]""", DecodeOne(span).Output);
    }

    [Fact]
    public void Map_ContentEvents_AreTheInputAndOutputText()
    {
        var span = Span("chat");
        span.Events.Add(Event("gen_ai.content.prompt", Attr("gen_ai.prompt", """[{"role":"user","content":"hi"}]""")));
        span.Events.Add(Event("gen_ai.content.completion", Attr("gen_ai.completion", "hello")));

        var record = DecodeOne(span);

        Assert.Equal("""[{"role":"user","content":"hi"}]""", record.Input);
        Assert.Equal("hello", record.Output);
    }

    [Fact]
    public void Map_ToolSpan_ReadsArgumentsAndResult()
    {
        var record = DecodeOne(Span("execute_tool get_weather",
            Attr("gen_ai.operation.name", "execute_tool"),
            Attr("gen_ai.tool.name", "get_weather"),
            Attr("gen_ai.tool.call.arguments", """{"city":"Paris"}"""),
            Attr("gen_ai.tool.call.result", """{"temp":20}""")));

        Assert.Equal(SpanTypes.Tool, record.Type);
        Assert.Equal("""{"city":"Paris"}""", record.Input);
        Assert.Equal("""{"temp":20}""", record.Output);
        Assert.Null(record.CostUsd);
    }

    [Fact]
    public void Map_LangfuseAttributes_AreTheLastFallback()
    {
        var record = DecodeOne(Span("step",
            Attr("langfuse.observation.type", "generation"),
            Attr("langfuse.observation.input", "question"),
            Attr("langfuse.observation.output", new[] { Attr("answer", 42L) }),
            Attr("langfuse.user.id", "u9"),
            Attr("langfuse.session.id", "s9"),
            Attr("langfuse.trace.tags", new object[] { "beta", "eu" })));

        Assert.Equal(SpanTypes.Generation, record.Type);
        Assert.Equal("question", record.Input);
        Assert.Equal("""{"answer":42}""", record.Output);
        Assert.Equal("u9", record.UserId);
        Assert.Equal("s9", record.SessionId);
        Assert.Equal(["beta", "eu"], record.Tags);
    }

    [Fact]
    public void Map_UserAndSessionOnTheResource_AreUsedWhenTheSpanHasNone()
    {
        var record = DecodeOne(Span("chat"), Attr("user.id", "u1"), Attr("session.id", "s1"), Attr("tags", "prod, eu"));

        Assert.Equal("u1", record.UserId);
        Assert.Equal("s1", record.SessionId);
        Assert.Equal(["prod", "eu"], record.Tags);
    }

    [Fact]
    public void Map_UserAndSessionOnTheSpan_WinOverTheResource()
    {
        var record = DecodeOne(
            Span("chat", Attr("enduser.id", "span-user"), Attr("gen_ai.conversation.id", "conv-1")),
            Attr("user.id", "resource-user"), Attr("session.id", "resource-session"));

        Assert.Equal("span-user", record.UserId);
        Assert.Equal("conv-1", record.SessionId);
    }

    [Theory]
    [InlineData("""["a","b","a"]""", new[] { "a", "b" })]
    [InlineData("a, b ,,c", new[] { "a", "b", "c" })]
    [InlineData("solo", new[] { "solo" })]
    public void Map_TagsAsText_AreSplit(string tags, string[] expected) =>
        Assert.Equal(expected, DecodeOne(Span("s", Attr("tags", tags))).Tags);

    [Theory]
    [InlineData(SpanTypes.Tool, "cairn.span.type=TOOL", "openinference.span.kind=LLM")]
    [InlineData(SpanTypes.Generation, "cairn.span.type=bogus", "gen_ai.operation.name=chat")]
    [InlineData(SpanTypes.Retrieval, "openinference.span.kind=RETRIEVER", "gen_ai.operation.name=chat")]
    [InlineData(SpanTypes.Span, "openinference.span.kind=GUARDRAIL", "gen_ai.operation.name=chat")]
    [InlineData(SpanTypes.Agent, "openinference.span.kind=AGENT")]
    [InlineData(SpanTypes.Chain, "openinference.span.kind=CHAIN")]
    [InlineData(SpanTypes.Embedding, "openinference.span.kind=EMBEDDING")]
    [InlineData(SpanTypes.Generation, "gen_ai.operation.name=text_completion")]
    [InlineData(SpanTypes.Generation, "gen_ai.operation.name=generate_content")]
    [InlineData(SpanTypes.Embedding, "gen_ai.operation.name=embeddings")]
    [InlineData(SpanTypes.Tool, "gen_ai.operation.name=execute_tool")]
    [InlineData(SpanTypes.Agent, "gen_ai.operation.name=invoke_agent")]
    [InlineData(SpanTypes.Agent, "gen_ai.operation.name=create_agent", "langfuse.observation.type=tool")]
    [InlineData(SpanTypes.Generation, "gen_ai.operation.name=something_new", "langfuse.observation.type=generation")]
    [InlineData(SpanTypes.Embedding, "llm.request.type=embedding")]
    [InlineData(SpanTypes.Retrieval, "langfuse.observation.type=retriever")]
    [InlineData(SpanTypes.Span, "langfuse.observation.type=event")]
    [InlineData(SpanTypes.Span)]
    public void Map_Type_FollowsThePrecedence(string expected, params string[] attributes)
    {
        var pairs = attributes.Select(a => a.Split('=')).Select(p => Attr(p[0], p[1])).ToArray();
        Assert.Equal(expected, DecodeOne(Span("s", pairs)).Type);
    }

    [Theory]
    [InlineData("gen_ai.usage.cost")]
    [InlineData("cairn.cost_usd")]
    [InlineData("llm.cost.total")]
    public void Map_ReportedCost_WinsOverThePriceTable(string key)
    {
        var record = DecodeOne(Span("chat",
            Attr("gen_ai.request.model", "gpt-4o-mini"), Attr("gen_ai.usage.input_tokens", 1000L), Attr(key, 0.0123)));

        Assert.Equal(0.0123m, record.CostUsd);
    }

    [Fact]
    public void Map_ReportedCostAsText_IsRead() =>
        Assert.Equal(0.5m, DecodeOne(Span("chat", Attr("llm.cost.total", "0.5"))).CostUsd);

    [Fact]
    public void Map_UnknownModelOrNoTokens_HasNoCost()
    {
        Assert.Null(DecodeOne(Span("chat", Attr("gen_ai.request.model", "my-local-llama"), Attr("gen_ai.usage.input_tokens", 10L))).CostUsd);
        Assert.Null(DecodeOne(Span("chat", Attr("gen_ai.request.model", "gpt-4o-mini"))).CostUsd);
    }

    [Fact]
    public void Map_UnknownResponseModel_FallsBackToTheRequestModelPrice()
    {
        var record = DecodeOne(Span("chat",
            Attr("gen_ai.request.model", "gpt-4o-mini"), Attr("gen_ai.response.model", "azure-deployment-7"),
            Attr("gen_ai.usage.input_tokens", 1000L), Attr("gen_ai.usage.output_tokens", 10L)));

        Assert.Equal(PriceTable.Default.Find("gpt-4o-mini")!.Cost(new TokenUsage(1000, 10)), record.CostUsd);
    }

    [Fact]
    public void Map_TokensAsTextOrDoubles_AreRead()
    {
        var record = DecodeOne(Span("chat", Attr("gen_ai.usage.prompt_tokens", "12"), Attr("gen_ai.usage.completion_tokens", 3.0)));

        Assert.Equal(12, record.InputTokens);
        Assert.Equal(3, record.OutputTokens);
    }

    [Fact]
    public void Map_RequestId_IsTheRequestLogId() =>
        Assert.Equal("req_1", DecodeOne(Span("chat", Attr("cairn.request_id", "req_1"))).RequestLogId);

    [Fact]
    public void GenAiKey_SetsFitInOneUlong() => Assert.True((int)GenAiKey.Count <= 64);

    private static ProtoSpan.Types.Event Event(string name, params KeyValue[] attributes) =>
        new() { Name = name, TimeUnixNano = Start + 1, Attributes = { attributes } };
}
