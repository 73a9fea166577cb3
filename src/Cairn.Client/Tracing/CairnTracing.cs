using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Cairn.Client.Tracing;

/// <summary>Traces the steps of an LLM application (generations, tool calls, retrievals, ...) as OpenTelemetry spans, and exports them to Cairn.</summary>
/// <remarks>
/// Steps are activities of the <see cref="SourceName"/> source. Nothing is recorded until a listener wants that source: set one up with
/// <see cref="StartExporting"/>, or with <see cref="CairnTracerProviderBuilderExtensions.AddCairnExporter"/> on your own OpenTelemetry setup.
/// <para>
/// A step inherits <c>session.id</c> and <c>user.id</c> from the nearest enclosing activity that has them, when it starts. The enclosing
/// activity is <see cref="Activity.Current"/>, which flows with async calls (it is an <see cref="AsyncLocal{T}"/>), so a step started in
/// code awaited by another step is its child. They are not put in <see cref="Activity.Baggage"/>, which HTTP clients would send on to
/// every service the application calls, model providers included.
/// </para>
/// </remarks>
public static class CairnTracing
{
    /// <summary>The name of the <see cref="ActivitySource"/> that steps are recorded with.</summary>
    public const string SourceName = "Cairn";

    /// <summary>The name of the source that Microsoft.Extensions.AI's <c>UseOpenTelemetry()</c> chat clients, embedding generators and function invocation record with by default.</summary>
    public const string MicrosoftExtensionsAISourceName = "Experimental.Microsoft.Extensions.AI";

    /// <summary>The most UTF-8 bytes an input, output or message list is recorded with (1 MiB); a longer one is cut, marked <c>…[truncated]</c> and recorded as <c>text/plain</c>.</summary>
    public const int MaxPayloadBytes = 1024 * 1024;

    private static JsonSerializerOptions s_serializerOptions = CreateDefaultSerializerOptions();

    /// <summary>Gets the source that steps are recorded with.</summary>
    public static ActivitySource ActivitySource { get; } = new(SourceName, typeof(CairnTracing).Assembly.GetName().Version?.ToString());

    /// <summary>Gets or sets the options that step inputs, outputs and messages are serialized with when no <see cref="JsonTypeInfo{T}"/> is given.</summary>
    /// <remarks>
    /// The default uses web naming and relaxed escaping, knows strings, numbers, JSON nodes and common collections without reflection, and
    /// falls back on reflection where it is enabled. Under native AOT, give your types' contracts here (for example
    /// <c>TypeInfoResolver = JsonTypeInfoResolver.Combine(MyJsonContext.Default, CairnTracing.SerializerOptions.TypeInfoResolver)</c>) or pass a
    /// <see cref="JsonTypeInfo{T}"/> per call; a value that cannot be serialized is recorded as a <c>text/plain</c> note, never thrown.
    /// The options set are made read-only.
    /// </remarks>
    public static JsonSerializerOptions SerializerOptions
    {
        get => s_serializerOptions;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.TypeInfoResolver is null)
            {
                throw new ArgumentException("The options need a TypeInfoResolver.", nameof(value));
            }

            value.MakeReadOnly();
            s_serializerOptions = value;
        }
    }

    /// <summary>Starts a step; dispose it to end it. Returns a step that records nothing, at almost no cost, when no listener wants <see cref="SourceName"/>.</summary>
    /// <param name="name">The step's name, shown in the trace.</param>
    /// <param name="type">The kind of work the step does.</param>
    /// <returns>The step.</returns>
    public static CairnStep StartStep(string name, SpanType type = SpanType.Span)
    {
        ArgumentNullException.ThrowIfNull(name);
        var activity = ActivitySource.StartActivity(name, type is SpanType.Generation or SpanType.Embedding ? ActivityKind.Client : ActivityKind.Internal);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(CairnAttributes.SpanType, CairnAttributes.ToWireName(type));
            InheritContext(activity);
        }

        return new CairnStep(activity);
    }

    /// <summary>Starts a step with an input: a string as <c>text/plain</c>, anything else as JSON (see <see cref="CairnStep.SetInput{T}(T)"/>).</summary>
    /// <typeparam name="TInput">The input's type.</typeparam>
    /// <param name="name">The step's name, shown in the trace.</param>
    /// <param name="type">The kind of work the step does.</param>
    /// <param name="input">The step's input; serialized only when the step is recorded.</param>
    /// <returns>The step.</returns>
    public static CairnStep StartStep<TInput>(string name, SpanType type, TInput input) =>
        StartStep(name, type).SetInput(input);

    /// <summary>Starts a step with an input serialized as JSON with <paramref name="inputTypeInfo"/>.</summary>
    /// <typeparam name="TInput">The input's type.</typeparam>
    /// <param name="name">The step's name, shown in the trace.</param>
    /// <param name="type">The kind of work the step does.</param>
    /// <param name="input">The step's input; serialized only when the step is recorded.</param>
    /// <param name="inputTypeInfo">The input type's contract, typically from a source-generated context.</param>
    /// <returns>The step.</returns>
    public static CairnStep StartStep<TInput>(string name, SpanType type, TInput input, JsonTypeInfo<TInput> inputTypeInfo)
    {
        ArgumentNullException.ThrowIfNull(inputTypeInfo);
        return StartStep(name, type).SetInput(input, inputTypeInfo);
    }

    /// <summary>Runs <paramref name="body"/> as a step: records its result as the output, or its exception as an error (and rethrows it).</summary>
    /// <typeparam name="TResult">The result's type.</typeparam>
    /// <param name="name">The step's name.</param>
    /// <param name="type">The kind of work the step does.</param>
    /// <param name="body">The work; it may set the output itself, which is then kept.</param>
    /// <returns>What <paramref name="body"/> returned.</returns>
    public static Task<TResult> RunStepAsync<TResult>(string name, SpanType type, Func<CairnStep, Task<TResult>> body)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(body);
        return RunCoreAsync<object?, TResult>(name, type, null, hasInput: false, body);
    }

    /// <summary>Runs <paramref name="body"/> as a step with an input: records its result as the output, or its exception as an error (and rethrows it).</summary>
    /// <typeparam name="TInput">The input's type.</typeparam>
    /// <typeparam name="TResult">The result's type.</typeparam>
    /// <param name="name">The step's name.</param>
    /// <param name="type">The kind of work the step does.</param>
    /// <param name="input">The step's input, recorded like <see cref="CairnStep.SetInput{T}(T)"/> does.</param>
    /// <param name="body">The work; it may set the output itself, which is then kept.</param>
    /// <returns>What <paramref name="body"/> returned.</returns>
    public static Task<TResult> RunStepAsync<TInput, TResult>(string name, SpanType type, TInput input, Func<CairnStep, Task<TResult>> body)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(body);
        return RunCoreAsync(name, type, input, hasInput: true, body);
    }

    /// <summary>Runs <paramref name="body"/> as a step, recording its exception as an error (and rethrowing it).</summary>
    /// <param name="name">The step's name.</param>
    /// <param name="type">The kind of work the step does.</param>
    /// <param name="body">The work.</param>
    /// <returns>A task that completes with <paramref name="body"/>.</returns>
    public static Task RunStepAsync(string name, SpanType type, Func<CairnStep, Task> body)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(body);
        return RunCoreAsync<object?>(name, type, null, hasInput: false, body);
    }

    /// <summary>Runs <paramref name="body"/> as a step with an input, recording its exception as an error (and rethrowing it).</summary>
    /// <typeparam name="TInput">The input's type.</typeparam>
    /// <param name="name">The step's name.</param>
    /// <param name="type">The kind of work the step does.</param>
    /// <param name="input">The step's input, recorded like <see cref="CairnStep.SetInput{T}(T)"/> does.</param>
    /// <param name="body">The work.</param>
    /// <returns>A task that completes with <paramref name="body"/>.</returns>
    public static Task RunStepAsync<TInput>(string name, SpanType type, TInput input, Func<CairnStep, Task> body)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(body);
        return RunCoreAsync(name, type, input, hasInput: true, body);
    }

    /// <summary>Runs <paramref name="body"/> as a step: records its result as the output, or its exception as an error (and rethrows it).</summary>
    /// <typeparam name="TResult">The result's type.</typeparam>
    /// <param name="name">The step's name.</param>
    /// <param name="type">The kind of work the step does.</param>
    /// <param name="body">The work; it may set the output itself, which is then kept.</param>
    /// <returns>What <paramref name="body"/> returned.</returns>
    public static TResult RunStep<TResult>(string name, SpanType type, Func<CairnStep, TResult> body)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(body);
        return RunCore(StartStep(name, type), body);
    }

    /// <summary>Runs <paramref name="body"/> as a step with an input: records its result as the output, or its exception as an error (and rethrows it).</summary>
    /// <typeparam name="TInput">The input's type.</typeparam>
    /// <typeparam name="TResult">The result's type.</typeparam>
    /// <param name="name">The step's name.</param>
    /// <param name="type">The kind of work the step does.</param>
    /// <param name="input">The step's input, recorded like <see cref="CairnStep.SetInput{T}(T)"/> does.</param>
    /// <param name="body">The work; it may set the output itself, which is then kept.</param>
    /// <returns>What <paramref name="body"/> returned.</returns>
    public static TResult RunStep<TInput, TResult>(string name, SpanType type, TInput input, Func<CairnStep, TResult> body)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(body);
        return RunCore(StartStep(name, type, input), body);
    }

    /// <summary>Runs <paramref name="body"/> as a step, recording its exception as an error (and rethrowing it).</summary>
    /// <param name="name">The step's name.</param>
    /// <param name="type">The kind of work the step does.</param>
    /// <param name="body">The work.</param>
    public static void RunStep(string name, SpanType type, Action<CairnStep> body)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(body);
        RunCore(StartStep(name, type), body);
    }

    /// <summary>Runs <paramref name="body"/> as a step with an input, recording its exception as an error (and rethrowing it).</summary>
    /// <typeparam name="TInput">The input's type.</typeparam>
    /// <param name="name">The step's name.</param>
    /// <param name="type">The kind of work the step does.</param>
    /// <param name="input">The step's input, recorded like <see cref="CairnStep.SetInput{T}(T)"/> does.</param>
    /// <param name="body">The work.</param>
    public static void RunStep<TInput>(string name, SpanType type, TInput input, Action<CairnStep> body)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(body);
        RunCore(StartStep(name, type, input), body);
    }

    /// <summary>Starts exporting steps (and, by default, Microsoft.Extensions.AI's spans) to Cairn over OTLP/HTTP, for a program that does not host OpenTelemetry itself.</summary>
    /// <param name="cairnBaseUrl">The Cairn server's base address, such as <c>http://127.0.0.1:5000</c>; spans go to <c>{cairnBaseUrl}/v1/traces</c>.</param>
    /// <param name="project">The project the spans belong to (the <c>x-cairn-project</c> header); the server's default project when null.</param>
    /// <param name="apiKey">The API key, sent as <c>Authorization: Bearer {apiKey}</c>; none when null.</param>
    /// <param name="serviceName">The <c>service.name</c> of the spans; OpenTelemetry's default (<c>unknown_service:{process}</c>) when null.</param>
    /// <param name="includeMicrosoftExtensionsAI">Whether to also export the spans of <see cref="MicrosoftExtensionsAISourceName"/>.</param>
    /// <returns>The tracer provider; dispose it before the program ends, which sends the spans still buffered.</returns>
    public static TracerProvider StartExporting(Uri cairnBaseUrl, string? project = null, string? apiKey = null, string? serviceName = null, bool includeMicrosoftExtensionsAI = true)
    {
        ArgumentNullException.ThrowIfNull(cairnBaseUrl);
        var builder = Sdk.CreateTracerProviderBuilder();
        if (serviceName is not null)
        {
            builder.ConfigureResource(resource => resource.AddService(serviceName));
        }

        return builder.AddCairnExporter(cairnBaseUrl, project, apiKey, includeMicrosoftExtensionsAI).Build();
    }

    /// <summary>Copies <c>session.id</c> and <c>user.id</c> onto <paramref name="activity"/> from its nearest ancestors that have them.</summary>
    internal static void InheritContext(Activity activity)
    {
        string? sessionId = null;
        string? userId = null;
        for (var parent = activity.Parent; parent is not null && (sessionId is null || userId is null); parent = parent.Parent)
        {
            sessionId ??= parent.GetTagItem(CairnAttributes.SessionId) as string;
            userId ??= parent.GetTagItem(CairnAttributes.UserId) as string;
        }

        if (sessionId is not null && activity.GetTagItem(CairnAttributes.SessionId) is null)
        {
            activity.SetTag(CairnAttributes.SessionId, sessionId);
        }

        if (userId is not null && activity.GetTagItem(CairnAttributes.UserId) is null)
        {
            activity.SetTag(CairnAttributes.UserId, userId);
        }
    }

    // The step starts inside the async method, so that Activity.Current goes back to the caller's activity when the method returns.
    private static async Task<TResult> RunCoreAsync<TInput, TResult>(string name, SpanType type, TInput input, bool hasInput, Func<CairnStep, Task<TResult>> body)
    {
        using (var step = hasInput ? StartStep(name, type, input) : StartStep(name, type))
        {
            try
            {
                var result = await body(step).ConfigureAwait(false);
                if (step.IsRecording && !step.HasOutput)
                {
                    step.SetOutput(result);
                }

                return result;
            }
            catch (Exception ex)
            {
                step.Fail(ex);
                throw;
            }
        }
    }

    private static async Task RunCoreAsync<TInput>(string name, SpanType type, TInput input, bool hasInput, Func<CairnStep, Task> body)
    {
        using (var step = hasInput ? StartStep(name, type, input) : StartStep(name, type))
        {
            try
            {
                await body(step).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                step.Fail(ex);
                throw;
            }
        }
    }

    private static TResult RunCore<TResult>(CairnStep step, Func<CairnStep, TResult> body)
    {
        using (step)
        {
            try
            {
                var result = body(step);
                if (step.IsRecording && !step.HasOutput)
                {
                    step.SetOutput(result);
                }

                return result;
            }
            catch (Exception ex)
            {
                step.Fail(ex);
                throw;
            }
        }
    }

    private static void RunCore(CairnStep step, Action<CairnStep> body)
    {
        using (step)
        {
            try
            {
                body(step);
            }
            catch (Exception ex)
            {
                step.Fail(ex);
                throw;
            }
        }
    }

    private static JsonSerializerOptions CreateDefaultSerializerOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            // Recorded values are data for the trace view, not HTML; relaxed escaping keeps non-ASCII text readable.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            TypeInfoResolver = JsonSerializer.IsReflectionEnabledByDefault
                ? JsonTypeInfoResolver.Combine(CairnTracingJsonContext.Default, CreateReflectionResolver())
                : CairnTracingJsonContext.Default,
        };
        options.MakeReadOnly();
        return options;
    }

    // The same guard as System.Text.Json's own default options (and Microsoft.Extensions.AI's AIJsonUtilities.DefaultOptions): a trimmed or
    // native AOT application has JsonSerializerIsReflectionEnabledByDefault=false, so this call is never made there, and a value of a type
    // without a contract is recorded as a note instead of being serialized.
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Only called when reflection-based serialization is enabled by the application.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Only called when reflection-based serialization is enabled by the application.")]
    private static DefaultJsonTypeInfoResolver CreateReflectionResolver() => new();
}
