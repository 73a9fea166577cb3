using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Cairn.Bench.Gateway;
using Cairn.Bench.Http;

namespace Cairn.Bench;

/// <summary>Entry point: <c>http</c> runs the HTTP load harness, <c>gateway</c> the AI gateway harness, <c>traces</c> the trace ingest and query harness (<c>fake-upstream</c> is its upstream process), <c>bdn</c> hands the rest of the arguments to BenchmarkDotNet.</summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var command = args.Length > 0 ? args[0] : "http";
        switch (command)
        {
            case "http":
                if (!HttpBenchOptions.TryParse(args.AsSpan(1), out var options, out var error))
                {
                    await Console.Error.WriteLineAsync(error);
                    await Console.Error.WriteLineAsync(HttpBenchOptions.Usage);
                    return 2;
                }

                await HttpBench.RunAsync(options);
                return 0;
            case "gateway":
                if (!GatewayBenchOptions.TryParse(args.AsSpan(1), out var gatewayOptions, out var gatewayError))
                {
                    await Console.Error.WriteLineAsync(gatewayError);
                    await Console.Error.WriteLineAsync(GatewayBenchOptions.Usage);
                    return 2;
                }

                await GatewayBench.RunAsync(gatewayOptions);
                return 0;
            case "traces":
                if (!Cairn.Bench.Traces.TracesBenchOptions.TryParse(args.AsSpan(1), out var tracesOptions, out var tracesError))
                {
                    await Console.Error.WriteLineAsync(tracesError);
                    await Console.Error.WriteLineAsync(Cairn.Bench.Traces.TracesBenchOptions.Usage);
                    return 2;
                }

                await Cairn.Bench.Traces.TracesBench.RunAsync(tracesOptions);
                return 0;
            case "prompts":
                return await Cairn.Bench.Prompts.PromptsBench.RunAsync(args[1..]);
            case "traces-append":
                return await Cairn.Bench.Traces.TracesAppendLoop.RunAsync(args[1..]);
            case "fake-upstream":
                return await FakeUpstream.RunAsync(args[1..]);
            case "bare-proxy":
                return await BareProxy.RunAsync(args[1..]);
            case "bdn":
                // Results go next to the build output (not into the current folder) unless --artifacts says otherwise.
                var config = DefaultConfig.Instance.WithArtifactsPath(Path.Combine(AppContext.BaseDirectory, "BenchmarkDotNet.Artifacts"));
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args[1..], config);
                return 0;
            default:
                await Console.Error.WriteLineAsync($"Unknown command '{command}'.");
                await Console.Error.WriteLineAsync(HttpBenchOptions.Usage);
                await Console.Error.WriteLineAsync(GatewayBenchOptions.Usage);
                await Console.Error.WriteLineAsync("   or: dotnet run -c Release --project bench/Cairn.Bench -- bdn [BenchmarkDotNet options, e.g. --filter '*']");
                return 2;
        }
    }
}
