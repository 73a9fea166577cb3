using Cairn.Core.Observability;
using Cairn.Core.Tracking;

namespace Cairn.Server.Web.Observability;

/// <summary>What a row of the trace tree is.</summary>
internal enum TraceTreeRowKind
{
    /// <summary>A span.</summary>
    Span,

    /// <summary>A link that loads the next page of a level.</summary>
    More,

    /// <summary>A link back to the first page of a level shown from a later page (the no-script fallback).</summary>
    Earlier,
}

/// <summary>A row of the server-rendered trace tree.</summary>
internal sealed record TraceTreeRow
{
    /// <summary>What the row is.</summary>
    public TraceTreeRowKind Kind { get; init; }

    /// <summary>The span of a <see cref="TraceTreeRowKind.Span"/> row.</summary>
    public SpanNode? Span { get; init; }

    /// <summary>The indentation level (0 for top-level spans).</summary>
    public int Depth { get; init; }

    /// <summary>Whether the span's children are rendered below it.</summary>
    public bool Expanded { get; init; }

    /// <summary>For paging rows: the parent span of the level, or null for the top level.</summary>
    public string? Parent { get; init; }

    /// <summary>For <see cref="TraceTreeRowKind.More"/> rows: the token of the next page.</summary>
    public string? PageToken { get; init; }

    /// <summary>For <see cref="TraceTreeRowKind.More"/> rows: how many spans of the level are not shown, when known.</summary>
    public long? Remaining { get; init; }
}

/// <summary>
/// Reads the part of a trace's span tree that the trace page renders: never the whole trace (which can hold tens of
/// thousands of spans), but one page of the top level and of each expanded node, within a row budget. The page
/// expands further nodes lazily through the span API.
/// </summary>
internal sealed class TraceTree(ITraceStore store, TraceSummary trace)
{
    /// <summary>Spans per level and page, server-side and in the script.</summary>
    public const int PageSize = 200;

    /// <summary>Most span rows rendered; nodes past it are shown collapsed.</summary>
    public const int MaxRows = 1000;

    /// <summary>Traces with at most this many spans open fully (within the budgets).</summary>
    public const int SmallTrace = 300;

    /// <summary>The key of the top level in <see cref="PagedLevel"/>.</summary>
    public const string TopLevel = "top";

    /// <summary>Nodes the reader opened.</summary>
    public IReadOnlySet<string> Expand { get; init; } = new HashSet<string>();

    /// <summary>Nodes the reader closed (this wins over every reason to open one).</summary>
    public IReadOnlySet<string> Collapse { get; init; } = new HashSet<string>();

    /// <summary>The ancestors of the selected span, opened so that it shows.</summary>
    public IReadOnlySet<string> Ancestors { get; init; } = new HashSet<string>();

    /// <summary>The level (a parent span id, or <see cref="TopLevel"/>) shown from <see cref="PagedToken"/> on, or null.</summary>
    public string? PagedLevel { get; init; }

    /// <summary>The page token of <see cref="PagedLevel"/>.</summary>
    public string? PagedToken { get; init; }

    /// <summary>Why <see cref="PagedToken"/> was ignored, or null.</summary>
    public string? Error { get; private set; }

    /// <summary>Span rows read.</summary>
    public int SpanRows { get; private set; }

    /// <summary>Reads the rows in display order.</summary>
    public async Task<List<TraceTreeRow>> ReadAsync(CancellationToken cancellationToken)
    {
        var rows = new List<TraceTreeRow>();
        await AddLevelAsync(rows, null, 0, null, cancellationToken);
        return rows;
    }

    private async Task AddLevelAsync(List<TraceTreeRow> rows, string? parent, int depth, long? childCount, CancellationToken cancellationToken)
    {
        var token = (parent ?? TopLevel) == PagedLevel && Error is null ? PagedToken : null;
        Page<SpanNode> page;
        try
        {
            page = await store.GetChildrenAsync(trace.Project, trace.TraceId, parent, PageSize, token, cancellationToken);
        }
        catch (TrackingException e) when (token is not null && e.Code == TrackingErrorCode.InvalidParameterValue)
        {
            Error = e.Message;
            token = null;
            page = await store.GetChildrenAsync(trace.Project, trace.TraceId, parent, PageSize, null, cancellationToken);
        }
        catch (FormatException) when (token is not null)
        {
            Error = "Invalid page token.";
            token = null;
            page = await store.GetChildrenAsync(trace.Project, trace.TraceId, parent, PageSize, null, cancellationToken);
        }

        if (token is not null)
        {
            rows.Add(new TraceTreeRow { Kind = TraceTreeRowKind.Earlier, Depth = depth, Parent = parent });
        }

        foreach (var node in page.Items)
        {
            var expanded = node.ChildCount > 0 && SpanRows < MaxRows && IsOpen(node.SpanId, depth);
            rows.Add(new TraceTreeRow { Kind = TraceTreeRowKind.Span, Span = node, Depth = depth, Expanded = expanded });
            SpanRows++;
            if (expanded)
            {
                await AddLevelAsync(rows, node.SpanId, depth + 1, node.ChildCount, cancellationToken);
            }
        }

        if (page.NextPageToken is not null)
        {
            rows.Add(new TraceTreeRow
            {
                Kind = TraceTreeRowKind.More,
                Depth = depth,
                Parent = parent,
                PageToken = page.NextPageToken,
                Remaining = token is null && childCount is { } count ? count - page.Items.Count : null,
            });
        }
    }

    private bool IsOpen(string spanId, int depth) =>
        !Collapse.Contains(spanId) && (depth == 0 || trace.SpanCount <= SmallTrace || Expand.Contains(spanId) || Ancestors.Contains(spanId));
}
