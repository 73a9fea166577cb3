using System.Buffers;
using System.Text;
using Cairn.Core.Gateway;
using Cairn.Core.Gateway.Translation;

namespace Cairn.Core.Tests.Gateway.Translation;

public sealed class AnthropicToOpenAiStreamTests
{
    // The stream of the research notes (§3.3): text, then a tool call whose input arrives in two fragments.
    private const string TextThenToolStream = """
        event: message_start
        data: {"type":"message_start","message":{"id":"msg_01QC4g3HwBThD4BaNtBckFDJ","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":1,"service_tier":"standard"}}}

        event: content_block_start
        data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

        event: ping
        data: {"type":"ping"}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":0}

        event: content_block_start
        data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01A","name":"get_weather","input":{}}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Pa"}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"ris\"}"}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":1}

        event: message_delta
        data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":30}}

        event: message_stop
        data: {"type":"message_stop"}


        """;

    private static (AnthropicToOpenAiStream Stream, string Output) Run(string upstream, bool includeUsage)
    {
        var stream = new AnthropicToOpenAiStream("claude-sonnet", 1770950778, includeUsage);
        var output = new ArrayBufferWriter<byte>();
        foreach (var (name, data) in WireAssert.Upstream(upstream))
        {
            stream.Process(name, data, output);
        }

        return (stream, WireAssert.Text(output));
    }

    [Fact]
    public void Process_TextThenToolCallWithUsage_WritesOpenAiChunksUsageChunkAndDone()
    {
        var (stream, output) = Run(TextThenToolStream, includeUsage: true);

        WireAssert.Frames("""
            data: {"id":"chatcmpl-01QC4g3HwBThD4BaNtBckFDJ","object":"chat.completion.chunk","created":1770950778,"model":"claude-sonnet","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-01QC4g3HwBThD4BaNtBckFDJ","object":"chat.completion.chunk","created":1770950778,"model":"claude-sonnet","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-01QC4g3HwBThD4BaNtBckFDJ","object":"chat.completion.chunk","created":1770950778,"model":"claude-sonnet","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"toolu_01A","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-01QC4g3HwBThD4BaNtBckFDJ","object":"chat.completion.chunk","created":1770950778,"model":"claude-sonnet","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\": \"Pa"}}]},"logprobs":null,"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-01QC4g3HwBThD4BaNtBckFDJ","object":"chat.completion.chunk","created":1770950778,"model":"claude-sonnet","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ris\"}"}}]},"logprobs":null,"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-01QC4g3HwBThD4BaNtBckFDJ","object":"chat.completion.chunk","created":1770950778,"model":"claude-sonnet","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}],"usage":null}

            data: {"id":"chatcmpl-01QC4g3HwBThD4BaNtBckFDJ","object":"chat.completion.chunk","created":1770950778,"model":"claude-sonnet","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}

            data: [DONE]


            """, output);
        Assert.True(stream.Completed);
        Assert.Equal("tool_calls", stream.FinishReason);
        Assert.Equal(new TokenUsage(12, 30), stream.Usage);
        Assert.Null(stream.Error);
    }

    [Fact]
    public void Process_WithoutIncludeUsage_WritesNoUsageChunkAndNoUsageFields()
    {
        var (stream, output) = Run(TextThenToolStream, includeUsage: false);

        var frames = WireAssert.Split(output);
        Assert.Equal(7, frames.Count);
        Assert.DoesNotContain("usage", output, StringComparison.Ordinal);
        Assert.Equal("[DONE]", frames[^1].Data);
        Assert.Equal(new TokenUsage(12, 30), stream.Usage);
    }

    [Fact]
    public void Process_Frames_AreCompactUtf8WithExactFraming()
    {
        var stream = new AnthropicToOpenAiStream("m", 5, includeUsage: false);
        var output = new ArrayBufferWriter<byte>();

        stream.Process("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"18°C <ok> \"q\""}}"""u8, output);

        Assert.Equal(
            "data: {\"id\":\"chatcmpl-\",\"object\":\"chat.completion.chunk\",\"created\":5,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n"
            + "data: {\"id\":\"chatcmpl-\",\"object\":\"chat.completion.chunk\",\"created\":5,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"18°C <ok> \\\"q\\\"\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n",
            Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void Process_TwoToolUseBlocksAfterText_NumbersToolCallsFromZero()
    {
        var (_, output) = Run("""
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_x","usage":{"input_tokens":3,"output_tokens":1}}}

            event: content_block_start
            data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

            event: content_block_start
            data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_a","name":"f","input":{}}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{}"}}

            event: content_block_start
            data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_b","name":"g","input":{}}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"a\":1}"}}


            """, includeUsage: false);

        WireAssert.Frames("""
            data: {"id":"chatcmpl-x","object":"chat.completion.chunk","created":1770950778,"model":"claude-sonnet","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}

            data: {"id":"chatcmpl-x","object":"chat.completion.chunk","created":1770950778,"model":"claude-sonnet","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"toolu_a","type":"function","function":{"name":"f","arguments":""}}]},"logprobs":null,"finish_reason":null}]}

            data: {"id":"chatcmpl-x","object":"chat.completion.chunk","created":1770950778,"model":"claude-sonnet","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]},"logprobs":null,"finish_reason":null}]}

            data: {"id":"chatcmpl-x","object":"chat.completion.chunk","created":1770950778,"model":"claude-sonnet","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"toolu_b","type":"function","function":{"name":"g","arguments":""}}]},"logprobs":null,"finish_reason":null}]}

            data: {"id":"chatcmpl-x","object":"chat.completion.chunk","created":1770950778,"model":"claude-sonnet","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"a\":1}"}}]},"logprobs":null,"finish_reason":null}]}


            """, output);
    }

    [Fact]
    public void Usage_CacheCountsInMessageStart_AreFoldedIntoPromptTokens()
    {
        var (stream, output) = Run("""
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_c","usage":{"input_tokens":8,"cache_creation_input_tokens":1500,"cache_read_input_tokens":3000,"output_tokens":1}}}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":55}}

            event: message_stop
            data: {"type":"message_stop"}


            """, includeUsage: true);

        Assert.Equal(new TokenUsage(4508, 55, CachedInputTokens: 3000, CacheWriteTokens: 1500), stream.Usage);
        var usageFrame = WireAssert.Split(output)[^2].Data;
        WireAssert.Json("""
            {"id":"chatcmpl-c","object":"chat.completion.chunk","created":1770950778,"model":"claude-sonnet","choices":[],
             "usage":{"prompt_tokens":4508,"completion_tokens":55,"total_tokens":4563,"prompt_tokens_details":{"cached_tokens":3000},"completion_tokens_details":{"reasoning_tokens":0}}}
            """, System.Text.Json.Nodes.JsonNode.Parse(usageFrame));
    }

    [Fact]
    public void Usage_CountsRepeatedInMessageDelta_WinOverMessageStart()
    {
        var (stream, _) = Run("""
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_d","usage":{"input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"input_tokens":20,"cache_creation_input_tokens":0,"cache_read_input_tokens":100,"output_tokens":64}}


            """, includeUsage: false);

        Assert.Equal(new TokenUsage(120, 64, CachedInputTokens: 100), stream.Usage);
        Assert.Equal("length", stream.FinishReason);
        Assert.False(stream.Completed);
    }

    [Fact]
    public void Process_ErrorEvent_WritesOpenAiErrorFrameThenDoneAndIgnoresTheRest()
    {
        var (stream, output) = Run("""
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_e","usage":{"input_tokens":4,"output_tokens":1}}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}

            event: error
            data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}

            event: message_stop
            data: {"type":"message_stop"}


            """, includeUsage: true);

        var frames = WireAssert.Split(output);
        Assert.Equal(4, frames.Count);
        WireAssert.Json("""{"error":{"message":"Overloaded","type":"server_error","param":null,"code":"overloaded"}}""", System.Text.Json.Nodes.JsonNode.Parse(frames[2].Data));
        Assert.Equal("[DONE]", frames[3].Data);
        Assert.False(stream.Completed);
        Assert.Equal("Overloaded", stream.Error);
    }

    [Fact]
    public void Process_NoEventName_UsesTheDataType()
    {
        var stream = new AnthropicToOpenAiStream("m", 1, includeUsage: false);
        var output = new ArrayBufferWriter<byte>();

        stream.Process(null, """{"type":"message_start","message":{"id":"msg_n","usage":{"input_tokens":1,"output_tokens":1}}}"""u8, output);
        stream.Process("", """{"type":"message_stop"}"""u8, output);

        Assert.True(stream.Completed);
        Assert.Equal("chatcmpl-n", stream.Id);
        var frames = WireAssert.Split(WireAssert.Text(output));
        Assert.Equal(3, frames.Count);
        Assert.Contains("\"finish_reason\":\"stop\"", frames[1].Data, StringComparison.Ordinal);
    }

    [Fact]
    public void Process_ThinkingBlocks_AreNotForwarded()
    {
        var (_, output) = Run("""
            event: content_block_start
            data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Hmm"}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQB"}}


            """, includeUsage: false);

        Assert.Single(WireAssert.Split(output));
        Assert.DoesNotContain("Hmm", output, StringComparison.Ordinal);
    }
}
