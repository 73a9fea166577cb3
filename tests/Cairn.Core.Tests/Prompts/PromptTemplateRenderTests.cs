using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Contracts.Prompts;

namespace Cairn.Core.Tests.Prompts;

public sealed class PromptTemplateRenderTests
{
    private static string Render(string template, IReadOnlyDictionary<string, object?> variables) =>
        PromptTemplate.Parse(template).Render(variables);

    private static Dictionary<string, object?> Vars(params (string Name, object? Value)[] values) =>
        values.ToDictionary(static v => v.Name, static v => v.Value, StringComparer.Ordinal);

    private static Dictionary<string, JsonElement> Json(string json) =>
        JsonDocument.Parse(json).RootElement.EnumerateObject().ToDictionary(static p => p.Name, static p => p.Value.Clone(), StringComparer.Ordinal);

    // ---- variables ----

    [Theory]
    [InlineData("Hello {{name}}!")]
    [InlineData("Hello {{ name }}!")]
    [InlineData("Hello {{\tname\t}}!")]
    [InlineData("Hello {{{name}}}!")]
    [InlineData("Hello {{{ name }}}!")]
    [InlineData("Hello {{&name}}!")]
    [InlineData("Hello {{& name }}!")]
    public void Render_VariableForms_InsertValue(string template)
    {
        Assert.Equal("Hello Ada!", Render(template, Vars(("name", "Ada"))));
    }

    [Fact]
    public void Render_HtmlCharacters_NeverEscaped()
    {
        var variables = Vars(("html", "<b>Tom & \"Jerry\" 'x'</b>"));

        Assert.Equal("<b>Tom & \"Jerry\" 'x'</b>|<b>Tom & \"Jerry\" 'x'</b>|<b>Tom & \"Jerry\" 'x'</b>", Render("{{html}}|{{{html}}}|{{& html}}", variables));
    }

    [Fact]
    public void Render_TextAroundTags_KeptVerbatim()
    {
        const string Template = "<system>\n  Use {braces}, }} and { { as they are; C:\\temp\\ too.\n</system>\n{{x}}";

        Assert.Equal(Template.Replace("{{x}}", "1", StringComparison.Ordinal), Render(Template, Vars(("x", 1))));
    }

    [Fact]
    public void Render_MissingVariables_NamesEveryOneAtOnce()
    {
        var template = PromptTemplate.Parse("Q: {{question}}\nC: {{context}}\nAgain: {{question}} for {{name}}");

        var error = Assert.Throws<PromptRenderException>(() => template.Render(Vars(("name", "Ada"))));

        Assert.Equal("Missing variables: question, context", error.Message);
        Assert.Equal(["question", "context"], error.MissingVariables);
    }

    [Fact]
    public void Render_OneMissingVariable_SingularMessage()
    {
        var error = Assert.Throws<PromptRenderException>(() => Render("{{a}}", Vars()));

        Assert.Equal("Missing variable: a", error.Message);
    }

    [Fact]
    public void Render_NullValue_RendersEmpty()
    {
        Assert.Equal("[]", Render("[{{x}}]", Vars(("x", null))));
    }

    [Fact]
    public void Render_NullArgument_Throws()
    {
        var template = PromptTemplate.Parse("x");

        Assert.Throws<ArgumentNullException>(() => template.Render((IReadOnlyDictionary<string, object?>)null!));
        Assert.Throws<ArgumentNullException>(() => template.Render((IReadOnlyDictionary<string, JsonElement>)null!));
    }

    [Fact]
    public void Render_ParsedOnce_RendersManyTimes()
    {
        var template = PromptTemplate.Parse("{{#items}}{{.}},{{/items}} {{name}}");

        Assert.Equal("1,2, a", template.Render(Vars(("items", new[] { 1, 2 }), ("name", "a"))));
        Assert.Equal("3, b", template.Render(Vars(("items", new[] { 3 }), ("name", "b"))));
    }

    // ---- dotted names ----

    [Fact]
    public void Render_DottedNames_LookIntoDictionaries()
    {
        var user = Vars(("name", "Ada"), ("account", Vars(("plan", "pro"))));

        Assert.Equal("Ada on pro", Render("{{user.name}} on {{ user.account.plan }}", Vars(("user", user))));
    }

    [Fact]
    public void Render_DottedNames_LookIntoOtherDictionaryTypes()
    {
        var user = new Dictionary<string, string> { ["name"] = "Ada" };

        Assert.Equal("Ada", Render("{{user.name}}", Vars(("user", user))));
    }

    [Fact]
    public void Render_DottedNameMemberMissing_ReportsDottedName()
    {
        var error = Assert.Throws<PromptRenderException>(() => Render("{{user.name}} {{user.plan}} {{org.id}}", Vars(("user", Vars(("name", "Ada"))))));

        Assert.Equal(["user.plan", "org"], error.MissingVariables);
    }

    [Fact]
    public void Render_DottedNameThroughNull_RendersEmpty()
    {
        Assert.Equal("[]", Render("[{{user.name}}]", Vars(("user", null))));
    }

    [Fact]
    public void Render_DottedNameIntoScalar_IsMissing()
    {
        var error = Assert.Throws<PromptRenderException>(() => Render("{{user.name}}", Vars(("user", "Ada"))));

        Assert.Equal(["user.name"], error.MissingVariables);
    }

    // ---- sections ----

    [Fact]
    public void Render_SectionOverListOfObjects_RendersEachItemWithOuterFallback()
    {
        const string Template = """
            Sources for {{customer}}:
            {{#docs}}
            - {{title}} ({{source}}) for {{customer}}
            {{/docs}}
            End
            """;
        var docs = new[] { Vars(("title", "Refunds"), ("source", "kb/1")), Vars(("title", "Billing"), ("source", "kb/2")) };

        var rendered = Render(Template, Vars(("customer", "Ada"), ("docs", docs)));

        Assert.Equal("Sources for Ada:\n- Refunds (kb/1) for Ada\n- Billing (kb/2) for Ada\nEnd", rendered);
    }

    [Fact]
    public void Render_SectionOverStrings_DotIsTheItem()
    {
        Assert.Equal("<a><b>", Render("{{#tags}}<{{.}}>{{/tags}}", Vars(("tags", new List<string> { "a", "b" }))));
    }

    [Fact]
    public void Render_NestedLists_DotSection()
    {
        var matrix = new[] { new[] { 1, 2 }, new[] { 3 } };

        Assert.Equal("[12][3]", Render("{{#m}}[{{#.}}{{.}}{{/.}}]{{/m}}", Vars(("m", matrix))));
    }

    [Fact]
    public void Render_SectionOverObject_UsesItAsContext()
    {
        var user = Vars(("name", "Ada"));

        Assert.Equal("Ada on pro", Render("{{#user}}{{name}} on {{plan}}{{/user}}", Vars(("user", user), ("plan", "pro"))));
    }

    [Fact]
    public void Render_NestedSections_InnerNameShadowsOuter()
    {
        var variables = Vars(("name", "outer"), ("a", Vars(("name", "inner"), ("b", Vars(("x", 1))))));

        Assert.Equal("inner 1 outer", Render("{{#a}}{{#b}}{{name}} {{x}}{{/b}}{{/a}} {{name}}", variables));
    }

    [Theory]
    [InlineData(true, "yes")]
    [InlineData(false, "")]
    [InlineData(null, "")]
    [InlineData("", "")]
    [InlineData("text", "yes")]
    [InlineData(0, "yes")]
    [InlineData(1.5, "yes")]
    public void Render_SectionOverScalar_RendersOnceWhenTruthy(object? value, string expected)
    {
        Assert.Equal(expected, Render("{{#v}}yes{{/v}}", Vars(("v", value))));
        Assert.Equal(expected.Length == 0 ? "no" : "", Render("{{^v}}no{{/v}}", Vars(("v", value))));
    }

    [Fact]
    public void Render_SectionMissing_SkippedAndInvertedRendered()
    {
        Assert.Equal("[][no]", Render("[{{#v}}yes {{missing}}{{/v}}][{{^v}}no{{/v}}]", Vars()));
    }

    [Fact]
    public void Render_SectionOverEmptyContainers_Skipped()
    {
        var variables = Vars(("list", Array.Empty<string>()), ("dict", Vars()), ("lazy", Enumerable.Empty<int>()));

        Assert.Equal("[][][]", Render("[{{#list}}x{{/list}}][{{#dict}}x{{/dict}}][{{#lazy}}x{{/lazy}}]", variables));
        Assert.Equal("[no][no][no]", Render("[{{^list}}no{{/list}}][{{^dict}}no{{/dict}}][{{^lazy}}no{{/lazy}}]", variables));
    }

    [Fact]
    public void Render_InvertedSectionOverList_SkippedWhenNotEmpty()
    {
        Assert.Equal("", Render("{{^docs}}No documents.{{/docs}}", Vars(("docs", new[] { "a" }))));
    }

    [Fact]
    public void Render_LazySequence_EnumeratedOnce()
    {
        var enumerations = 0;
        IEnumerable<int> Items()
        {
            enumerations++;
            yield return 1;
            yield return 2;
        }

        Assert.Equal("12", Render("{{#items}}{{.}}{{/items}}", Vars(("items", Items()))));
        Assert.Equal(1, enumerations);
    }

    [Fact]
    public void Render_MissingInsideSection_IsAnErrorToo()
    {
        var docs = new[] { Vars(("title", "A")), Vars(("title", "B"), ("summary", null)) };

        var error = Assert.Throws<PromptRenderException>(() => Render("{{#docs}}{{title}}: {{summary}} {{typo}}\n{{/docs}}", Vars(("docs", docs))));

        Assert.Equal(["summary", "typo"], error.MissingVariables);
    }

    [Fact]
    public void Render_OptionalFieldInsideSection_GuardedBySection()
    {
        var docs = new[] { Vars(("title", "A")), Vars(("title", "B"), ("summary", "about b")) };

        Assert.Equal("A\nB: about b\n", Render("{{#docs}}{{title}}{{#summary}}: {{summary}}{{/summary}}\n{{/docs}}", Vars(("docs", docs))));
    }

    // ---- comments, escapes, standalone lines ----

    [Fact]
    public void Render_Comments_Removed()
    {
        Assert.Equal("a b", Render("a {{! a note, with a } brace }}b", Vars()));
        Assert.Equal("a b }}", Render("a {{! ends at the first }}b }}", Vars()));
        Assert.Equal("a b", Render("a {{!\nmulti\nline\n}}b", Vars()));
    }

    [Theory]
    [InlineData(@"\{{name}}", "{{name}}")]
    [InlineData(@"\{{{name}}}", "{{{name}}}")]
    [InlineData(@"\{{ not a tag", "{{ not a tag")]
    [InlineData(@"\\{{name}}", @"\Ada")]
    [InlineData(@"\\\{{name}}", @"\{{name}}")]
    [InlineData(@"\\\\{{name}}", @"\\Ada")]
    [InlineData(@"C:\dir\ and \n stay", @"C:\dir\ and \n stay")]
    [InlineData(@"a \{{x}} b {{name}}", "a {{x}} b Ada")]
    public void Render_BackslashBeforeBraces_Escapes(string template, string expected)
    {
        Assert.Equal(expected, Render(template, Vars(("name", "Ada"))));
    }

    [Fact]
    public void Render_EscapedTags_AreNotVariables()
    {
        Assert.Equal(["b"], PromptTemplate.Parse(@"\{{a}} {{b}}").Variables);
    }

    [Fact]
    public void Render_StandaloneLines_Removed()
    {
        const string Template = "Intro\n  {{#show}}  \nshown\n\t{{/show}}\n{{! note }}\n{{^show}}\nhidden\n{{/show}}\nEnd\n";

        Assert.Equal("Intro\nshown\nEnd\n", Render(Template, Vars(("show", true))));
    }

    [Fact]
    public void Render_StandaloneLines_CrLf()
    {
        Assert.Equal("a\r\nb\r\nc", Render("a\r\n{{#t}}\r\nb\r\n{{/t}}\r\nc", Vars(("t", true))));
    }

    [Fact]
    public void Render_StandaloneTagOnFirstAndLastLine_Removed()
    {
        Assert.Equal("x\n", Render("{{#t}}\nx\n  {{/t}}", Vars(("t", true))));
    }

    [Theory]
    [InlineData("a {{#t}}\nb\n{{/t}}", "a \nb\n")]
    [InlineData("{{#t}}b{{/t}}\nc", "b\nc")]
    [InlineData("{{#t}} {{/t}}\nc", " \nc")]
    [InlineData("  {{x}}\nc", "  1\nc")]
    [InlineData("{{x}}{{! c }}\nd", "1\nd")]
    public void Render_TagSharingLine_NotStandalone(string template, string expected)
    {
        Assert.Equal(expected, Render(template, Vars(("t", true), ("x", 1))));
    }

    // ---- values ----

    [Fact]
    public void Render_Numbers_InvariantCulture()
    {
        var previous = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
        try
        {
            var variables = Vars(("i", -42), ("l", 12345678901L), ("d", 0.1), ("whole", 3.0), ("big", 1.5e300), ("f", 0.25f), ("m", 1.50m), ("u", 7UL), ("dt", new DateTime(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc)));

            Assert.Equal("-42 12345678901 0.1 3 1.5E+300 0.25 1.50 7 2025-01-02T03:04:05.0000000Z", Render("{{i}} {{l}} {{d}} {{whole}} {{big}} {{f}} {{m}} {{u}} {{dt}}", variables));
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public void Render_Booleans_Lowercase()
    {
        Assert.Equal("true false", Render("{{a}} {{b}}", Vars(("a", true), ("b", false))));
    }

    [Fact]
    public void Render_ContainersAsValues_CompactJson()
    {
        var variables = Vars(("list", new object?[] { "a", 1, null, true }), ("dict", Vars(("k", "<v & w>"), ("n", 2.5))), ("unicode", new[] { "héllo" }));

        Assert.Equal("""["a",1,null,true] {"k":"<v & w>","n":2.5} ["héllo"]""", Render("{{list}} {{dict}} {{unicode}}", variables));
    }

    // ---- JSON values ----

    private const string JsonVariables = """
        {
          "question": "Why <b>?",
          "n": 1.50,
          "big": 12345678901234567890,
          "yes": true,
          "no": false,
          "none": null,
          "user": { "name": "Ada", "plan": { "tier": "pro" } },
          "docs": [ { "title": "A" }, { "title": "B" } ],
          "tags": [ "x", "y" ],
          "empty": [],
          "emptyObject": {},
          "emptyString": "",
          "obj": { "a": "<&>", "b": [1, 2] }
        }
        """;

    [Fact]
    public void Render_JsonElements_ScalarsAsText()
    {
        var template = PromptTemplate.Parse("{{question}}|{{n}}|{{big}}|{{yes}}|{{no}}|{{none}}|{{user.name}}|{{user.plan.tier}}");

        Assert.Equal("Why <b>?|1.50|12345678901234567890|true|false||Ada|pro", template.Render(Json(JsonVariables)));
    }

    [Fact]
    public void Render_JsonElements_Sections()
    {
        var template = PromptTemplate.Parse(
            "{{#docs}}[{{title}}]{{/docs}} {{#tags}}{{.}}{{/tags}} {{#user}}{{name}}{{/user}} {{#yes}}Y{{/yes}}{{#no}}N{{/no}}{{#none}}X{{/none}}"
            + " {{^empty}}e{{/empty}}{{^emptyObject}}o{{/emptyObject}}{{^emptyString}}s{{/emptyString}}{{^none}}n{{/none}}{{^docs}}d{{/docs}}");

        Assert.Equal("[A][B] xy Ada Y eosn", template.Render(Json(JsonVariables)));
    }

    [Fact]
    public void Render_JsonContainersAsValues_CompactJson()
    {
        Assert.Equal("""{"a":"<&>","b":[1,2]} ["x","y"]""", PromptTemplate.Parse("{{obj}} {{tags}}").Render(Json(JsonVariables)));
    }

    [Fact]
    public void Render_JsonElementMissing_Reported()
    {
        var error = Assert.Throws<PromptRenderException>(() => PromptTemplate.Parse("{{user.email}} {{other}}").Render(Json(JsonVariables)));

        Assert.Equal(["user.email", "other"], error.MissingVariables);
    }

    [Fact]
    public void Render_JsonElementInObjectDictionary_SameAsJsonOverload()
    {
        var variables = Json(JsonVariables).ToDictionary(static p => p.Key, static p => (object?)p.Value, StringComparer.Ordinal);

        Assert.Equal("Why <b>? 1.50 [A][B]", Render("{{question}} {{n}} {{#docs}}[{{title}}]{{/docs}}", variables));
    }

    [Fact]
    public void Render_JsonNodes()
    {
        var node = JsonNode.Parse(JsonVariables)!.AsObject();
        var variables = Vars(
            ("user", node["user"]),
            ("docs", node["docs"]),
            ("n", node["n"]),
            ("yes", node["yes"]),
            ("none", node["none"]),
            ("created", JsonValue.Create(42)),
            ("text", JsonValue.Create("plain")),
            ("obj", node["obj"]));

        var rendered = Render("{{user.name}} {{user.plan.tier}} {{#docs}}[{{title}}]{{/docs}} {{n}} {{yes}} [{{none}}] {{created}} {{text}} {{obj}} {{#yes}}Y{{/yes}}", variables);

        Assert.Equal("""Ada pro [A][B] 1.50 true [] 42 plain {"a":"<&>","b":[1,2]} Y""", rendered);
    }
}
