using System.Diagnostics;
using System.Text;
using Cairn.Client.Tracing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Cairn.Client.Tests.Tracing;

[Collection(TracingCollection.Name)]
public sealed class CairnExporterTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static bool Contains(byte[] body, string text) => body.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;

    [Fact]
    public async Task AddCairnExporter_ForceFlush_PostsProtobufToV1TracesWithProjectAndKey()
    {
        await using var server = await OtlpCaptureServer.StartAsync(Ct);
        using var provider = Sdk.CreateTracerProviderBuilder()
            .AddCairnExporter(new Uri(server.BaseAddress, "prefix"), project: "support bot 100%41=ok", apiKey: "ck-123")
            .Build();

        using (var step = CairnTracing.StartStep("exported-step", SpanType.Tool, "ping"))
        {
            step.SetSession("s-42");
        }

        Assert.True(provider.ForceFlush(10_000));
        var request = await server.NextRequestAsync(s_wait, Ct);

        Assert.Equal("POST", request.Method);
        Assert.Equal("/prefix/v1/traces", request.Path);
        Assert.Equal("application/x-protobuf", request.ContentType);
        Assert.Equal("support bot 100%41=ok", request.Headers["x-cairn-project"]);
        Assert.Equal("Bearer ck-123", request.Headers["Authorization"]);
        Assert.NotEmpty(request.Body);
        Assert.True(Contains(request.Body, "exported-step"));
        Assert.True(Contains(request.Body, "cairn.span.type"));
        Assert.True(Contains(request.Body, "s-42"));
    }

    [Fact]
    public async Task StartExporting_Dispose_SendsBufferedSpansWithoutOptionalHeaders()
    {
        await using var server = await OtlpCaptureServer.StartAsync(Ct);

        using (var provider = CairnTracing.StartExporting(server.BaseAddress, serviceName: "console-app"))
        {
            CairnTracing.RunStep("console-step", SpanType.Chain, step => { });
        }

        var request = await server.NextRequestAsync(s_wait, Ct);
        Assert.Equal("/v1/traces", request.Path);
        Assert.False(request.Headers.ContainsKey("x-cairn-project"));
        Assert.False(request.Headers.ContainsKey("Authorization"));
        Assert.True(Contains(request.Body, "console-step"));
        Assert.True(Contains(request.Body, "console-app"));
    }

    [Fact]
    public async Task AddCairnExporter_ChatClientWithUseOpenTelemetry_ExportsItsSpansWithTheStepsSession()
    {
        await using var server = await OtlpCaptureServer.StartAsync(Ct);
        var exported = new List<Activity>();
        using var provider = Sdk.CreateTracerProviderBuilder()
            .AddCairnExporter(server.BaseAddress, project: "p")
            .AddInMemoryExporter(exported)
            .Build();
        using var chatClient = new ChatClientBuilder(new FakeChatClient())
            .UseOpenTelemetry(configure: c => c.EnableSensitiveData = true)
            .Build();

        await CairnTracing.RunStepAsync("handle-message", SpanType.Agent, async step =>
        {
            step.SetSession("s-7").SetUser("u-7");
            return await chatClient.GetResponseAsync("ping", new ChatOptions { ModelId = "gpt-4o-mini" }, Ct);
        });
        Assert.True(provider.ForceFlush(10_000));

        var chat = Assert.Single(exported, a => a.Source.Name == CairnTracing.MicrosoftExtensionsAISourceName);
        var step = Assert.Single(exported, a => a.DisplayName == "handle-message");
        Assert.Equal(step.SpanId, chat.ParentSpanId);
        Assert.Equal("chat", chat.GetTagItem("gen_ai.operation.name"));
        Assert.Equal("gpt-4o-mini", chat.GetTagItem("gen_ai.request.model"));
        Assert.Equal(12L, Convert.ToInt64(chat.GetTagItem("gen_ai.usage.input_tokens"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("s-7", chat.GetTagItem("session.id"));
        Assert.Equal("u-7", chat.GetTagItem("user.id"));

        var request = await server.NextRequestAsync(s_wait, Ct);
        Assert.True(Contains(request.Body, CairnTracing.MicrosoftExtensionsAISourceName));
    }

    [Fact]
    public async Task AddCairnExporter_WithoutMicrosoftExtensionsAI_DoesNotSubscribeToIt()
    {
        await using var server = await OtlpCaptureServer.StartAsync(Ct);
        var exported = new List<Activity>();
        using var provider = Sdk.CreateTracerProviderBuilder()
            .AddCairnExporter(server.BaseAddress, includeMicrosoftExtensionsAI: false)
            .AddInMemoryExporter(exported)
            .Build();
        using var chatClient = new ChatClientBuilder(new FakeChatClient()).UseOpenTelemetry().Build();

        using (CairnTracing.StartStep("only-cairn"))
        {
            await chatClient.GetResponseAsync("ping", cancellationToken: Ct);
        }

        Assert.True(provider.ForceFlush(10_000));
        var activity = Assert.Single(exported);
        Assert.Equal("only-cairn", activity.DisplayName);
    }

    [Fact]
    public async Task AddCairnExporter_InHostedOpenTelemetry_ExportsWhenTheHostStops()
    {
        await using var server = await OtlpCaptureServer.StartAsync(Ct);
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("hosted-app"))
            .WithTracing(tracing => tracing.AddCairnExporter(server.BaseAddress, project: "web"));

        using (var host = builder.Build())
        {
            await host.StartAsync(Ct);
            await CairnTracing.RunStepAsync("hosted-step", SpanType.Chain, step => Task.CompletedTask);
            await host.StopAsync(Ct);
        }

        var request = await server.NextRequestAsync(s_wait, Ct);
        Assert.Equal("web", request.Headers["x-cairn-project"]);
        Assert.True(Contains(request.Body, "hosted-step"));
        Assert.True(Contains(request.Body, "hosted-app"));
    }

    [Fact]
    public async Task AddCairnExporter_BesideAnotherOtlpExporter_LeavesItsSettingsAlone()
    {
        await using var cairn = await OtlpCaptureServer.StartAsync(Ct);
        await using var other = await OtlpCaptureServer.StartAsync(Ct);
        using var provider = Sdk.CreateTracerProviderBuilder()
            .AddOtlpExporter(o =>
            {
                o.Protocol = OpenTelemetry.Exporter.OtlpExportProtocol.HttpProtobuf;
                o.Endpoint = new Uri(other.BaseAddress, "collector/v1/traces");
            })
            .AddCairnExporter(cairn.BaseAddress, project: "p")
            .Build();

        CairnTracing.StartStep("to-both").Dispose();
        Assert.True(provider.ForceFlush(10_000));

        var toCairn = await cairn.NextRequestAsync(s_wait, Ct);
        var toOther = await other.NextRequestAsync(s_wait, Ct);
        Assert.Equal("/v1/traces", toCairn.Path);
        Assert.Equal("/collector/v1/traces", toOther.Path);
        Assert.False(toOther.Headers.ContainsKey("x-cairn-project"));
    }

    [Theory]
    [InlineData("http://127.0.0.1:5000", "http://127.0.0.1:5000/v1/traces")]
    [InlineData("http://127.0.0.1:5000/", "http://127.0.0.1:5000/v1/traces")]
    [InlineData("https://cairn.example/team/cairn?x=1", "https://cairn.example/team/cairn/v1/traces")]
    public void GetTracesEndpoint_BaseAddress_AppendsV1Traces(string baseAddress, string expected) =>
        Assert.Equal(new Uri(expected), CairnTracerProviderBuilderExtensions.GetTracesEndpoint(new Uri(baseAddress)));

    [Fact]
    public void AddCairnExporter_BadArguments_Throw()
    {
        var builder = Sdk.CreateTracerProviderBuilder();

        Assert.Throws<ArgumentException>(() => builder.AddCairnExporter(new Uri("ftp://cairn/")));
        Assert.Throws<ArgumentException>(() => builder.AddCairnExporter(new Uri("/relative", UriKind.Relative)));
        Assert.Throws<ArgumentException>(() => builder.AddCairnExporter(new Uri("http://cairn/"), project: "a\r\nb"));
        Assert.Throws<ArgumentException>(() => builder.AddCairnExporter(new Uri("http://cairn/"), apiKey: "clé"));
        Assert.Throws<ArgumentException>(() => builder.AddCairnExporter(new Uri("http://cairn/"), project: "a,b"));
    }
}
