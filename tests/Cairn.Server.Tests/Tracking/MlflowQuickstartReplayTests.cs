using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Cairn.Server.Tests.Tracking;

/// <summary>
/// Replays the requests the MLflow 3.5 client sent to MLflow's own server during MLflow's quickstart
/// (Data/mlflow-quickstart-exchanges.jsonl) and checks that Cairn answers each one as MLflow did: same status, same
/// content type, same JSON shape and values, with ids, run names and timestamps mapped to Cairn's own (issue #2).
/// </summary>
public sealed partial class MlflowQuickstartReplayTests
{
    private static readonly HashSet<string> s_timeFields =
    [
        "creation_time", "last_update_time", "start_time", "end_time", "timestamp", "creation_timestamp",
        "last_updated_timestamp", "creation_timestamp_ms", "last_updated_timestamp_ms",
    ];

    private static readonly HashSet<string> s_idFields = ["run_id", "run_uuid", "model_id", "run_name", "experiment_id"];

    [Theory]
    [InlineData(Backend.Sqlite)]
    [InlineData(Backend.Postgres)]
    public async Task Quickstart_ReplayedAgainstCairn_AnswersAsMlflow(Backend backend)
    {
        await using var server = await CairnTestServer.StartAsync(backend);
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        var lines = await File.ReadAllLinesAsync(Path.Combine(AppContext.BaseDirectory, "Data", "mlflow-quickstart-exchanges.jsonl"));
        Assert.True(lines.Length > 20);

        for (var i = 0; i < lines.Length; i++)
        {
            var exchange = JsonNode.Parse(lines[i])!.AsObject();
            var method = exchange["method"]!.GetValue<string>();
            var path = Substitute(exchange["path"]!.GetValue<string>(), ids);
            var context = $"exchange {i + 1}: {method} {path}";

            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            var requestContentType = exchange["req_ct"]?.GetValue<string>();
            if (requestContentType is not null)
            {
                request.Content = BuildContent(exchange["req"]!, requestContentType, ids);
            }

            using var response = await server.Client.SendAsync(request);
            Assert.True((int)response.StatusCode == exchange["status"]!.GetValue<int>(), $"{context}: status {(int)response.StatusCode}, body {await response.Content.ReadAsStringAsync()}");

            var expectedType = exchange["resp_ct"]!.GetValue<string>();
            Assert.Equal(expectedType, response.Content.Headers.ContentType?.MediaType);
            var expected = exchange["resp"]!;
            if (expectedType == "application/json")
            {
                var actual = JsonNode.Parse(await response.Content.ReadAsStringAsync());
                AssertJsonEquivalent(expected, actual, ids, context);
            }
            else
            {
                var bytes = await response.Content.ReadAsByteArrayAsync();
                var text = expected.GetValue<string>();
                var binary = BinaryPlaceholder().Match(text);
                if (binary.Success)
                {
                    Assert.Equal(int.Parse(binary.Groups[1].Value, CultureInfo.InvariantCulture), bytes.Length);
                }
                else
                {
                    Assert.Equal(Substitute(text, ids), Encoding.UTF8.GetString(bytes));
                }
            }
        }
    }

    private static HttpContent BuildContent(JsonNode body, string contentType, Dictionary<string, string> ids)
    {
        if (contentType == "application/json")
        {
            return new StringContent(Substitute(body.ToJsonString(), ids), Encoding.UTF8, "application/json");
        }

        var text = body.GetValue<string>();
        var binary = BinaryPlaceholder().Match(text);
        var bytes = binary.Success
            ? Enumerable.Range(0, int.Parse(binary.Groups[1].Value, CultureInfo.InvariantCulture)).Select(static b => (byte)(b * 31)).ToArray()
            : Encoding.UTF8.GetBytes(Substitute(text, ids));
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return content;
    }

    private static string Substitute(string text, Dictionary<string, string> ids)
    {
        foreach (var (recorded, actual) in ids)
        {
            text = text.Replace(recorded, actual, StringComparison.Ordinal);
        }

        return text;
    }

    private static void AssertJsonEquivalent(JsonNode? expected, JsonNode? actual, Dictionary<string, string> ids, string path)
    {
        switch (expected)
        {
            case null:
                Assert.True(actual is null, $"{path}: expected null, got {actual?.ToJsonString()}");
                break;
            case JsonObject expectedObject:
                var actualObject = Assert.IsType<JsonObject>(actual, exactMatch: false);
                Assert.True(
                    expectedObject.Select(static p => p.Key).Order(StringComparer.Ordinal).SequenceEqual(actualObject.Select(static p => p.Key).Order(StringComparer.Ordinal)),
                    $"{path}: expected keys [{string.Join(", ", expectedObject.Select(static p => p.Key))}] but got [{string.Join(", ", actualObject.Select(static p => p.Key))}] in {actualObject.ToJsonString()}");
                foreach (var (key, value) in expectedObject)
                {
                    var child = actualObject[key];
                    if (s_timeFields.Contains(key))
                    {
                        Assert.True(child is JsonValue v && v.TryGetValue<long>(out var ms) && ms > 0, $"{path}.{key}: expected a timestamp, got {child?.ToJsonString()}");
                    }
                    else if (s_idFields.Contains(key) && value is JsonValue idValue && idValue.TryGetValue<string>(out var recordedId) && child is JsonValue actualIdValue && actualIdValue.TryGetValue<string>(out var actualId) && !ids.ContainsKey(recordedId))
                    {
                        if (recordedId != actualId)
                        {
                            ids[recordedId] = actualId;
                        }
                    }
                    else
                    {
                        AssertJsonEquivalent(value, child, ids, path + "." + key);
                    }
                }

                break;
            case JsonArray expectedArray:
                var actualArray = Assert.IsType<JsonArray>(actual, exactMatch: false);
                Assert.True(expectedArray.Count == actualArray.Count, $"{path}: expected {expectedArray.Count} items, got {actualArray.ToJsonString()}");
                for (var i = 0; i < expectedArray.Count; i++)
                {
                    AssertJsonEquivalent(expectedArray[i], actualArray[i], ids, $"{path}[{i}]");
                }

                break;
            case JsonValue expectedValue when expectedValue.TryGetValue<string>(out var expectedText):
                Assert.True(actual is JsonValue av && av.TryGetValue<string>(out var actualText) && actualText == Substitute(expectedText, ids), $"{path}: expected \"{Substitute(expectedText, ids)}\", got {actual?.ToJsonString()}");
                break;
            case JsonValue expectedValue when expectedValue.TryGetValue<bool>(out var expectedBool):
                Assert.True(actual is JsonValue ab && ab.TryGetValue<bool>(out var actualBool) && actualBool == expectedBool, $"{path}: expected {expectedBool}, got {actual?.ToJsonString()}");
                break;
            case JsonValue expectedNumber:
                Assert.True(actual is JsonValue an && an.TryGetValue<double>(out var actualNumber) && actualNumber == expectedNumber.GetValue<double>(), $"{path}: expected {expectedNumber.ToJsonString()}, got {actual?.ToJsonString()}");
                break;
        }
    }

    [GeneratedRegex(@"^<binary (\d+) bytes>$")]
    private static partial Regex BinaryPlaceholder();
}
