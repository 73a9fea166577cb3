namespace Cairn.Client;

/// <summary>Settings of the runs a <see cref="CairnClient"/> starts.</summary>
public sealed record CairnRunOptions
{
    /// <summary>Gets how long a logged metric may wait in the buffer before a background flush sends it; <see cref="Timeout.InfiniteTimeSpan"/> turns background flushes off.</summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromSeconds(1);

    internal void Validate()
    {
        if (FlushInterval <= TimeSpan.Zero && FlushInterval != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(FlushInterval), FlushInterval, "The flush interval must be positive or Timeout.InfiniteTimeSpan.");
        }
    }
}
