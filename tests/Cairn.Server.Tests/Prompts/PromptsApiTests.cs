using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Cairn.Server.Tests.Prompts;

/// <summary>The prompt registry's REST API, its bad input, concurrent saves, and interoperation with MLflow's registry API.</summary>
public sealed class PromptsApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Versions_Labels_Render_Diff_Delete()
    {
        await using var server = await CairnTestServer.StartAsync();
        var v1 = await server.PostJsonAsync("/api/cairn/prompts", """
            {"name":"support/triage","template":"Answer briefly.\nCustomer: {{customer}}\nQuestion: {{question}}","commit_message":"first","author":"ana",
             "model_config":{"model_name":"fast","temperature":0.2,"max_tokens":256},"labels":["staging"],"description":"Triage incoming questions"}
            """, 201);
        Assert.Equal(1, v1["version"]!.GetValue<int>());
        Assert.Equal(["customer", "question"], v1["variables"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Contains("staging", v1["labels"]!.AsArray().Select(l => l!.GetValue<string>()));
        var v2 = await server.PostJsonAsync("/api/cairn/prompts", """
            {"name":"support/triage","template":"Answer in detail, with references.\nCustomer: {{customer}}\nQuestion: {{question}}","commit_message":"detail",
             "model_config":{"model_name":"smart","temperature":0.7}}
            """, 201);
        Assert.Equal(2, v2["version"]!.GetValue<int>());

        var latest = await server.GetAsync("/api/cairn/prompts/support/triage");
        Assert.Equal(2, latest["version"]!.GetValue<int>());
        Assert.Equal(1, (await server.GetAsync("/api/cairn/prompts/support/triage?label=staging"))["version"]!.GetValue<int>());
        Assert.Equal("ana", (await server.GetAsync("/api/cairn/prompts/support/triage?version=1"))["author"]!.GetValue<string>());

        // Move production to v2, then back to v1: no deploy needed, the next fetch sees it.
        await server.PostJsonAsync("/api/cairn/prompt-labels/support/triage", """{"label":"production","version":2}""");
        Assert.Equal(2, (await server.GetAsync("/api/cairn/prompts/support/triage?label=production"))["version"]!.GetValue<int>());
        await server.PostJsonAsync("/api/cairn/prompt-labels/support/triage", """{"label":"production","version":1}""");
        Assert.Equal(1, (await server.GetAsync("/api/cairn/prompts/support/triage?label=production"))["version"]!.GetValue<int>());

        var rendered = await server.PostJsonAsync("/api/cairn/prompt-render/support/triage", """{"label":"production","variables":{"customer":"ACME <Ltd>","question":"Where is my invoice?"}}""");
        Assert.Equal("Answer briefly.\nCustomer: ACME <Ltd>\nQuestion: Where is my invoice?", rendered["text"]!.GetValue<string>());
        Assert.Equal("fast", rendered["model_config"]!["model_name"]!.GetValue<string>());
        var missing = await server.PostJsonAsync("/api/cairn/prompt-render/support/triage", """{"variables":{"customer":"ACME"}}""", 400);
        Assert.Contains("question", missing["detail"]!.GetValue<string>(), StringComparison.Ordinal);

        using (var raw = await server.Client.GetAsync("/api/cairn/prompt-diff/support/triage?from=1&to=2", Ct))
        {
            Assert.Contains("\"op\":\"+\"", await raw.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }

        var diff = await server.GetAsync("/api/cairn/prompt-diff/support/triage?from=1&to=2");
        var lines = diff["template"]!.AsArray().Select(l => (l!["op"]!.GetValue<string>(), l["text"]!.GetValue<string>())).ToList();
        Assert.Contains(("-", "Answer briefly."), lines);
        Assert.Contains(("+", "Answer in detail, with references."), lines);
        Assert.Contains(("=", "Customer: {{customer}}"), lines);
        Assert.Contains(diff["config"]!.AsArray(), l => l!["op"]!.GetValue<string>() == "+" && l["text"]!.GetValue<string>().Contains("smart", StringComparison.Ordinal));

        var versions = await server.GetAsync("/api/cairn/prompt-versions/support/triage");
        Assert.Equal([2, 1], versions["versions"]!.AsArray().Select(v => v!["version"]!.GetValue<int>()));
        var list = await server.GetAsync("/api/cairn/prompts?folder=support");
        var listed = Assert.Single(list["prompts"]!.AsArray())!;
        Assert.Equal(2, listed["latest_version"]!.GetValue<int>());
        Assert.Equal(1, listed["labels"]!["production"]!.GetValue<int>());
        Assert.Equal("Triage incoming questions", listed["description"]!.GetValue<string>());
        Assert.Empty((await server.GetAsync("/api/cairn/prompts?folder=sales"))["prompts"]!.AsArray());

        using (var delete = await server.Client.DeleteAsync("/api/cairn/prompt-labels/support/triage?label=staging", Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        await server.GetAsync("/api/cairn/prompts/support/triage?label=staging", 404);
        using (var delete = await server.Client.DeleteAsync("/api/cairn/prompts/support/triage?version=2", Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        Assert.Equal(1, (await server.GetAsync("/api/cairn/prompts/support/triage"))["version"]!.GetValue<int>());
        using (var delete = await server.Client.DeleteAsync("/api/cairn/prompts/support/triage", Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        await server.GetAsync("/api/cairn/prompts/support/triage", 404);
    }

    [Fact]
    public async Task ChatPrompt_RendersMessages()
    {
        await using var server = await CairnTestServer.StartAsync();
        await server.PostJsonAsync("/api/cairn/prompts", """
            {"name":"qa","messages":[{"role":"system","content":"You answer questions about {{product}}."},{"role":"user","content":"{{question}}"}]}
            """, 201);
        var got = await server.GetAsync("/api/cairn/prompts/qa");
        Assert.Equal("chat", got["type"]!.GetValue<string>());
        Assert.Equal(["product", "question"], got["variables"]!.AsArray().Select(v => v!.GetValue<string>()));
        var rendered = await server.PostJsonAsync("/api/cairn/prompt-render/qa", """{"variables":{"product":"Cairn","question":"Is it fast?"}}""");
        var messages = rendered["messages"]!.AsArray();
        Assert.Equal("You answer questions about Cairn.", messages[0]!["content"]!.GetValue<string>());
        Assert.Equal(("user", "Is it fast?"), (messages[1]!["role"]!.GetValue<string>(), messages[1]!["content"]!.GetValue<string>()));
    }

    [Fact]
    public async Task BadInput_GetsProblemDetails()
    {
        await using var server = await CairnTestServer.StartAsync();
        await server.PostJsonAsync("/api/cairn/prompts", """{"name":"p","template":"Hi {{name}}"}""", 201);

        async Task<string> Refused(string body, int status = 400)
        {
            var problem = await server.PostJsonAsync("/api/cairn/prompts", body, status);
            return problem["detail"]!.GetValue<string>();
        }

        Assert.Contains("unclosed", (await Refused("""{"name":"p","template":"Hi {{name"}""")).ToLowerInvariant(), StringComparison.Ordinal);
        Assert.Contains("section", (await Refused("""{"name":"p","template":"{{#items}}x"}""")).ToLowerInvariant(), StringComparison.Ordinal);
        await Refused("""{"name":"../etc/passwd","template":"x"}""");
        await Refused("""{"name":"a/../b","template":"x"}""");
        await Refused("{\"name\":\"bad\\u0007name\",\"template\":\"x\"}");
        await Refused("""{"name":"/leading","template":"x"}""");
        await Refused("""{"name":"p"}""");
        await Refused("""{"name":"p","template":"x","messages":[{"role":"user","content":"y"}]}""");
        await Refused("""{"name":"p","template":"x","labels":["latest"]}""");
        await Refused("""{"name":"p","template":"x","labels":["not ok"]}""");
        await Refused("""{"name":"p","template":"x","model_config":{"temperature":-1}}""");
        await Refused("""{"name":"p","template":"x","model_config":{"max_tokens":1.5}}""");
        await Refused("""{"template":"x"}""");
        await Refused("{not json");

        var moved = await server.PostJsonAsync("/api/cairn/prompt-labels/p", """{"label":"production","version":9}""", 400);
        Assert.Contains("no version 9", moved["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        await server.PostJsonAsync("/api/cairn/prompt-labels/p", """{"label":"production"}""", 400);
        await server.GetAsync("/api/cairn/prompts/p?label=nope", 404);
        await server.GetAsync("/api/cairn/prompts/p?version=7", 404);
        await server.GetAsync("/api/cairn/prompts/p?version=abc", 400);
        await server.GetAsync("/api/cairn/prompts/missing", 404);
        await server.GetAsync("/api/cairn/prompt-diff/p?from=1", 400);

        // A registered model that is not a prompt is neither shown nor overwritten as one.
        await server.PostJsonAsync("/api/2.0/mlflow/registered-models/create", """{"name":"iris-classifier"}""");
        await server.GetAsync("/api/cairn/prompts/iris-classifier", 404);
        await server.PostJsonAsync("/api/cairn/prompts", """{"name":"iris-classifier","template":"x"}""", 409);
    }

    [Fact]
    public async Task ConcurrentSaves_GetDistinctVersions()
    {
        await using var server = await CairnTestServer.StartAsync();
        var saves = await Task.WhenAll(Enumerable.Range(0, 16).Select(async i =>
        {
            var body = "{\"name\":\"busy\",\"template\":\"draft " + i.ToString(System.Globalization.CultureInfo.InvariantCulture) + " for {{x}}\"}";
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            using var response = await server.Client.PostAsync("/api/cairn/prompts", content, Ct);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            return JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!["version"]!.GetValue<int>();
        }));
        Assert.Equal(Enumerable.Range(1, 16), saves.Order());
        var versions = await server.GetAsync("/api/cairn/prompt-versions/busy");
        Assert.Equal(16, versions["versions"]!.AsArray().Count);
    }

    [Fact]
    public async Task MlflowInterop_PromptsRegisteredEitherWay_AreSeenByBoth()
    {
        await using var server = await CairnTestServer.StartAsync();

        // As MLflow's client registers a prompt (mlflow.genai.register_prompt): a tagged registered model, a version whose
        // tags hold the template, then an alias.
        await server.PostJsonAsync("/api/2.0/mlflow/registered-models/create", """{"name":"summarizer","tags":[{"key":"mlflow.prompt.is_prompt","value":"true"}]}""");
        await server.PostJsonAsync("/api/2.0/mlflow/model-versions/create", """
            {"name":"summarizer","source":"dummy-source","description":"initial",
             "tags":[{"key":"mlflow.prompt.is_prompt","value":"true"},{"key":"mlflow.prompt.text","value":"Summarize in {{ num_sentences }} sentences: {{sentences}}"},
                     {"key":"_mlflow_prompt_model_config","value":"{\"model_name\": \"gpt-4o-mini\", \"temperature\": 0.1}"}]}
            """);
        await server.PostJsonAsync("/api/2.0/mlflow/model-versions/create", """
            {"name":"summarizer","source":"dummy-source","description":"chat form",
             "tags":[{"key":"mlflow.prompt.is_prompt","value":"true"},{"key":"_mlflow_prompt_type","value":"chat"},
                     {"key":"mlflow.prompt.text","value":"[{\"role\": \"system\", \"content\": \"You summarize.\"}, {\"role\": \"user\", \"content\": \"{{text}}\"}]"}]}
            """);
        await server.PostJsonAsync("/api/2.0/mlflow/registered-models/alias", """{"name":"summarizer","alias":"production","version":"1"}""");

        var production = await server.GetAsync("/api/cairn/prompts/summarizer?label=production");
        Assert.Equal("Summarize in {{ num_sentences }} sentences: {{sentences}}", production["template"]!.GetValue<string>());
        Assert.Equal(["num_sentences", "sentences"], production["variables"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal("initial", production["commit_message"]!.GetValue<string>());
        Assert.Equal("gpt-4o-mini", production["model_config"]!["model_name"]!.GetValue<string>());
        var chat = await server.GetAsync("/api/cairn/prompts/summarizer");
        Assert.Equal("chat", chat["type"]!.GetValue<string>());
        Assert.Equal("{{text}}", chat["messages"]![1]!["content"]!.GetValue<string>());
        Assert.Contains((await server.GetAsync("/api/cairn/prompts"))["prompts"]!.AsArray(), p => p!["name"]!.GetValue<string>() == "summarizer");

        // A prompt made in Cairn, read as MLflow's client reads prompts.
        await server.PostJsonAsync("/api/cairn/prompts", """
            {"name":"greeter","template":"Hello {{name}}!","commit_message":"v1","model_config":{"model_name":"fast","max_tokens":64},"labels":["production"]}
            """, 201);
        var model = await server.GetAsync("/api/2.0/mlflow/registered-models/get?name=greeter");
        Assert.Contains(model["registered_model"]!["tags"]!.AsArray(), t => t!["key"]!.GetValue<string>() == "mlflow.prompt.is_prompt" && t["value"]!.GetValue<string>() == "true");
        var byAlias = await server.GetAsync("/api/2.0/mlflow/registered-models/alias?name=greeter&alias=production");
        var tags = byAlias["model_version"]!["tags"]!.AsArray().ToDictionary(t => t!["key"]!.GetValue<string>(), t => t!["value"]!.GetValue<string>());
        Assert.Equal("Hello {{name}}!", tags["mlflow.prompt.text"]);
        Assert.Equal("true", tags["mlflow.prompt.is_prompt"]);
        Assert.Equal("fast", JsonNode.Parse(tags["_mlflow_prompt_model_config"])!["model_name"]!.GetValue<string>());
        Assert.Equal("v1", byAlias["model_version"]!["description"]!.GetValue<string>());
        var search = await server.GetAsync("/api/2.0/mlflow/registered-models/search?filter=" + Uri.EscapeDataString("tags.`mlflow.prompt.is_prompt` = 'true'"));
        Assert.Equal(["greeter", "summarizer"], search["registered_models"]!.AsArray().Select(m => m!["name"]!.GetValue<string>()).Order());
    }
}
