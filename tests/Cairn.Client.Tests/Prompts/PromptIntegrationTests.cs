using System.Net;
using System.Text.Json.Nodes;
using Cairn.Client.Prompts;
using Cairn.Client.Tests.Integration;
using Cairn.Client.Tests.TestDoubles;
using Cairn.Contracts.Prompts;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;

namespace Cairn.Client.Tests.Prompts;

public sealed class PromptIntegrationTests(CairnServerFixture server) : IClassFixture<CairnServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Prompts_CreateGetRenderAndMoveLabel_AgainstRealServer()
    {
        var name = $"sdk-it/support-{Guid.NewGuid():N}";
        using var admin = server.CreateClient();
        var time = new FakeTimeProvider(TestClients.Start);
        using var app = new CairnClient(server.BaseAddress, time) { PromptCacheOptions = new PromptCacheOptions { StaleWhileRevalidate = false } };

        var v1 = await admin.CreatePromptVersionAsync(
            new CreatePromptVersionRequest
            {
                Name = name,
                Messages =
                [
                    new PromptMessage { Role = "system", Content = "You support {{product}}." },
                    new PromptMessage { Role = "user", Content = "{{question}}" },
                ],
                ModelConfig = new JsonObject { ["model_name"] = "gpt-4o-mini", ["temperature"] = 0.2, ["max_tokens"] = 300 },
                CommitMessage = "first",
                Labels = ["production"],
            },
            Ct);
        var v2 = await admin.CreatePromptVersionAsync(
            new CreatePromptVersionRequest { Name = name, Template = "Answer about {{product}}: {{question}}", Labels = ["staging"] },
            Ct);
        Assert.Equal((1, 2), (v1.Version, v2.Version));

        var production = await app.GetPromptAsync(name, "production", cancellationToken: Ct);
        Assert.Equal(1, production.Version);
        Assert.Equal(PromptType.Chat, production.Type);
        Assert.Contains("production", production.Labels);
        Assert.Equal(["product", "question"], production.Variables);
        Assert.Equal("gpt-4o-mini", production.ModelConfig.ModelName);
        Assert.Equal(300, production.ModelConfig.MaxTokens);
        Assert.Equal("first", production.CommitMessage);
        Assert.Equal($"{name}@1", production.HeaderValue);
        var messages = production.ToChatMessages(("product", "Cairn"), ("question", "How do I roll back?"));
        Assert.Equal([ChatRole.System, ChatRole.User], messages.Select(m => m.Role));
        Assert.Equal("You support Cairn.", messages[0].Text);

        var latest = await app.GetPromptAsync(name, cancellationToken: Ct);
        Assert.Equal(2, latest.Version);
        Assert.Equal("Answer about Cairn: Why?", latest.Render(("product", "Cairn"), ("question", "Why?")));
        Assert.Equal(1, (await app.GetPromptAsync(name, version: 1, cancellationToken: Ct)).Version);

        // Moved by another client: the app sees its cached version until the time-to-live has passed.
        await admin.SetPromptLabelAsync(name, "production", 2, Ct);
        Assert.Equal(1, (await app.GetPromptAsync(name, "production", cancellationToken: Ct)).Version);
        time.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(2, (await app.GetPromptAsync(name, "production", cancellationToken: Ct)).Version);

        // Moved by the app's own client: its cache is cleared at once.
        await app.SetPromptLabelAsync(name, "production", 1, Ct);
        Assert.Equal(1, (await app.GetPromptAsync(name, "production", cancellationToken: Ct)).Version);

        var e = await Assert.ThrowsAsync<CairnApiException>(() => app.GetPromptAsync(name, "canary", cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.NotFound, e.StatusCode);
        Assert.Contains("canary", e.ServerMessage, StringComparison.Ordinal);
    }
}
