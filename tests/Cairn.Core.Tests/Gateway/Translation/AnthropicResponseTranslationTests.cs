using System.Text.Json;
using Cairn.Core.Gateway.Translation;

namespace Cairn.Core.Tests.Gateway.Translation;

public sealed class AnthropicResponseTranslationTests
{
    private static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement;

    [Fact]
    public void ToOpenAiResponse_TextAndToolUse_MapsContentToolCallsFinishReasonAndUsage()
    {
        var result = AnthropicTranslator.ToOpenAiResponse(Parse("""
            {"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
             "content":[{"type":"text","text":"Checking."},{"type":"tool_use","id":"toolu_01A","name":"get_weather","input":{"city":"Paris"}}],
             "stop_reason":"tool_use","stop_sequence":null,
             "usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,
                      "cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},
                      "output_tokens":30,"service_tier":"standard"}}
            """), "claude-sonnet", 1770950825);

        WireAssert.Json("""
            {"id":"chatcmpl-01XFDUDYJgAACzvnptvVoYEL","object":"chat.completion","created":1770950825,"model":"claude-sonnet",
             "choices":[{"index":0,"message":{"role":"assistant","content":"Checking.","refusal":null,
                 "tool_calls":[{"id":"toolu_01A","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
               "logprobs":null,"finish_reason":"tool_calls"}],
             "usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42,
               "prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}
            """, result);
    }

    [Fact]
    public void ToOpenAiResponse_SeveralTextBlocksAndThinking_ConcatenatesTextOnly()
    {
        var result = AnthropicTranslator.ToOpenAiResponse(Parse("""
            {"id":"msg_1","type":"message","role":"assistant","content":[
              {"type":"thinking","thinking":"Let me think.","signature":"sig"},
              {"type":"text","text":"It is "},{"type":"text","text":"18°C."}],
             "stop_reason":"end_turn","usage":{"input_tokens":5,"output_tokens":7}}
            """), "claude", 1);

        var message = result["choices"]![0]!["message"]!;
        Assert.Equal("It is 18°C.", message["content"]!.GetValue<string>());
        Assert.Null(message["tool_calls"]);
        Assert.Equal("stop", result["choices"]![0]!["finish_reason"]!.GetValue<string>());
    }

    [Fact]
    public void ToOpenAiResponse_ToolUseOnly_LeavesContentNullAndCompactsInput()
    {
        var result = AnthropicTranslator.ToOpenAiResponse(Parse("""
            {"id":"msg_2","content":[{"type":"tool_use","id":"toolu_9","name":"lookup","input":{ "q" : "naïve <b>", "n" : [1, 2] }}],
             "stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":1}}
            """), "claude", 1);

        var message = result["choices"]![0]!["message"]!;
        Assert.Null(message["content"]);
        Assert.Equal("""{"q":"naïve <b>","n":[1,2]}""", message["tool_calls"]![0]!["function"]!["arguments"]!.GetValue<string>());
    }

    [Fact]
    public void ToOpenAiResponse_CacheReadAndCacheCreation_AreFoldedIntoPromptTokens()
    {
        var result = AnthropicTranslator.ToOpenAiResponse(Parse("""
            {"id":"msg_3","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn",
             "usage":{"input_tokens":10,"cache_creation_input_tokens":2000,"cache_read_input_tokens":5000,"output_tokens":25}}
            """), "claude", 1);

        WireAssert.Json("""
            {"prompt_tokens":7010,"completion_tokens":25,"total_tokens":7035,
             "prompt_tokens_details":{"cached_tokens":5000},"completion_tokens_details":{"reasoning_tokens":0}}
            """, result["usage"]);
    }

    [Theory]
    [InlineData("end_turn", "stop")]
    [InlineData("stop_sequence", "stop")]
    [InlineData("pause_turn", "stop")]
    [InlineData("max_tokens", "length")]
    [InlineData("model_context_window_exceeded", "length")]
    [InlineData("tool_use", "tool_calls")]
    [InlineData("refusal", "content_filter")]
    [InlineData(null, "stop")]
    public void ToFinishReason_AnthropicStopReason_MapsToOpenAiFinishReason(string? stopReason, string expected)
    {
        Assert.Equal(expected, AnthropicTranslator.ToFinishReason(stopReason));
    }

    [Theory]
    [InlineData("invalid_request_error", "invalid_request_error", null)]
    [InlineData("authentication_error", "invalid_request_error", "invalid_api_key")]
    [InlineData("permission_error", "permission_error", "permission_denied")]
    [InlineData("not_found_error", "invalid_request_error", "not_found")]
    [InlineData("rate_limit_error", "rate_limit_error", "rate_limit_exceeded")]
    [InlineData("billing_error", "insufficient_quota", "insufficient_quota")]
    [InlineData("overloaded_error", "server_error", "overloaded")]
    [InlineData("api_error", "server_error", null)]
    [InlineData("some_new_error", "some_new_error", null)]
    public void ToOpenAiError_AnthropicErrorType_MapsTypeAndCode(string anthropicType, string type, string? code)
    {
        var result = AnthropicTranslator.ToOpenAiError(Parse($$$"""
            {"type":"error","error":{"type":"{{{anthropicType}}}","message":"max_tokens: Field required"},"request_id":"req_011"}
            """));

        WireAssert.Json(
            $$$"""{"error":{"message":"max_tokens: Field required","type":"{{{type}}}","param":null,"code":{{{(code is null ? "null" : $"\"{code}\"")}}}}}""",
            result);
    }

    [Fact]
    public void ToOpenAiError_BodyOfAnotherShape_GivesServerError()
    {
        var result = AnthropicTranslator.ToOpenAiError(Parse("\"<html>Bad gateway</html>\""));

        WireAssert.Json("""{"error":{"message":"The upstream provider returned an error.","type":"server_error","param":null,"code":null}}""", result);
    }
}
