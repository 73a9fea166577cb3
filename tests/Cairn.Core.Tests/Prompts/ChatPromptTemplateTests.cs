using System.Text.Json;
using Cairn.Contracts.Prompts;

namespace Cairn.Core.Tests.Prompts;

public sealed class ChatPromptTemplateTests
{
    private static List<PromptMessage> Messages(params (string Role, string Content)[] messages) =>
        [.. messages.Select(static m => new PromptMessage { Role = m.Role, Content = m.Content })];

    [Fact]
    public void Parse_Variables_UnionInOrderOfFirstUse()
    {
        var chat = ChatPromptTemplate.Parse(Messages(
            ("system", "You help {{customer}} on the {{plan}} plan.{{#docs}}\n- {{title}}{{/docs}}"),
            ("user", "{{question}} (from {{customer}})")));

        Assert.Equal(2, chat.Count);
        Assert.Equal(["customer", "plan", "docs", "title", "question"], chat.Variables);
    }

    [Fact]
    public void Render_EveryMessage_NewListRolesKept()
    {
        var source = Messages(("system", "You help {{customer}}."), ("user", "{{question}}"), ("assistant", "No variables here."));
        var chat = ChatPromptTemplate.Parse(source);

        var rendered = chat.Render(new Dictionary<string, object?> { ["customer"] = "Ada", ["question"] = "<why> & how?" });

        Assert.Equal(["system", "user", "assistant"], rendered.Select(static m => m.Role));
        Assert.Equal(["You help Ada.", "<why> & how?", "No variables here."], rendered.Select(static m => m.Content));
        Assert.Equal("You help {{customer}}.", source[0].Content);
        Assert.NotSame(source[2], rendered[2]);
    }

    [Fact]
    public void Render_JsonVariables()
    {
        var chat = ChatPromptTemplate.Parse(Messages(("user", "{{q}} {{#tags}}#{{.}}{{/tags}}")));
        var variables = JsonDocument.Parse("""{"q":"Hi","tags":["a","b"]}""").RootElement.EnumerateObject().ToDictionary(static p => p.Name, static p => p.Value.Clone());

        Assert.Equal("Hi #a#b", Assert.Single(chat.Render(variables)).Content);
    }

    [Fact]
    public void Parse_MalformedMessage_SaysWhichMessage()
    {
        var error = Assert.Throws<PromptTemplateException>(() => ChatPromptTemplate.Parse(Messages(("system", "fine {{x}}"), ("user", "line\nbroken {{oops"))));

        Assert.StartsWith("Message 1 (user): Unclosed tag '{{oops'", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("(line 2, column 8).", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, error.MessageIndex);
        Assert.Equal(12, error.Position);
        Assert.Equal(2, error.Line);
        Assert.Equal(8, error.Column);
    }

    [Fact]
    public void Render_Missing_NamesEveryVariableAndTheMessagesNeedingThem()
    {
        var chat = ChatPromptTemplate.Parse(Messages(("system", "Context: {{context}}"), ("user", "{{question}} {{context}} {{name}}")));

        var error = Assert.Throws<PromptRenderException>(() => chat.Render(new Dictionary<string, object?> { ["name"] = "Ada" }));

        Assert.Equal(["context", "question"], error.MissingVariables);
        Assert.Equal("Missing variables: context, question. In message 0 (system): context. In message 1 (user): question, context.", error.Message);
    }

    [Fact]
    public void Parse_NullArguments_Throw()
    {
        Assert.Throws<ArgumentNullException>(() => ChatPromptTemplate.Parse(null!));
        Assert.Throws<ArgumentException>(() => ChatPromptTemplate.Parse([null!]));
    }

    [Fact]
    public void Parse_Empty_NoMessages()
    {
        var chat = ChatPromptTemplate.Parse([]);

        Assert.Empty(chat.Variables);
        Assert.Empty(chat.Render(new Dictionary<string, object?>()));
    }
}
