using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Cairn.Bench.Gateway;

/// <summary>Command-line options of the <c>gateway</c> harness (issue #4).</summary>
internal sealed record GatewayBenchOptions
{
    public const string Usage =
        "usage: dotnet run -c Release --project bench/Cairn.Bench -- gateway [--duration <s>] [--warmup <s>] [--rounds <n>] [--concurrency <n>] " +
        "[--wrk-threads <n>] [--soak-minutes <min>] [--soak-rps <n>] [--portkey] [--portkey-dir <dir>] [--bare-proxy] [--only latency,throughput,ttfb,soak] " +
        "[--stream-gap-ms <ms>] [--cairn-env NAME=VALUE]... [--dotnet-env NAME=VALUE]... [--keep-data]";

    private static readonly string[] s_scenarios = ["latency", "throughput", "ttfb", "soak"];

    /// <summary>The length of each measured run.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The warm-up given to each target (JIT, connection pools) before the first round.</summary>
    public TimeSpan WarmUp { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How many times the direct / Cairn / Portkey sequence is repeated; figures are the medians over rounds.</summary>
    public int Rounds { get; init; } = 3;

    /// <summary>wrk's connections for the throughput runs.</summary>
    public int Concurrency { get; init; } = 32;

    /// <summary>wrk's threads for the throughput runs (the latency runs use one thread, one connection).</summary>
    public int WrkThreads { get; init; } = 2;

    public TimeSpan SoakDuration { get; init; } = TimeSpan.FromMinutes(10);

    public double SoakRps { get; init; } = 500;

    /// <summary>Also run Portkey's open-source gateway (<c>@portkey-ai/gateway</c> from npm) in the same rounds.</summary>
    public bool Portkey { get; init; }

    /// <summary>Also run a bare Kestrel + HttpClient pass-through (the floor for a .NET proxy) in the same rounds.</summary>
    public bool BareProxy { get; init; }

    /// <summary>Where Portkey is installed with npm (reused across runs).</summary>
    public string PortkeyDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "cairn-bench-portkey-1.15.2");

    /// <summary>The fake upstream's pause between the first stream chunk and the rest, so that time to first byte is the first chunk's alone.</summary>
    public double StreamGapMs { get; init; } = 2;

    /// <summary>Extra environment variables for the Cairn process (<c>Cairn__Gateway__Log__StoreBodies=false</c>), for experiments.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> CairnEnvironment { get; init; } = [];

    /// <summary>Extra environment variables for both .NET relays, Cairn and the bare proxy (<c>DOTNET_gcServer=0</c>), for runtime experiments.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> DotnetEnvironment { get; init; } = [];

    /// <summary>Keep the temp folder (Cairn's data and logs, wrk scripts) at the end.</summary>
    public bool KeepData { get; init; }

    public IReadOnlySet<string> Scenarios { get; init; } = new HashSet<string>(s_scenarios, StringComparer.Ordinal);

    public bool Runs(string scenario) => Scenarios.Contains(scenario);

    public static bool TryParse(ReadOnlySpan<string> args, [NotNullWhen(true)] out GatewayBenchOptions? options, [NotNullWhen(false)] out string? error)
    {
        var result = new GatewayBenchOptions();
        var environment = new List<KeyValuePair<string, string>>();
        var dotnetEnvironment = new List<KeyValuePair<string, string>>();
        options = null;
        error = null;
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (name == "--portkey")
            {
                result = result with { Portkey = true };
                continue;
            }

            if (name == "--bare-proxy")
            {
                result = result with { BareProxy = true };
                continue;
            }

            if (name == "--keep-data")
            {
                result = result with { KeepData = true };
                continue;
            }

            if (i + 1 >= args.Length)
            {
                error = $"Missing value for {name}.";
                return false;
            }

            var value = args[++i];
            switch (name)
            {
                case "--duration" when TryPositive(value, out var seconds):
                    result = result with { Duration = TimeSpan.FromSeconds(seconds) };
                    break;
                case "--warmup" when TryPositive(value, out var seconds) || value == "0":
                    result = result with { WarmUp = TimeSpan.FromSeconds(seconds) };
                    break;
                case "--rounds" when TryInt(value, 1, 100, out var rounds):
                    result = result with { Rounds = rounds };
                    break;
                case "--concurrency" when TryInt(value, 1, 4096, out var concurrency):
                    result = result with { Concurrency = concurrency };
                    break;
                case "--wrk-threads" when TryInt(value, 1, 64, out var threads):
                    result = result with { WrkThreads = threads };
                    break;
                case "--soak-minutes" when TryPositive(value, out var minutes):
                    result = result with { SoakDuration = TimeSpan.FromMinutes(minutes) };
                    break;
                case "--soak-rps" when TryPositive(value, out var rps):
                    result = result with { SoakRps = rps };
                    break;
                case "--portkey-dir":
                    result = result with { PortkeyDirectory = Path.GetFullPath(value), Portkey = true };
                    break;
                case "--stream-gap-ms" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var gap) && gap >= 0:
                    result = result with { StreamGapMs = gap };
                    break;
                case "--cairn-env" when value.IndexOf('=', StringComparison.Ordinal) > 0:
                    environment.Add(SplitVariable(value));
                    break;
                case "--dotnet-env" when value.IndexOf('=', StringComparison.Ordinal) > 0:
                    dotnetEnvironment.Add(SplitVariable(value));
                    break;
                case "--only":
                    if (!Cairn.Bench.Http.HttpBenchOptions.TryParseScenarios(value, s_scenarios, out var scenarios, out error))
                    {
                        return false;
                    }

                    result = result with { Scenarios = scenarios };
                    break;
                default:
                    error = $"Unknown option or invalid value: {name} {value}";
                    return false;
            }
        }

        options = result with { CairnEnvironment = [.. dotnetEnvironment, .. environment], DotnetEnvironment = dotnetEnvironment };
        return true;
    }

    private static KeyValuePair<string, string> SplitVariable(string text)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        return new(text[..equals], text[(equals + 1)..]);
    }

    private static bool TryPositive(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value) && value > 0;

    private static bool TryInt(string text, int min, int max, out int value) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;
}
