using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Cairn.Bench.Gateway;

/// <summary>A server process the harness started (fake upstream, Cairn, Portkey): output to a log file, CPU and memory from <c>/proc</c>, stopped with SIGTERM.</summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private ChildProcess(string name, Process process, StreamWriter log, string logPath)
    {
        Name = name;
        _process = process;
        _log = log;
        LogPath = logPath;
    }

    public string Name { get; }

    public string LogPath { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts <paramref name="fileName"/> with its output going to <paramref name="logPath"/>.</summary>
    public static ChildProcess Start(string name, string fileName, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string> environment, string logPath)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var log = new StreamWriter(logPath, append: false) { AutoFlush = true };
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => WriteLine(log, e.Data);
        process.ErrorDataReceived += (_, e) => WriteLine(log, e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"Could not start {name} ({fileName}).");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ChildProcess(name, process, log, logPath);
    }

    private static void WriteLine(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.WriteLine(line);
        }
    }

    /// <summary>Waits until <paramref name="port"/> accepts connections and <paramref name="ready"/> (if given) says yes.</summary>
    public async Task WaitReadyAsync(int port, Func<CancellationToken, Task<bool>>? ready, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} before it was ready; see {LogPath}:{Environment.NewLine}{Tail()}");
            }

            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
                if (ready is null || await ready(cancellationToken))
                {
                    return;
                }
            }
            catch (SocketException)
            {
            }
            catch (HttpRequestException)
            {
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"{Name} was not ready on port {port} within {timeout.TotalSeconds:0} s; see {LogPath}:{Environment.NewLine}{Tail()}");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>User plus system CPU time of the process so far (from <c>/proc/&lt;pid&gt;/stat</c>, all threads).</summary>
    public TimeSpan CpuTime() => ProcStat.CpuTime(_process.Id);

    /// <summary>The resident set size in bytes (<c>VmRSS</c> in <c>/proc/&lt;pid&gt;/status</c>).</summary>
    public long ResidentBytes() => ProcStat.ResidentBytes(_process.Id);

    /// <summary>Sends SIGTERM (a graceful stop: Cairn drains its request log) and waits; kills the process if it takes longer than <paramref name="timeout"/>.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            using (var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", _process.Id.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false }))
            {
                if (kill is not null)
                {
                    await kill.WaitForExitAsync();
                }
            }

            using var wait = new CancellationTokenSource(timeout);
            try
            {
                await _process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        return _process.ExitCode;
    }

    public string Tail(int lines = 20)
    {
        lock (_log)
        {
            _log.Flush();
        }

        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n');
            return string.Join('\n', all.TakeLast(lines));
        }
        catch (IOException)
        {
            return "";
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(30));
        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }

    /// <summary>A free loopback TCP port (bound and released; good enough on a machine that does not race for ports).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

/// <summary>Reads CPU time and memory of processes, and the machine's CPU counters, from <c>/proc</c>.</summary>
internal static class ProcStat
{
    /// <summary>Clock ticks per second of <c>/proc/*/stat</c> (<c>USER_HZ</c>, 100 on Linux).</summary>
    private const double TicksPerSecond = 100;

    public static TimeSpan CpuTime(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            var user = long.Parse(fields[11], NumberStyles.Integer, CultureInfo.InvariantCulture);
            var system = long.Parse(fields[12], NumberStyles.Integer, CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds((user + system) / TicksPerSecond);
        }
        catch (IOException)
        {
            return TimeSpan.Zero;
        }
    }

    public static long ResidentBytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kb = line["VmRSS:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kb, NumberStyles.Integer, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }

    /// <summary>The machine's busy and total CPU time in cores × seconds, from the first line of <c>/proc/stat</c>.</summary>
    public static (double Busy, double Total) Machine()
    {
        var line = File.ReadLines("/proc/stat").First(static l => l.StartsWith("cpu ", StringComparison.Ordinal));
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
            .Select(static f => long.Parse(f, NumberStyles.Integer, CultureInfo.InvariantCulture)).ToArray();
        var total = fields.Sum();
        var idle = fields[3] + fields[4];
        return ((total - idle) / TicksPerSecond, total / TicksPerSecond);
    }
}

/// <summary>CPU use over one measurement: cores taken by each process the harness knows, and by everything else on the machine.</summary>
internal sealed class CpuWindow
{
    private readonly (string Name, Func<TimeSpan> Cpu)[] _processes;
    private readonly TimeSpan[] _start;
    private readonly (double Busy, double Total) _machineStart;
    private readonly long _wallStart;

    public CpuWindow(params (string Name, Func<TimeSpan> Cpu)[] processes)
    {
        _processes = processes;
        _start = [.. processes.Select(static p => p.Cpu())];
        _machineStart = ProcStat.Machine();
        _wallStart = Stopwatch.GetTimestamp();
    }

    /// <summary>Average cores per process name, plus <c>others</c> (the rest of the machine) and <c>idle</c>.</summary>
    public CpuUse Stop()
    {
        var seconds = Stopwatch.GetElapsedTime(_wallStart).TotalSeconds;
        var used = new List<(string, double)>();
        var ours = 0.0;
        for (var i = 0; i < _processes.Length; i++)
        {
            var cores = (_processes[i].Cpu() - _start[i]).TotalSeconds / seconds;
            ours += cores;
            used.Add((_processes[i].Name, cores));
        }

        var machine = ProcStat.Machine();
        var cpus = Environment.ProcessorCount;
        var busy = machine.Total > _machineStart.Total
            ? (machine.Busy - _machineStart.Busy) / (machine.Total - _machineStart.Total) * cpus
            : 0;
        return new CpuUse(used, Math.Max(0, busy - ours), Math.Max(0, cpus - busy));
    }
}

/// <summary>Average cores used during a measurement.</summary>
internal sealed record CpuUse(IReadOnlyList<(string Name, double Cores)> Processes, double Others, double Idle)
{
    public override string ToString() =>
        string.Join(", ", Processes.Select(static p => $"{p.Name} {p.Cores.ToString("0.00", CultureInfo.InvariantCulture)}"))
        + $", others {Others.ToString("0.00", CultureInfo.InvariantCulture)}, idle {Idle.ToString("0.00", CultureInfo.InvariantCulture)}";
}
