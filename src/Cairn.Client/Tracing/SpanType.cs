namespace Cairn.Client.Tracing;

/// <summary>The kind of work a step records, sent as the <c>cairn.span.type</c> attribute.</summary>
public enum SpanType
{
    /// <summary>Any other unit of work (<c>span</c>); the default.</summary>
    Span,

    /// <summary>A call to a model that generates text or messages (<c>generation</c>).</summary>
    Generation,

    /// <summary>A call to an embedding model (<c>embedding</c>).</summary>
    Embedding,

    /// <summary>A tool or function call (<c>tool</c>).</summary>
    Tool,

    /// <summary>A lookup of documents or context, such as a vector search (<c>retrieval</c>).</summary>
    Retrieval,

    /// <summary>An agent's run, which may contain generations and tool calls (<c>agent</c>).</summary>
    Agent,

    /// <summary>A fixed sequence of steps, such as a prompt pipeline (<c>chain</c>).</summary>
    Chain,
}
