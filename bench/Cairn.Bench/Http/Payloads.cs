using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Cairn.Bench.Http;

/// <summary>Request bodies, written with <see cref="Utf8JsonWriter"/> (no reflection serialisation), pre-built where they do not change.</summary>
internal static class Payloads
{
    /// <summary>The base of all timestamps (2023-11-14), so that every payload has the same shape.</summary>
    public const long BaseTimestamp = 1_700_000_000_000;

    private static readonly string[] s_solvers = ["lbfgs", "adam", "sgd"];

    public static byte[] CreateExperiment(string name) => Write(w =>
    {
        w.WriteString("name", name);
    });

    public static byte[] CreateRun(string experimentId, string? runName = null) => Write(w =>
    {
        w.WriteString("experiment_id", experimentId);
        w.WriteString("user_id", "bench");
        if (runName is not null)
        {
            w.WriteString("run_name", runName);
        }

        w.WriteNumber("start_time", BaseTimestamp);
        w.WriteStartArray("tags");
        WriteKeyValue(w, "mlflow.user", "bench");
        w.WriteEndArray();
    });

    /// <summary>The scenario-1 batch: 5 params, 20 metrics and 3 tags, with a slot for the run id.</summary>
    public static RunIdTemplate TrainingRunBatch() => RunIdTemplate.Create(w =>
    {
        w.WriteStartArray("params");
        WriteKeyValue(w, "learning_rate", "0.001");
        WriteKeyValue(w, "batch_size", "64");
        WriteKeyValue(w, "epochs", "20");
        WriteKeyValue(w, "optimizer", "adam");
        WriteKeyValue(w, "model", "resnet18");
        w.WriteEndArray();
        w.WriteStartArray("metrics");
        for (var i = 0; i < 20; i++)
        {
            WriteMetric(w, $"metric_{i:D2}", 0.5 + (i / 40.0), BaseTimestamp + i, 0);
        }

        w.WriteEndArray();
        w.WriteStartArray("tags");
        WriteKeyValue(w, "mlflow.source.type", "LOCAL");
        WriteKeyValue(w, "team", "vision");
        WriteKeyValue(w, "stage", "benchmark");
        w.WriteEndArray();
    });

    /// <summary>A batch of <paramref name="count"/> points of one metric, steps <paramref name="firstStep"/> onwards.</summary>
    public static byte[] MetricHistoryBatch(string runId, string key, int firstStep, int count) => Write(w =>
    {
        w.WriteString("run_id", runId);
        w.WriteStartArray("metrics");
        for (var step = firstStep; step < firstStep + count; step++)
        {
            WriteMetric(w, key, 1.0 / (1 + step), BaseTimestamp + step, step);
        }

        w.WriteEndArray();
    });

    /// <summary>The data of seeded search run number <paramref name="index"/>: 3 params, 3 metrics, 2 tags; about a third use lbfgs, and accuracy is spread over [0, 1).</summary>
    public static byte[] SearchRunBatch(string runId, int index) => Write(w =>
    {
        var accuracy = (index * 7919L % 10_000) / 10_000.0;
        w.WriteString("run_id", runId);
        w.WriteStartArray("params");
        WriteKeyValue(w, "solver", s_solvers[index % s_solvers.Length]);
        WriteKeyValue(w, "C", ((index % 10) / 10.0 + 0.1).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture));
        WriteKeyValue(w, "max_iter", (100 * (1 + (index % 5))).ToString(System.Globalization.CultureInfo.InvariantCulture));
        w.WriteEndArray();
        w.WriteStartArray("metrics");
        WriteMetric(w, "accuracy", accuracy, BaseTimestamp + index, 0);
        WriteMetric(w, "loss", 1 - accuracy, BaseTimestamp + index, 0);
        WriteMetric(w, "f1", accuracy * 0.9, BaseTimestamp + index, 0);
        w.WriteEndArray();
        w.WriteStartArray("tags");
        WriteKeyValue(w, "team", index % 2 == 0 ? "vision" : "nlp");
        WriteKeyValue(w, "stage", "search-seed");
        w.WriteEndArray();
    });

    public static byte[] SearchRuns(string experimentId) => Write(w =>
    {
        w.WriteStartArray("experiment_ids");
        w.WriteStringValue(experimentId);
        w.WriteEndArray();
        w.WriteString("filter", "metrics.accuracy > 0.5 and params.solver = 'lbfgs'");
        w.WriteStartArray("order_by");
        w.WriteStringValue("metrics.accuracy DESC");
        w.WriteEndArray();
        w.WriteNumber("max_results", 100);
    });

    public static void WriteMetric(Utf8JsonWriter writer, string key, double value, long timestamp, long step)
    {
        writer.WriteStartObject();
        writer.WriteString("key", key);
        writer.WriteNumber("value", value);
        writer.WriteNumber("timestamp", timestamp);
        writer.WriteNumber("step", step);
        writer.WriteEndObject();
    }

    private static void WriteKeyValue(Utf8JsonWriter writer, string key, string value)
    {
        writer.WriteStartObject();
        writer.WriteString("key", key);
        writer.WriteString("value", value);
        writer.WriteEndObject();
    }

    private static byte[] Write(Action<Utf8JsonWriter> writeProperties)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writeProperties(writer);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A pre-built <c>{"run_id":"…", …}</c> body; only the run id is filled in per request.</summary>
    internal sealed class RunIdTemplate
    {
        private const string Marker = "@@RUN_ID@@";
        private readonly byte[] _prefix;
        private readonly byte[] _suffix;

        private RunIdTemplate(byte[] prefix, byte[] suffix)
        {
            _prefix = prefix;
            _suffix = suffix;
        }

        public static RunIdTemplate Create(Action<Utf8JsonWriter> writeRest)
        {
            var bytes = Write(w =>
            {
                w.WriteString("run_id", Marker);
                writeRest(w);
            });
            var at = bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(Marker));
            return new RunIdTemplate(bytes[..at], bytes[(at + Marker.Length)..]);
        }

        public byte[] For(string runId)
        {
            var body = new byte[_prefix.Length + runId.Length + _suffix.Length];
            _prefix.CopyTo(body, 0);
            var written = Encoding.UTF8.GetBytes(runId, body.AsSpan(_prefix.Length));
            _suffix.CopyTo(body, _prefix.Length + written);
            return body;
        }
    }

    /// <summary>Per-worker writer of 1,000-value batches: 10 metrics × 100 consecutive steps, the steps moving on with every call (reuses its buffer).</summary>
    internal sealed class MetricBatchWriter
    {
        public const int MetricsPerCall = 1_000;
        private const int Keys = 10;
        private const int StepsPerCall = MetricsPerCall / Keys;

        private static readonly string[] s_keys = [.. Enumerable.Range(0, Keys).Select(static i => $"train_metric_{i}")];
        private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
        private readonly Utf8JsonWriter _writer;
        private long _nextStep;

        public MetricBatchWriter()
        {
            _writer = new Utf8JsonWriter(_buffer);
        }

        public ReadOnlyMemory<byte> Next(string runId)
        {
            _buffer.ResetWrittenCount();
            _writer.Reset(_buffer);
            _writer.WriteStartObject();
            _writer.WriteString("run_id", runId);
            _writer.WriteStartArray("metrics");
            var firstStep = _nextStep;
            for (var step = firstStep; step < firstStep + StepsPerCall; step++)
            {
                foreach (var key in s_keys)
                {
                    WriteMetric(_writer, key, 1.0 / (1 + step), BaseTimestamp + step, step);
                }
            }

            _writer.WriteEndArray();
            _writer.WriteEndObject();
            _writer.Flush();
            _nextStep += StepsPerCall;
            return _buffer.WrittenMemory;
        }
    }
}
