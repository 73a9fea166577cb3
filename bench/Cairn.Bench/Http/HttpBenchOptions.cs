using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Cairn.Bench.Http;

/// <summary>The metadata store the benchmarked server runs on.</summary>
internal enum BenchBackend
{
    Sqlite,
    Postgres,
}

/// <summary>Command-line options of the <c>http</c> harness.</summary>
internal sealed record HttpBenchOptions
{
    public const string DefaultPostgresUri = "postgresql://postgres:postgres@127.0.0.1:5432/postgres";

    public const string Usage =
        "usage: dotnet run -c Release --project bench/Cairn.Bench -- http [--backend sqlite|postgres] [--postgres <uri>] " +
        "[--duration <seconds>] [--warmup <seconds>] [--concurrency <n>] [--search-runs <n>] [--ui-runs <n>] [--only create,ingest,history,search,ui] [--keep-data]";

    private static readonly string[] s_scenarios = ["create", "ingest", "history", "search", "ui"];

    /// <summary>The scenarios run when <c>--only</c> is not given: all but <c>ui</c>, whose seeding (100,000 runs) takes minutes.</summary>
    private static readonly string[] s_defaultScenarios = ["create", "ingest", "history", "search"];

    public BenchBackend Backend { get; init; } = BenchBackend.Sqlite;

    /// <summary>A <c>postgresql://user:password@host:port/db</c> URI of the PostgreSQL server; a fresh database is created on it (the path names the admin database).</summary>
    public string PostgresUri { get; init; } = DefaultPostgresUri;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan WarmUp { get; init; } = TimeSpan.FromSeconds(2);

    public int Concurrency { get; init; } = 8;

    /// <summary>How many runs the search scenario's experiment is seeded with.</summary>
    public int SearchRuns { get; init; } = 10_000;

    /// <summary>How many runs the UI scenario's experiment is seeded with.</summary>
    public int UiRuns { get; init; } = 100_000;

    /// <summary>Leave the data folder (and PostgreSQL database) in place at the end, for inspection.</summary>
    public bool KeepData { get; init; }

    /// <summary>The scenarios to run: <c>create</c> (1), <c>ingest</c> (2), <c>history</c> (3), <c>search</c> (4), <c>ui</c> (issue #3's pages); all but <c>ui</c> by default.</summary>
    public IReadOnlySet<string> Scenarios { get; init; } = new HashSet<string>(s_defaultScenarios, StringComparer.Ordinal);

    public bool Runs(string scenario) => Scenarios.Contains(scenario);

    public static bool TryParse(ReadOnlySpan<string> args, [NotNullWhen(true)] out HttpBenchOptions? options, [NotNullWhen(false)] out string? error)
    {
        var result = new HttpBenchOptions();
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
                case "--backend":
                    switch (value.ToUpperInvariant())
                    {
                        case "SQLITE":
                            result = result with { Backend = BenchBackend.Sqlite };
                            break;
                        case "POSTGRES" or "POSTGRESQL":
                            result = result with { Backend = BenchBackend.Postgres };
                            break;
                        default:
                            error = $"Unknown backend '{value}': expected sqlite or postgres.";
                            return false;
                    }

                    break;
                case "--postgres":
                    result = result with { PostgresUri = value, Backend = BenchBackend.Postgres };
                    break;
                case "--duration":
                    if (!TryParseSeconds(value, out var duration) || duration <= TimeSpan.Zero)
                    {
                        error = $"Invalid duration '{value}': expected a positive number of seconds.";
                        return false;
                    }

                    result = result with { Duration = duration };
                    break;
                case "--warmup":
                    if (!TryParseSeconds(value, out var warmUp) || warmUp < TimeSpan.Zero)
                    {
                        error = $"Invalid warm-up '{value}': expected a number of seconds.";
                        return false;
                    }

                    result = result with { WarmUp = warmUp };
                    break;
                case "--concurrency":
                    if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var concurrency) || concurrency is < 1 or > 1024)
                    {
                        error = $"Invalid concurrency '{value}': expected 1 to 1024.";
                        return false;
                    }

                    result = result with { Concurrency = concurrency };
                    break;
                case "--search-runs":
                    if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var runs) || runs < 1)
                    {
                        error = $"Invalid run count '{value}'.";
                        return false;
                    }

                    result = result with { SearchRuns = runs };
                    break;
                case "--ui-runs":
                    if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var uiRuns) || uiRuns < 51)
                    {
                        error = $"Invalid UI run count '{value}': expected at least 51 (more than one page).";
                        return false;
                    }

                    result = result with { UiRuns = uiRuns };
                    break;
                case "--only":
                    if (!HttpBenchOptions.TryParseScenarios(value, s_scenarios, out var scenarios, out error))
                    {
                        return false;
                    }

                    result = result with { Scenarios = scenarios };
                    break;
                default:
                    error = $"Unknown option '{name}'.";
                    return false;
            }
        }

        options = result;
        return true;
    }

    private static bool TryParseSeconds(string text, out TimeSpan value)
    {
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && double.IsFinite(seconds))
        {
            value = TimeSpan.FromSeconds(seconds);
            return true;
        }

        value = default;
        return false;
    }

    /// <summary>Parses an <c>--only</c> list of comma-separated scenario names against the known ones.</summary>
    internal static bool TryParseScenarios(string value, IReadOnlyCollection<string> known, out HashSet<string> scenarios, [NotNullWhen(false)] out string? error)
    {
        var names = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unknown = names.FirstOrDefault(s => !known.Contains(s, StringComparer.Ordinal));
        if (names.Length == 0 || unknown is not null)
        {
            scenarios = [];
            error = $"Unknown scenario '{unknown}': expected {string.Join(", ", known)}.";
            return false;
        }

        scenarios = new HashSet<string>(names, StringComparer.Ordinal);
        error = null;
        return true;
    }
}
