using System.Diagnostics;
using System.Globalization;

namespace Cairn.Bench.Http;

/// <summary>CPU use over an interval: this process (server and client together) and, from <c>/proc/stat</c>, the whole machine, so that load from other processes shows.</summary>
internal sealed class CpuSampler
{
    private readonly TimeSpan _processStart;
    private readonly (long Busy, long Total)? _machineStart;
    private readonly long _wallStart;

    private CpuSampler()
    {
        using var process = Process.GetCurrentProcess();
        _processStart = process.TotalProcessorTime;
        _machineStart = ReadMachine();
        _wallStart = Stopwatch.GetTimestamp();
    }

    public static CpuSampler Start() => new();

    /// <summary>Cores used on average since <see cref="Start"/>: by this process, and by everything else on the machine (null where <c>/proc/stat</c> is missing).</summary>
    public (double Process, double? Others) Stop()
    {
        using var process = Process.GetCurrentProcess();
        var seconds = Stopwatch.GetElapsedTime(_wallStart).TotalSeconds;
        var processCores = (process.TotalProcessorTime - _processStart).TotalSeconds / seconds;
        var machineEnd = ReadMachine();
        if (_machineStart is not { } start || machineEnd is not { } end || end.Total <= start.Total)
        {
            return (processCores, null);
        }

        var machineCores = (double)(end.Busy - start.Busy) / (end.Total - start.Total) * Environment.ProcessorCount;
        return (processCores, Math.Max(0, machineCores - processCores));
    }

    private static (long Busy, long Total)? ReadMachine()
    {
        try
        {
            // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest time is already in user).
            var line = File.ReadLines("/proc/stat").FirstOrDefault(static l => l.StartsWith("cpu ", StringComparison.Ordinal));
            if (line is null)
            {
                return null;
            }

            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
                .Select(static f => long.Parse(f, NumberStyles.Integer, CultureInfo.InvariantCulture)).ToArray();
            var total = fields.Sum();
            var idle = fields[3] + fields[4];
            return (total - idle, total);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
