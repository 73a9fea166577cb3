namespace Cairn.Client;

/// <summary>The statuses of an MLflow run.</summary>
public static class CairnRunStatus
{
    /// <summary>The run is in progress.</summary>
    public const string Running = "RUNNING";

    /// <summary>The run is scheduled but has not started.</summary>
    public const string Scheduled = "SCHEDULED";

    /// <summary>The run completed.</summary>
    public const string Finished = "FINISHED";

    /// <summary>The run failed.</summary>
    public const string Failed = "FAILED";

    /// <summary>The run was stopped before it completed.</summary>
    public const string Killed = "KILLED";
}
