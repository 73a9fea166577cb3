using Cairn.Contracts.Prompts;

namespace Cairn.Core.Tests.Prompts;

public sealed class PromptTemplateParseTests
{
    [Theory]
    [InlineData("Hello {{name", "Unclosed tag '{{name': no closing '}}'", 6, 1, 7)]
    [InlineData("Hello {{{name}}", "Unclosed tag '{{{name}}': no closing '}}}'", 6, 1, 7)]
    [InlineData("{{a {{b}}", "Unclosed tag '{{a ': no closing '}}' before the next '{{'", 0, 1, 1)]
    [InlineData("line one\n  {{#items}}\n- {{.}}\n", "Unclosed section '{{#items}}': no '{{/items}}'", 11, 2, 3)]
    [InlineData("{{#a}}\n{{#b}}x{{/a}}", "End tag '{{/a}}' does not match '{{#b}}' opened at line 2, column 1", 14, 2, 8)]
    [InlineData("{{#a}}x{{/b}}", "End tag '{{/b}}' does not match '{{#a}}' opened at line 1, column 1", 7, 1, 8)]
    [InlineData("x\n{{/a}}", "End tag '{{/a}}' has no section to close", 2, 2, 1)]
    [InlineData("a {{}} b", "Empty tag '{{}}'", 2, 1, 3)]
    [InlineData("a {{  }} b", "Empty tag '{{  }}'", 2, 1, 3)]
    [InlineData("{{{ }}}", "Empty tag '{{{ }}}'", 0, 1, 1)]
    [InlineData("{{#}}", "Tag '{{#}}' has no name", 0, 1, 1)]
    [InlineData("{{ 1abc }}", "Invalid variable name '1abc' in '{{ 1abc }}'", 0, 1, 1)]
    [InlineData("{{a b}}", "Invalid variable name 'a b'", 0, 1, 1)]
    [InlineData("{{a.}}", "Invalid variable name 'a.'", 0, 1, 1)]
    [InlineData("{{a..b}}", "Invalid variable name 'a..b'", 0, 1, 1)]
    [InlineData("{{a.1}}", "Invalid variable name 'a.1'", 0, 1, 1)]
    [InlineData("{{#a-b}}{{/a-b}}", "Invalid variable name 'a-b'", 0, 1, 1)]
    [InlineData("{{{#a}}}", "Invalid variable name '#a'", 0, 1, 1)]
    [InlineData("{{> partial}}", "Unknown tag type '>' in '{{> partial}}'", 0, 1, 1)]
    [InlineData("{{=<% %>=}}", "Unknown tag type '='", 0, 1, 1)]
    [InlineData("{{$block}}", "Unknown tag type '$'", 0, 1, 1)]
    [InlineData("JSON: [{{\"a\": 1}}]", "Unknown tag type '\"'", 7, 1, 8)]
    [InlineData("{{.}}", "'{{.}}' (the current item) is only allowed inside a section", 0, 1, 1)]
    public void Parse_Malformed_ThrowsWithPosition(string text, string problem, int position, int line, int column)
    {
        var error = Assert.Throws<PromptTemplateException>(() => PromptTemplate.Parse(text));

        Assert.StartsWith(problem, error.Message, StringComparison.Ordinal);
        Assert.EndsWith($"(line {line}, column {column}).", error.Message, StringComparison.Ordinal);
        Assert.Equal(position, error.Position);
        Assert.Equal(line, error.Line);
        Assert.Equal(column, error.Column);
        Assert.Null(error.MessageIndex);
    }

    [Theory]
    [InlineData("{{oops")]
    [InlineData("{{ 1abc }}")]
    [InlineData("{{% x }}")]
    public void Parse_TagLikeText_MessageSuggestsEscape(string text)
    {
        var error = Assert.Throws<PromptTemplateException>(() => PromptTemplate.Parse(text));

        Assert.Contains(@"write '\{{' for a literal '{{'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Null_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => PromptTemplate.Parse(null!));
    }

    [Theory]
    [InlineData("")]
    [InlineData("no tags at all")]
    [InlineData("closing braces alone }} and {single} are text")]
    [InlineData("{{! a comment with {{braces}} ")]
    public void Parse_NoVariables_ListsNone(string text)
    {
        Assert.Empty(PromptTemplate.Parse(text).Variables);
    }

    [Fact]
    public void Variables_EveryTagKind_TopLevelNamesInOrderOfFirstUse()
    {
        var template = PromptTemplate.Parse(
            "{{ question }} {{{raw}}} {{& amp}} {{#docs}}{{title}} {{.}} {{user.name}}{{/docs}} {{^empty}}none{{/empty}} {{question}} {{! note }} {{user.plan}}");

        Assert.Equal(["question", "raw", "amp", "docs", "title", "user", "empty"], template.Variables);
    }

    [Fact]
    public void Variables_SameAsMlflowForPlainTemplates()
    {
        var template = PromptTemplate.Parse("Summarize {{ text }} in {{ num_sentences }} sentences, for {{text}}.");

        Assert.Equal(["text", "num_sentences"], template.Variables);
    }

    [Fact]
    public void Text_IsTheSource()
    {
        const string Source = "Hi {{name}}\n{{! c }}\n";
        var template = PromptTemplate.Parse(Source);

        Assert.Equal(Source, template.Text);
        Assert.Equal(Source, template.ToString());
    }
}
