using System.Buffers;
using Cairn.Core.Gateway;
using Cairn.Core.Gateway.Translation;

namespace Cairn.Core.Tests.Gateway.Translation;

public sealed class GeminiToOpenAiStreamTests
{
    private static (GeminiToOpenAiStream Stream, string Output) Run(string upstream, bool includeUsage, params string[] ids)
    {
        var queue = new Queue<string>(ids);
        var stream = new GeminiToOpenAiStream("gemini-flash", 1770950778, includeUsage, queue.Dequeue);
        var output = new ArrayBufferWriter<byte>();
        foreach (var (_, data) in WireAssert.Upstream(upstream))
        {
            stream.Process(data, output);
        }

        stream.Complete(output);
        return (stream, WireAssert.Text(output));
    }

    [Fact]
    public void Process_ResearchTextStream_WritesChunksLastUsageAndDone()
    {
        // The two events of the research notes (§4.4), CRLF-terminated as Gemini sends them.
        var (stream, output) = Run(
            "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"It is\"}],\"role\":\"model\"},\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":9,\"totalTokenCount\":9},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"abc\"}\r\n\r\n"
            + "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\" 18°C.\"}],\"role\":\"model\"},\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":9,\"candidatesTokenCount\":5,\"thoughtsTokenCount\":40,\"totalTokenCount\":54},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"abc\"}\r\n\r\n",
            includeUsage: true);

        WireAssert.Frames("""
            data: {"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1770950778,"model":"gemini-flash","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1770950778,"model":"gemini-flash","choices":[{"index":0,"delta":{"content":"It is"},"logprobs":null,"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1770950778,"model":"gemini-flash","choices":[{"index":0,"delta":{"content":" 18°C."},"logprobs":null,"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1770950778,"model":"gemini-flash","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}

            data: {"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1770950778,"model":"gemini-flash","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":45,"total_tokens":54,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":40}}}

            data: [DONE]


            """, output);
        Assert.True(stream.Completed);
        Assert.Equal("stop", stream.FinishReason);
        Assert.Equal(new TokenUsage(9, 45, ReasoningTokens: 40), stream.Usage);
    }

    [Fact]
    public void Process_FunctionCallChunk_WritesWholeToolCallAndToolCallsFinish()
    {
        var (stream, output) = Run("""
            data: {"candidates":[{"content":{"parts":[{"text":"Checking."}],"role":"model"},"index":0}],"responseId":"fc"}

            data: {"candidates":[{"content":{"parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"c2ln"},{"functionCall":{"name":"get_time","args":{}}}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":30,"cachedContentTokenCount":20,"candidatesTokenCount":12,"totalTokenCount":42},"responseId":"fc"}


            """, includeUsage: false, "call_1", "call_2");

        WireAssert.Frames("""
            data: {"id":"chatcmpl-fc","object":"chat.completion.chunk","created":1770950778,"model":"gemini-flash","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}

            data: {"id":"chatcmpl-fc","object":"chat.completion.chunk","created":1770950778,"model":"gemini-flash","choices":[{"index":0,"delta":{"content":"Checking."},"logprobs":null,"finish_reason":null}]}

            data: {"id":"chatcmpl-fc","object":"chat.completion.chunk","created":1770950778,"model":"gemini-flash","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1__thought__c2ln","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"logprobs":null,"finish_reason":null}]}

            data: {"id":"chatcmpl-fc","object":"chat.completion.chunk","created":1770950778,"model":"gemini-flash","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{}"}}]},"logprobs":null,"finish_reason":null}]}

            data: {"id":"chatcmpl-fc","object":"chat.completion.chunk","created":1770950778,"model":"gemini-flash","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]}

            data: [DONE]


            """, output);
        Assert.Equal(new TokenUsage(30, 12, CachedInputTokens: 20), stream.Usage);
        Assert.Equal("tool_calls", stream.FinishReason);
    }

    [Fact]
    public void Process_ThoughtParts_AreNotForwarded()
    {
        var (_, output) = Run("""
            data: {"candidates":[{"content":{"parts":[{"text":"**Planning**","thought":true},{"text":"Hi"}],"role":"model"},"finishReason":"STOP","index":0}],"responseId":"t"}


            """, includeUsage: false);

        Assert.DoesNotContain("Planning", output, StringComparison.Ordinal);
        Assert.Contains("\"content\":\"Hi\"", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Process_ErrorObject_WritesOpenAiErrorFrameThenDone()
    {
        var (stream, output) = Run("""
            data: {"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"},"index":0}],"responseId":"e"}

            data: {"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}


            """, includeUsage: true);

        var frames = WireAssert.Split(output);
        Assert.Equal(4, frames.Count);
        WireAssert.Json(
            """{"error":{"message":"The model is overloaded. Please try again later.","type":"server_error","param":null,"code":"overloaded"}}""",
            System.Text.Json.Nodes.JsonNode.Parse(frames[2].Data));
        Assert.Equal("[DONE]", frames[3].Data);
        Assert.False(stream.Completed);
        Assert.Equal("The model is overloaded. Please try again later.", stream.Error);
    }

    [Fact]
    public void Complete_UpstreamEndedWithoutFinishReason_WritesDoneButIsNotCompleted()
    {
        var (stream, output) = Run("""
            data: {"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":3,"totalTokenCount":3},"responseId":"p"}


            """, includeUsage: true);

        var frames = WireAssert.Split(output);
        Assert.Equal("[DONE]", frames[^1].Data);
        Assert.Contains("\"choices\":[]", frames[^2].Data, StringComparison.Ordinal);
        Assert.False(stream.Completed);
        Assert.Null(stream.FinishReason);
    }

    [Fact]
    public void Process_BlockedPrompt_WritesContentFilterFinish()
    {
        var (stream, output) = Run("""
            data: {"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},"usageMetadata":{"promptTokenCount":5,"totalTokenCount":5},"responseId":"b"}


            """, includeUsage: false);

        Assert.Equal("content_filter", stream.FinishReason);
        Assert.Equal(3, WireAssert.Split(output).Count);
        Assert.True(stream.Completed);
    }

    [Fact]
    public void Process_TwoCandidates_WritesOneChoiceEach()
    {
        var (_, output) = Run("""
            data: {"candidates":[{"content":{"parts":[{"text":"A"}],"role":"model"},"finishReason":"STOP","index":0},{"content":{"parts":[{"text":"B"}],"role":"model"},"finishReason":"MAX_TOKENS","index":1}],"responseId":"n"}


            """, includeUsage: false);

        var frames = WireAssert.Split(output);
        Assert.Equal(7, frames.Count);
        Assert.Contains("\"index\":1,\"delta\":{\"content\":\"B\"}", frames[4].Data, StringComparison.Ordinal);
        Assert.Contains("\"index\":1,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"length\"", frames[5].Data, StringComparison.Ordinal);
    }
}
