using System.Diagnostics;
using OpenTelemetry;

namespace Cairn.Client.Tracing;

/// <summary>Gives the spans of other sources inside a step (such as Microsoft.Extensions.AI's chat spans) the step's <c>session.id</c> and <c>user.id</c>.</summary>
internal sealed class CairnContextProcessor : BaseProcessor<Activity>
{
    /// <inheritdoc />
    public override void OnStart(Activity data)
    {
        // Steps inherit when they start (even without this processor); other sources' spans only have a parent to inherit from.
        if (data.IsAllDataRequested && data.Parent is not null && !ReferenceEquals(data.Source, CairnTracing.ActivitySource))
        {
            CairnTracing.InheritContext(data);
        }
    }
}
