using System.Text.Json.Nodes;

namespace Cairn.Server.Tests.Gateway;

/// <summary>
/// Cairn in front of three fakes: OpenAI (provider <c>fake</c>, route <c>fast</c>), Anthropic (provider <c>anthropic</c>, route
/// <c>claude</c> → claude-sonnet-4-5) and Gemini (provider <c>gemini</c>, route <c>flash</c> → gemini-2.5-flash; route
/// <c>flash-badkey</c> goes to the same fake with a key it rejects); routes <c>claude-byok</c> and <c>flash-byok</c> go to
/// providers without keys, so the caller's own vendor key is used.
/// </summary>
public sealed class VendorGateway : IAsyncDisposable
{
    private VendorGateway(GatewayHarness gateway, FakeAnthropicUpstream anthropic, FakeGeminiUpstream gemini)
    {
        Gateway = gateway;
        Anthropic = anthropic;
        Gemini = gemini;
    }

    public GatewayHarness Gateway { get; }

    public FakeOpenAiUpstream OpenAi => Gateway.Upstream;

    public FakeAnthropicUpstream Anthropic { get; }

    public FakeGeminiUpstream Gemini { get; }

    public static async Task<VendorGateway> StartAsync()
    {
        var anthropic = await FakeAnthropicUpstream.StartAsync();
        var gemini = await FakeGeminiUpstream.StartAsync();
        var gateway = await GatewayHarness.StartAsync(config =>
        {
            var providers = config["Providers"]!.AsObject();
            providers["anthropic"] = new JsonObject
            {
                ["Kind"] = "Anthropic",
                ["BaseUrl"] = anthropic.BaseUrl,
                ["ApiKey"] = FakeAnthropicUpstream.ApiKey,
                ["Models"] = new JsonArray("claude-sonnet-4-5", "claude-haiku-4-5"),
            };
            providers["gemini"] = new JsonObject
            {
                ["Kind"] = "Gemini",
                ["BaseUrl"] = gemini.BaseUrl,
                ["ApiKey"] = FakeGeminiUpstream.ApiKey,
                ["Models"] = new JsonArray("gemini-2.5-flash"),
            };
            providers["gemini-badkey"] = new JsonObject { ["Kind"] = "Gemini", ["BaseUrl"] = gemini.BaseUrl, ["ApiKey"] = "AIzaSyRevokedKey" };
            // No keys: the caller's own vendor key is carried on (bring your own key).
            providers["anthropic-byok"] = new JsonObject { ["Kind"] = "Anthropic", ["BaseUrl"] = anthropic.BaseUrl };
            providers["gemini-byok"] = new JsonObject { ["Kind"] = "Gemini", ["BaseUrl"] = gemini.BaseUrl };
            var routes = config["Routes"]!.AsObject();
            routes["claude"] = new JsonObject { ["Deployments"] = new JsonArray(new JsonObject { ["Provider"] = "anthropic", ["Model"] = "claude-sonnet-4-5" }) };
            routes["flash"] = new JsonObject { ["Deployments"] = new JsonArray(new JsonObject { ["Provider"] = "gemini", ["Model"] = "gemini-2.5-flash" }) };
            routes["flash-badkey"] = new JsonObject { ["Deployments"] = new JsonArray(new JsonObject { ["Provider"] = "gemini-badkey", ["Model"] = "gemini-2.5-flash" }) };
            routes["claude-byok"] = new JsonObject { ["Deployments"] = new JsonArray(new JsonObject { ["Provider"] = "anthropic-byok", ["Model"] = "claude-sonnet-4-5" }) };
            routes["flash-byok"] = new JsonObject { ["Deployments"] = new JsonArray(new JsonObject { ["Provider"] = "gemini-byok", ["Model"] = "gemini-2.5-flash" }) };
        });
        return new VendorGateway(gateway, anthropic, gemini);
    }

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Anthropic.DisposeAsync();
        await Gemini.DisposeAsync();
    }
}
