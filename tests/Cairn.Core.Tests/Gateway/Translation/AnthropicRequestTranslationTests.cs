using System.Text.Json.Nodes;
using Cairn.Core.Gateway.Translation;

namespace Cairn.Core.Tests.Gateway.Translation;

public sealed class AnthropicRequestTranslationTests
{
    private static JsonObject Translate(string openAiJson, string model = "claude-sonnet-4-5") =>
        AnthropicTranslator.ToAnthropicRequest(JsonNode.Parse(openAiJson)!.AsObject(), model);

    [Fact]
    public void ToAnthropicRequest_RecordedParallelToolCallConversation_MapsToolUseAndMergesToolResults()
    {
        // The second request of openai-dotnet tests/SessionRecords/ChatToolTests/ParallelToolCalls.json.
        var result = Translate("""
            {"model":"gpt-4o-mini",
             "tools":[{"type":"function","function":{"name":"get_weather_for_city","description":"gets the current weather for a given city",
               "parameters":{"type":"object","properties":{"city_name":{"type":"string"}},"required":["city_name"]}}}],
             "messages":[
              {"role":"user","content":"Tell me what's the current weather in the following cities: Santiago and Karachi."},
              {"role":"assistant","tool_calls":[
                 {"id":"call_SKQEHo7QVlJRoCtEzcrYZM9C","type":"function","function":{"name":"get_weather_for_city","arguments":"{\"city_name\": \"Santiago\"}"}},
                 {"id":"call_CkjljlLr7IebPc4hnvetfiZ8","type":"function","function":{"name":"get_weather_for_city","arguments":"{\"city_name\": \"Karachi\"}"}}]},
              {"role":"tool","tool_call_id":"call_SKQEHo7QVlJRoCtEzcrYZM9C","content":"rainy"},
              {"role":"tool","tool_call_id":"call_CkjljlLr7IebPc4hnvetfiZ8","content":"sunny"}]}
            """);

        WireAssert.Json("""
            {"model":"claude-sonnet-4-5","max_tokens":4096,
             "messages":[
              {"role":"user","content":"Tell me what's the current weather in the following cities: Santiago and Karachi."},
              {"role":"assistant","content":[
                {"type":"tool_use","id":"call_SKQEHo7QVlJRoCtEzcrYZM9C","name":"get_weather_for_city","input":{"city_name":"Santiago"}},
                {"type":"tool_use","id":"call_CkjljlLr7IebPc4hnvetfiZ8","name":"get_weather_for_city","input":{"city_name":"Karachi"}}]},
              {"role":"user","content":[
                {"type":"tool_result","tool_use_id":"call_SKQEHo7QVlJRoCtEzcrYZM9C","content":"rainy"},
                {"type":"tool_result","tool_use_id":"call_CkjljlLr7IebPc4hnvetfiZ8","content":"sunny"}]}],
             "tools":[{"name":"get_weather_for_city","description":"gets the current weather for a given city",
               "input_schema":{"type":"object","properties":{"city_name":{"type":"string"}},"required":["city_name"]}}]}
            """, result);
    }

    [Fact]
    public void ToAnthropicRequest_SingleSystemMessage_BecomesSystemString()
    {
        var result = Translate("""{"model":"m","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Hi"}]}""");

        WireAssert.Json("""
            {"model":"claude-sonnet-4-5","max_tokens":4096,"system":"You are terse.","messages":[{"role":"user","content":"Hi"}]}
            """, result);
    }

    [Fact]
    public void ToAnthropicRequest_SystemAndDeveloperMessagesAnywhere_BecomeSystemBlocksInOrder()
    {
        var result = Translate("""
            {"model":"m","messages":[
              {"role":"system","content":"You are terse."},
              {"role":"user","content":"Hi"},
              {"role":"developer","content":[{"type":"text","text":"Answer in French.","cache_control":{"type":"ephemeral"}}]},
              {"role":"user","content":"Again"}]}
            """);

        WireAssert.Json("""
            {"model":"claude-sonnet-4-5","max_tokens":4096,
             "system":[{"type":"text","text":"You are terse."},{"type":"text","text":"Answer in French.","cache_control":{"type":"ephemeral"}}],
             "messages":[{"role":"user","content":[{"type":"text","text":"Hi"},{"type":"text","text":"Again"}]}]}
            """, result);
    }

    [Fact]
    public void ToAnthropicRequest_ConsecutiveSameRoleMessages_AreMergedIntoAlternatingTurns()
    {
        var result = Translate("""
            {"model":"m","messages":[
              {"role":"user","content":"one"},
              {"role":"user","content":[{"type":"text","text":"two"}]},
              {"role":"assistant","content":"three"},
              {"role":"assistant","content":"four"},
              {"role":"user","content":"five"}]}
            """);

        WireAssert.Json("""
            [{"role":"user","content":[{"type":"text","text":"one"},{"type":"text","text":"two"}]},
             {"role":"assistant","content":[{"type":"text","text":"three"},{"type":"text","text":"four"}]},
             {"role":"user","content":"five"}]
            """, result["messages"]);
    }

    [Fact]
    public void ToAnthropicRequest_ToolResultsFollowedByUserText_ShareOneUserTurnWithResultsFirst()
    {
        var result = Translate("""
            {"model":"m","tools":[{"type":"function","function":{"name":"f"}}],"messages":[
              {"role":"user","content":"go"},
              {"role":"assistant","content":"Calling.","tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"f","arguments":""}}]},
              {"role":"tool","tool_call_id":"toolu_1","content":[{"type":"text","text":"done"}]},
              {"role":"user","content":"thanks"}]}
            """);

        WireAssert.Json("""
            [{"role":"user","content":"go"},
             {"role":"assistant","content":[{"type":"text","text":"Calling."},{"type":"tool_use","id":"toolu_1","name":"f","input":{}}]},
             {"role":"user","content":[
               {"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"done"}]},
               {"type":"text","text":"thanks"}]}]
            """, result["messages"]);
        WireAssert.Json("""[{"name":"f","input_schema":{"type":"object","properties":{}}}]""", result["tools"]);
    }

    [Fact]
    public void ToAnthropicRequest_ImageParts_MapDataUrlsToBase64AndHttpUrlsToUrlSources()
    {
        var result = Translate("""
            {"model":"m","messages":[{"role":"user","content":[
              {"type":"text","text":"Weather in Paris?"},
              {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"high"}},
              {"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}}]}]}
            """);

        WireAssert.Json("""
            [{"role":"user","content":[
              {"type":"text","text":"Weather in Paris?"},
              {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},
              {"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}}]}]
            """, result["messages"]);
    }

    [Fact]
    public void ToAnthropicRequest_PdfFilePart_BecomesDocumentBlock()
    {
        var result = Translate("""
            {"model":"m","messages":[{"role":"user","content":[
              {"type":"file","file":{"filename":"report.pdf","file_data":"data:application/pdf;base64,JVBERi0x"}},
              {"type":"text","text":"Summarise."}]}]}
            """);

        WireAssert.Json("""
            [{"role":"user","content":[
              {"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0x"},"title":"report.pdf"},
              {"type":"text","text":"Summarise."}]}]
            """, result["messages"]);
    }

    [Theory]
    [InlineData("\"auto\"", """{"type":"auto"}""")]
    [InlineData("\"none\"", """{"type":"none"}""")]
    [InlineData("\"required\"", """{"type":"any"}""")]
    [InlineData("""{"type":"function","function":{"name":"get_weather"}}""", """{"type":"tool","name":"get_weather"}""")]
    public void ToAnthropicRequest_ToolChoice_MapsToAnthropicToolChoice(string openAi, string expected)
    {
        var result = Translate($$$"""
            {"model":"m","tool_choice":{{{openAi}}},
             "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"} } }],
             "messages":[{"role":"user","content":"Hi"}]}
            """);

        WireAssert.Json(expected, result["tool_choice"]);
    }

    [Theory]
    [InlineData(null, """{"type":"auto","disable_parallel_tool_use":true}""")]
    [InlineData("\"required\"", """{"type":"any","disable_parallel_tool_use":true}""")]
    [InlineData("\"none\"", """{"type":"none"}""")]
    public void ToAnthropicRequest_ParallelToolCallsFalse_DisablesParallelToolUse(string? choice, string expected)
    {
        var choiceField = choice is null ? "" : $"\"tool_choice\":{choice},";
        var result = Translate($$$"""
            {"model":"m",{{{choiceField}}}"parallel_tool_calls":false,
             "tools":[{"type":"function","function":{"name":"f"}}],"messages":[{"role":"user","content":"Hi"}]}
            """);

        WireAssert.Json(expected, result["tool_choice"]);
    }

    [Fact]
    public void ToAnthropicRequest_ToolChoiceWithoutTools_IsDropped()
    {
        var result = Translate("""{"model":"m","tool_choice":"auto","parallel_tool_calls":false,"messages":[{"role":"user","content":"Hi"}]}""");

        Assert.False(result.ContainsKey("tool_choice"));
        Assert.False(result.ContainsKey("tools"));
    }

    [Theory]
    [InlineData("""{"max_tokens":100}""", 100)]
    [InlineData("""{"max_completion_tokens":200}""", 200)]
    [InlineData("""{"max_tokens":100,"max_completion_tokens":200}""", 200)]
    [InlineData("""{}""", 4096)]
    public void ToAnthropicRequest_MaxTokens_PrefersMaxCompletionTokensAndDefaultsTo4096(string fields, long expected)
    {
        var request = JsonNode.Parse(fields)!.AsObject();
        request["messages"] = JsonNode.Parse("""[{"role":"user","content":"Hi"}]""");

        var result = AnthropicTranslator.ToAnthropicRequest(request, "claude-haiku-4-5");

        Assert.Equal(expected, result["max_tokens"]!.GetValue<long>());
    }

    [Fact]
    public void ToAnthropicRequest_RequestBuiltInCode_ReadsNumbersAndBooleansOfAnyClrType()
    {
        var request = new JsonObject
        {
            ["max_tokens"] = 100,
            ["temperature"] = 0.5,
            ["stream"] = true,
            ["parallel_tool_calls"] = false,
            ["tools"] = new JsonArray(new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = "f" } }),
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Hi" }),
        };

        var result = AnthropicTranslator.ToAnthropicRequest(request, "claude");

        WireAssert.Json("""
            {"model":"claude","max_tokens":100,"messages":[{"role":"user","content":"Hi"}],
             "tools":[{"name":"f","input_schema":{"type":"object","properties":{}}}],
             "tool_choice":{"type":"auto","disable_parallel_tool_use":true},"temperature":0.5,"stream":true}
            """, result);
    }

    [Theory]
    [InlineData("\"END\"", """["END"]""")]
    [InlineData("""["END","STOP"]""", """["END","STOP"]""")]
    [InlineData("""["END","\n"," "]""", """["END"]""")]
    public void ToAnthropicRequest_Stop_BecomesStopSequencesWithoutWhitespaceOnlyEntries(string stop, string expected)
    {
        var result = Translate($$$"""{"model":"m","stop":{{{stop}}},"messages":[{"role":"user","content":"Hi"}]}""");

        WireAssert.Json(expected, result["stop_sequences"]);
    }

    [Fact]
    public void ToAnthropicRequest_SamplingStreamAndUser_AreCopiedAndOpenAiOnlyFieldsDropped()
    {
        var result = Translate("""
            {"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}],
             "temperature":0.7,"top_p":0.9,"stream":true,"stream_options":{"include_usage":true},"user":"user-42",
             "seed":7,"logprobs":true,"top_logprobs":2,"presence_penalty":0.5,"frequency_penalty":0.1,"logit_bias":{"50256":-100},
             "n":1,"service_tier":"default","store":true,"reasoning_effort":"low","stop":null,
             "response_format":{"type":"json_object"}}
            """);

        WireAssert.Json("""
            {"model":"claude-sonnet-4-5","max_tokens":4096,"messages":[{"role":"user","content":"Hi"}],
             "temperature":0.7,"top_p":0.9,"stream":true,"metadata":{"user_id":"user-42"}}
            """, result);
    }

    [Fact]
    public void ToAnthropicRequest_JsonSchemaResponseFormat_BecomesOutputConfigFormat()
    {
        var result = Translate("""
            {"model":"m","messages":[{"role":"user","content":"Hi"}],
             "response_format":{"type":"json_schema","json_schema":{"name":"answer","strict":true,
               "schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}}}}
            """);

        WireAssert.Json("""
            {"format":{"type":"json_schema","schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}}}
            """, result["output_config"]);
    }

    [Fact]
    public void ToAnthropicRequest_EmptyAssistantMessage_IsSkipped()
    {
        var result = Translate("""
            {"model":"m","messages":[{"role":"user","content":"a"},{"role":"assistant","content":""},{"role":"user","content":"b"}]}
            """);

        WireAssert.Json("""[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]""", result["messages"]);
    }

    [Fact]
    public void ToAnthropicRequest_InputRequest_IsNotModified()
    {
        const string json = """
            {"model":"m","tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],
             "messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"t"}]}]}
            """;
        var request = JsonNode.Parse(json)!.AsObject();

        AnthropicTranslator.ToAnthropicRequest(request, "claude");

        WireAssert.Json(json, request);
    }

    [Fact]
    public void ToAnthropicRequest_ToolArgumentsNotJson_ThrowsWithParam()
    {
        var error = Assert.Throws<TranslationException>(() => Translate("""
            {"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{oops"}}]}]}
            """));

        Assert.Equal("messages[0].tool_calls[0].function.arguments", error.Param);
    }

    [Fact]
    public void ToAnthropicRequest_AudioPart_ThrowsWithParam()
    {
        var error = Assert.Throws<TranslationException>(() => Translate("""
            {"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"input_audio","input_audio":{"data":"AAA=","format":"wav"}}]}]}
            """));

        Assert.Equal("messages[0].content[1]", error.Param);
    }

    [Fact]
    public void ToAnthropicRequest_MoreThanOneChoice_Throws()
    {
        var error = Assert.Throws<TranslationException>(() => Translate("""{"model":"m","n":2,"messages":[{"role":"user","content":"Hi"}]}"""));

        Assert.Equal("n", error.Param);
    }

    [Fact]
    public void ToAnthropicRequest_ToolMessageWithoutId_Throws()
    {
        var error = Assert.Throws<TranslationException>(() => Translate("""{"model":"m","messages":[{"role":"tool","content":"x"}]}"""));

        Assert.Equal("messages[0].tool_call_id", error.Param);
    }
}
