using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Cairn.Bench.Gateway;

/// <summary>One thing the load goes to: the fake upstream itself, Cairn or Portkey in front of it.</summary>
internal sealed record GatewayTarget(string Name, Uri Url, IReadOnlyList<KeyValuePair<string, string>> Headers, ChildProcess Server);

/// <summary>The figures of one <c>wrk</c> run (latencies in milliseconds, from wrk's microsecond histogram).</summary>
internal sealed record WrkResult(
    string Target,
    int Connections,
    double Seconds,
    long Requests,
    long Errors,
    double P50Ms,
    double P90Ms,
    double P99Ms,
    double P999Ms,
    double MeanMs,
    CpuUse Cpu)
{
    public double RequestsPerSecond => Requests / Seconds;
}

/// <summary>Runs Debian's <c>wrk</c> (4.1) with a Lua script that POSTs the benchmark's chat request and prints the summary in a parseable line.</summary>
internal static class Wrk
{
    private const string ResultMarker = "WRKRESULT";

    public static bool IsInstalled() =>
        Environment.GetEnvironmentVariable("PATH")?.Split(':').Any(static d => File.Exists(Path.Combine(d, "wrk"))) == true;

    /// <summary>Writes the Lua script for <paramref name="target"/> into <paramref name="folder"/>; returns its path.</summary>
    public static string WriteScript(GatewayTarget target, string folder)
    {
        var lua = new StringBuilder();
        lua.AppendLine("wrk.method = \"POST\"");
        lua.Append("wrk.body = [==[").Append(Encoding.UTF8.GetString(GatewayPayloads.Request)).AppendLine("]==]");
        lua.AppendLine("wrk.headers[\"Content-Type\"] = \"application/json\"");
        foreach (var (name, value) in target.Headers)
        {
            lua.Append("wrk.headers[\"").Append(name).Append("\"] = \"").Append(value).AppendLine("\"");
        }

        lua.AppendLine("function done(summary, latency, requests)");
        lua.AppendLine("  local e = summary.errors");
        lua.Append("  io.write(string.format(\"").Append(ResultMarker).AppendLine(" %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.1f %.1f %.1f %.1f %.2f\\n\",");
        lua.AppendLine("    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,");
        lua.AppendLine("    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.mean))");
        lua.AppendLine("end");
        var path = Path.Combine(folder, $"wrk-{target.Name.ToLowerInvariant()}.lua");
        File.WriteAllText(path, lua.ToString());
        return path;
    }

    /// <summary>Runs wrk against <paramref name="target"/> with <paramref name="connections"/> connections for <paramref name="duration"/>.</summary>
    /// <remarks>wrk runs under <c>bash -c '…; times'</c> so that its CPU time (the children's line of <c>times</c>) can be counted.</remarks>
    public static async Task<WrkResult> RunAsync(
        GatewayTarget target, string script, int connections, int threads, TimeSpan duration, IReadOnlyList<ChildProcess> servers, CancellationToken cancellationToken)
    {
        var seconds = Math.Max(1, (int)Math.Round(duration.TotalSeconds));
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("wrk \"$@\"; status=$?; times; exit $status");
        info.ArgumentList.Add("wrk");
        foreach (var argument in new[]
        {
            "-t", Math.Min(threads, connections).ToString(CultureInfo.InvariantCulture),
            "-c", connections.ToString(CultureInfo.InvariantCulture),
            "-d", seconds.ToString(CultureInfo.InvariantCulture) + "s",
            "--timeout", "10s",
            "-s", script,
            target.Url.ToString(),
        })
        {
            info.ArgumentList.Add(argument);
        }

        var processes = servers.Select(static s => (s.Name, (Func<TimeSpan>)s.CpuTime)).ToList();
        var wrkCpu = TimeSpan.Zero;
        processes.Insert(0, ("wrk", () => wrkCpu));
        var window = new CpuWindow([.. processes]);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start wrk.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var output = await stdout;
        var errors = await stderr;
        wrkCpu = ChildrenTimes(errors + "\n" + output);
        var cpu = window.Stop();
        var line = output.Split('\n').FirstOrDefault(static l => l.StartsWith(ResultMarker, StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"wrk printed no result (exit code {process.ExitCode}):{Environment.NewLine}{output}{errors}");
        var f = line[ResultMarker.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(static v => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();
        var errorCount = (long)(f[2] + f[3] + f[4] + f[5] + f[6]);
        return new WrkResult(target.Name, connections, f[1] / 1e6, (long)f[0], errorCount, f[7] / 1000, f[8] / 1000, f[9] / 1000, f[10] / 1000, f[11] / 1000, cpu);
    }

    /// <summary>Parses the children's line of bash's <c>times</c> (<c>0m1.234s 0m0.567s</c>, the second of the two lines).</summary>
    private static TimeSpan ChildrenTimes(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(static l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\d+m[\d.]+s \d+m[\d.]+s$"))
            .ToList();
        if (lines.Count < 2)
        {
            return TimeSpan.Zero;
        }

        return lines[^1].Split(' ').Select(Parse).Aggregate(TimeSpan.Zero, static (a, b) => a + b);

        static TimeSpan Parse(string value)
        {
            var m = value.IndexOf('m', StringComparison.Ordinal);
            var minutes = double.Parse(value[..m], NumberStyles.Float, CultureInfo.InvariantCulture);
            var secs = double.Parse(value[(m + 1)..^1], NumberStyles.Float, CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds((minutes * 60) + secs);
        }
    }
}
