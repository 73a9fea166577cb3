using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Client.Prompts;
using Cairn.Contracts.Prompts;
using Microsoft.Extensions.AI;

namespace Cairn.Client.Tests.Prompts;

public sealed class CairnPromptTests
{
    private static CairnPrompt Text(string template, JsonObject? modelConfig = null, JsonObject? responseFormat = null) =>
        new(new PromptVersionInfo { Name = "qa/answer", Version = 3, Type = "text", Template = template, ModelConfig = modelConfig, ResponseFormat = responseFormat });

    private static CairnPrompt Chat() =>
        new(new PromptVersionInfo
        {
            Name = "qa/chat",
            Version = 7,
            Type = "chat",
            Messages =
            [
                new PromptMessage { Role = "system", Content = "You answer questions about {{product}}." },
                new PromptMessage { Role = "user", Content = "{{question}}" },
                new PromptMessage { Role = "assistant", Content = "Let me check." },
            ],
        });

    [Fact]
    public void Render_TextPrompt_FillsVariables()
    {
        var prompt = Text("Answer in {{lang}}: {{question}}");

        Assert.Equal("Answer in en: Why?", prompt.Render(new Dictionary<string, object?> { ["lang"] = "en", ["question"] = "Why?" }));
        Assert.Equal("Answer in fr: 42", prompt.Render(("lang", "fr"), ("question", 42)));
        Assert.Equal(PromptType.Text, prompt.Type);
        Assert.Equal(["lang", "question"], prompt.Variables);
    }

    [Fact]
    public void Render_MissingVariables_ThrowsNamingThemAll()
    {
        var prompt = Text("{{a}} {{b}} {{c}}");

        var e = Assert.Throws<PromptRenderException>(() => prompt.Render(("b", "x")));

        Assert.Equal(["a", "c"], e.MissingVariables);
    }

    [Fact]
    public void Render_VariableGivenTwice_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => Text("{{a}}").Render(("a", 1), ("a", 2)));
        Assert.Contains("'a'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_ChatPrompt_ThrowsPointingAtChatRendering()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Chat().Render(("question", "q")));
        Assert.Contains("qa/chat@7", e.Message, StringComparison.Ordinal);
        Assert.Contains("ToChatMessages", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToChatMessages_TextPrompt_IsOneUserMessage()
    {
        var message = Assert.Single(Text("Summarize: {{doc}}").ToChatMessages(("doc", "long text")));

        Assert.Equal(ChatRole.User, message.Role);
        Assert.Equal("Summarize: long text", message.Text);
    }

    [Fact]
    public void ToChatMessages_ChatPrompt_MapsRoles()
    {
        var prompt = Chat();

        var messages = prompt.ToChatMessages(new Dictionary<string, object?> { ["product"] = "Cairn", ["question"] = "How do labels work?" });

        Assert.Equal([ChatRole.System, ChatRole.User, ChatRole.Assistant], messages.Select(m => m.Role));
        Assert.Equal(["You answer questions about Cairn.", "How do labels work?", "Let me check."], messages.Select(m => m.Text));
        Assert.Equal(PromptType.Chat, prompt.Type);
        Assert.Null(prompt.Template);
        Assert.Equal(["product", "question"], prompt.Variables);
    }

    [Fact]
    public void ToChatMessages_MissingVariable_ThrowsNamingIt()
    {
        var e = Assert.Throws<PromptRenderException>(() => Chat().ToChatMessages(("product", "Cairn")));
        Assert.Equal(["question"], e.MissingVariables);
    }

    [Fact]
    public void ToOpenAIMessages_ChatPrompt_SerializesAsChatCompletionsMessages()
    {
        var messages = Chat().ToOpenAIMessages(("product", "Cairn"), ("question", "Hi?"));

        var json = JsonSerializer.Serialize([.. messages], PromptJsonContext.Default.ListPromptMessage);

        Assert.Equal(
            """[{"role":"system","content":"You answer questions about Cairn."},{"role":"user","content":"Hi?"},{"role":"assistant","content":"Let me check."}]""",
            json);
    }

    [Fact]
    public void ToOpenAIMessages_TextPrompt_IsOneUserMessage()
    {
        var message = Assert.Single(Text("Hello {{name}}").ToOpenAIMessages(("name", "Ada")));

        Assert.Equal("user", message.Role);
        Assert.Equal("Hello Ada", message.Content);
    }

    [Fact]
    public void ToOpenAIMessages_RenderedTwice_ReturnsIndependentMessages()
    {
        var prompt = Chat();
        var first = prompt.ToOpenAIMessages(("product", "A"), ("question", "1"));
        first[1].Content = "changed";

        var second = prompt.ToOpenAIMessages(("product", "B"), ("question", "2"));

        Assert.Equal("2", second[1].Content);
        Assert.Equal("{{question}}", prompt.Messages![1].Content);
    }

    [Fact]
    public void HeaderValue_IsNameAtVersion()
    {
        var prompt = Text("x");

        Assert.Equal("Cairn-Prompt", CairnPrompt.HeaderName);
        Assert.Equal("qa/answer@3", prompt.HeaderValue);
        Assert.Equal("qa/answer@3", prompt.ToString());
    }

    [Fact]
    public void ModelConfig_KnownKeys_AreTyped()
    {
        var prompt = Text("x", new JsonObject
        {
            ["model_name"] = "gpt-4o-mini",
            ["provider"] = "openai",
            ["temperature"] = 0.3,
            ["max_tokens"] = 256,
            ["top_p"] = 0.9,
            ["top_k"] = 40,
            ["frequency_penalty"] = 0.5,
            ["presence_penalty"] = -0.5,
            ["stop_sequences"] = new JsonArray("END", "STOP"),
            ["tools"] = new JsonArray(new JsonObject { ["type"] = "function" }),
        });

        var config = prompt.ModelConfig;

        Assert.Equal("gpt-4o-mini", config.ModelName);
        Assert.Equal("openai", config.Provider);
        Assert.Equal(0.3, config.Temperature);
        Assert.Equal(256, config.MaxTokens);
        Assert.Equal(0.9, config.TopP);
        Assert.Equal(40, config.TopK);
        Assert.Equal(0.5, config.FrequencyPenalty);
        Assert.Equal(-0.5, config.PresencePenalty);
        Assert.Equal(["END", "STOP"], config.StopSequences);
        Assert.Equal("function", config.Raw["tools"]![0]!["type"]!.GetValue<string>());
    }

    [Fact]
    public void ModelConfig_NoneOrWrongTypes_AccessorsAreNull()
    {
        Assert.Empty(Text("x").ModelConfig.Raw);
        Assert.Null(Text("x").ModelConfig.ModelName);

        var config = Text("x", new JsonObject { ["temperature"] = "hot", ["max_tokens"] = 1.5, ["stop_sequences"] = new JsonArray(1) }).ModelConfig;
        Assert.Null(config.Temperature);
        Assert.Null(config.MaxTokens);
        Assert.Null(config.StopSequences);
    }

    [Fact]
    public void Constructor_CopiesTheWireObject()
    {
        var info = new PromptVersionInfo { Name = "p", Version = 1, Template = "a", ModelConfig = new JsonObject { ["model_name"] = "m" } };
        var prompt = new CairnPrompt(info);

        info.Template = "b";
        info.ModelConfig["model_name"] = "other";

        Assert.Equal("a", prompt.Template);
        Assert.Equal("m", prompt.ModelConfig.Raw["model_name"]!.GetValue<string>());
    }

    [Fact]
    public void ToChatOptions_ModelConfigAndJsonSchema_MapToChatOptions()
    {
        var prompt = Text(
            "x",
            new JsonObject { ["model_name"] = "gpt-4o", ["temperature"] = 0.5, ["max_tokens"] = 100, ["stop_sequences"] = new JsonArray("END") },
            new JsonObject { ["title"] = "Answer", ["type"] = "object", ["properties"] = new JsonObject { ["text"] = new JsonObject { ["type"] = "string" } } });

        var options = prompt.ToChatOptions();

        Assert.Equal("gpt-4o", options.ModelId);
        Assert.Equal(0.5f, options.Temperature);
        Assert.Equal(100, options.MaxOutputTokens);
        Assert.Equal(["END"], options.StopSequences!);
        var format = Assert.IsType<ChatResponseFormatJson>(options.ResponseFormat);
        Assert.Equal("Answer", format.SchemaName);
        Assert.Equal("string", format.Schema!.Value.GetProperty("properties").GetProperty("text").GetProperty("type").GetString());
    }

    [Fact]
    public void ToChatOptions_OpenAIResponseFormats_MapToChatResponseFormats()
    {
        var jsonSchema = new JsonObject
        {
            ["type"] = "json_schema",
            ["json_schema"] = new JsonObject { ["name"] = "ticket", ["schema"] = new JsonObject { ["type"] = "object" } },
        };

        var schema = Assert.IsType<ChatResponseFormatJson>(Text("x", responseFormat: jsonSchema).ToChatOptions().ResponseFormat);
        Assert.Equal("ticket", schema.SchemaName);
        Assert.Equal("object", schema.Schema!.Value.GetProperty("type").GetString());
        Assert.Same(ChatResponseFormat.Json, Text("x", responseFormat: new JsonObject { ["type"] = "json_object" }).ToChatOptions().ResponseFormat);
        Assert.Null(Text("x").ToChatOptions().ResponseFormat);
        Assert.Null(Text("x").ToChatOptions().ModelId);
    }

    [Fact]
    public async Task CachedPrompt_ConcurrentRenders_AreThreadSafe()
    {
        var prompt = Chat();

        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(
            () => prompt.ToChatMessages(("product", "P" + i), ("question", "Q" + i))[1].Text,
            TestContext.Current.CancellationToken)));

        Assert.Equal(Enumerable.Range(0, 16).Select(i => "Q" + i), results);
    }
}
