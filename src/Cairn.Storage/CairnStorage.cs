using Cairn.Storage.Relational;

namespace Cairn.Storage;

/// <summary>Opens the tracking storage named by a backend store URI.</summary>
public static class CairnStorage
{
    /// <summary>Opens (creating and migrating as needed) the database named by <see cref="StorageOptions.BackendStoreUri"/>.</summary>
    /// <remarks>Pending schema migrations are applied in place, each in its own transaction; the <c>Default</c> experiment is created on first start.</remarks>
    public static Task<TrackingStorage> OpenAsync(StorageOptions options, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        return OpenAsync(options, timeProvider, targetVersion: null, cancellationToken);
    }

    /// <summary>Opens the storage, applying migrations only up to <paramref name="targetVersion"/> (all when null); tests use it to build old schemas.</summary>
    internal static async Task<TrackingStorage> OpenAsync(StorageOptions options, TimeProvider timeProvider, int? targetVersion, CancellationToken cancellationToken)
    {
        var dialect = BackendStore.CreateDialect(options.BackendStoreUri);
        try
        {
            await MigrationRunner.MigrateAsync(dialect, targetVersion, timeProvider, cancellationToken).ConfigureAwait(false);
            var artifactRoot = options.DefaultArtifactRoot;
            await RelationalTrackingStore.EnsureDefaultsAsync(dialect, WorkspaceIds.Default, artifactRoot, timeProvider, cancellationToken).ConfigureAwait(false);

            return new TrackingStorage(dialect, artifactRoot, timeProvider);
        }
        catch
        {
            await dialect.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
