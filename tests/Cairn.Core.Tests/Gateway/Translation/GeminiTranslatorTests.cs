using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Core.Gateway.Translation;

namespace Cairn.Core.Tests.Gateway.Translation;

public sealed class GeminiTranslatorTests
{
    private static JsonObject Translate(string openAiJson) => GeminiTranslator.ToGeminiRequest(JsonNode.Parse(openAiJson)!.AsObject());

    private static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement;

    private static Func<string> Ids(params string[] ids)
    {
        var queue = new Queue<string>(ids);
        return queue.Dequeue;
    }

    [Fact]
    public void ToGeminiRequest_ToolConversationWithImage_MapsRolesPartsToolsAndConfig()
    {
        var result = Translate("""
            {"model":"gemini-2.5-flash","temperature":0.7,"top_p":0.95,"max_tokens":1024,"stop":"END","seed":3,
             "tool_choice":"auto",
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Get weather",
               "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}}}],
             "messages":[
              {"role":"system","content":"You are terse."},
              {"role":"user","content":[{"type":"text","text":"Weather in Paris?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},
              {"role":"assistant","content":null,"tool_calls":[{"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
              {"role":"tool","tool_call_id":"call_abc","content":"18°C"}]}
            """);

        WireAssert.Json("""
            {"systemInstruction":{"parts":[{"text":"You are terse."}]},
             "contents":[
              {"role":"user","parts":[{"text":"Weather in Paris?"},{"inlineData":{"mimeType":"image/png","data":"iVBORw0KGgo="}}]},
              {"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}}]},
              {"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"output":"18°C"}}}]}],
             "tools":[{"functionDeclarations":[{"name":"get_weather","description":"Get weather",
               "parametersJsonSchema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}}]}],
             "toolConfig":{"functionCallingConfig":{"mode":"AUTO"}},
             "generationConfig":{"temperature":0.7,"topP":0.95,"maxOutputTokens":1024,"stopSequences":["END"],"seed":3}}
            """, result);
    }

    [Fact]
    public void ToGeminiRequest_RecordedParallelToolResults_AreMergedIntoOneUserTurnNamedByCallId()
    {
        var result = Translate("""
            {"model":"m","messages":[
              {"role":"user","content":"Tell me what's the current weather in the following cities: Santiago and Karachi."},
              {"role":"assistant","tool_calls":[
                 {"id":"call_SKQEHo7QVlJRoCtEzcrYZM9C","type":"function","function":{"name":"get_weather_for_city","arguments":"{\"city_name\": \"Santiago\"}"}},
                 {"id":"call_CkjljlLr7IebPc4hnvetfiZ8","type":"function","function":{"name":"get_time_for_city","arguments":"{\"city_name\": \"Karachi\"}"}}]},
              {"role":"tool","tool_call_id":"call_CkjljlLr7IebPc4hnvetfiZ8","content":"noon"},
              {"role":"tool","tool_call_id":"call_SKQEHo7QVlJRoCtEzcrYZM9C","content":"rainy"},
              {"role":"user","content":"And tomorrow?"}]}
            """);

        WireAssert.Json("""
            [{"role":"user","parts":[{"text":"Tell me what's the current weather in the following cities: Santiago and Karachi."}]},
             {"role":"model","parts":[
               {"functionCall":{"name":"get_weather_for_city","args":{"city_name":"Santiago"}}},
               {"functionCall":{"name":"get_time_for_city","args":{"city_name":"Karachi"}}}]},
             {"role":"user","parts":[
               {"functionResponse":{"name":"get_time_for_city","response":{"output":"noon"}}},
               {"functionResponse":{"name":"get_weather_for_city","response":{"output":"rainy"}}},
               {"text":"And tomorrow?"}]}]
            """, result["contents"]);
    }

    [Fact]
    public void ToGeminiRequest_ToolMessageForUnknownCall_ThrowsWithParam()
    {
        var error = Assert.Throws<TranslationException>(() => Translate("""
            {"model":"m","messages":[{"role":"user","content":"x"},{"role":"tool","tool_call_id":"call_nope","content":"r"}]}
            """));

        Assert.Equal("messages[1].tool_call_id", error.Param);
    }

    [Fact]
    public void ToOpenAiResponse_ThenToGeminiRequest_CarriesTheThoughtSignatureInTheToolCallId()
    {
        var response = GeminiTranslator.ToOpenAiResponse(Parse("""
            {"candidates":[{"content":{"role":"model","parts":[
               {"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"CiQBVKhc7g+/c2k="}]},"finishReason":"STOP","index":0}],
             "usageMetadata":{"promptTokenCount":50,"candidatesTokenCount":10,"thoughtsTokenCount":30,"totalTokenCount":90},
             "modelVersion":"gemini-2.5-pro","responseId":"r1"}
            """), "gemini-pro", 1, Ids("call_1"));
        var assistant = response["choices"]![0]!["message"]!.DeepClone();
        var id = assistant["tool_calls"]![0]!["id"]!.GetValue<string>();
        var request = new JsonObject
        {
            ["messages"] = new JsonArray(
                JsonNode.Parse("""{"role":"user","content":"Weather in Paris?"}"""),
                assistant,
                new JsonObject { ["role"] = "tool", ["tool_call_id"] = id, ["content"] = "18°C" }),
        };

        var result = GeminiTranslator.ToGeminiRequest(request);

        Assert.Equal("call_1__thought__CiQBVKhc7g-_c2k", id);
        WireAssert.Json("""
            [{"role":"user","parts":[{"text":"Weather in Paris?"}]},
             {"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"CiQBVKhc7g+/c2k="}]},
             {"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"output":"18°C"}}}]}]
            """, result["contents"]);
    }

    [Theory]
    [InlineData("\"auto\"", """{"functionCallingConfig":{"mode":"AUTO"}}""")]
    [InlineData("\"none\"", """{"functionCallingConfig":{"mode":"NONE"}}""")]
    [InlineData("\"required\"", """{"functionCallingConfig":{"mode":"ANY"}}""")]
    [InlineData("""{"type":"function","function":{"name":"f"}}""", """{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["f"]}}""")]
    public void ToGeminiRequest_ToolChoice_MapsToFunctionCallingMode(string choice, string expected)
    {
        var result = Translate($$$"""
            {"model":"m","tool_choice":{{{choice}}},"tools":[{"type":"function","function":{"name":"f"}}],"messages":[{"role":"user","content":"x"}]}
            """);

        WireAssert.Json(expected, result["toolConfig"]);
        WireAssert.Json("""[{"functionDeclarations":[{"name":"f"}]}]""", result["tools"]);
    }

    [Theory]
    [InlineData("""{"type":"json_object"}""", """{"responseMimeType":"application/json"}""")]
    [InlineData(
        """{"type":"json_schema","json_schema":{"name":"a","strict":true,"schema":{"type":"object","properties":{"x":{"type":"integer"}},"additionalProperties":false}}}""",
        """{"responseMimeType":"application/json","responseJsonSchema":{"type":"object","properties":{"x":{"type":"integer"}},"additionalProperties":false}}""")]
    [InlineData("""{"type":"text"}""", null)]
    public void ToGeminiRequest_ResponseFormat_SetsResponseMimeTypeAndSchema(string format, string? expected)
    {
        var result = Translate($$$"""{"model":"m","response_format":{{{format}}},"messages":[{"role":"user","content":"x"}]}""");

        if (expected is null)
        {
            Assert.False(result.ContainsKey("generationConfig"));
        }
        else
        {
            WireAssert.Json(expected, result["generationConfig"]);
        }
    }

    [Fact]
    public void ToGeminiRequest_MultimodalParts_MapAudioFilesAndHttpImages()
    {
        var result = Translate("""
            {"model":"m","max_completion_tokens":50,"n":2,"messages":[
              {"role":"developer","content":[{"type":"text","text":"Rule one."},{"type":"text","text":"Rule two."}]},
              {"role":"user","content":[
                {"type":"input_audio","input_audio":{"data":"UklGRg==","format":"wav"}},
                {"type":"file","file":{"file_data":"data:application/pdf;base64,JVBERi0x","filename":"a.pdf"}},
                {"type":"image_url","image_url":{"url":"https://example.com/photo.webp?size=2"}}]}]}
            """);

        WireAssert.Json("""
            {"systemInstruction":{"parts":[{"text":"Rule one.\nRule two."}]},
             "contents":[{"role":"user","parts":[
               {"inlineData":{"mimeType":"audio/wav","data":"UklGRg=="}},
               {"inlineData":{"mimeType":"application/pdf","data":"JVBERi0x"}},
               {"fileData":{"mimeType":"image/webp","fileUri":"https://example.com/photo.webp?size=2"}}]}],
             "generationConfig":{"maxOutputTokens":50,"candidateCount":2}}
            """, result);
    }

    [Fact]
    public void ToOpenAiResponse_TextWithThoughts_CountsThoughtsAsReasoningCompletionTokens()
    {
        // The gemini-2.5-flash answer of the research notes (§4.3), with a thought-summary part added.
        var result = GeminiTranslator.ToOpenAiResponse(Parse("""
            {"candidates":[{"content":{"role":"model","parts":[{"text":"Thinking about weather","thought":true},{"text":"It is 18°C."}]},"finishReason":"STOP","index":0,
               "safetyRatings":[{"category":"HARM_CATEGORY_HARASSMENT","probability":"NEGLIGIBLE"}]}],
             "usageMetadata":{"promptTokenCount":27,"candidatesTokenCount":6,"thoughtsTokenCount":194,"totalTokenCount":227,
               "cachedContentTokenCount":0,"promptTokensDetails":[{"modality":"TEXT","tokenCount":27}]},
             "modelVersion":"gemini-2.5-flash","responseId":"mTxxaKqhB"}
            """), "gemini-flash", 1770950825, Ids());

        WireAssert.Json("""
            {"id":"chatcmpl-mTxxaKqhB","object":"chat.completion","created":1770950825,"model":"gemini-flash",
             "choices":[{"index":0,"message":{"role":"assistant","content":"It is 18°C.","refusal":null},"logprobs":null,"finish_reason":"stop"}],
             "usage":{"prompt_tokens":27,"completion_tokens":200,"total_tokens":227,
               "prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":194}}}
            """, result);
    }

    [Fact]
    public void ToOpenAiResponse_FunctionCallsWithStop_AreToolCallsWithMintedIds()
    {
        var result = GeminiTranslator.ToOpenAiResponse(Parse("""
            {"candidates":[{"content":{"role":"model","parts":[
               {"text":"Checking both."},
               {"functionCall":{"name":"get_weather","args":{"city":"Santiago"}}},
               {"functionCall":{"name":"get_weather","args":{"city":"Karachi"}}}]},"finishReason":"STOP","index":0}],
             "usageMetadata":{"promptTokenCount":1000,"cachedContentTokenCount":800,"candidatesTokenCount":20,"totalTokenCount":1020},
             "responseId":"r2"}
            """), "g", 7, Ids("call_a", "call_b"));

        WireAssert.Json("""
            {"id":"chatcmpl-r2","object":"chat.completion","created":7,"model":"g",
             "choices":[{"index":0,"message":{"role":"assistant","content":"Checking both.","refusal":null,"tool_calls":[
                 {"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Santiago\"}"}},
                 {"id":"call_b","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Karachi\"}"}}]},
               "logprobs":null,"finish_reason":"tool_calls"}],
             "usage":{"prompt_tokens":1000,"completion_tokens":20,"total_tokens":1020,
               "prompt_tokens_details":{"cached_tokens":800},"completion_tokens_details":{"reasoning_tokens":0}}}
            """, result);
    }

    [Fact]
    public void ToOpenAiResponse_BlockedPrompt_GivesContentFilterChoice()
    {
        var result = GeminiTranslator.ToOpenAiResponse(Parse("""
            {"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":9,"totalTokenCount":9},"responseId":"r3"}
            """), "g", 1, Ids());

        WireAssert.Json("""
            [{"index":0,"message":{"role":"assistant","content":null,"refusal":null},"logprobs":null,"finish_reason":"content_filter"}]
            """, result["choices"]);
    }

    [Theory]
    [InlineData("STOP", "stop")]
    [InlineData("MAX_TOKENS", "length")]
    [InlineData("SAFETY", "content_filter")]
    [InlineData("RECITATION", "content_filter")]
    [InlineData("PROHIBITED_CONTENT", "content_filter")]
    [InlineData("OTHER", "content_filter")]
    [InlineData("MALFORMED_FUNCTION_CALL", "stop")]
    [InlineData("FINISH_REASON_UNSPECIFIED", "stop")]
    [InlineData(null, "stop")]
    public void ToFinishReason_GeminiFinishReason_MapsToOpenAiFinishReason(string? finishReason, string expected)
    {
        Assert.Equal(expected, GeminiTranslator.ToFinishReason(finishReason));
    }

    [Fact]
    public void ToOpenAiError_RecordedInvalidApiKey_GivesInvalidApiKeyCode()
    {
        var result = GeminiTranslator.ToOpenAiError(Parse("""
            {"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT",
             "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com",
               "metadata":{"service":"generativelanguage.googleapis.com"}},
              {"@type":"type.googleapis.com/google.rpc.LocalizedMessage","locale":"en-US","message":"API key not valid. Please pass a valid API key."}]}}
            """));

        WireAssert.Json("""
            {"error":{"message":"API key not valid. Please pass a valid API key.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}
            """, result);
    }

    [Theory]
    [InlineData("INVALID_ARGUMENT", "invalid_request_error", null)]
    [InlineData("PERMISSION_DENIED", "permission_error", "permission_denied")]
    [InlineData("NOT_FOUND", "invalid_request_error", "not_found")]
    [InlineData("RESOURCE_EXHAUSTED", "rate_limit_error", "rate_limit_exceeded")]
    [InlineData("INTERNAL", "server_error", null)]
    [InlineData("UNAVAILABLE", "server_error", "overloaded")]
    [InlineData("DEADLINE_EXCEEDED", "server_error", "timeout")]
    public void ToOpenAiError_GeminiStatus_MapsTypeAndCode(string status, string type, string? code)
    {
        var result = GeminiTranslator.ToOpenAiError(Parse($$$"""[{"error":{"code":429,"message":"m","status":"{{{status}}}"}}]"""));

        Assert.Equal(type, result["error"]!["type"]!.GetValue<string>());
        Assert.Equal(code, result["error"]!["code"]?.GetValue<string>());
    }
}
