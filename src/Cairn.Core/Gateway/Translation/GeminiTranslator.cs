using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cairn.Core.Gateway.Translation;

/// <summary>Translates OpenAI chat completion requests to Gemini's <c>generateContent</c>, and Gemini's answers back.</summary>
/// <remarks>
/// <para>
/// Requests: system and developer messages become <c>systemInstruction</c>; assistant turns become <c>model</c> turns; tool
/// messages become <c>functionResponse</c> parts (<c>{"output": text}</c>) of a user turn, named after the function of the
/// earlier assistant tool call with that id, since Gemini matches responses to calls by name. Consecutive turns of one role
/// are merged. Schemas are sent as full JSON Schema (<c>parametersJsonSchema</c>, <c>responseJsonSchema</c>) rather than
/// Gemini's OpenAPI subset, which rejects common OpenAI schema keywords such as <c>additionalProperties</c>. Dropped:
/// <c>user</c>, <c>parallel_tool_calls</c>, <c>logprobs</c>, <c>reasoning_effort</c>, <c>service_tier</c>.
/// </para>
/// <para>
/// Thinking models return an opaque <c>thoughtSignature</c> with each function call that must be sent back with it. Clients
/// keep tool call ids verbatim and nothing else, so the signature is carried in the id, base64url-encoded
/// (<c>call_x__thought__SIGNATURE</c>), and restored from there when the conversation comes back.
/// </para>
/// </remarks>
public static class GeminiTranslator
{
    /// <summary>Separates a minted tool call id from the Gemini thought signature carried with it.</summary>
    internal const string ThoughtSignatureSeparator = "__thought__";

    /// <summary>Translates an OpenAI <c>/v1/chat/completions</c> body into a Gemini <c>generateContent</c> body (the model goes in the URL).</summary>
    /// <param name="openAiRequest">The client's request; it is not modified.</param>
    /// <exception cref="TranslationException">The request has content Gemini cannot take, or a tool message answers an unknown call.</exception>
    public static JsonObject ToGeminiRequest(JsonObject openAiRequest)
    {
        ArgumentNullException.ThrowIfNull(openAiRequest);
        if (openAiRequest["messages"] is not JsonArray messages)
        {
            throw new TranslationException("'messages' must be an array.", "messages");
        }

        var systemParts = new JsonArray();
        var turns = new List<(string Role, List<JsonObject> Parts)>();
        var functionNames = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < messages.Count; i++)
        {
            var path = $"messages[{i}]";
            if (messages[i] is not JsonObject message)
            {
                throw new TranslationException("Each message must be an object.", path);
            }

            switch (TranslationJson.AsString(message["role"]))
            {
                case "system" or "developer":
                    if (TranslationJson.ContentText(message["content"]) is { Length: > 0 } system)
                    {
                        systemParts.AddNode(new JsonObject { ["text"] = system });
                    }

                    break;
                case "user":
                    AddTurn(turns, "user", UserParts(message["content"], path + ".content"));
                    break;
                case "assistant":
                    AddTurn(turns, "model", ModelParts(message, functionNames, path));
                    break;
                case "tool":
                    var id = TranslationJson.AsString(message["tool_call_id"])
                        ?? throw new TranslationException("A tool message needs a tool_call_id.", path + ".tool_call_id");
                    if (!functionNames.TryGetValue(id, out var name))
                    {
                        throw new TranslationException($"No earlier assistant tool call has the id '{id}'.", path + ".tool_call_id");
                    }

                    AddTurn(turns, "user",
                    [
                        new JsonObject
                        {
                            ["functionResponse"] = new JsonObject
                            {
                                ["name"] = name,
                                ["response"] = new JsonObject { ["output"] = TranslationJson.ContentText(message["content"]) ?? "" },
                            },
                        },
                    ]);
                    break;
                case var role:
                    throw new TranslationException($"Unsupported message role '{role}'.", path + ".role");
            }
        }

        var result = new JsonObject();
        if (systemParts.Count > 0)
        {
            result["systemInstruction"] = new JsonObject { ["parts"] = systemParts };
        }

        var contents = new JsonArray();
        foreach (var (role, parts) in turns)
        {
            contents.AddNode(new JsonObject { ["role"] = role, ["parts"] = new JsonArray([.. parts]) });
        }

        result["contents"] = contents;

        if (openAiRequest["tools"] is JsonArray { Count: > 0 } tools)
        {
            result["tools"] = new JsonArray(new JsonObject { ["functionDeclarations"] = FunctionDeclarations(tools) });
            if (ToolConfig(openAiRequest["tool_choice"]) is { } toolConfig)
            {
                result["toolConfig"] = toolConfig;
            }
        }

        var config = GenerationConfig(openAiRequest);
        if (config.Count > 0)
        {
            result["generationConfig"] = config;
        }

        return result;
    }

    /// <summary>Translates a Gemini <c>generateContent</c> answer into an OpenAI <c>chat.completion</c>.</summary>
    /// <param name="geminiResponse">The upstream body.</param>
    /// <param name="requestedModel">The model name the client asked for, echoed in <c>model</c>.</param>
    /// <param name="created">The Unix time, in seconds, written as <c>created</c>.</param>
    /// <param name="newToolCallId">Mints an id (such as <c>call_...</c>) for a function call that has none.</param>
    public static JsonObject ToOpenAiResponse(JsonElement geminiResponse, string requestedModel, long created, Func<string> newToolCallId)
    {
        ArgumentNullException.ThrowIfNull(requestedModel);
        ArgumentNullException.ThrowIfNull(newToolCallId);

        var choices = new JsonArray();
        if (TranslationJson.TryGet(geminiResponse, "candidates", JsonValueKind.Array, out var candidates))
        {
            var position = 0;
            foreach (var candidate in candidates.EnumerateArray())
            {
                var index = candidate.TryGetProperty("index", out var i) && i.TryGetInt32(out var n) ? n : position;
                position++;
                StringBuilder? text = null;
                JsonArray? toolCalls = null;
                if (TranslationJson.TryGet(candidate, "content", JsonValueKind.Object, out var content)
                    && TranslationJson.TryGet(content, "parts", JsonValueKind.Array, out var parts))
                {
                    foreach (var part in parts.EnumerateArray())
                    {
                        if (IsThought(part))
                        {
                            continue;
                        }

                        if (TranslationJson.GetString(part, "text") is { } piece)
                        {
                            (text ??= new StringBuilder()).Append(piece);
                        }
                        else if (TranslationJson.TryGet(part, "functionCall", JsonValueKind.Object, out var call))
                        {
                            var (id, name, arguments) = ReadFunctionCall(part, call, newToolCallId);
                            (toolCalls ??= []).AddNode(new JsonObject
                            {
                                ["id"] = id,
                                ["type"] = "function",
                                ["function"] = new JsonObject { ["name"] = name, ["arguments"] = arguments },
                            });
                        }
                    }
                }

                var message = new JsonObject { ["role"] = "assistant", ["content"] = text?.ToString(), ["refusal"] = null };
                if (toolCalls is not null)
                {
                    message["tool_calls"] = toolCalls;
                }

                choices.AddNode(new JsonObject
                {
                    ["index"] = index,
                    ["message"] = message,
                    ["logprobs"] = null,
                    ["finish_reason"] = toolCalls is not null ? "tool_calls" : ToFinishReason(TranslationJson.GetString(candidate, "finishReason")),
                });
            }
        }

        if (choices.Count == 0)
        {
            // A blocked prompt is a 200 with promptFeedback.blockReason and no candidates.
            var blocked = TranslationJson.TryGet(geminiResponse, "promptFeedback", JsonValueKind.Object, out var feedback)
                && TranslationJson.GetString(feedback, "blockReason") is not null;
            choices.AddNode(new JsonObject
            {
                ["index"] = 0,
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = null, ["refusal"] = null },
                ["logprobs"] = null,
                ["finish_reason"] = blocked ? "content_filter" : "stop",
            });
        }

        var result = new JsonObject
        {
            ["id"] = "chatcmpl-" + (TranslationJson.GetString(geminiResponse, "responseId") ?? Guid.NewGuid().ToString("N")),
            ["object"] = "chat.completion",
            ["created"] = created,
            ["model"] = requestedModel,
            ["choices"] = choices,
        };

        if (TranslationJson.TryGet(geminiResponse, "usageMetadata", JsonValueKind.Object, out var usageElement)
            && UsageReader.FromGemini(usageElement) is { } usage)
        {
            result["usage"] = TranslationJson.ToOpenAiUsage(usage);
        }

        return result;
    }

    /// <summary>Maps Gemini's <c>finishReason</c> to OpenAI's <c>finish_reason</c> (a function call answer is <c>tool_calls</c> whatever Gemini says).</summary>
    public static string ToFinishReason(string? finishReason) => finishReason switch
    {
        "MAX_TOKENS" => "length",
        "SAFETY" or "RECITATION" or "LANGUAGE" or "BLOCKLIST" or "PROHIBITED_CONTENT" or "SPII" or "IMAGE_SAFETY"
            or "IMAGE_PROHIBITED_CONTENT" or "OTHER" => "content_filter",
        _ => "stop",
    };

    /// <summary>Translates a Gemini error body (<c>{"error":{"code","message","status","details"}}</c>) into OpenAI's error body.</summary>
    /// <remarks>Accepts the array form the non-SSE streaming endpoint uses; other shapes give a <c>server_error</c>.</remarks>
    public static JsonObject ToOpenAiError(JsonElement geminiError)
    {
        if (geminiError.ValueKind == JsonValueKind.Array && geminiError.GetArrayLength() > 0)
        {
            geminiError = geminiError[0];
        }

        var error = TranslationJson.TryGet(geminiError, "error", JsonValueKind.Object, out var inner) ? inner : default;
        var (type, code) = MapError(error);
        var message = TranslationJson.GetString(error, "message") ?? "The upstream provider returned an error.";
        return TranslationJson.OpenAiError(message, type, null, code);
    }

    /// <summary>Maps a Gemini error object's <c>status</c> (and an <c>API_KEY_INVALID</c> reason) to an OpenAI error type and code.</summary>
    internal static (string Type, string? Code) MapError(JsonElement error)
    {
        if (TranslationJson.TryGet(error, "details", JsonValueKind.Array, out var details))
        {
            foreach (var detail in details.EnumerateArray())
            {
                if (TranslationJson.GetString(detail, "reason") is "API_KEY_INVALID" or "API_KEY_EXPIRED")
                {
                    return ("invalid_request_error", "invalid_api_key");
                }
            }
        }

        return TranslationJson.GetString(error, "status") switch
        {
            "INVALID_ARGUMENT" or "FAILED_PRECONDITION" or "OUT_OF_RANGE" => ("invalid_request_error", null),
            "UNAUTHENTICATED" => ("invalid_request_error", "invalid_api_key"),
            "PERMISSION_DENIED" => ("permission_error", "permission_denied"),
            "NOT_FOUND" => ("invalid_request_error", "not_found"),
            "RESOURCE_EXHAUSTED" => ("rate_limit_error", "rate_limit_exceeded"),
            "DEADLINE_EXCEEDED" => ("server_error", "timeout"),
            "UNAVAILABLE" => ("server_error", "overloaded"),
            _ => ("server_error", null),
        };
    }

    /// <summary>Whether a part is thought-summary text.</summary>
    internal static bool IsThought(JsonElement part) => part.TryGetProperty("thought", out var thought) && thought.ValueKind == JsonValueKind.True;

    /// <summary>Reads a function call part into an OpenAI tool call id (carrying the thought signature), name and arguments.</summary>
    internal static (string Id, string Name, string Arguments) ReadFunctionCall(JsonElement part, JsonElement call, Func<string> newToolCallId)
    {
        var id = TranslationJson.GetString(call, "id") is { Length: > 0 } given ? given : newToolCallId();
        if (TranslationJson.GetString(part, "thoughtSignature") is { Length: > 0 } signature)
        {
            // Base64url keeps the id within [A-Za-z0-9_-], which Anthropic requires of tool ids should the client switch models.
            id = id + ThoughtSignatureSeparator + signature.TrimEnd('=').Replace('+', '-').Replace('/', '_');
        }

        var arguments = call.TryGetProperty("args", out var args) && args.ValueKind == JsonValueKind.Object ? TranslationJson.Compact(args) : "{}";
        return (id, TranslationJson.GetString(call, "name") ?? "", arguments);
    }

    private static void AddTurn(List<(string Role, List<JsonObject> Parts)> turns, string role, List<JsonObject> parts)
    {
        if (parts.Count == 0)
        {
            return;
        }

        if (turns.Count > 0 && turns[^1].Role == role)
        {
            turns[^1].Parts.AddRange(parts);
        }
        else
        {
            turns.Add((role, parts));
        }
    }

    private static List<JsonObject> UserParts(JsonNode? content, string path)
    {
        var parts = new List<JsonObject>();
        if (TranslationJson.AsString(content) is { } text)
        {
            if (text.Length > 0)
            {
                parts.Add(new JsonObject { ["text"] = text });
            }

            return parts;
        }

        if (content is null)
        {
            return parts;
        }

        if (content is not JsonArray items)
        {
            throw new TranslationException("Message content must be a string or an array of parts.", path);
        }

        for (var j = 0; j < items.Count; j++)
        {
            var partPath = $"{path}[{j}]";
            var part = items[j] as JsonObject ?? throw new TranslationException("Each content part must be an object.", partPath);
            switch (TranslationJson.AsString(part["type"]))
            {
                case "text":
                    if (TranslationJson.AsString(part["text"]) is { Length: > 0 } piece)
                    {
                        parts.Add(new JsonObject { ["text"] = piece });
                    }

                    break;
                case "image_url":
                    var url = TranslationJson.AsString(part["image_url"]) ?? TranslationJson.AsString(part["image_url"]?["url"])
                        ?? throw new TranslationException("An image_url part needs a url.", partPath);
                    parts.Add(MediaPart(url, partPath));
                    break;
                case "input_audio":
                    var audio = part["input_audio"] as JsonObject ?? throw new TranslationException("An input_audio part needs input_audio.", partPath);
                    parts.Add(new JsonObject
                    {
                        ["inlineData"] = new JsonObject
                        {
                            ["mimeType"] = "audio/" + (TranslationJson.AsString(audio["format"]) ?? "wav"),
                            ["data"] = TranslationJson.AsString(audio["data"]) ?? "",
                        },
                    });
                    break;
                case "file":
                    var fileData = TranslationJson.AsString(part["file"]?["file_data"])
                        ?? throw new TranslationException("File parts need file_data as a base64 data URL (file_id is not supported for Gemini models).", partPath);
                    parts.Add(MediaPart(fileData, partPath));
                    break;
                case var other:
                    throw new TranslationException($"Content parts of type '{other}' are not supported by Gemini models.", partPath);
            }
        }

        return parts;
    }

    private static JsonObject MediaPart(string url, string path)
    {
        if (TranslationJson.TryParseDataUrl(url, out var mediaType, out var data, out var base64))
        {
            if (!base64)
            {
                throw new TranslationException("Data URLs must be base64-encoded.", path);
            }

            return new JsonObject { ["inlineData"] = new JsonObject { ["mimeType"] = mediaType, ["data"] = data } };
        }

        if (TranslationJson.IsHttpUrl(url))
        {
            return new JsonObject { ["fileData"] = new JsonObject { ["mimeType"] = GuessMimeType(url), ["fileUri"] = url } };
        }

        throw new TranslationException("URLs must be http(s) or data URLs.", path);
    }

    // Gemini's fileData requires a MIME type, which an OpenAI image_url does not carry.
    private static string GuessMimeType(string url)
    {
        var end = url.IndexOfAny(['?', '#']);
        var path = end >= 0 ? url[..end] : url;
        var dot = path.LastIndexOf('.');
        var extension = dot >= 0 ? path[(dot + 1)..].ToLowerInvariant() : "";
        return extension switch
        {
            "png" => "image/png",
            "gif" => "image/gif",
            "webp" => "image/webp",
            "heic" => "image/heic",
            "heif" => "image/heif",
            "pdf" => "application/pdf",
            _ => "image/jpeg",
        };
    }

    private static List<JsonObject> ModelParts(JsonObject message, Dictionary<string, string> functionNames, string path)
    {
        var parts = new List<JsonObject>();
        if (TranslationJson.ContentText(message["content"]) is { Length: > 0 } text)
        {
            parts.Add(new JsonObject { ["text"] = text });
        }

        if (message["tool_calls"] is not JsonArray calls)
        {
            return parts;
        }

        for (var k = 0; k < calls.Count; k++)
        {
            var callPath = $"{path}.tool_calls[{k}]";
            var function = calls[k]?["function"] as JsonObject ?? throw new TranslationException("A tool call needs a function.", callPath);
            var name = TranslationJson.AsString(function["name"]) ?? throw new TranslationException("A tool call needs a function name.", callPath + ".function.name");
            var part = new JsonObject
            {
                ["functionCall"] = new JsonObject
                {
                    ["name"] = name,
                    ["args"] = TranslationJson.ParseArguments(TranslationJson.AsString(function["arguments"]), callPath + ".function.arguments"),
                },
            };

            if (TranslationJson.AsString(calls[k]!["id"]) is { } id)
            {
                functionNames[id] = name;
                var separator = id.IndexOf(ThoughtSignatureSeparator, StringComparison.Ordinal);
                if (separator >= 0)
                {
                    var signature = id[(separator + ThoughtSignatureSeparator.Length)..].Replace('-', '+').Replace('_', '/');
                    part["thoughtSignature"] = signature.PadRight(signature.Length + ((4 - (signature.Length % 4)) % 4), '=');
                }
            }

            parts.Add(part);
        }

        return parts;
    }

    private static JsonArray FunctionDeclarations(JsonArray tools)
    {
        var result = new JsonArray();
        foreach (var (function, declaration) in TranslationJson.FunctionTools(tools, "Gemini"))
        {
            if (function["parameters"] is JsonObject parameters)
            {
                declaration["parametersJsonSchema"] = parameters.DeepClone();
            }

            result.AddNode(declaration);
        }

        return result;
    }

    private static JsonObject? ToolConfig(JsonNode? choice)
    {
        var config = TranslationJson.AsString(choice) switch
        {
            "auto" => new JsonObject { ["mode"] = "AUTO" },
            "none" => new JsonObject { ["mode"] = "NONE" },
            "required" => new JsonObject { ["mode"] = "ANY" },
            { } other => throw new TranslationException($"Unsupported tool_choice '{other}'.", "tool_choice"),
            null when choice is JsonObject obj && TranslationJson.AsString(obj["function"]?["name"]) is { } name =>
                new JsonObject { ["mode"] = "ANY", ["allowedFunctionNames"] = new JsonArray(name) },
            null when choice is null => null,
            null => throw new TranslationException("Unsupported tool_choice.", "tool_choice"),
        };

        return config is null ? null : new JsonObject { ["functionCallingConfig"] = config };
    }

    private static JsonObject GenerationConfig(JsonObject request)
    {
        var config = new JsonObject();
        if (TranslationJson.NumberOrNull(request["temperature"]) is { } temperature)
        {
            config["temperature"] = temperature;
        }

        if (TranslationJson.NumberOrNull(request["top_p"]) is { } topP)
        {
            config["topP"] = topP;
        }

        if ((TranslationJson.AsInt64(request["max_completion_tokens"]) ?? TranslationJson.AsInt64(request["max_tokens"])) is { } maxTokens)
        {
            config["maxOutputTokens"] = maxTokens;
        }

        var stop = request["stop"];
        if (TranslationJson.AsString(stop) is { Length: > 0 } single)
        {
            config["stopSequences"] = new JsonArray(single);
        }
        else if (stop is JsonArray { Count: > 0 } many)
        {
            config["stopSequences"] = many.DeepClone();
        }

        if (TranslationJson.AsInt64(request["n"]) is { } n and > 1)
        {
            config["candidateCount"] = n;
        }

        if (TranslationJson.AsInt64(request["seed"]) is { } seed)
        {
            config["seed"] = seed;
        }

        if (TranslationJson.NumberOrNull(request["presence_penalty"]) is { } presence)
        {
            config["presencePenalty"] = presence;
        }

        if (TranslationJson.NumberOrNull(request["frequency_penalty"]) is { } frequency)
        {
            config["frequencyPenalty"] = frequency;
        }

        if (request["response_format"] is JsonObject format)
        {
            switch (TranslationJson.AsString(format["type"]))
            {
                case "json_object":
                    config["responseMimeType"] = "application/json";
                    break;
                case "json_schema":
                    config["responseMimeType"] = "application/json";
                    if (format["json_schema"]?["schema"] is JsonObject schema)
                    {
                        config["responseJsonSchema"] = schema.DeepClone();
                    }

                    break;
                default:
                    break;
            }
        }

        return config;
    }
}
