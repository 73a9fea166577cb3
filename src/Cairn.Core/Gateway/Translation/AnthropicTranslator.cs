using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cairn.Core.Gateway.Translation;

/// <summary>Translates OpenAI chat completion requests to Anthropic's Messages API, and Anthropic's answers back.</summary>
/// <remarks>
/// Requests: system and developer messages become the top-level <c>system</c> (wherever they stood); tool messages become
/// <c>tool_result</c> blocks of a user turn; consecutive turns of one role are merged because Anthropic requires
/// alternation; OpenAI-only fields (<c>n</c> of 1, <c>seed</c>, <c>logprobs</c>, penalties, <c>stream_options</c>,
/// <c>reasoning_effort</c>, <c>service_tier</c> ...) are dropped. <c>response_format</c> of type <c>json_schema</c> becomes
/// <c>output_config.format</c> (Anthropic's structured outputs, which only newer Claude models accept); <c>json_object</c> has
/// no Anthropic equivalent and is dropped, relying on the prompt (OpenAI itself requires the prompt to ask for JSON).
/// </remarks>
public static class AnthropicTranslator
{
    /// <summary>The <c>max_tokens</c> sent when the client set none, since Anthropic requires it.</summary>
    public const int DefaultMaxTokens = 4096;

    /// <summary>Translates an OpenAI <c>/v1/chat/completions</c> body into an Anthropic <c>/v1/messages</c> body.</summary>
    /// <param name="openAiRequest">The client's request; it is not modified.</param>
    /// <param name="upstreamModel">The Anthropic model to call.</param>
    /// <exception cref="TranslationException">The request has content Anthropic cannot take.</exception>
    public static JsonObject ToAnthropicRequest(JsonObject openAiRequest, string upstreamModel)
    {
        ArgumentNullException.ThrowIfNull(openAiRequest);
        ArgumentException.ThrowIfNullOrEmpty(upstreamModel);

        if (TranslationJson.AsInt64(openAiRequest["n"]) is > 1)
        {
            throw new TranslationException("Anthropic models return one choice; 'n' must be 1.", "n");
        }

        var system = new List<JsonObject>();
        var turns = new List<Turn>();
        if (openAiRequest["messages"] is not JsonArray messages)
        {
            throw new TranslationException("'messages' must be an array.", "messages");
        }

        for (var i = 0; i < messages.Count; i++)
        {
            var path = $"messages[{i}]";
            if (messages[i] is not JsonObject message)
            {
                throw new TranslationException("Each message must be an object.", path);
            }

            var role = TranslationJson.AsString(message["role"]);
            switch (role)
            {
                case "system" or "developer":
                    AddText(message["content"], system, path + ".content");
                    break;
                case "user":
                    AddTurn(turns, "user", UserBlocks(message["content"], path + ".content"));
                    break;
                case "assistant":
                    AddTurn(turns, "assistant", AssistantBlocks(message, path));
                    break;
                case "tool":
                    AddTurn(turns, "user", [ToolResult(message, path)]);
                    break;
                default:
                    throw new TranslationException($"Unsupported message role '{role}'.", path + ".role");
            }
        }

        var result = new JsonObject
        {
            ["model"] = upstreamModel,
            ["max_tokens"] = TranslationJson.AsInt64(openAiRequest["max_completion_tokens"])
                ?? TranslationJson.AsInt64(openAiRequest["max_tokens"])
                ?? DefaultMaxTokens,
        };

        if (system.Count > 0)
        {
            result["system"] = system.Count == 1 && IsPlainText(system[0])
                ? system[0]["text"]!.DeepClone()
                : new JsonArray([.. system]);
        }

        var outMessages = new JsonArray();
        foreach (var turn in turns)
        {
            outMessages.AddNode(new JsonObject
            {
                ["role"] = turn.Role,
                ["content"] = turn.Blocks.Count == 1 && IsPlainText(turn.Blocks[0])
                    ? turn.Blocks[0]["text"]!.DeepClone()
                    : new JsonArray([.. turn.Blocks]),
            });
        }

        result["messages"] = outMessages;

        var hasTools = false;
        if (openAiRequest["tools"] is JsonArray tools && tools.Count > 0)
        {
            hasTools = true;
            result["tools"] = Tools(tools);
        }

        if (hasTools)
        {
            var choice = ToolChoice(openAiRequest["tool_choice"]);
            if (TranslationJson.AsBool(openAiRequest["parallel_tool_calls"]) == false)
            {
                choice ??= new JsonObject { ["type"] = "auto" };
                if (TranslationJson.AsString(choice["type"]) != "none")
                {
                    choice["disable_parallel_tool_use"] = true;
                }
            }

            if (choice is not null)
            {
                result["tool_choice"] = choice;
            }
        }

        if (TranslationJson.NumberOrNull(openAiRequest["temperature"]) is { } temperature)
        {
            result["temperature"] = temperature;
        }

        if (TranslationJson.NumberOrNull(openAiRequest["top_p"]) is { } topP)
        {
            result["top_p"] = topP;
        }

        if (StopSequences(openAiRequest["stop"]) is { } stop)
        {
            result["stop_sequences"] = stop;
        }

        if (TranslationJson.AsBool(openAiRequest["stream"]) == true)
        {
            result["stream"] = true;
        }

        if ((TranslationJson.AsString(openAiRequest["user"]) ?? TranslationJson.AsString(openAiRequest["safety_identifier"])) is { Length: > 0 } user)
        {
            result["metadata"] = new JsonObject { ["user_id"] = user };
        }

        if (openAiRequest["response_format"] is JsonObject format
            && TranslationJson.AsString(format["type"]) == "json_schema"
            && format["json_schema"]?["schema"] is JsonObject schema)
        {
            result["output_config"] = new JsonObject
            {
                ["format"] = new JsonObject { ["type"] = "json_schema", ["schema"] = schema.DeepClone() },
            };
        }

        return result;
    }

    /// <summary>Translates an Anthropic message (the body of a non-streaming answer) into an OpenAI <c>chat.completion</c>.</summary>
    /// <param name="anthropicResponse">The upstream body.</param>
    /// <param name="requestedModel">The model name the client asked for, echoed in <c>model</c>.</param>
    /// <param name="created">The Unix time, in seconds, written as <c>created</c>.</param>
    public static JsonObject ToOpenAiResponse(JsonElement anthropicResponse, string requestedModel, long created)
    {
        ArgumentNullException.ThrowIfNull(requestedModel);

        StringBuilder? text = null;
        JsonArray? toolCalls = null;
        if (TranslationJson.TryGet(anthropicResponse, "content", JsonValueKind.Array, out var content))
        {
            foreach (var block in content.EnumerateArray())
            {
                switch (TranslationJson.GetString(block, "type"))
                {
                    case "text":
                        (text ??= new StringBuilder()).Append(TranslationJson.GetString(block, "text"));
                        break;
                    case "tool_use":
                        (toolCalls ??= []).AddNode(new JsonObject
                        {
                            ["id"] = TranslationJson.GetString(block, "id"),
                            ["type"] = "function",
                            ["function"] = new JsonObject
                            {
                                ["name"] = TranslationJson.GetString(block, "name"),
                                ["arguments"] = block.TryGetProperty("input", out var input) ? TranslationJson.Compact(input) : "{}",
                            },
                        });
                        break;
                    default:
                        // Thinking blocks have no place in a chat completion; server tool blocks are never requested.
                        break;
                }
            }
        }

        var message = new JsonObject
        {
            ["role"] = "assistant",
            ["content"] = text?.ToString(),
            ["refusal"] = null,
        };
        if (toolCalls is not null)
        {
            message["tool_calls"] = toolCalls;
        }

        var id = TranslationJson.GetString(anthropicResponse, "id") ?? "";
        var result = new JsonObject
        {
            ["id"] = "chatcmpl-" + TranslationJson.StripPrefix(id, "msg_"),
            ["object"] = "chat.completion",
            ["created"] = created,
            ["model"] = requestedModel,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = message,
                ["logprobs"] = null,
                ["finish_reason"] = ToFinishReason(TranslationJson.GetString(anthropicResponse, "stop_reason")),
            }),
        };

        if (anthropicResponse.ValueKind == JsonValueKind.Object
            && anthropicResponse.TryGetProperty("usage", out var usageElement)
            && UsageReader.FromAnthropic(usageElement) is { } usage)
        {
            result["usage"] = TranslationJson.ToOpenAiUsage(usage);
        }

        return result;
    }

    /// <summary>Maps Anthropic's <c>stop_reason</c> to OpenAI's <c>finish_reason</c>.</summary>
    public static string ToFinishReason(string? stopReason) => stopReason switch
    {
        "max_tokens" or "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop",
    };

    /// <summary>Translates an Anthropic error body (<c>{"type":"error","error":{"type","message"}}</c>) into OpenAI's error body.</summary>
    /// <remarks>Bodies of another shape (a proxy's HTML page) give an <c>api_error</c> with a generic message.</remarks>
    public static JsonObject ToOpenAiError(JsonElement anthropicError)
    {
        var error = TranslationJson.TryGet(anthropicError, "error", JsonValueKind.Object, out var inner) ? inner : default;
        var (type, code) = MapErrorType(TranslationJson.GetString(error, "type"));
        var message = TranslationJson.GetString(error, "message") ?? "The upstream provider returned an error.";
        return TranslationJson.OpenAiError(message, type, null, code);
    }

    /// <summary>Maps an Anthropic error type to an OpenAI error type and code.</summary>
    internal static (string Type, string? Code) MapErrorType(string? anthropicType) => anthropicType switch
    {
        "invalid_request_error" => ("invalid_request_error", null),
        "authentication_error" => ("invalid_request_error", "invalid_api_key"),
        "permission_error" => ("permission_error", "permission_denied"),
        "not_found_error" => ("invalid_request_error", "not_found"),
        "request_too_large" => ("invalid_request_error", "request_too_large"),
        "rate_limit_error" => ("rate_limit_error", "rate_limit_exceeded"),
        "billing_error" => ("insufficient_quota", "insufficient_quota"),
        "overloaded_error" => ("server_error", "overloaded"),
        "timeout_error" => ("server_error", "timeout"),
        "api_error" or null => ("server_error", null),
        _ => (anthropicType, null),
    };

    private static void AddTurn(List<Turn> turns, string role, List<JsonObject> blocks)
    {
        if (blocks.Count == 0)
        {
            return;
        }

        if (turns.Count > 0 && turns[^1].Role == role)
        {
            turns[^1].Blocks.AddRange(blocks);
        }
        else
        {
            turns.Add(new Turn(role, blocks));
        }
    }

    private static bool IsPlainText(JsonObject block) =>
        block.Count == 2 && TranslationJson.AsString(block["type"]) == "text";

    private static JsonObject TextBlock(string text, JsonNode? cacheControl)
    {
        var block = new JsonObject { ["type"] = "text", ["text"] = text };
        if (cacheControl is JsonObject)
        {
            block["cache_control"] = cacheControl.DeepClone();
        }

        return block;
    }

    // Anthropic rejects empty text blocks, so empty text is skipped everywhere.
    private static void AddText(JsonNode? content, List<JsonObject> blocks, string path)
    {
        if (TranslationJson.AsString(content) is { } text)
        {
            if (text.Length > 0)
            {
                blocks.Add(TextBlock(text, null));
            }

            return;
        }

        if (content is JsonArray parts)
        {
            for (var j = 0; j < parts.Count; j++)
            {
                if (parts[j] is JsonObject part && TranslationJson.AsString(part["text"] ?? part["refusal"]) is { Length: > 0 } piece)
                {
                    blocks.Add(TextBlock(piece, part["cache_control"]));
                }
            }

            return;
        }

        if (content is not null)
        {
            throw new TranslationException("Message content must be a string or an array of parts.", path);
        }
    }

    private static List<JsonObject> UserBlocks(JsonNode? content, string path)
    {
        var blocks = new List<JsonObject>();
        if (content is not JsonArray parts)
        {
            AddText(content, blocks, path);
            return blocks;
        }

        for (var j = 0; j < parts.Count; j++)
        {
            var partPath = $"{path}[{j}]";
            if (parts[j] is not JsonObject part)
            {
                throw new TranslationException("Each content part must be an object.", partPath);
            }

            switch (TranslationJson.AsString(part["type"]))
            {
                case "text":
                    if (TranslationJson.AsString(part["text"]) is { Length: > 0 } text)
                    {
                        blocks.Add(TextBlock(text, part["cache_control"]));
                    }

                    break;
                case "image_url":
                    blocks.Add(ImageBlock(part, partPath));
                    break;
                case "file":
                    blocks.Add(DocumentBlock(part, partPath));
                    break;
                case var other:
                    throw new TranslationException($"Content parts of type '{other}' are not supported by Anthropic models.", partPath);
            }
        }

        return blocks;
    }

    private static JsonObject ImageBlock(JsonObject part, string path)
    {
        var url = TranslationJson.AsString(part["image_url"]) ?? TranslationJson.AsString(part["image_url"]?["url"])
            ?? throw new TranslationException("An image_url part needs a url.", path);

        JsonObject source;
        if (TranslationJson.TryParseDataUrl(url, out var mediaType, out var data, out var base64))
        {
            if (!base64)
            {
                throw new TranslationException("Image data URLs must be base64-encoded.", path);
            }

            source = new JsonObject { ["type"] = "base64", ["media_type"] = mediaType, ["data"] = data };
        }
        else if (TranslationJson.IsHttpUrl(url))
        {
            source = new JsonObject { ["type"] = "url", ["url"] = url };
        }
        else
        {
            throw new TranslationException("Image URLs must be http(s) or data URLs.", path);
        }

        var block = new JsonObject { ["type"] = "image", ["source"] = source };
        if (part["cache_control"] is JsonObject cacheControl)
        {
            block["cache_control"] = cacheControl.DeepClone();
        }

        return block;
    }

    private static JsonObject DocumentBlock(JsonObject part, string path)
    {
        var file = part["file"] as JsonObject;
        var fileData = TranslationJson.AsString(file?["file_data"]);
        if (fileData is null || !TranslationJson.TryParseDataUrl(fileData, out var mediaType, out var data, out var base64) || !base64)
        {
            throw new TranslationException("File parts need file_data as a base64 data URL (file_id is not supported for Anthropic models).", path);
        }

        JsonObject source;
        if (mediaType.StartsWith("text/", StringComparison.OrdinalIgnoreCase))
        {
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(data));
            }
            catch (FormatException)
            {
                throw new TranslationException("File data is not valid base64.", path);
            }

            source = new JsonObject { ["type"] = "text", ["media_type"] = "text/plain", ["data"] = decoded };
        }
        else
        {
            source = new JsonObject { ["type"] = "base64", ["media_type"] = mediaType, ["data"] = data };
        }

        var block = new JsonObject { ["type"] = "document", ["source"] = source };
        if (TranslationJson.AsString(file!["filename"]) is { Length: > 0 } filename)
        {
            block["title"] = filename;
        }

        return block;
    }

    private static List<JsonObject> AssistantBlocks(JsonObject message, string path)
    {
        var blocks = new List<JsonObject>();
        AddText(message["content"], blocks, path + ".content");
        if (message["tool_calls"] is not JsonArray calls)
        {
            return blocks;
        }

        for (var k = 0; k < calls.Count; k++)
        {
            var callPath = $"{path}.tool_calls[{k}]";
            var function = calls[k]?["function"] as JsonObject
                ?? throw new TranslationException("A tool call needs a function.", callPath);
            blocks.Add(new JsonObject
            {
                ["type"] = "tool_use",
                ["id"] = TranslationJson.AsString(calls[k]!["id"]) ?? throw new TranslationException("A tool call needs an id.", callPath + ".id"),
                ["name"] = TranslationJson.AsString(function["name"]) ?? throw new TranslationException("A tool call needs a function name.", callPath + ".function.name"),
                ["input"] = TranslationJson.ParseArguments(TranslationJson.AsString(function["arguments"]), callPath + ".function.arguments"),
            });
        }

        return blocks;
    }

    private static JsonObject ToolResult(JsonObject message, string path)
    {
        var block = new JsonObject
        {
            ["type"] = "tool_result",
            ["tool_use_id"] = TranslationJson.AsString(message["tool_call_id"])
                ?? throw new TranslationException("A tool message needs a tool_call_id.", path + ".tool_call_id"),
        };

        var content = message["content"];
        if (TranslationJson.AsString(content) is { } text)
        {
            if (text.Length > 0)
            {
                block["content"] = text;
            }
        }
        else if (content is JsonArray)
        {
            var inner = UserBlocks(content, path + ".content");
            if (inner.Count > 0)
            {
                block["content"] = new JsonArray([.. inner]);
            }
        }

        return block;
    }

    private static JsonArray Tools(JsonArray tools)
    {
        var result = new JsonArray();
        foreach (var (function, converted) in TranslationJson.FunctionTools(tools, "Anthropic"))
        {
            converted["input_schema"] = function["parameters"] is JsonObject parameters
                ? parameters.DeepClone()
                : new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() };
            result.AddNode(converted);
        }

        return result;
    }

    private static JsonObject? ToolChoice(JsonNode? choice)
    {
        switch (TranslationJson.AsString(choice))
        {
            case "auto":
                return new JsonObject { ["type"] = "auto" };
            case "none":
                return new JsonObject { ["type"] = "none" };
            case "required":
                return new JsonObject { ["type"] = "any" };
            case { } other:
                throw new TranslationException($"Unsupported tool_choice '{other}'.", "tool_choice");
        }

        if (choice is JsonObject obj && TranslationJson.AsString(obj["function"]?["name"]) is { } name)
        {
            return new JsonObject { ["type"] = "tool", ["name"] = name };
        }

        return choice is null ? null : throw new TranslationException("Unsupported tool_choice.", "tool_choice");
    }

    // Anthropic rejects stop sequences that are only whitespace, so those are left out rather than failing the request.
    private static JsonArray? StopSequences(JsonNode? stop)
    {
        var result = new JsonArray();
        if (TranslationJson.AsString(stop) is { } single)
        {
            if (!string.IsNullOrWhiteSpace(single))
            {
                result.AddNode(single);
            }
        }
        else if (stop is JsonArray many)
        {
            foreach (var item in many)
            {
                if (TranslationJson.AsString(item) is { } s && !string.IsNullOrWhiteSpace(s))
                {
                    result.AddNode(s);
                }
            }
        }

        return result.Count > 0 ? result : null;
    }

    private sealed record Turn(string Role, List<JsonObject> Blocks);
}
