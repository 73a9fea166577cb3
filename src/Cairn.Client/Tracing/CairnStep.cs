using System.Diagnostics;
using System.Text.Json.Serialization.Metadata;

namespace Cairn.Client.Tracing;

/// <summary>One step of a traced LLM application (a generation, a tool call, a retrieval, ...), recorded as an OpenTelemetry span; dispose it to end the step.</summary>
/// <remarks>
/// A step is a handle on an <see cref="System.Diagnostics.Activity"/>, or on nothing when no listener (such as the OpenTelemetry SDK set up by
/// <see cref="CairnTracing.StartExporting"/>) wants the <see cref="CairnTracing.SourceName"/> source; then every method returns at once and
/// nothing is serialized. Copies of a step share one span. Like an <see cref="System.Diagnostics.Activity"/>, a step is not thread-safe.
/// </remarks>
public readonly struct CairnStep : IDisposable, IEquatable<CairnStep>
{
    internal CairnStep(Activity? activity) => Activity = activity;

    /// <summary>Gets the activity behind this step, or null when nothing is recording it.</summary>
    public Activity? Activity { get; }

    /// <summary>Gets whether the step's attributes are being recorded; when false, setting them does nothing.</summary>
    public bool IsRecording => Activity is { IsAllDataRequested: true };

    /// <summary>Records the step's input: a string as <c>text/plain</c>, anything else as JSON.</summary>
    /// <typeparam name="T">The input's type.</typeparam>
    /// <param name="input">The input; a <see cref="System.Text.Json.Nodes.JsonNode"/> or <see cref="System.Text.Json.JsonElement"/> is written as is, other values are serialized with <see cref="CairnTracing.SerializerOptions"/>.</param>
    /// <returns>This step.</returns>
    public CairnStep SetInput<T>(T input) => SetPayload(input, null, CairnAttributes.InputValue, CairnAttributes.InputMimeType);

    /// <summary>Records the step's input serialized as JSON with <paramref name="typeInfo"/> (the trim- and AOT-safe way for your own types).</summary>
    /// <typeparam name="T">The input's type.</typeparam>
    /// <param name="input">The input.</param>
    /// <param name="typeInfo">The input type's contract, typically from a source-generated <see cref="System.Text.Json.Serialization.JsonSerializerContext"/>.</param>
    /// <returns>This step.</returns>
    public CairnStep SetInput<T>(T input, JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return SetPayload(input, typeInfo, CairnAttributes.InputValue, CairnAttributes.InputMimeType);
    }

    /// <summary>Records the step's output: a string as <c>text/plain</c>, anything else as JSON.</summary>
    /// <typeparam name="T">The output's type.</typeparam>
    /// <param name="output">The output; a <see cref="System.Text.Json.Nodes.JsonNode"/> or <see cref="System.Text.Json.JsonElement"/> is written as is, other values are serialized with <see cref="CairnTracing.SerializerOptions"/>.</param>
    /// <returns>This step.</returns>
    public CairnStep SetOutput<T>(T output) => SetPayload(output, null, CairnAttributes.OutputValue, CairnAttributes.OutputMimeType);

    /// <summary>Records the step's output serialized as JSON with <paramref name="typeInfo"/> (the trim- and AOT-safe way for your own types).</summary>
    /// <typeparam name="T">The output's type.</typeparam>
    /// <param name="output">The output.</param>
    /// <param name="typeInfo">The output type's contract, typically from a source-generated <see cref="System.Text.Json.Serialization.JsonSerializerContext"/>.</param>
    /// <returns>This step.</returns>
    public CairnStep SetOutput<T>(T output, JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return SetPayload(output, typeInfo, CairnAttributes.OutputValue, CairnAttributes.OutputMimeType);
    }

    /// <summary>Sets an attribute of the step's span, replacing any earlier value; a null value removes it.</summary>
    /// <param name="key">The attribute's name.</param>
    /// <param name="value">The value: a string, bool, integer, floating-point number, or an array of one of these.</param>
    /// <returns>This step.</returns>
    public CairnStep SetAttribute(string key, object? value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (IsRecording)
        {
            Activity!.SetTag(key, value);
        }

        return this;
    }

    /// <summary>Sets the conversation or session the step belongs to (<c>session.id</c>); steps started inside this one after the call inherit it.</summary>
    /// <param name="sessionId">The session's id.</param>
    /// <returns>This step.</returns>
    public CairnStep SetSession(string sessionId)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        return SetAttribute(CairnAttributes.SessionId, sessionId);
    }

    /// <summary>Sets the end user the step works for (<c>user.id</c>); steps started inside this one after the call inherit it.</summary>
    /// <param name="userId">The user's id.</param>
    /// <returns>This step.</returns>
    public CairnStep SetUser(string userId)
    {
        ArgumentNullException.ThrowIfNull(userId);
        return SetAttribute(CairnAttributes.UserId, userId);
    }

    /// <summary>Adds tags to the step (the <c>tags</c> string array), keeping those it has and skipping repeats.</summary>
    /// <param name="tags">The tags to add.</param>
    /// <returns>This step.</returns>
    public CairnStep AddTags(params ReadOnlySpan<string> tags)
    {
        foreach (var tag in tags)
        {
            ArgumentNullException.ThrowIfNull(tag, nameof(tags));
        }

        if (!IsRecording || tags.IsEmpty)
        {
            return this;
        }

        var existing = Activity!.GetTagItem(CairnAttributes.Tags) as string[] ?? [];
        var merged = new List<string>(existing.Length + tags.Length);
        merged.AddRange(existing);
        foreach (var tag in tags)
        {
            if (!merged.Contains(tag))
            {
                merged.Add(tag);
            }
        }

        Activity.SetTag(CairnAttributes.Tags, merged.ToArray());
        return this;
    }

    /// <summary>Links the step to the gateway request that it made (<c>cairn.request_id</c>), so the trace and the request log point at each other.</summary>
    /// <param name="requestId">The gateway's request id (its <c>x-request-id</c> response header).</param>
    /// <returns>This step.</returns>
    public CairnStep SetRequestId(string requestId)
    {
        ArgumentNullException.ThrowIfNull(requestId);
        return SetAttribute(CairnAttributes.RequestId, requestId);
    }

    /// <summary>Sets the step's cost in US dollars (<c>cairn.cost_usd</c>), which Cairn then uses instead of computing one from token counts.</summary>
    /// <param name="costUsd">The cost in US dollars.</param>
    /// <returns>This step.</returns>
    public CairnStep SetCost(double costUsd)
    {
        if (!double.IsFinite(costUsd) || costUsd < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(costUsd), costUsd, "The cost must be a finite, non-negative number of dollars.");
        }

        return SetAttribute(CairnAttributes.CostUsd, costUsd);
    }

    /// <summary>Records a model call with the OpenTelemetry GenAI attributes: operation, provider, models and token usage.</summary>
    /// <param name="model">The model asked for (<c>gen_ai.request.model</c>).</param>
    /// <param name="provider">The provider, such as <c>openai</c>, <c>anthropic</c>, <c>azure.ai.openai</c> or <c>gcp.gemini</c> (<c>gen_ai.provider.name</c>).</param>
    /// <param name="inputTokens">All input tokens, including the cached ones (<c>gen_ai.usage.input_tokens</c>); for Anthropic, add its cache reads and writes to <c>input_tokens</c>.</param>
    /// <param name="outputTokens">All output tokens, including reasoning tokens (<c>gen_ai.usage.output_tokens</c>).</param>
    /// <param name="cachedInputTokens">The input tokens read from the provider's prompt cache (<c>gen_ai.usage.cache_read.input_tokens</c>).</param>
    /// <param name="reasoningTokens">The output tokens spent on reasoning (<c>gen_ai.usage.reasoning.output_tokens</c>).</param>
    /// <param name="responseModel">The model that answered, when the provider reports a more exact one (<c>gen_ai.response.model</c>).</param>
    /// <param name="operationName">The operation (<c>gen_ai.operation.name</c>); when null, <c>embeddings</c> for an <see cref="SpanType.Embedding"/> step and <c>chat</c> otherwise.</param>
    /// <returns>This step.</returns>
    public CairnStep RecordGeneration(
        string model,
        string? provider = null,
        long? inputTokens = null,
        long? outputTokens = null,
        long? cachedInputTokens = null,
        long? reasoningTokens = null,
        string? responseModel = null,
        string? operationName = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!IsRecording)
        {
            return this;
        }

        var activity = Activity!;
        operationName ??= activity.GetTagItem(CairnAttributes.SpanType) as string == "embedding" ? "embeddings" : "chat";
        activity.SetTag(CairnAttributes.GenAIOperationName, operationName);
        activity.SetTag(CairnAttributes.GenAIRequestModel, model);
        SetIfNotNull(activity, CairnAttributes.GenAIProviderName, provider);
        SetIfNotNull(activity, CairnAttributes.GenAIResponseModel, responseModel);
        SetIfNotNull(activity, CairnAttributes.GenAIInputTokens, inputTokens);
        SetIfNotNull(activity, CairnAttributes.GenAIOutputTokens, outputTokens);
        SetIfNotNull(activity, CairnAttributes.GenAICacheReadInputTokens, cachedInputTokens);
        SetIfNotNull(activity, CairnAttributes.GenAIReasoningOutputTokens, reasoningTokens);
        return this;
    }

    /// <summary>Records the messages sent to the model (<c>gen_ai.input.messages</c>), in the GenAI conventions' shape: <c>[{"role":"user","parts":[{"type":"text","content":"..."}]}]</c>.</summary>
    /// <typeparam name="T">The messages' type.</typeparam>
    /// <param name="messages">The messages: a string is taken as JSON text, other values are serialized like <see cref="SetInput{T}(T)"/> does.</param>
    /// <returns>This step.</returns>
    public CairnStep SetInputMessages<T>(T messages) => SetMessages(messages, null, CairnAttributes.GenAIInputMessages);

    /// <summary>Records the messages sent to the model (<c>gen_ai.input.messages</c>), serialized with <paramref name="typeInfo"/>.</summary>
    /// <typeparam name="T">The messages' type.</typeparam>
    /// <param name="messages">The messages.</param>
    /// <param name="typeInfo">The messages type's contract.</param>
    /// <returns>This step.</returns>
    public CairnStep SetInputMessages<T>(T messages, JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return SetMessages(messages, typeInfo, CairnAttributes.GenAIInputMessages);
    }

    /// <summary>Records the messages the model answered with (<c>gen_ai.output.messages</c>), in the GenAI conventions' shape.</summary>
    /// <typeparam name="T">The messages' type.</typeparam>
    /// <param name="messages">The messages: a string is taken as JSON text, other values are serialized like <see cref="SetOutput{T}(T)"/> does.</param>
    /// <returns>This step.</returns>
    public CairnStep SetOutputMessages<T>(T messages) => SetMessages(messages, null, CairnAttributes.GenAIOutputMessages);

    /// <summary>Records the messages the model answered with (<c>gen_ai.output.messages</c>), serialized with <paramref name="typeInfo"/>.</summary>
    /// <typeparam name="T">The messages' type.</typeparam>
    /// <param name="messages">The messages.</param>
    /// <param name="typeInfo">The messages type's contract.</param>
    /// <returns>This step.</returns>
    public CairnStep SetOutputMessages<T>(T messages, JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return SetMessages(messages, typeInfo, CairnAttributes.GenAIOutputMessages);
    }

    /// <summary>Marks the step failed by <paramref name="exception"/>: status Error with its message, an <c>error.type</c> attribute and an <c>exception</c> event.</summary>
    /// <param name="exception">The exception that ended the step.</param>
    /// <returns>This step.</returns>
    public CairnStep Fail(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (Activity is { } activity)
        {
            activity.SetStatus(ActivityStatusCode.Error, exception.Message);
            if (activity.IsAllDataRequested)
            {
                activity.SetTag(CairnAttributes.ErrorType, exception.GetType().FullName);
                activity.AddException(exception);
            }
        }

        return this;
    }

    /// <summary>Marks the step failed without an exception: status Error with <paramref name="description"/>.</summary>
    /// <param name="description">Why the step failed.</param>
    /// <returns>This step.</returns>
    public CairnStep Fail(string description)
    {
        ArgumentNullException.ThrowIfNull(description);
        Activity?.SetStatus(ActivityStatusCode.Error, description);
        return this;
    }

    /// <summary>Ends the step and its span.</summary>
    public void Dispose() => Activity?.Dispose();

    /// <inheritdoc />
    public bool Equals(CairnStep other) => ReferenceEquals(Activity, other.Activity);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is CairnStep other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => Activity?.GetHashCode() ?? 0;

    /// <summary>Tells whether two steps are handles on the same span.</summary>
    public static bool operator ==(CairnStep left, CairnStep right) => left.Equals(right);

    /// <summary>Tells whether two steps are handles on different spans.</summary>
    public static bool operator !=(CairnStep left, CairnStep right) => !left.Equals(right);

    internal bool HasOutput => Activity?.GetTagItem(CairnAttributes.OutputValue) is not null;

    private CairnStep SetPayload<T>(T value, JsonTypeInfo? typeInfo, string valueKey, string mimeTypeKey)
    {
        if (!IsRecording)
        {
            return this;
        }

        var (text, mimeType) = TracePayload.Format(value, typeInfo, stringIsJson: false);
        Activity!.SetTag(valueKey, text);
        Activity.SetTag(mimeTypeKey, text is null ? null : mimeType);
        return this;
    }

    private CairnStep SetMessages<T>(T messages, JsonTypeInfo? typeInfo, string key)
    {
        if (IsRecording)
        {
            Activity!.SetTag(key, TracePayload.Format(messages, typeInfo, stringIsJson: true).Text);
        }

        return this;
    }

    private static void SetIfNotNull(Activity activity, string key, object? value)
    {
        if (value is not null)
        {
            activity.SetTag(key, value);
        }
    }
}
