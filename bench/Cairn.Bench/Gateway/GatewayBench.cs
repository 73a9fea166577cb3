using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Cairn.Bench.Gateway;

/// <summary>
/// The AI gateway harness for issue #4: a fake OpenAI upstream, Cairn (and optionally Portkey) in front of it, each in its
/// own process; wrk for latency at one connection and throughput at 32, a C# client for streaming time to first byte,
/// rounds interleaved (direct, Cairn, Portkey), then a paced soak through a fresh Cairn while its RSS is sampled.
/// </summary>
internal static class GatewayBench
{
    private const double AddedP50TargetMs = 0.3;
    private const double AddedP99TargetMs = 1.0;
    private const double ThroughputShareTarget = 0.40;
    private const double PortkeyThroughputFactorTarget = 15;
    private const double AddedTtfbTargetMs = 0.5;
    private const double RssGrowthTarget = 0.10;
    private const string Direct = "direct";
    private const string Cairn = "Cairn";
    private const string Portkey = "Portkey";
    private const string FakeUpstreamName = "fake upstream";
    private const string BareProxyName = "bare .NET proxy";

    private static readonly CultureInfo s_culture = CultureInfo.InvariantCulture;

    public static async Task RunAsync(GatewayBenchOptions options, CancellationToken cancellationToken = default)
    {
        var needsWrk = options.Runs("latency") || options.Runs("throughput");
        if (needsWrk && !Wrk.IsInstalled())
        {
            throw new InvalidOperationException("wrk is not installed: apt-get install -y wrk (Debian's wrk 4.1).");
        }

        var work = Directory.CreateTempSubdirectory("cairn-gateway-bench-").FullName;
        Log($"work folder {work}");
        PrintEnvironment(options);
        try
        {
            await RunInAsync(options, work, cancellationToken);
        }
        finally
        {
            if (!options.KeepData)
            {
                try
                {
                    Directory.Delete(work, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }
    }

    private static async Task RunInAsync(GatewayBenchOptions options, string work, CancellationToken cancellationToken)
    {
        using var client = new GatewayClient();
        var fakePort = ChildProcess.FreePort();
        await using var fake = ChildProcess.Start(
            FakeUpstreamName, "dotnet",
            [typeof(Program).Assembly.Location, "fake-upstream", "--port", Str(fakePort), "--stream-gap-ms", options.StreamGapMs.ToString(s_culture)],
            work, new Dictionary<string, string>(), Path.Combine(work, "fake-upstream.log"));
        await fake.WaitReadyAsync(fakePort, null, TimeSpan.FromSeconds(60), cancellationToken);
        var auth = new KeyValuePair<string, string>("Authorization", "Bearer sk-fake");
        var direct = new GatewayTarget(Direct, new Uri($"http://127.0.0.1:{fakePort}/v1/chat/completions"), [auth], fake);
        Log($"fake upstream on port {fakePort} (pid {fake.Id})");
        await SmokeTestAsync(client, direct, cancellationToken);

        var report = new Report(options) { LoadAtStart = LoadAverage() };
        if (options.Runs("latency") || options.Runs("throughput") || options.Runs("ttfb"))
        {
            var cairnData = Path.Combine(work, "cairn-main");
            var (cairnProcess, cairn) = await StartCairnAsync(options, fakePort, cairnData, Path.Combine(work, "cairn-main.log"), auth, cancellationToken);
            await using (cairnProcess)
            {
                ChildProcess? portkeyProcess = null;
                ChildProcess? bareProcess = null;
                var targets = new List<GatewayTarget> { direct, cairn };
                try
                {
                    if (options.BareProxy)
                    {
                        var barePort = ChildProcess.FreePort();
                        bareProcess = ChildProcess.Start(
                            BareProxyName, "dotnet",
                            [typeof(Program).Assembly.Location, "bare-proxy", "--port", Str(barePort), "--upstream", $"http://127.0.0.1:{fakePort}/v1"],
                            work, options.DotnetEnvironment.ToDictionary(StringComparer.Ordinal), Path.Combine(work, "bare-proxy.log"));
                        await bareProcess.WaitReadyAsync(barePort, null, TimeSpan.FromSeconds(60), cancellationToken);
                        var bare = new GatewayTarget(BareProxyName, new Uri($"http://127.0.0.1:{barePort}/v1/chat/completions"), [auth], bareProcess);
                        Log($"bare .NET proxy on port {barePort} (pid {bareProcess.Id})");
                        await SmokeTestAsync(client, bare, cancellationToken);
                        targets.Add(bare);
                    }

                    if (options.Portkey)
                    {
                        GatewayTarget portkey;
                        (portkeyProcess, portkey) = await StartPortkeyAsync(options, fakePort, work, auth, cancellationToken);
                        targets.Add(portkey);
                    }

                    var clientRequests = await RunRoundsAsync(options, work, client, targets, fake, report, cancellationToken);
                    if (portkeyProcess is not null)
                    {
                        await portkeyProcess.StopAsync(TimeSpan.FromSeconds(10));
                    }

                    Log("stopping Cairn (SIGTERM: it drains the request log)...");
                    var exit = await cairnProcess.StopAsync(TimeSpan.FromSeconds(60));
                    report.MainLogCheck = (CountRequestLogs(cairnData), clientRequests, exit);
                    Log($"Cairn exited with {exit}; request_logs rows {report.MainLogCheck.Value.Rows:N0}, requests counted by the clients {clientRequests:N0}");
                }
                finally
                {
                    if (portkeyProcess is not null)
                    {
                        await portkeyProcess.DisposeAsync();
                    }

                    if (bareProcess is not null)
                    {
                        await bareProcess.DisposeAsync();
                    }
                }
            }
        }

        if (options.Runs("soak"))
        {
            await RunSoakAsync(options, work, client, fakePort, fake, auth, report, cancellationToken);
        }

        report.LoadAtEnd = LoadAverage();
        report.Machine = $"{Environment.ProcessorCount} CPUs, .NET {Environment.Version}, {Command("wrk", "-v").Split('\n')[0].Split('[')[0].Trim()}" +
            (options.Portkey ? $", node {NodeVersion()}" : "") + $", commit {Commit()}";
        report.Print();
    }

    /// <summary>Warm-up, then <c>Rounds</c> × (latency, throughput, streaming), each over all targets in turn; returns how many requests the clients completed against Cairn.</summary>
    private static async Task<long> RunRoundsAsync(
        GatewayBenchOptions options, string work, GatewayClient client, List<GatewayTarget> targets, ChildProcess fake, Report report, CancellationToken cancellationToken)
    {
        var scripts = targets.ToDictionary(static t => t.Name, t => Wrk.WriteScript(t, work));
        long cairnRequests = 2; // the smoke tests
        void Count(string target, long requests)
        {
            if (target == Cairn)
            {
                cairnRequests += requests;
            }
        }

        if (options.WarmUp > TimeSpan.Zero)
        {
            foreach (var target in targets)
            {
                var servers = Servers(target, fake);
                Log($"warm-up {target.Name}: wrk c={options.Concurrency} then c=1 and streams, {options.WarmUp.TotalSeconds:0} s each");
                if (options.Runs("throughput") || options.Runs("latency"))
                {
                    var warm = await Wrk.RunAsync(target, scripts[target.Name], options.Concurrency, options.WrkThreads, options.WarmUp, servers, cancellationToken);
                    Count(target.Name, warm.Requests + warm.Errors);
                    Log($"  c={options.Concurrency}: {warm.RequestsPerSecond:N0} req/s, {warm.Errors} errors");
                    warm = await Wrk.RunAsync(target, scripts[target.Name], 1, 1, options.WarmUp, servers, cancellationToken);
                    Count(target.Name, warm.Requests + warm.Errors);
                }

                if (options.Runs("ttfb"))
                {
                    var warm = await client.MeasureStreamAsync(target, options.WarmUp, servers, cancellationToken);
                    Count(target.Name, warm.Samples + warm.Errors);
                }
            }
        }

        for (var round = 1; round <= options.Rounds; round++)
        {
            if (options.Runs("latency"))
            {
                foreach (var target in targets)
                {
                    var result = await Wrk.RunAsync(target, scripts[target.Name], 1, 1, options.Duration, Servers(target, fake), cancellationToken);
                    Count(target.Name, result.Requests + result.Errors);
                    report.Latency.Add((round, result));
                    Log($"round {round} latency    {target.Name,-7} c=1: p50 {result.P50Ms:0.000} ms, p99 {result.P99Ms:0.000} ms, {result.RequestsPerSecond:N0} req/s, {result.Errors} errors; cpu {result.Cpu}");
                }
            }

            if (options.Runs("throughput"))
            {
                foreach (var target in targets)
                {
                    var result = await Wrk.RunAsync(target, scripts[target.Name], options.Concurrency, options.WrkThreads, options.Duration, Servers(target, fake), cancellationToken);
                    Count(target.Name, result.Requests + result.Errors);
                    report.Throughput.Add((round, result));
                    Log($"round {round} throughput {target.Name,-7} c={options.Concurrency}: {result.RequestsPerSecond:N0} req/s, p50 {result.P50Ms:0.00} ms, p99 {result.P99Ms:0.00} ms, {result.Errors} errors; cpu {result.Cpu}");
                }
            }

            if (options.Runs("ttfb"))
            {
                foreach (var target in targets)
                {
                    var result = await client.MeasureStreamAsync(target, options.Duration, Servers(target, fake), cancellationToken);
                    Count(target.Name, result.Samples + result.Errors);
                    report.Streams.Add((round, result));
                    Log($"round {round} stream     {target.Name,-7} c=1: TTFB p50 {result.TtfbP50Ms:0.000} ms, p99 {result.TtfbP99Ms:0.000} ms, whole stream p50 {result.TotalP50Ms:0.000} ms, {result.Samples:N0} samples, {result.Errors} errors; cpu {result.Cpu}");
                }
            }
        }

        return cairnRequests;
    }

    private static async Task RunSoakAsync(
        GatewayBenchOptions options, string work, GatewayClient client, int fakePort, ChildProcess fake, KeyValuePair<string, string> auth, Report report, CancellationToken cancellationToken)
    {
        var data = Path.Combine(work, "cairn-soak");
        var (process, cairn) = await StartCairnAsync(options, fakePort, data, Path.Combine(work, "cairn-soak.log"), auth, cancellationToken);
        await using (process)
        {
            Log($"soak: {options.SoakRps:0} req/s for {options.SoakDuration.TotalMinutes:0.#} min through a fresh Cairn (pid {process.Id}), RSS sampled every 5 s");
            var result = await Soak.RunAsync(
                client, cairn, options.SoakRps, options.SoakDuration, TimeSpan.FromSeconds(5), maxInFlight: 256, Servers(cairn, fake),
                sample =>
                {
                    if (sample.At.TotalSeconds % 30 < 5)
                    {
                        Log($"  soak {sample.At:mm\\:ss}: RSS {sample.Bytes / 1048576.0:0.0} MiB, {sample.Completed:N0} requests done");
                    }
                },
                cancellationToken);
            Log($"soak done: {result.Ok:N0} ok, {result.Failed:N0} failed, {result.Late:N0} late starts, {result.AchievedRps:0.0} req/s; p50 {result.P50Ms:0.00} ms, p99 {result.P99Ms:0.00} ms; cpu {result.Cpu}");
            var exit = await process.StopAsync(TimeSpan.FromSeconds(120));
            var rows = CountRequestLogs(data);
            var sent = result.Ok + result.Failed + 2; // + the smoke tests
            Log($"Cairn exited with {exit}; request_logs rows {rows:N0}, requests sent {sent:N0}");
            report.Soak = result;
            report.SoakLogCheck = (rows, sent, exit);
        }
    }

    private static IReadOnlyList<ChildProcess> Servers(GatewayTarget target, ChildProcess fake) =>
        target.Server == fake ? [fake] : [target.Server, fake];

    private static async Task<(ChildProcess Process, GatewayTarget Target)> StartCairnAsync(
        GatewayBenchOptions options, int fakePort, string dataDirectory, string logPath, KeyValuePair<string, string> auth, CancellationToken cancellationToken)
    {
        var port = ChildProcess.FreePort();
        Directory.CreateDirectory(dataDirectory);
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Cairn__Host"] = "127.0.0.1",
            ["Cairn__Port"] = Str(port),
            ["Cairn__DataDirectory"] = dataDirectory,
            ["Cairn__Gateway__RequireApiKey"] = "false",
            ["Cairn__Gateway__Providers__fake__Kind"] = "OpenAI",
            ["Cairn__Gateway__Providers__fake__BaseUrl"] = $"http://127.0.0.1:{fakePort}/v1",
            ["Cairn__Gateway__Providers__fake__Models__0"] = GatewayPayloads.Model,
        };
        foreach (var (name, value) in options.CairnEnvironment)
        {
            environment[name] = value;
        }

        // The host as shipped: its own build output (copied next to this harness), started from that folder so its
        // appsettings.json applies (Information logging, Microsoft.AspNetCore at Warning).
        var hostFolder = AppContext.BaseDirectory;
        var process = ChildProcess.Start(Cairn, "dotnet", [Path.Combine(hostFolder, "cairn.dll")], hostFolder, environment, logPath);
        var target = new GatewayTarget(Cairn, new Uri($"http://127.0.0.1:{port}/v1/chat/completions"), [auth], process);
        try
        {
            using var probe = new HttpClient();
            await process.WaitReadyAsync(
                port,
                async ct => (await probe.GetAsync(new Uri($"http://127.0.0.1:{port}/health"), ct)).IsSuccessStatusCode,
                TimeSpan.FromSeconds(120),
                cancellationToken);
            Log($"Cairn on port {port} (pid {process.Id}), data in {dataDirectory}, request log on{(options.CairnEnvironment.Count > 0 ? "; extra settings " + string.Join(" ", options.CairnEnvironment.Select(static e => $"{e.Key}={e.Value}")) : "")}");
            using var client = new GatewayClient();
            await SmokeTestAsync(client, target, cancellationToken);
            return (process, target);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    private static async Task<(ChildProcess Process, GatewayTarget Target)> StartPortkeyAsync(
        GatewayBenchOptions options, int fakePort, string work, KeyValuePair<string, string> auth, CancellationToken cancellationToken)
    {
        var folder = options.PortkeyDirectory;
        var entry = Path.Combine(folder, "node_modules", "@portkey-ai", "gateway", "build", "start-server.js");
        if (!File.Exists(entry))
        {
            Log($"installing @portkey-ai/gateway 1.15.2 with npm into {folder} (hono 4.9.7 and @hono/node-server 1.13.5 pinned by overrides)...");
            Directory.CreateDirectory(folder);
            await File.WriteAllTextAsync(
                Path.Combine(folder, "package.json"),
                """
                {
                  "name": "cairn-bench-portkey",
                  "private": true,
                  "dependencies": { "@portkey-ai/gateway": "1.15.2" },
                  "overrides": { "hono": "4.9.7", "@hono/node-server": "1.13.5" }
                }
                """,
                cancellationToken);
            var npm = Process.Start(new ProcessStartInfo("npm") { ArgumentList = { "install", "--no-audit", "--no-fund", "--loglevel=error" }, WorkingDirectory = folder, UseShellExecute = false })
                ?? throw new InvalidOperationException("Could not start npm.");
            using (npm)
            {
                await npm.WaitForExitAsync(cancellationToken);
                if (npm.ExitCode != 0 || !File.Exists(entry))
                {
                    throw new InvalidOperationException($"npm install of @portkey-ai/gateway failed (exit code {npm.ExitCode}).");
                }
            }
        }

        var port = ChildProcess.FreePort();
        var process = ChildProcess.Start(Portkey, "node", [entry, $"--port={port}", "--headless"], folder, new Dictionary<string, string>(), Path.Combine(work, "portkey.log"));
        try
        {
            await process.WaitReadyAsync(port, null, TimeSpan.FromSeconds(60), cancellationToken);
            var target = new GatewayTarget(
                Portkey,
                new Uri($"http://127.0.0.1:{port}/v1/chat/completions"),
                [auth, new("x-portkey-provider", "openai"), new("x-portkey-custom-host", $"http://127.0.0.1:{fakePort}/v1")],
                process);
            Log($"Portkey on port {port} (pid {process.Id}, node {NodeVersion()})");
            using var client = new GatewayClient();
            await SmokeTestAsync(client, target, cancellationToken);
            return (process, target);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>One plain and one streaming call; fails loudly if either answer is not what the fake sent.</summary>
    private static async Task SmokeTestAsync(GatewayClient client, GatewayTarget target, CancellationToken cancellationToken)
    {
        var (status, body) = await client.SendAsync(target, GatewayPayloads.Request, cancellationToken);
        if (status != 200 || !body.Contains("\"chat.completion\"", StringComparison.Ordinal) || !body.Contains("Hello! How can I help you today?", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{target.Name}: unexpected answer to the chat call: HTTP {status} {body}");
        }

        (status, body) = await client.SendAsync(target, GatewayPayloads.StreamRequest, cancellationToken);
        if (status != 200 || !body.Contains("data: [DONE]", StringComparison.Ordinal) || !body.Contains(" I help you today?", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{target.Name}: unexpected answer to the streaming call: HTTP {status} {body}");
        }
    }

    private static long CountRequestLogs(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, "cairn.db");
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM request_logs";
        return Convert.ToInt64(command.ExecuteScalar(), s_culture);
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    private static string Commit()
    {
        var output = Command("git", "-C " + AppContext.BaseDirectory + " rev-parse --short HEAD").Trim();
        var dirty = Command("git", "-C " + AppContext.BaseDirectory + " status --porcelain --untracked-files=no").Trim().Length > 0;
        return output.Length is > 0 and < 20 ? output + (dirty ? " (with uncommitted changes)" : "") : "unknown";
    }

    private static void PrintEnvironment(GatewayBenchOptions options)
    {
        var model = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(static l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?";
        Log($"machine: {Environment.ProcessorCount} CPUs ({model ?? "unknown"}), load average {load}; .NET {Environment.Version}; wrk {Command("wrk", "-v").Split('\n')[0].Trim()}");
        Log($"options: duration {options.Duration.TotalSeconds:0} s, warm-up {options.WarmUp.TotalSeconds:0} s, rounds {options.Rounds}, c={options.Concurrency} with {options.WrkThreads} wrk threads, " +
            $"soak {options.SoakRps:0} req/s for {options.SoakDuration.TotalMinutes:0.#} min, Portkey {(options.Portkey ? "on" : "off")}, bare proxy {(options.BareProxy ? "on" : "off")}, scenarios {string.Join(",", options.Scenarios)}");
    }

    private static string NodeVersion() => Command("node", "--version").Trim();

    private static string Command(string file, string argument)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(file, argument) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            if (process is null)
            {
                return "";
            }

            var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            return output;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "";
        }
    }

    private static string Str(int value) => value.ToString(s_culture);

    public static void Log(string message) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");

    /// <summary>Collects the results and prints them as Markdown.</summary>
    private sealed class Report(GatewayBenchOptions options)
    {
        public List<(int Round, WrkResult Result)> Latency { get; } = [];

        public List<(int Round, WrkResult Result)> Throughput { get; } = [];

        public List<(int Round, StreamResult Result)> Streams { get; } = [];

        public SoakResult? Soak { get; set; }

        public string LoadAtStart { get; init; } = "";

        public string LoadAtEnd { get; set; } = "";

        public string Machine { get; set; } = "";

        public (long Rows, long Requests, int ExitCode)? MainLogCheck { get; set; }

        public (long Rows, long Requests, int ExitCode)? SoakLogCheck { get; set; }

        public void Print()
        {
            var md = new StringBuilder();
            var present = Latency.Select(static r => r.Result.Target).Concat(Throughput.Select(static r => r.Result.Target)).Concat(Streams.Select(static r => r.Result.Target)).ToHashSet();
            string[] others = [.. new[] { BareProxyName, Portkey }.Where(present.Contains)];
            md.AppendLine(CultureInfo.InvariantCulture, $"### Summary (medians over {options.Rounds} interleaved rounds of {options.Duration.TotalSeconds:0} s)");
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"{Machine}; load average (1, 5, 15 min) {LoadAtStart} at the start, {LoadAtEnd} at the end.");
            md.AppendLine();
            md.Append("| Target (issue #4) | Goal | Direct | Cairn |");
            foreach (var other in others)
            {
                md.Append(' ').Append(other).Append(" |");
            }

            md.Append(" Cairn vs. goal | Result |");
            foreach (var other in others)
            {
                md.Append(' ').Append(other).Append(" vs. goal |");
            }

            md.AppendLine().Append("|---|---|---:|---:|").Append(string.Concat(others.Select(static _ => "---:|"))).Append("---:|---|").AppendLine(string.Concat(others.Select(static _ => "---:|")));

            void Row(string name, string goal, Func<string, string> value, Func<string, string> result, bool? pass)
            {
                md.Append(CultureInfo.InvariantCulture, $"| {name} | {goal} | {value(Direct)} | {value(Cairn)} |");
                foreach (var other in others)
                {
                    md.Append(' ').Append(value(other)).Append(" |");
                }

                md.Append(CultureInfo.InvariantCulture, $" {result(Cairn)} | {(pass is { } p ? Verdict(p) : "–")} |");
                foreach (var other in others)
                {
                    md.Append(' ').Append(result(other)).Append(" |");
                }

                md.AppendLine();
            }

            if (Latency.Count > 0)
            {
                Row("Added latency, 1 connection, p50", $"≤ {AddedP50TargetMs} ms",
                    t => Ms(Median(Latency, t, static r => r.P50Ms)), t => Plus(Added(Latency, t, static r => r.P50Ms)),
                    Added(Latency, Cairn, static r => r.P50Ms) <= AddedP50TargetMs);
                Row("Added latency, 1 connection, p99", $"≤ {AddedP99TargetMs} ms",
                    t => Ms(Median(Latency, t, static r => r.P99Ms)), t => Plus(Added(Latency, t, static r => r.P99Ms)),
                    Added(Latency, Cairn, static r => r.P99Ms) <= AddedP99TargetMs);
            }

            if (Throughput.Count > 0)
            {
                Row($"Throughput (req/s), {options.Concurrency} connections", $"≥ {ThroughputShareTarget:P0} of direct",
                    t => Rps(Median(Throughput, t, static r => r.RequestsPerSecond)), t => Share(Throughput, t, Direct).ToString("P1", s_culture),
                    Share(Throughput, Cairn, Direct) >= ThroughputShareTarget);
                if (present.Contains(Portkey))
                {
                    Row("Throughput, Cairn ÷ Portkey", $"> {PortkeyThroughputFactorTarget}×",
                        static _ => "", t => t == Cairn ? Share(Throughput, Cairn, Portkey).ToString("0.0", s_culture) + "×" : "",
                        Share(Throughput, Cairn, Portkey) > PortkeyThroughputFactorTarget);
                }
            }

            if (Streams.Count > 0)
            {
                Row("Streaming: time to first byte, p50", $"≤ {AddedTtfbTargetMs} ms added",
                    t => Ms(Median(Streams, t, static r => r.TtfbP50Ms)), t => Plus(AddedStream(Streams, t, static r => r.TtfbP50Ms)),
                    AddedStream(Streams, Cairn, static r => r.TtfbP50Ms) <= AddedTtfbTargetMs);
                Row("Streaming: time to first byte, p99", "info",
                    t => Ms(Median(Streams, t, static r => r.TtfbP99Ms)), t => Plus(AddedStream(Streams, t, static r => r.TtfbP99Ms)), null);
            }

            if (Soak is { } soak && soak.Rss.Count > 1)
            {
                var warm = soak.Rss.FirstOrDefault(static s => s.At >= TimeSpan.FromMinutes(1)) ?? soak.Rss[0];
                var end = soak.Rss[^1];
                var growth = (double)(end.Bytes - warm.Bytes) / warm.Bytes;
                Row($"Soak: Cairn's RSS at {soak.TargetRps:0} req/s for {soak.Duration.TotalMinutes:0.#} min, from {warm.At:m\\:ss} to the end", $"< {RssGrowthTarget:P0} growth",
                    t => t == Cairn ? $"{Mib(warm.Bytes)} → {Mib(end.Bytes)} (max {Mib(soak.Rss.Max(static s => s.Bytes))})" : "",
                    t => t == Cairn ? growth.ToString("+0.0%;-0.0%", s_culture) : "", growth < RssGrowthTarget);
            }

            if (SoakLogCheck is { } soakLog)
            {
                Row("Soak: request log kept every call", "all",
                    t => t == Cairn ? $"{soakLog.Rows:N0} rows / {soakLog.Requests:N0} calls" : "",
                    t => t == Cairn ? (soakLog.Rows == soakLog.Requests ? "all" : $"{soakLog.Rows - soakLog.Requests:+#,0;-#,0}") : "", soakLog.Rows == soakLog.Requests);
            }

            md.AppendLine();
            if (Soak is { } s2)
            {
                var rss = string.Join(", ", s2.Rss.Where(static s => s.At.TotalSeconds % 30 < 5).Select(static s => string.Create(CultureInfo.InvariantCulture, $"{s.At:m\\:ss} {s.Bytes / 1048576.0:0}")));
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"Soak: {s2.Sent:N0} calls sent ({s2.AchievedRps:0.0} req/s answered), {s2.Ok:N0} ok, {s2.Failed:N0} failed, {s2.Late:N0} starts delayed by the in-flight cap; " +
                    $"p50 {s2.P50Ms:0.00} ms, p99 {s2.P99Ms:0.00} ms; CPU {s2.Cpu}. RSS (MiB) every 30 s: {rss}.");
                md.AppendLine();
            }

            if (MainLogCheck is { } main)
            {
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"Request log of the Cairn process used for the rounds: {main.Rows:N0} rows for {main.Requests:N0} calls counted by the clients " +
                    $"(wrk does not count the ≤ {options.Concurrency} calls in flight when it stops); exit code {main.ExitCode}.");
                md.AppendLine();
            }

            md.AppendLine("### Every run");
            md.AppendLine();
            md.AppendLine("| Round | Scenario | Target | req/s | p50 | p90 | p99 | p99.9 | Errors | CPU (cores of 2) |");
            md.AppendLine("|---:|---|---|---:|---:|---:|---:|---:|---:|---|");
            foreach (var (round, r) in Latency.Concat(Throughput).OrderBy(static x => x.Round).ThenBy(static x => x.Result.Connections))
            {
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {round} | wrk, {r.Connections} conn. | {r.Target} | {Rps(r.RequestsPerSecond)} | {Ms(r.P50Ms)} | {Ms(r.P90Ms)} | {Ms(r.P99Ms)} | {Ms(r.P999Ms)} | {r.Errors} | {r.Cpu} |");
            }

            foreach (var (round, r) in Streams)
            {
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {round} | stream TTFB, 1 conn. | {r.Target} | {Rps(r.Samples / options.Duration.TotalSeconds)} | {Ms(r.TtfbP50Ms)} | | {Ms(r.TtfbP99Ms)} | | {r.Errors} | {r.Cpu} (whole stream p50 {Ms(r.TotalP50Ms)}) |");
            }

            Console.Out.Write(md.ToString());
        }

        private static string Verdict(bool pass) => pass ? "**pass**" : "**FAIL**";

        /// <summary>The median over rounds of <c>value(target) − value(direct)</c>, each difference taken within one round.</summary>
        private static double Added(List<(int Round, WrkResult Result)> runs, string target, Func<WrkResult, double> value) =>
            MedianOf(runs.Where(r => r.Result.Target == target)
                .Select(r => value(r.Result) - value(runs.First(d => d.Round == r.Round && d.Result.Target == Direct && d.Result.Connections == r.Result.Connections).Result)));

        private static double AddedStream(List<(int Round, StreamResult Result)> runs, string target, Func<StreamResult, double> value) =>
            MedianOf(runs.Where(r => r.Result.Target == target)
                .Select(r => value(r.Result) - value(runs.First(d => d.Round == r.Round && d.Result.Target == Direct).Result)));

        /// <summary>The median over rounds of <c>rps(target) ÷ rps(baseline)</c>, each ratio taken within one round.</summary>
        private static double Share(List<(int Round, WrkResult Result)> runs, string target, string baseline) =>
            MedianOf(runs.Where(r => r.Result.Target == target)
                .Select(r => r.Result.RequestsPerSecond / runs.First(d => d.Round == r.Round && d.Result.Target == baseline).Result.RequestsPerSecond));

        private static double Median<T>(List<(int Round, T Result)> runs, string target, Func<T, double> value)
            where T : class =>
            MedianOf(runs.Where(r => Name(r.Result) == target).Select(r => value(r.Result)));

        private static string Name<T>(T result) => result switch
        {
            WrkResult w => w.Target,
            StreamResult s => s.Target,
            _ => "",
        };

        private static double MedianOf(IEnumerable<double> values)
        {
            var sorted = values.Order().ToArray();
            if (sorted.Length == 0)
            {
                return double.NaN;
            }

            return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        }

        private static string Ms(double value) => double.IsNaN(value) ? "–" : value.ToString(Math.Abs(value) >= 10 ? "0.0" : "0.000", s_culture) + " ms";

        private static string Plus(double value) => double.IsNaN(value) ? "–" : (value >= 0 ? "+" : "−") + Ms(Math.Abs(value));

        private static string Rps(double value) => double.IsNaN(value) ? "–" : value.ToString(value >= 100 ? "N0" : "N1", s_culture);

        private static string Mib(long bytes) => (bytes / 1048576.0).ToString("0.0", s_culture) + " MiB";
    }
}
