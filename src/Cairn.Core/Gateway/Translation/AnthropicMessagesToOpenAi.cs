using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cairn.Core.Gateway.Translation;

/// <summary>
/// Translates Anthropic Messages requests (clients of Cairn's <c>/v1/messages</c>) to OpenAI chat completions for an
/// OpenAI-protocol upstream, and the upstream's answers back to Anthropic's shape.
/// </summary>
/// <remarks>
/// Requests: <c>system</c> becomes a leading system message; <c>tool_result</c> blocks become <c>role: tool</c> messages
/// placed before the rest of their user turn (OpenAI requires them right after the assistant's tool calls), and images inside
/// tool results move to a user message after them, since OpenAI tool messages take only text. Dropped: <c>top_k</c>,
/// <c>thinking</c> and thinking blocks, <c>cache_control</c>, <c>service_tier</c>, and <c>is_error</c> on tool results (the
/// text usually says what failed). <c>output_config.format</c> becomes a non-strict <c>response_format</c> json_schema.
/// </remarks>
public static class AnthropicMessagesToOpenAi
{
    /// <summary>Translates an Anthropic <c>/v1/messages</c> body into an OpenAI <c>/v1/chat/completions</c> body.</summary>
    /// <param name="anthropicRequest">The client's request; it is not modified.</param>
    /// <param name="upstreamModel">The OpenAI-protocol model to call.</param>
    /// <param name="legacyMaxTokens">
    /// Send <c>max_tokens</c> instead of <c>max_completion_tokens</c>, for servers that only know the older field
    /// (OpenAI's reasoning models accept only the newer one).
    /// </param>
    /// <exception cref="TranslationException">The request has content an OpenAI chat completion cannot take.</exception>
    public static JsonObject ToOpenAiRequest(JsonObject anthropicRequest, string upstreamModel, bool legacyMaxTokens = false)
    {
        ArgumentNullException.ThrowIfNull(anthropicRequest);
        ArgumentException.ThrowIfNullOrEmpty(upstreamModel);

        var messages = new JsonArray();
        if (SystemText(anthropicRequest["system"]) is { Length: > 0 } system)
        {
            messages.AddNode(new JsonObject { ["role"] = "system", ["content"] = system });
        }

        if (anthropicRequest["messages"] is not JsonArray input)
        {
            throw new TranslationException("'messages' must be an array.", "messages");
        }

        for (var i = 0; i < input.Count; i++)
        {
            var path = $"messages[{i}]";
            if (input[i] is not JsonObject message)
            {
                throw new TranslationException("Each message must be an object.", path);
            }

            switch (TranslationJson.AsString(message["role"]))
            {
                case "user":
                    AddUser(message["content"], messages, path + ".content");
                    break;
                case "assistant":
                    AddAssistant(message["content"], messages, path + ".content");
                    break;
                case var role:
                    throw new TranslationException($"Unsupported message role '{role}'.", path + ".role");
            }
        }

        var result = new JsonObject
        {
            ["model"] = upstreamModel,
            ["messages"] = messages,
        };

        if (TranslationJson.AsInt64(anthropicRequest["max_tokens"]) is { } maxTokens)
        {
            result[legacyMaxTokens ? "max_tokens" : "max_completion_tokens"] = maxTokens;
        }

        if (TranslationJson.NumberOrNull(anthropicRequest["temperature"]) is { } temperature)
        {
            result["temperature"] = temperature;
        }

        if (TranslationJson.NumberOrNull(anthropicRequest["top_p"]) is { } topP)
        {
            result["top_p"] = topP;
        }

        if (anthropicRequest["stop_sequences"] is JsonArray { Count: > 0 } stop)
        {
            result["stop"] = stop.DeepClone();
        }

        if (anthropicRequest["tools"] is JsonArray { Count: > 0 } tools)
        {
            result["tools"] = Tools(tools);
            var choice = anthropicRequest["tool_choice"] as JsonObject;
            if (choice is not null)
            {
                result["tool_choice"] = TranslationJson.AsString(choice["type"]) switch
                {
                    "auto" => "auto",
                    "any" => "required",
                    "none" => "none",
                    "tool" => new JsonObject
                    {
                        ["type"] = "function",
                        ["function"] = new JsonObject
                        {
                            ["name"] = TranslationJson.AsString(choice["name"])
                                ?? throw new TranslationException("tool_choice of type 'tool' needs a name.", "tool_choice.name"),
                        },
                    },
                    var other => throw new TranslationException($"Unsupported tool_choice type '{other}'.", "tool_choice.type"),
                };

                if (TranslationJson.AsBool(choice["disable_parallel_tool_use"]) == true)
                {
                    result["parallel_tool_calls"] = false;
                }
            }
        }

        if (TranslationJson.AsBool(anthropicRequest["stream"]) == true)
        {
            result["stream"] = true;
            result["stream_options"] = new JsonObject { ["include_usage"] = true };
        }

        if (TranslationJson.AsString(anthropicRequest["metadata"]?["user_id"]) is { Length: > 0 } user)
        {
            result["user"] = user;
        }

        if (anthropicRequest["output_config"]?["format"] is JsonObject format
            && TranslationJson.AsString(format["type"]) == "json_schema"
            && format["schema"] is JsonObject schema)
        {
            result["response_format"] = new JsonObject
            {
                ["type"] = "json_schema",
                ["json_schema"] = new JsonObject { ["name"] = "response", ["schema"] = schema.DeepClone() },
            };
        }

        return result;
    }

    /// <summary>Translates an OpenAI <c>chat.completion</c> into an Anthropic message.</summary>
    /// <param name="openAiResponse">The upstream body.</param>
    /// <param name="requestedModel">The model name the client asked for, echoed in <c>model</c>.</param>
    public static JsonObject ToAnthropicResponse(JsonElement openAiResponse, string requestedModel)
    {
        ArgumentNullException.ThrowIfNull(requestedModel);

        var content = new JsonArray();
        string? finishReason = null;
        var refused = false;
        if (TranslationJson.TryGet(openAiResponse, "choices", JsonValueKind.Array, out var choices) && choices.GetArrayLength() > 0)
        {
            var choice = choices[0];
            finishReason = TranslationJson.GetString(choice, "finish_reason");
            if (TranslationJson.TryGet(choice, "message", JsonValueKind.Object, out var message))
            {
                if (TranslationJson.GetString(message, "content") is { Length: > 0 } text)
                {
                    content.AddNode(new JsonObject { ["type"] = "text", ["text"] = text });
                }

                if (TranslationJson.GetString(message, "refusal") is { Length: > 0 } refusal)
                {
                    refused = true;
                    content.AddNode(new JsonObject { ["type"] = "text", ["text"] = refusal });
                }

                if (TranslationJson.TryGet(message, "tool_calls", JsonValueKind.Array, out var calls))
                {
                    foreach (var call in calls.EnumerateArray())
                    {
                        var function = TranslationJson.TryGet(call, "function", JsonValueKind.Object, out var f) ? f : default;
                        content.AddNode(new JsonObject
                        {
                            ["type"] = "tool_use",
                            ["id"] = TranslationJson.GetString(call, "id"),
                            ["name"] = TranslationJson.GetString(function, "name"),
                            ["input"] = TranslationJson.ParseArgumentsLenient(TranslationJson.GetString(function, "arguments")),
                        });
                    }
                }
            }
        }

        var usage = TranslationJson.TryGet(openAiResponse, "usage", JsonValueKind.Object, out var usageElement)
            ? UsageReader.FromOpenAi(usageElement)
            : null;
        var id = TranslationJson.GetString(openAiResponse, "id") ?? "";
        return new JsonObject
        {
            ["id"] = "msg_" + TranslationJson.StripPrefix(id, "chatcmpl-"),
            ["type"] = "message",
            ["role"] = "assistant",
            ["model"] = requestedModel,
            ["content"] = content,
            ["stop_reason"] = refused ? "refusal" : ToStopReason(finishReason),
            ["stop_sequence"] = null,
            ["usage"] = ToAnthropicUsage(usage),
        };
    }

    /// <summary>Maps OpenAI's <c>finish_reason</c> to Anthropic's <c>stop_reason</c>.</summary>
    /// <remarks>OpenAI does not say whether a stop sequence matched, so <c>stop</c> is always <c>end_turn</c>.</remarks>
    public static string ToStopReason(string? finishReason) => finishReason switch
    {
        "length" => "max_tokens",
        "tool_calls" or "function_call" => "tool_use",
        "content_filter" => "refusal",
        _ => "end_turn",
    };

    /// <summary>Translates an OpenAI error body into Anthropic's (<c>{"type":"error","error":{"type","message"}}</c>).</summary>
    /// <param name="openAiError">The upstream error body.</param>
    /// <param name="statusCode">The upstream HTTP status, which decides the Anthropic error type.</param>
    public static JsonObject ToAnthropicError(JsonElement openAiError, int statusCode)
    {
        var error = TranslationJson.TryGet(openAiError, "error", JsonValueKind.Object, out var inner) ? inner : default;
        return AnthropicError(
            ErrorTypeForStatus(statusCode),
            TranslationJson.GetString(error, "message") ?? "The upstream provider returned an error.");
    }

    /// <summary>The Anthropic error type Anthropic itself uses for an HTTP status.</summary>
    public static string ErrorTypeForStatus(int statusCode) => statusCode switch
    {
        400 or 422 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 or 529 => "overloaded_error",
        504 => "timeout_error",
        _ => statusCode is >= 400 and < 500 ? "invalid_request_error" : "api_error",
    };

    internal static JsonObject AnthropicError(string type, string message) => new()
    {
        ["type"] = "error",
        ["error"] = new JsonObject { ["type"] = type, ["message"] = message },
    };

    internal static JsonObject ToAnthropicUsage(TokenUsage? usage) => new()
    {
        ["input_tokens"] = usage is null ? 0 : usage.PromptTokens - usage.CachedInputTokens,
        ["cache_creation_input_tokens"] = 0,
        ["cache_read_input_tokens"] = usage?.CachedInputTokens ?? 0,
        ["output_tokens"] = usage?.CompletionTokens ?? 0,
    };

    private static string? SystemText(JsonNode? system)
    {
        if (TranslationJson.AsString(system) is { } text)
        {
            return text;
        }

        if (system is not JsonArray blocks)
        {
            return null;
        }

        var builder = new StringBuilder();
        foreach (var block in blocks)
        {
            if (TranslationJson.AsString(block?["text"]) is { } piece)
            {
                if (builder.Length > 0)
                {
                    builder.Append('\n');
                }

                builder.Append(piece);
            }
        }

        return builder.ToString();
    }

    private static void AddUser(JsonNode? content, JsonArray messages, string path)
    {
        if (TranslationJson.AsString(content) is { } text)
        {
            messages.AddNode(new JsonObject { ["role"] = "user", ["content"] = text });
            return;
        }

        if (content is not JsonArray blocks)
        {
            throw new TranslationException("Message content must be a string or an array of blocks.", path);
        }

        var parts = new List<JsonObject>();
        var toolImages = new List<JsonObject>();
        for (var j = 0; j < blocks.Count; j++)
        {
            var blockPath = $"{path}[{j}]";
            if (blocks[j] is not JsonObject block)
            {
                throw new TranslationException("Each content block must be an object.", blockPath);
            }

            if (TranslationJson.AsString(block["type"]) == "tool_result")
            {
                messages.AddNode(ToolMessage(block, toolImages, blockPath));
            }
            else
            {
                parts.Add(UserPart(block, blockPath));
            }
        }

        parts.InsertRange(0, toolImages);
        if (parts.Count == 0)
        {
            return;
        }

        messages.AddNode(new JsonObject
        {
            ["role"] = "user",
            ["content"] = parts.Count == 1 && TranslationJson.AsString(parts[0]["type"]) == "text"
                ? parts[0]["text"]!.DeepClone()
                : new JsonArray([.. parts]),
        });
    }

    private static JsonObject UserPart(JsonObject block, string path)
    {
        switch (TranslationJson.AsString(block["type"]))
        {
            case "text":
                return new JsonObject { ["type"] = "text", ["text"] = TranslationJson.AsString(block["text"]) ?? "" };
            case "image":
                var source = block["source"] as JsonObject ?? throw new TranslationException("An image block needs a source.", path);
                var url = TranslationJson.AsString(source["type"]) switch
                {
                    "base64" => $"data:{TranslationJson.AsString(source["media_type"])};base64,{TranslationJson.AsString(source["data"])}",
                    "url" => TranslationJson.AsString(source["url"]) ?? throw new TranslationException("An image url source needs a url.", path),
                    var other => throw new TranslationException($"Image sources of type '{other}' are not supported.", path),
                };
                return new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = url } };
            case "document":
                return DocumentPart(block, path);
            case var other:
                throw new TranslationException($"Content blocks of type '{other}' are not supported by OpenAI-protocol models.", path);
        }
    }

    private static JsonObject DocumentPart(JsonObject block, string path)
    {
        var source = block["source"] as JsonObject ?? throw new TranslationException("A document block needs a source.", path);
        switch (TranslationJson.AsString(source["type"]))
        {
            case "text":
                return new JsonObject { ["type"] = "text", ["text"] = TranslationJson.AsString(source["data"]) ?? "" };
            case "base64":
                var mediaType = TranslationJson.AsString(source["media_type"]) ?? "application/pdf";
                return new JsonObject
                {
                    ["type"] = "file",
                    ["file"] = new JsonObject
                    {
                        ["filename"] = TranslationJson.AsString(block["title"]) ?? "document.pdf",
                        ["file_data"] = $"data:{mediaType};base64,{TranslationJson.AsString(source["data"])}",
                    },
                };
            case var other:
                throw new TranslationException($"Document sources of type '{other}' are not supported by OpenAI-protocol models.", path);
        }
    }

    private static JsonObject ToolMessage(JsonObject block, List<JsonObject> toolImages, string path)
    {
        var id = TranslationJson.AsString(block["tool_use_id"])
            ?? throw new TranslationException("A tool_result block needs a tool_use_id.", path + ".tool_use_id");
        var content = block["content"];
        string text;
        if (TranslationJson.AsString(content) is { } s)
        {
            text = s;
        }
        else if (content is JsonArray inner)
        {
            var builder = new StringBuilder();
            for (var k = 0; k < inner.Count; k++)
            {
                if (inner[k] is not JsonObject innerBlock)
                {
                    continue;
                }

                if (TranslationJson.AsString(innerBlock["type"]) == "text")
                {
                    if (builder.Length > 0)
                    {
                        builder.Append('\n');
                    }

                    builder.Append(TranslationJson.AsString(innerBlock["text"]));
                }
                else
                {
                    toolImages.Add(UserPart(innerBlock, $"{path}.content[{k}]"));
                }
            }

            text = builder.ToString();
        }
        else
        {
            text = "";
        }

        return new JsonObject { ["role"] = "tool", ["tool_call_id"] = id, ["content"] = text };
    }

    private static void AddAssistant(JsonNode? content, JsonArray messages, string path)
    {
        if (TranslationJson.AsString(content) is { } text)
        {
            messages.AddNode(new JsonObject { ["role"] = "assistant", ["content"] = text });
            return;
        }

        if (content is not JsonArray blocks)
        {
            throw new TranslationException("Message content must be a string or an array of blocks.", path);
        }

        StringBuilder? builder = null;
        JsonArray? calls = null;
        for (var j = 0; j < blocks.Count; j++)
        {
            var blockPath = $"{path}[{j}]";
            var block = blocks[j] as JsonObject ?? throw new TranslationException("Each content block must be an object.", blockPath);
            switch (TranslationJson.AsString(block["type"]))
            {
                case "text":
                    (builder ??= new StringBuilder()).Append(TranslationJson.AsString(block["text"]));
                    break;
                case "tool_use":
                    (calls ??= []).AddNode(new JsonObject
                    {
                        ["id"] = TranslationJson.AsString(block["id"]) ?? throw new TranslationException("A tool_use block needs an id.", blockPath + ".id"),
                        ["type"] = "function",
                        ["function"] = new JsonObject
                        {
                            ["name"] = TranslationJson.AsString(block["name"]) ?? throw new TranslationException("A tool_use block needs a name.", blockPath + ".name"),
                            ["arguments"] = TranslationJson.Compact(block["input"] ?? new JsonObject()),
                        },
                    });
                    break;
                case "thinking" or "redacted_thinking":
                    // Reasoning from an earlier turn is not sent back to OpenAI-protocol models.
                    break;
                case var other:
                    throw new TranslationException($"Content blocks of type '{other}' are not supported by OpenAI-protocol models.", blockPath);
            }
        }

        if (builder is null && calls is null)
        {
            return;
        }

        var message = new JsonObject { ["role"] = "assistant", ["content"] = builder?.ToString() };
        if (calls is not null)
        {
            message["tool_calls"] = calls;
        }

        messages.AddNode(message);
    }

    private static JsonArray Tools(JsonArray tools)
    {
        var result = new JsonArray();
        for (var i = 0; i < tools.Count; i++)
        {
            var path = $"tools[{i}]";
            var tool = tools[i] as JsonObject ?? throw new TranslationException("Each tool must be an object.", path);
            if (TranslationJson.AsString(tool["type"]) is { } type && type != "custom")
            {
                throw new TranslationException($"Anthropic server tools ('{type}') are not available on OpenAI-protocol models.", path);
            }

            var function = new JsonObject
            {
                ["name"] = TranslationJson.AsString(tool["name"]) ?? throw new TranslationException("A tool needs a name.", path + ".name"),
            };
            if (TranslationJson.AsString(tool["description"]) is { } description)
            {
                function["description"] = description;
            }

            function["parameters"] = tool["input_schema"] is JsonObject schema
                ? schema.DeepClone()
                : new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() };
            result.AddNode(new JsonObject { ["type"] = "function", ["function"] = function });
        }

        return result;
    }
}
