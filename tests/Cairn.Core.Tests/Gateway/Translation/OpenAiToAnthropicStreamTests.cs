using System.Buffers;
using Cairn.Core.Gateway;
using Cairn.Core.Gateway.Translation;

namespace Cairn.Core.Tests.Gateway.Translation;

public sealed class OpenAiToAnthropicStreamTests
{
    private static (OpenAiToAnthropicStream Stream, string Output) Run(string upstream, bool complete = true)
    {
        var stream = new OpenAiToAnthropicStream("claude-sonnet-4-5");
        var output = new ArrayBufferWriter<byte>();
        foreach (var (_, data) in WireAssert.Upstream(upstream))
        {
            stream.Process(data, output);
        }

        if (complete)
        {
            stream.Complete(output);
        }

        return (stream, WireAssert.Text(output));
    }

    [Fact]
    public void Process_RecordedTextStreamWithUsage_WritesAnthropicEventSequence()
    {
        // Chunks as in openai-dotnet ChatTests/TokenLogProbabilitiesStreaming(False).json, shortened to two tokens.
        var (stream, output) = Run("""
            data: {"id":"chatcmpl-D8dUAJuyyWxWUFRdcu8FB6Vi6yfLu","object":"chat.completion.chunk","created":1770950778,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_373a14eb6f","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"4PnfR9vil"}

            data: {"id":"chatcmpl-D8dUAJuyyWxWUFRdcu8FB6Vi6yfLu","object":"chat.completion.chunk","created":1770950778,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_373a14eb6f","choices":[{"index":0,"delta":{"content":"The"},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"MRIY7sqx"}

            data: {"id":"chatcmpl-D8dUAJuyyWxWUFRdcu8FB6Vi6yfLu","object":"chat.completion.chunk","created":1770950778,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_373a14eb6f","choices":[{"index":0,"delta":{"content":" sky"},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"MRIY7sqx"}

            data: {"id":"chatcmpl-D8dUAJuyyWxWUFRdcu8FB6Vi6yfLu","object":"chat.completion.chunk","created":1770950778,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_373a14eb6f","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null,"obfuscation":"KD0Jr"}

            data: {"id":"chatcmpl-D8dUAJuyyWxWUFRdcu8FB6Vi6yfLu","object":"chat.completion.chunk","created":1770950778,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_373a14eb6f","choices":[],"usage":{"prompt_tokens":22,"completion_tokens":712,"total_tokens":734,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"obfuscation":"JEx9ecrF"}

            data: [DONE]


            """);

        WireAssert.Frames("""
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_D8dUAJuyyWxWUFRdcu8FB6Vi6yfLu","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}}

            event: content_block_start
            data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"The"}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" sky"}}

            event: content_block_stop
            data: {"type":"content_block_stop","index":0}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":22,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":712}}

            event: message_stop
            data: {"type":"message_stop"}


            """, output);
        Assert.True(stream.Completed);
        Assert.Equal("end_turn", stream.StopReason);
        Assert.Equal(new TokenUsage(22, 712), stream.Usage);
    }

    [Fact]
    public void Process_TextThenTwoStreamedToolCalls_OpensOneBlockEachWithInputJsonDeltas()
    {
        var (stream, output) = Run("""
            data: {"id":"chatcmpl-x","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"Let me check."},"logprobs":null,"finish_reason":null}]}

            data: {"id":"chatcmpl-x","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}]}

            data: {"id":"chatcmpl-x","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]},"logprobs":null,"finish_reason":null}]}

            data: {"id":"chatcmpl-x","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]},"logprobs":null,"finish_reason":null}]}

            data: {"id":"chatcmpl-x","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{}"}}]},"logprobs":null,"finish_reason":null}]}

            data: {"id":"chatcmpl-x","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":81,"completion_tokens":52,"total_tokens":133,"prompt_tokens_details":{"cached_tokens":64}}}

            data: [DONE]


            """);

        WireAssert.Frames("""
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_x","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}}

            event: content_block_start
            data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me check."}}

            event: content_block_stop
            data: {"type":"content_block_stop","index":0}

            event: content_block_start
            data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"call_1","name":"get_weather","input":{}}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}}

            event: content_block_stop
            data: {"type":"content_block_stop","index":1}

            event: content_block_start
            data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"call_2","name":"get_time","input":{}}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{}"}}

            event: content_block_stop
            data: {"type":"content_block_stop","index":2}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":17,"cache_creation_input_tokens":0,"cache_read_input_tokens":64,"output_tokens":52}}

            event: message_stop
            data: {"type":"message_stop"}


            """, output);
        Assert.Equal("tool_use", stream.StopReason);
        Assert.Equal(new TokenUsage(81, 52, CachedInputTokens: 64), stream.Usage);
    }

    [Fact]
    public void Complete_FinishReasonWithoutDone_EndsTheMessage()
    {
        var (stream, output) = Run("""
            data: {"id":"chatcmpl-y","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}

            data: {"id":"chatcmpl-y","choices":[{"index":0,"delta":{},"finish_reason":"length"}]}


            """);

        var frames = WireAssert.Split(output);
        Assert.Equal(["message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"], frames.Select(f => f.Event));
        Assert.Contains("\"stop_reason\":\"max_tokens\"", frames[4].Data, StringComparison.Ordinal);
        Assert.True(stream.Completed);
    }

    [Fact]
    public void Complete_UpstreamClosedBeforeAnyFinishReason_WritesErrorEvent()
    {
        var (stream, output) = Run("""
            data: {"id":"chatcmpl-z","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}


            """);

        var frames = WireAssert.Split(output);
        Assert.Equal("error", frames[^1].Event);
        WireAssert.Json(
            """{"type":"error","error":{"type":"api_error","message":"The upstream stream ended before the response was complete."}}""",
            System.Text.Json.Nodes.JsonNode.Parse(frames[^1].Data));
        Assert.False(stream.Completed);
        Assert.NotNull(stream.Error);
    }

    [Fact]
    public void Process_ErrorChunk_WritesAnthropicErrorEventAndStops()
    {
        var (stream, output) = Run("""
            data: {"error":{"message":"Rate limit reached for gpt-4o","type":"tokens","param":null,"code":"rate_limit_exceeded"}}

            data: [DONE]


            """);

        WireAssert.Frames("""
            event: error
            data: {"type":"error","error":{"type":"rate_limit_error","message":"Rate limit reached for gpt-4o"}}


            """, output);
        Assert.False(stream.Completed);
        Assert.Equal("Rate limit reached for gpt-4o", stream.Error);
    }

    [Fact]
    public void Process_DoneWithoutAnyChunk_WritesAnEmptyMessage()
    {
        var (stream, output) = Run("""
            data: [DONE]


            """);

        Assert.Equal(["message_start", "message_delta", "message_stop"], WireAssert.Split(output).Select(f => f.Event));
        Assert.True(stream.Completed);
    }
}
