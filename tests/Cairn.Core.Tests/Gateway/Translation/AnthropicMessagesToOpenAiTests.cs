using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Core.Gateway.Translation;

namespace Cairn.Core.Tests.Gateway.Translation;

public sealed class AnthropicMessagesToOpenAiTests
{
    private static JsonObject Translate(string anthropicJson, bool legacyMaxTokens = false) =>
        AnthropicMessagesToOpenAi.ToOpenAiRequest(JsonNode.Parse(anthropicJson)!.AsObject(), "gpt-4o-mini", legacyMaxTokens);

    private static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement;

    [Fact]
    public void ToOpenAiRequest_ResearchExample_MapsSystemImageToolUseToolResultToolsAndChoice()
    {
        // The Messages request of the research notes (§3.1).
        var result = Translate("""
            {"model":"claude-sonnet-4-5","max_tokens":1024,
             "system":[{"type":"text","text":"You are terse.","cache_control":{"type":"ephemeral"}}],
             "stop_sequences":["\n\nHuman:"],
             "tools":[{"name":"get_weather","description":"Get weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}],
             "tool_choice":{"type":"auto","disable_parallel_tool_use":false},
             "messages":[
              {"role":"user","content":[{"type":"text","text":"Weather in Paris?"},
                 {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]},
              {"role":"assistant","content":[{"type":"text","text":"Checking."},
                 {"type":"tool_use","id":"toolu_01A","name":"get_weather","input":{"city":"Paris"}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01A","content":"18°C, sunny","is_error":false}]}]}
            """);

        WireAssert.Json("""
            {"model":"gpt-4o-mini",
             "messages":[
              {"role":"system","content":"You are terse."},
              {"role":"user","content":[{"type":"text","text":"Weather in Paris?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},
              {"role":"assistant","content":"Checking.","tool_calls":[{"id":"toolu_01A","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
              {"role":"tool","tool_call_id":"toolu_01A","content":"18°C, sunny"}],
             "max_completion_tokens":1024,
             "stop":["\n\nHuman:"],
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Get weather",
               "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],
             "tool_choice":"auto"}
            """, result);
    }

    [Fact]
    public void ToOpenAiRequest_ToolResultsWithTextAndImages_BecomeToolMessagesThenOneUserMessage()
    {
        var result = Translate("""
            {"model":"c","max_tokens":10,"messages":[
              {"role":"assistant","content":[
                {"type":"tool_use","id":"toolu_1","name":"screenshot","input":{}},
                {"type":"tool_use","id":"toolu_2","name":"read","input":{"path":"a.txt"}}]},
              {"role":"user","content":[
                {"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"Here it is"},{"type":"image","source":{"type":"url","url":"https://example.com/s.png"}}]},
                {"type":"tool_result","tool_use_id":"toolu_2","content":[{"type":"text","text":"line 1"},{"type":"text","text":"line 2"}],"is_error":true},
                {"type":"text","text":"What do you see?"}]}]}
            """);

        WireAssert.Json("""
            [{"role":"assistant","content":null,"tool_calls":[
               {"id":"toolu_1","type":"function","function":{"name":"screenshot","arguments":"{}"}},
               {"id":"toolu_2","type":"function","function":{"name":"read","arguments":"{\"path\":\"a.txt\"}"}}]},
             {"role":"tool","tool_call_id":"toolu_1","content":"Here it is"},
             {"role":"tool","tool_call_id":"toolu_2","content":"line 1\nline 2"},
             {"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/s.png"}},{"type":"text","text":"What do you see?"}]}]
            """, result["messages"]);
    }

    [Fact]
    public void ToOpenAiRequest_StreamAndMetadataAndSampling_AreMappedAndAnthropicOnlyFieldsDropped()
    {
        var result = Translate("""
            {"model":"c","max_tokens":300,"stream":true,"temperature":0.2,"top_p":0.8,"top_k":40,
             "metadata":{"user_id":"u-1"},"thinking":{"type":"enabled","budget_tokens":1024},"service_tier":"auto",
             "system":"Be brief.","messages":[{"role":"user","content":"Hi"}]}
            """, legacyMaxTokens: true);

        WireAssert.Json("""
            {"model":"gpt-4o-mini","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],
             "max_tokens":300,"temperature":0.2,"top_p":0.8,"stream":true,"stream_options":{"include_usage":true},"user":"u-1"}
            """, result);
    }

    [Theory]
    [InlineData("""{"type":"auto"}""", "\"auto\"", null)]
    [InlineData("""{"type":"any"}""", "\"required\"", null)]
    [InlineData("""{"type":"none"}""", "\"none\"", null)]
    [InlineData("""{"type":"tool","name":"f","disable_parallel_tool_use":true}""", """{"type":"function","function":{"name":"f"}}""", false)]
    [InlineData("""{"type":"any","disable_parallel_tool_use":true}""", "\"required\"", false)]
    public void ToOpenAiRequest_ToolChoice_MapsToOpenAiToolChoice(string anthropic, string expected, bool? parallel)
    {
        var result = Translate($$$"""
            {"model":"c","max_tokens":1,"tool_choice":{{{anthropic}}},"tools":[{"name":"f","input_schema":{"type":"object"}}],
             "messages":[{"role":"user","content":"Hi"}]}
            """);

        WireAssert.Json(expected, result["tool_choice"]);
        Assert.Equal(parallel, result["parallel_tool_calls"]?.GetValue<bool>());
    }

    [Fact]
    public void ToOpenAiRequest_ThinkingBlocksInHistory_AreDropped()
    {
        var result = Translate("""
            {"model":"c","max_tokens":1,"messages":[
              {"role":"user","content":"Hi"},
              {"role":"assistant","content":[{"type":"thinking","thinking":"…","signature":"s"},{"type":"text","text":"Hello"}]}]}
            """);

        WireAssert.Json("""[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]""", result["messages"]);
    }

    [Fact]
    public void ToOpenAiRequest_OutputConfigJsonSchema_BecomesResponseFormat()
    {
        var result = Translate("""
            {"model":"c","max_tokens":1,"messages":[{"role":"user","content":"Hi"}],
             "output_config":{"format":{"type":"json_schema","schema":{"type":"object","properties":{"a":{"type":"string"}}}}}}
            """);

        WireAssert.Json("""
            {"type":"json_schema","json_schema":{"name":"response","schema":{"type":"object","properties":{"a":{"type":"string"}}}}}
            """, result["response_format"]);
    }

    [Fact]
    public void ToOpenAiRequest_ServerTool_ThrowsWithParam()
    {
        var error = Assert.Throws<TranslationException>(() => Translate("""
            {"model":"c","max_tokens":1,"tools":[{"type":"web_search_20250305","name":"web_search"}],"messages":[{"role":"user","content":"Hi"}]}
            """));

        Assert.Equal("tools[0]", error.Param);
    }

    [Fact]
    public void ToAnthropicResponse_RecordedToolCallResponse_MapsToolUseBlocksAndUsage()
    {
        // Shape of the first response of openai-dotnet ChatToolTests/ParallelToolCalls.json.
        var result = AnthropicMessagesToOpenAi.ToAnthropicResponse(Parse("""
            {"id":"chatcmpl-D8dUvtOLRKeiFeDWpaZG2K6JNsxsq","object":"chat.completion","created":1770950825,"model":"gpt-4o-mini-2024-07-18",
             "choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[
                {"id":"call_SKQEHo7QVlJRoCtEzcrYZM9C","type":"function","function":{"name":"get_weather_for_city","arguments":"{\"city_name\": \"Santiago\"}"}},
                {"id":"call_CkjljlLr7IebPc4hnvetfiZ8","type":"function","function":{"name":"get_weather_for_city","arguments":"{\"city_name\": \"Karachi\"}"}}],
                "refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"tool_calls"}],
             "usage":{"prompt_tokens":81,"completion_tokens":52,"total_tokens":133,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},
               "completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}
            """), "claude-sonnet-4-5");

        WireAssert.Json("""
            {"id":"msg_D8dUvtOLRKeiFeDWpaZG2K6JNsxsq","type":"message","role":"assistant","model":"claude-sonnet-4-5",
             "content":[
               {"type":"tool_use","id":"call_SKQEHo7QVlJRoCtEzcrYZM9C","name":"get_weather_for_city","input":{"city_name":"Santiago"}},
               {"type":"tool_use","id":"call_CkjljlLr7IebPc4hnvetfiZ8","name":"get_weather_for_city","input":{"city_name":"Karachi"}}],
             "stop_reason":"tool_use","stop_sequence":null,
             "usage":{"input_tokens":81,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":52}}
            """, result);
    }

    [Fact]
    public void ToAnthropicResponse_CachedPromptTokens_AreSplitOutOfInputTokens()
    {
        var result = AnthropicMessagesToOpenAi.ToAnthropicResponse(Parse("""
            {"id":"chatcmpl-1","choices":[{"index":0,"message":{"role":"assistant","content":"A review of popular media…"},"finish_reason":"length"}],
             "usage":{"prompt_tokens":2034,"completion_tokens":863,"total_tokens":2897,"prompt_tokens_details":{"cached_tokens":1920},
               "completion_tokens_details":{"reasoning_tokens":128}}}
            """), "c");

        WireAssert.Json("""[{"type":"text","text":"A review of popular media…"}]""", result["content"]);
        Assert.Equal("max_tokens", result["stop_reason"]!.GetValue<string>());
        WireAssert.Json("""{"input_tokens":114,"cache_creation_input_tokens":0,"cache_read_input_tokens":1920,"output_tokens":863}""", result["usage"]);
    }

    [Fact]
    public void ToAnthropicResponse_Refusal_BecomesTextWithRefusalStopReason()
    {
        var result = AnthropicMessagesToOpenAi.ToAnthropicResponse(Parse("""
            {"id":"chatcmpl-2","choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}]}
            """), "c");

        WireAssert.Json("""[{"type":"text","text":"I can't help with that."}]""", result["content"]);
        Assert.Equal("refusal", result["stop_reason"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("stop", "end_turn")]
    [InlineData("length", "max_tokens")]
    [InlineData("tool_calls", "tool_use")]
    [InlineData("function_call", "tool_use")]
    [InlineData("content_filter", "refusal")]
    [InlineData(null, "end_turn")]
    public void ToStopReason_OpenAiFinishReason_MapsToAnthropicStopReason(string? finishReason, string expected)
    {
        Assert.Equal(expected, AnthropicMessagesToOpenAi.ToStopReason(finishReason));
    }

    [Theory]
    [InlineData(400, "invalid_request_error")]
    [InlineData(401, "authentication_error")]
    [InlineData(403, "permission_error")]
    [InlineData(404, "not_found_error")]
    [InlineData(429, "rate_limit_error")]
    [InlineData(500, "api_error")]
    [InlineData(503, "overloaded_error")]
    public void ToAnthropicError_RecordedOpenAiError_MapsStatusToAnthropicType(int status, string type)
    {
        var result = AnthropicMessagesToOpenAi.ToAnthropicError(Parse("""
            {"error":{"message":"The model 'fake_id' does not exist","type":"invalid_request_error","param":"model","code":"model_not_found"}}
            """), status);

        WireAssert.Json($$$"""{"type":"error","error":{"type":"{{{type}}}","message":"The model 'fake_id' does not exist"}}""", result);
    }
}
