using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Cairn.Bench.Http;

namespace Cairn.Bench.Traces;

/// <summary>Options of <c>Cairn.Bench traces</c>.</summary>
internal sealed record TracesBenchOptions
{
    public const string Usage =
        "usage: dotnet run -c Release --project bench/Cairn.Bench -- traces [--backend sqlite|postgres|both] [--postgres-uri <uri>] " +
        "[--duration <s>] [--senders <n>] [--batch <spans>] [--list-spans <n>] [--list-repeats <n>] [--tree-spans <n>] [--paint-repeats <n>] " +
        "[--only ingest,list,tree] [--keep-data]";

    private static readonly string[] s_scenarios = ["ingest", "list", "tree"];

    public IReadOnlyList<BenchBackend> Backends { get; init; } = [BenchBackend.Sqlite];

    public string PostgresUri { get; init; } = HttpBenchOptions.DefaultPostgresUri;

    /// <summary>How long the sustained ingest runs.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Concurrent OTLP exporters.</summary>
    public int Senders { get; init; } = 4;

    /// <summary>Spans per second to pace the senders at (0: as fast as they can).</summary>
    public double Rate { get; init; }

    /// <summary>Spans per OTLP request.</summary>
    public int BatchSize { get; init; } = 200;

    /// <summary>Spans stored before the trace list is measured.</summary>
    public long ListSpans { get; init; } = 1_000_000;

    /// <summary>Timed requests per list query.</summary>
    public int ListRepeats { get; init; } = 30;

    /// <summary>Spans of the wide trace.</summary>
    public int TreeSpans { get; init; } = 10_000;

    /// <summary>Timed page loads in Chromium.</summary>
    public int PaintRepeats { get; init; } = 5;

    public bool KeepData { get; init; }

    public IReadOnlySet<string> Scenarios { get; init; } = new HashSet<string>(s_scenarios, StringComparer.Ordinal);

    public bool Runs(string scenario) => Scenarios.Contains(scenario);

    public static bool TryParse(ReadOnlySpan<string> args, [NotNullWhen(true)] out TracesBenchOptions? options, [NotNullWhen(false)] out string? error)
    {
        var result = new TracesBenchOptions();
        options = null;
        error = null;
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
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
                case "--backend" when value is "sqlite" or "postgres" or "both":
                    result = result with
                    {
                        Backends = value switch
                        {
                            "sqlite" => [BenchBackend.Sqlite],
                            "postgres" => [BenchBackend.Postgres],
                            _ => [BenchBackend.Sqlite, BenchBackend.Postgres],
                        },
                    };
                    break;
                case "--postgres-uri":
                    result = result with { PostgresUri = value };
                    break;
                case "--duration" when int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) && seconds > 0:
                    result = result with { Duration = TimeSpan.FromSeconds(seconds) };
                    break;
                case "--senders" when int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var senders) && senders is > 0 and <= 256:
                    result = result with { Senders = senders };
                    break;
                case "--batch" when int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var batch) && batch >= 10:
                    result = result with { BatchSize = batch };
                    break;
                case "--list-spans" when long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var spans) && spans >= 0:
                    result = result with { ListSpans = spans };
                    break;
                case "--list-repeats" when int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var repeats) && repeats > 0:
                    result = result with { ListRepeats = repeats };
                    break;
                case "--tree-spans" when int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var tree) && tree >= 2:
                    result = result with { TreeSpans = tree };
                    break;
                case "--paint-repeats" when int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var paints) && paints > 0:
                    result = result with { PaintRepeats = paints };
                    break;
                case "--only":
                    if (!HttpBenchOptions.TryParseScenarios(value, s_scenarios, out var scenarios, out error))
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

        options = result;
        return true;
    }
}
