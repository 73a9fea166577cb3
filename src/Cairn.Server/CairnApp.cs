using System.Net;
using Cairn.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cairn.Server;

/// <summary>The composition root: builds a ready-to-run Cairn web application; used by the host, tests and benchmarks.</summary>
public static class CairnApp
{
    /// <summary>Builds the application: reads options (configuration section <c>Cairn</c>, then <paramref name="configure"/>), opens and migrates the store, and maps the endpoints.</summary>
    public static async Task<WebApplication> CreateAsync(string[] args, Action<CairnServerOptions>? configure = null, Action<WebApplicationBuilder>? configureBuilder = null, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args });
        // ASP.NET Core's per-request Information logs (request starting/finished, endpoint executing) cost more than the
        // gateway's own work; keep them off unless the configuration asks for them.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        AddConfigurationFiles(builder);
        configureBuilder?.Invoke(builder);

        var options = new CairnServerOptions();
        builder.Configuration.GetSection(CairnServerOptions.SectionName).Bind(options);
        configure?.Invoke(options);
        Validate(options);

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(ResolveAddress(options.Host), options.Port);
            kestrel.AddServerHeader = false;
        });
        builder.Host.ConfigureHostOptions(host => host.ShutdownTimeout = TimeSpan.FromSeconds(30));

        var time = TimeProvider.System;
        var storage = await CairnStorage.OpenAsync(
            new StorageOptions { BackendStoreUri = options.EffectiveBackendStoreUri, DefaultArtifactRoot = "mlflow-artifacts:" },
            time,
            cancellationToken);
        try
        {
            builder.Services.AddCairnServer(storage, options);
            builder.Services.Configure<Cairn.Core.Gateway.GatewayOptions>(builder.Configuration.GetSection($"{CairnServerOptions.SectionName}:{Cairn.Core.Gateway.GatewayOptions.SectionName}"));
            builder.Services.Configure<Cairn.Core.Observability.TracesOptions>(builder.Configuration.GetSection($"{CairnServerOptions.SectionName}:{Cairn.Core.Observability.TracesOptions.SectionName}"));
            var app = builder.Build();

            // Resolve once so the container owns the storage and disposes it with the application.
            _ = app.Services.GetRequiredService<TrackingStorage>();
            app.UseAntiforgery();
            app.MapCairn();
            return app;
        }
        catch
        {
            await storage.DisposeAsync();
            throw;
        }
    }

    /// <summary>The name of the configuration file read from the working directory when present (YAML).</summary>
    public const string DefaultConfigFile = "cairn.yaml";

    /// <summary>The environment variable that names another configuration file (<c>.yaml</c>, <c>.yml</c> or <c>.json</c>).</summary>
    public const string ConfigFileVariable = "CAIRN_CONFIG";

    /// <summary>
    /// Adds <c>cairn.yaml</c> from the working directory (if present) and the file named by <c>CAIRN_CONFIG</c>; both are
    /// watched, so gateway providers and routes in them apply to the next request after an edit. Environment variables
    /// and command-line options still win.
    /// </summary>
    public static void AddConfigurationFiles(WebApplicationBuilder builder, string? configFile = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var sources = builder.Configuration.Sources;
        // Files go before environment variables and the command line, which keep precedence.
        var insertAt = sources.TakeWhile(s => s is not Microsoft.Extensions.Configuration.EnvironmentVariables.EnvironmentVariablesConfigurationSource).Count();
        var files = new List<string>();
        var defaultFile = Path.Combine(Directory.GetCurrentDirectory(), DefaultConfigFile);
        if (File.Exists(defaultFile))
        {
            files.Add(defaultFile);
        }

        if ((configFile ?? Environment.GetEnvironmentVariable(ConfigFileVariable)) is { Length: > 0 } named)
        {
            var full = Path.GetFullPath(named);
            if (!File.Exists(full))
            {
                throw new InvalidOperationException($"The configuration file '{full}' does not exist.");
            }

            files.Add(full);
        }

        foreach (var file in files)
        {
            var extra = new ConfigurationBuilder();
            if (file.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            {
                extra.AddJsonFile(file, optional: false, reloadOnChange: true);
            }
            else
            {
                extra.AddYamlFile(file, optional: false, reloadOnChange: true);
            }

            sources.Insert(Math.Min(insertAt++, sources.Count), extra.Sources[0]);
        }
    }

    /// <summary>The base addresses the started application listens on (with the real port when 0 was asked for).</summary>
    public static IReadOnlyList<Uri> GetListeningAddresses(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return ListeningAddresses(app.Services);
    }

    /// <summary>The base addresses the server in <paramref name="services"/> listens on.</summary>
    internal static IReadOnlyList<Uri> ListeningAddresses(IServiceProvider services)
    {
        var addresses = services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        return addresses.Select(static a => new Uri(a.Replace("://[::]", "://localhost", StringComparison.Ordinal))).ToList();
    }

    private static void Validate(CairnServerOptions options)
    {
        if (options.Port is < 0 or > 65535)
        {
            throw new InvalidOperationException($"Invalid port {options.Port}: expected 0 to 65535.");
        }

        var address = ResolveAddress(options.Host);
        if (!IPAddress.IsLoopback(address))
        {
            // Security by default: without authentication (a later issue adds it), Cairn only serves the local machine.
            throw new InvalidOperationException(
                $"Refusing to listen on {options.Host}: Cairn has no authentication configured, so it only listens on a loopback address (127.0.0.1, ::1 or localhost).");
        }
    }

    private static IPAddress ResolveAddress(string host) => host switch
    {
        "localhost" => IPAddress.Loopback,
        _ when IPAddress.TryParse(host, out var ip) => ip,
        _ => throw new InvalidOperationException($"Invalid host '{host}': expected an IP address or 'localhost'."),
    };
}
