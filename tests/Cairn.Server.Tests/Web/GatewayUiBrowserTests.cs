using System.Net.Http.Headers;
using System.Text;
using Microsoft.Playwright;
using Cairn.Server.Tests.Gateway;

namespace Cairn.Server.Tests.Web;

/// <summary>The gateway's Requests and Usage pages in headless Chromium, over requests sent through the gateway to a fake upstream.</summary>
public sealed class GatewayUiBrowserTests : IAsyncLifetime
{
    private static readonly string s_screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");
    private GatewayHarness _gateway = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async ValueTask InitializeAsync()
    {
        _gateway = await GatewayHarness.StartAsync();
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        Directory.CreateDirectory(s_screenshots);
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        await _gateway.DisposeAsync();
    }

    [Fact]
    public async Task RequestsAndUsage_FilterOpenDetailAndSeeTotals()
    {
        _gateway.Upstream.PromptTokens = 100;
        await SendAsync("""{"model":"fast","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is the capital of Chile?"}]}""", "alice", "s-1", ("Feature", "chat"));
        await SendAsync("""{"model":"fast","stream":true,"messages":[{"role":"user","content":"Stream a greeting"}]}""", "alice", "s-1", ("Feature", "chat"));
        await SendAsync("""{"model":"fake/gpt-4o","messages":[{"role":"user","content":"Weather in Santiago?"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city_name":{"type":"string"}}}}}]}""", "bob", "s-2", ("Feature", "tools"));
        _gateway.Upstream.Enqueue(FakeBehavior.BadRequest);
        await SendAsync("""{"model":"fast","messages":[{"role":"user","content":"Break it"}],"temperature":9}""", "bob", "s-2", ("Feature", "tools"));
        await _gateway.RecordsAsync(4);

        var context = await _browser.NewContextAsync(new() { ViewportSize = new() { Width = 1360, Height = 900 } });
        var page = await context.NewPageAsync();
        var response = await page.GotoAsync(new Uri(_gateway.Server.BaseAddress, "/gateway/requests").ToString());
        Assert.Equal(200, response!.Status);
        var rows = page.Locator("#requests tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(4);
        await Assertions.Expect(page.Locator("#requests")).ToContainTextAsync("gpt-4o");
        await Assertions.Expect(page.Locator("#requests")).ToContainTextAsync("400");
        await page.ScreenshotAsync(new() { Path = Path.Combine(s_screenshots, "gateway-requests.png"), FullPage = true });

        // Filters keep a shareable URL.
        await page.Locator("#request-filters input[name=user]").FillAsync("alice");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        Assert.Contains("user=alice", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(rows).ToHaveCountAsync(2);
        await page.GotoAsync(new Uri(_gateway.Server.BaseAddress, "/gateway/requests?property=Feature%3Dtools&status=error").ToString());
        await Assertions.Expect(rows).ToHaveCountAsync(1);

        // The tool call request as a conversation.
        await page.GotoAsync(new Uri(_gateway.Server.BaseAddress, "/gateway/requests?model=fake%2Fgpt-4o").ToString());
        await rows.First.Locator("a").ClickAsync();
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("fake/gpt-4o");
        var conversation = page.Locator("#conversation");
        await Assertions.Expect(conversation.Locator(".bubble.role-user")).ToContainTextAsync("Weather in Santiago?");
        await Assertions.Expect(conversation.Locator(".bubble.role-assistant .bubble-tool")).ToContainTextAsync("get_weather");
        await Assertions.Expect(page.Locator("#attempts tbody tr")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#request-overview")).ToContainTextAsync("bob");
        await Assertions.Expect(page.Locator("#request-tokens")).ToContainTextAsync("100 input");
        await page.ScreenshotAsync(new() { Path = Path.Combine(s_screenshots, "gateway-request.png"), FullPage = true });

        // The streamed answer is reassembled from its events.
        await page.GotoAsync(new Uri(_gateway.Server.BaseAddress, "/gateway/requests?user=alice").ToString());
        await rows.First.Locator("a").ClickAsync();
        await Assertions.Expect(page.Locator("#request-overview")).ToContainTextAsync("streamed");
        await Assertions.Expect(page.Locator("#conversation .bubble.role-assistant")).ToContainTextAsync("Hello from the fake upstream.");

        var missing = await page.GotoAsync(new Uri(_gateway.Server.BaseAddress, "/gateway/requests/req_nope").ToString());
        Assert.Equal(404, missing!.Status);

        await page.GotoAsync(new Uri(_gateway.Server.BaseAddress, "/gateway/usage?split=user").ToString());
        await Assertions.Expect(page.Locator("#total-requests")).ToHaveTextAsync("4");
        await Assertions.Expect(page.Locator("#error-rate")).ToHaveTextAsync("25 %");
        var groups = page.Locator("#usage-groups tbody tr");
        await Assertions.Expect(groups).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("#usage-groups")).ToContainTextAsync("alice");
        await Assertions.Expect(page.Locator("#usage-charts .chart")).ToHaveCountAsync(5);
        await page.ScreenshotAsync(new() { Path = Path.Combine(s_screenshots, "gateway-usage.png"), FullPage = true });
    }

    private async Task SendAsync(string body, string user, string session, (string Name, string Value) property)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("Cairn-User-Id", user);
        request.Headers.Add("Cairn-Session-Id", session);
        request.Headers.Add($"Cairn-Property-{property.Name}", property.Value);
        using var response = await _gateway.Server.Client.SendAsync(request);
        await response.Content.ReadAsStringAsync();
    }
}
