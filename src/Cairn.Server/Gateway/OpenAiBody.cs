using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Core.Gateway;

namespace Cairn.Server.Gateway;

/// <summary>The few top-level fields of an OpenAI request body the gateway needs, read without parsing the rest.</summary>
internal readonly record struct OpenAiRequestInfo(
    string? Model,
    int ModelValueStart,
    int ModelValueLength,
    bool Stream,
    bool HasStreamOptions,
    bool IncludeUsage);

/// <summary>Reads and minimally rewrites OpenAI request bodies and scans OpenAI responses for usage.</summary>
/// <remarks>Unknown fields are never touched: a rewrite splices bytes, so the body reaches the upstream as the client wrote it.</remarks>
internal static class OpenAiBody
{
    private static readonly byte[] s_includeUsage = "\"stream_options\":{\"include_usage\":true},"u8.ToArray();

    /// <summary>Reads <c>model</c>, <c>stream</c> and <c>stream_options.include_usage</c> from the top level.</summary>
    public static OpenAiRequestInfo Inspect(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 256 });
        string? model = null;
        int modelStart = -1, modelLength = 0;
        bool stream = false, hasStreamOptions = false, includeUsage = false;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw GatewayException.InvalidRequest("The request body must be a JSON object.");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("model"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        model = reader.GetString();
                        modelStart = (int)reader.TokenStartIndex;
                        modelLength = (int)(reader.BytesConsumed - reader.TokenStartIndex);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else if (reader.ValueTextEquals("stream"u8))
                {
                    reader.Read();
                    stream = reader.TokenType == JsonTokenType.True;
                    reader.Skip();
                }
                else if (reader.ValueTextEquals("stream_options"u8))
                {
                    reader.Read();
                    hasStreamOptions = true;
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        var depth = reader.CurrentDepth;
                        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
                        {
                            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 1 && reader.ValueTextEquals("include_usage"u8))
                            {
                                reader.Read();
                                includeUsage = reader.TokenType == JsonTokenType.True;
                            }
                            else if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                            {
                                reader.Skip();
                            }
                        }
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject)
            {
                throw GatewayException.InvalidRequest("The request body is not valid JSON.");
            }
        }
        catch (JsonException e)
        {
            throw GatewayException.InvalidRequest($"The request body is not valid JSON: {e.Message}");
        }

        return new OpenAiRequestInfo(model, modelStart, modelLength, stream, hasStreamOptions, includeUsage);
    }

    /// <summary>
    /// The body with <c>model</c> replaced by <paramref name="upstreamModel"/> and, when <paramref name="addIncludeUsage"/>,
    /// <c>stream_options.include_usage</c> turned on so that a stream reports its tokens.
    /// </summary>
    public static ReadOnlyMemory<byte> Rewrite(ReadOnlyMemory<byte> body, OpenAiRequestInfo info, string upstreamModel, bool addIncludeUsage)
    {
        var sameModel = string.Equals(info.Model, upstreamModel, StringComparison.Ordinal);
        if (sameModel && !addIncludeUsage)
        {
            return body;
        }

        if (addIncludeUsage && info.HasStreamOptions)
        {
            // Rare: stream_options present without include_usage; edit the tree instead of splicing.
            var node = JsonNode.Parse(body.Span)!.AsObject();
            node["model"] = upstreamModel;
            if (node["stream_options"] is JsonObject options)
            {
                options["include_usage"] = true;
            }
            else
            {
                node["stream_options"] = new JsonObject { ["include_usage"] = true };
            }

            return JsonSerializer.SerializeToUtf8Bytes(node, GatewayNodeJsonContext.Default.JsonObject);
        }

        var span = body.Span;
        var output = new ArrayBufferWriter<byte>(body.Length + upstreamModel.Length + s_includeUsage.Length + 8);
        var open = span.IndexOf((byte)'{');
        output.Write(span[..(open + 1)]);
        if (addIncludeUsage)
        {
            output.Write(s_includeUsage);
        }

        if (sameModel || info.ModelValueStart < 0)
        {
            output.Write(span[(open + 1)..]);
        }
        else
        {
            output.Write(span[(open + 1)..info.ModelValueStart]);
            using (var writer = new Utf8JsonWriter(output))
            {
                writer.WriteStringValue(upstreamModel);
            }

            output.Write(span[(info.ModelValueStart + info.ModelValueLength)..]);
        }

        return output.WrittenMemory;
    }

    /// <summary>Reads the top-level <c>usage</c> and <c>model</c> of an OpenAI response or stream chunk; also whether <c>choices</c> is an empty array.</summary>
    public static (TokenUsage? Usage, string? Model, bool EmptyChoices) ScanResponse(ReadOnlySpan<byte> json)
    {
        TokenUsage? usage = null;
        string? model = null;
        var emptyChoices = false;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return (null, null, false);
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        using var document = JsonDocument.ParseValue(ref reader);
                        usage = UsageReader.FromOpenAi(document.RootElement);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else if (reader.ValueTextEquals("model"u8))
                {
                    reader.Read();
                    model = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    reader.Skip();
                }
                else if (reader.ValueTextEquals("choices"u8))
                {
                    reader.Read();
                    var start = (int)reader.TokenStartIndex;
                    var isArray = reader.TokenType == JsonTokenType.StartArray;
                    reader.Skip();
                    var raw = json[start..(int)reader.BytesConsumed];
                    emptyChoices = isArray && raw[1..^1].Trim(" \t\r\n"u8).IsEmpty;
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
        }

        return (usage, model, emptyChoices);
    }

    /// <summary>A short text for an upstream body that is not in the expected format.</summary>
    public static string Preview(ReadOnlySpan<byte> body)
    {
        var text = Encoding.UTF8.GetString(body[..Math.Min(body.Length, 300)]);
        return body.Length > 300 ? text + "…" : text;
    }
}
