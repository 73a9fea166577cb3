using System.CommandLine;
using Cairn.Server;
using Microsoft.AspNetCore.Builder;

// `cairn` and `cairn server` both start the server; options follow `mlflow server`.
var root = new RootCommand("Cairn: a self-hosted LLMOps platform with an MLflow-compatible tracking server.");
var server = new Command("server", "Run the Cairn server (MLflow-compatible tracking API on http://127.0.0.1:5000 by default).");
ServerCommand.Configure(root);
ServerCommand.Configure(server);
root.Subcommands.Add(server);
return await root.Parse(args).InvokeAsync();

/// <summary>The options and action of <c>cairn server</c>.</summary>
internal static class ServerCommand
{
    private const int ExitOk = 0;
    private const int ExitConfigurationError = 2;

    public static void Configure(Command command)
    {
        var host = new Option<string?>("--host") { Description = "The address to listen on (default 127.0.0.1; only loopback addresses are allowed until authentication is configured)." };
        var port = new Option<int?>("--port", "-p") { Description = "The port to listen on (default 5000; 0 picks a free port)." };
        var backend = new Option<string?>("--backend-store-uri") { Description = "Where metadata is stored: sqlite:///path/to/cairn.db (default sqlite:///cairn-data/cairn.db) or postgresql://user:pass@host:port/db." };
        var artifacts = new Option<string?>("--artifacts-destination") { Description = "The folder artifacts are stored in (default cairn-data/artifacts)." };
        var dataDir = new Option<string?>("--data-dir") { Description = "The folder for the default database and artifacts (default ./cairn-data)." };
        var config = new Option<string?>("--config") { Description = "A configuration file (.yaml, .yml or .json) read after ./cairn.yaml and watched for changes, e.g. gateway providers and routes." };
        command.Options.Add(host);
        command.Options.Add(port);
        command.Options.Add(backend);
        command.Options.Add(artifacts);
        command.Options.Add(dataDir);
        command.Options.Add(config);
        command.SetAction(async (parse, cancellationToken) =>
        {
            WebApplication app;
            try
            {
                if (parse.GetValue(config) is { Length: > 0 } configFile)
                {
                    Environment.SetEnvironmentVariable(CairnApp.ConfigFileVariable, configFile);
                }

                app = await CairnApp.CreateAsync(
                    [],
                    options =>
                    {
                        options.Host = parse.GetValue(host) ?? options.Host;
                        options.Port = parse.GetValue(port) ?? options.Port;
                        options.DataDirectory = parse.GetValue(dataDir) ?? options.DataDirectory;
                        options.BackendStoreUri = parse.GetValue(backend) ?? options.BackendStoreUri;
                        options.ArtifactsDestination = parse.GetValue(artifacts) ?? options.ArtifactsDestination;
                    },
                    cancellationToken: cancellationToken);
            }
            catch (InvalidOperationException e)
            {
                await Console.Error.WriteLineAsync("cairn: " + e.Message);
                return ExitConfigurationError;
            }

            await app.RunAsync();
            return ExitOk;
        });
    }
}
