using Cairn.Core.Artifacts;
using Cairn.Core.Gateway;
using Cairn.Core.Registry;
using Cairn.Core.Tracking;
using Cairn.Server;
using Cairn.Server.Gateway;
using Cairn.Server.Serving;
using Cairn.Storage;
using Cairn.Storage.Artifacts;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Cairn's server services.</summary>
public static class CairnServerServiceCollectionExtensions
{
    /// <summary>Adds Cairn's stores and endpoint services over an opened <see cref="TrackingStorage"/>.</summary>
    /// <remarks>The service provider takes ownership of <paramref name="storage"/> and disposes it when the application is disposed.</remarks>
    public static ICairnServerBuilder AddCairnServer(this IServiceCollection services, TrackingStorage storage, CairnServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(options);

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(options);
        // A factory registration, so that the container disposes the storage (and flushes and closes its connections) at shutdown.
        services.TryAddSingleton(_ => storage);
        services.TryAddSingleton(storage.Experiments);
        services.TryAddSingleton(storage.Runs);
        services.TryAddSingleton(storage.LoggedModels);
        services.TryAddSingleton(storage.Registry);
        services.TryAddSingleton<IArtifactStore>(_ => new LocalArtifactStore(options.EffectiveArtifactsDestination));
        services.TryAddSingleton<ModelServer>();

        // The AI gateway: options reload with the configuration; records go to the request log through the batch writer.
        services.AddOptions<GatewayOptions>();
        services.TryAddSingleton(storage.RequestLogs);
        services.TryAddSingleton(storage.UsageReports);
        services.TryAddSingleton(storage.VirtualKeys);
        services.TryAddSingleton<IUsageCounters, InMemoryUsageCounters>();
        services.TryAddSingleton(storage.GatewayConfig);
        // Provider keys set through the API are encrypted with data-protection keys kept in the data folder.
        services.AddDataProtection()
            .SetApplicationName("Cairn")
            .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(options.DataDirectory, "keys")));
        services.TryAddSingleton<GatewayDynamicConfig>();
        services.AddHostedService(static sp => sp.GetRequiredService<GatewayDynamicConfig>());
        services.TryAddSingleton<GatewayRouter>();
        services.TryAddSingleton<GatewayHttp>();
        services.TryAddSingleton<PlaygroundKey>();
        services.TryAddSingleton<GatewayKeys>();
        services.TryAddSingleton<ResponseCache>();
        services.TryAddSingleton<GatewayHandler>();
        services.TryAddSingleton<RequestLogWriter>();
        services.AddHostedService(static sp => sp.GetRequiredService<RequestLogWriter>());
        // Prompts: kept in the model registry as MLflow 3 keeps them.
        services.TryAddSingleton(static sp => new Cairn.Core.Prompts.PromptRegistry(sp.GetRequiredService<Cairn.Core.Registry.IModelRegistryStore>()));
        services.TryAddSingleton<Cairn.Server.Prompts.PromptCache>();
        // Traces: OTLP ingest through a batch writer, the trace API and the retention job.
        services.AddOptions<Cairn.Core.Observability.TracesOptions>();
        services.TryAddSingleton(storage.Traces);
        services.TryAddSingleton<Cairn.Server.Observability.TraceWriter>();
        services.AddHostedService(static sp => sp.GetRequiredService<Cairn.Server.Observability.TraceWriter>());
        services.TryAddSingleton<Cairn.Server.Observability.TraceRetentionService>();
        services.AddHostedService(static sp => sp.GetRequiredService<Cairn.Server.Observability.TraceRetentionService>());
        // Request bodies of Cairn's own API bind through the source-generated context (snake_case).
        services.ConfigureHttpJsonOptions(static json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, Cairn.Contracts.Gateway.GatewayJsonContext.Default));
        // The web UI: static server-rendered Blazor pages (no interactivity, so no circuits or WebAssembly).
        services.AddRazorComponents();
        return new CairnServerBuilder(services);
    }

    private sealed class CairnServerBuilder(IServiceCollection services) : ICairnServerBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}

/// <summary>The builder <c>AddCairnServer</c> returns, for chaining further registrations.</summary>
public interface ICairnServerBuilder
{
    /// <summary>The service collection.</summary>
    IServiceCollection Services { get; }
}
