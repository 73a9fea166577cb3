using System.Reflection;

namespace Cairn.Client;

// The high-level entry point: start a run and log to it through CairnRun.
public sealed partial class CairnClient
{
    /// <summary>Starts a run in the experiment named <paramref name="experimentName"/>, creating the experiment when it does not exist.</summary>
    /// <param name="experimentName">The experiment's name.</param>
    /// <param name="runName">The run's name; the server picks one when null.</param>
    /// <param name="tags">Tags to set on the run, on top of (and overriding) <c>mlflow.user</c>, <c>mlflow.source.name</c> and <c>mlflow.source.type</c>.</param>
    /// <param name="cancellationToken">A token that cancels starting the run.</param>
    /// <returns>The running run; dispose it (or call <see cref="CairnRun.EndAsync"/>) to flush and end it.</returns>
    public async Task<CairnRun> StartRunAsync(string experimentName, string? runName = null, IEnumerable<KeyValuePair<string, string>>? tags = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(experimentName);
        var experimentId = await GetOrCreateExperimentIdAsync(experimentName, cancellationToken).ConfigureAwait(false);
        return await StartRunByExperimentIdAsync(experimentId, runName, tags, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Starts a run in the experiment with id <paramref name="experimentId"/>.</summary>
    /// <param name="experimentId">The experiment's id.</param>
    /// <param name="runName">The run's name; the server picks one when null.</param>
    /// <param name="tags">Tags to set on the run, on top of (and overriding) <c>mlflow.user</c>, <c>mlflow.source.name</c> and <c>mlflow.source.type</c>.</param>
    /// <param name="cancellationToken">A token that cancels starting the run.</param>
    /// <returns>The running run; dispose it (or call <see cref="CairnRun.EndAsync"/>) to flush and end it.</returns>
    public async Task<CairnRun> StartRunByExperimentIdAsync(string experimentId, string? runName = null, IEnumerable<KeyValuePair<string, string>>? tags = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(experimentId);
        var options = RunOptions;
        var user = Environment.UserName;
        var allTags = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["mlflow.user"] = user,
            ["mlflow.source.name"] = Assembly.GetEntryAssembly()?.GetName().Name ?? "dotnet",
            ["mlflow.source.type"] = "LOCAL",
        };
        foreach (var (key, value) in tags ?? [])
        {
            allTags[key] = value;
        }

        var run = await CreateRunAsync(experimentId, runName, allTags, TimeProvider.GetUtcNow(), user, cancellationToken).ConfigureAwait(false);
        var info = run.Info ?? throw new InvalidOperationException("The server's response has no 'run.info'.");
        return new CairnRun(this, info, options);
    }
}
