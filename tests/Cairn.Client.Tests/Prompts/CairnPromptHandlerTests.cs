using Cairn.Client.Prompts;
using Cairn.Contracts.Prompts;

namespace Cairn.Client.Tests.Prompts;

/// <summary>The handler that stamps <c>Cairn-Prompt</c> on requests made while a prompt is in use.</summary>
public sealed class CairnPromptHandlerTests
{
    private static CairnPrompt Prompt(string name, int version) =>
        new(new PromptVersionInfo { Name = name, Version = version, Type = "text", Template = "Hi {{name}}" });

    [Fact]
    public async Task RequestsInsideUse_CarryThePromptVersion_OthersDoNot()
    {
        var seen = new List<string?>();
        using var http = new HttpClient(new CairnPromptHandler { InnerHandler = new Capture(seen) });
        var triage = Prompt("support/triage", 3);
        var summary = Prompt("summarizer", 1);

        await http.GetAsync(new Uri("http://gateway.test/v1/models"), TestContext.Current.CancellationToken);
        using (triage.Use())
        {
            await http.GetAsync(new Uri("http://gateway.test/v1/chat/completions"), TestContext.Current.CancellationToken);
            using (summary.Use())
            {
                await http.GetAsync(new Uri("http://gateway.test/v1/chat/completions"), TestContext.Current.CancellationToken);
            }

            // Flows into awaited work on other threads, and an explicit header wins.
            await Task.Run(() => http.GetAsync(new Uri("http://gateway.test/v1/chat/completions"), TestContext.Current.CancellationToken), TestContext.Current.CancellationToken);
            using var explicitHeader = new HttpRequestMessage(HttpMethod.Get, "http://gateway.test/v1/chat/completions");
            explicitHeader.Headers.Add(CairnPrompt.HeaderName, "other@9");
            await http.SendAsync(explicitHeader, TestContext.Current.CancellationToken);
        }

        await http.GetAsync(new Uri("http://gateway.test/v1/chat/completions"), TestContext.Current.CancellationToken);
        Assert.Equal([null, "support/triage@3", "summarizer@1", "support/triage@3", "other@9", null], seen);
        Assert.Null(CairnPromptHandler.Current);
    }

    private sealed class Capture(List<string?> seen) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            seen.Add(request.Headers.TryGetValues(CairnPrompt.HeaderName, out var values) ? values.Single() : null);
            return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK));
        }
    }
}
