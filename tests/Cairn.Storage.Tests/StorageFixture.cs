using Microsoft.Extensions.Time.Testing;

namespace Cairn.Storage.Tests;

/// <summary>One database per test class, opened once; tests in the class share it and create their own experiments.</summary>
public abstract class StorageFixture : IAsyncLifetime
{
    /// <summary>The start of fake time for every fixture.</summary>
    public static readonly DateTimeOffset Epoch = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);

    private TrackingStorage? _storage;

    public FakeTimeProvider Time { get; } = new(Epoch);

    public TrackingStorage Storage => _storage ?? throw new InvalidOperationException("The fixture is not initialized.");

    public string BackendStoreUri { get; private set; } = string.Empty;

    public const string ArtifactRoot = "mlflow-artifacts:";

    /// <summary>Creates a fresh, empty database and returns its backend store URI; the fixture removes it at the end.</summary>
    public abstract Task<string> CreateDatabaseAsync();

    /// <summary>Opens a storage on <paramref name="backendStoreUri"/>, optionally migrating only up to <paramref name="targetVersion"/>.</summary>
    public Task<TrackingStorage> OpenAsync(string backendStoreUri, int? targetVersion = null) =>
        CairnStorage.OpenAsync(new StorageOptions { BackendStoreUri = backendStoreUri, DefaultArtifactRoot = ArtifactRoot }, Time, targetVersion, CancellationToken.None);

    public async ValueTask InitializeAsync()
    {
        BackendStoreUri = await CreateDatabaseAsync();
        _storage = await OpenAsync(BackendStoreUri);
    }

    public async ValueTask DisposeAsync()
    {
        if (_storage is not null)
        {
            await _storage.DisposeAsync();
        }

        await CleanupAsync();
        GC.SuppressFinalize(this);
    }

    protected abstract Task CleanupAsync();
}

/// <summary>SQLite databases in a temporary folder per test class.</summary>
public sealed class SqliteStorageFixture : StorageFixture
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "cairn-storage-tests", Guid.NewGuid().ToString("N"));

    public override Task<string> CreateDatabaseAsync()
    {
        Directory.CreateDirectory(_folder);
        return Task.FromResult("sqlite:///" + Path.Combine(_folder, Guid.NewGuid().ToString("N") + ".db"));
    }

    protected override Task CleanupAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }
}

/// <summary>Fresh PostgreSQL databases per test class, dropped afterwards.</summary>
public sealed class PostgresStorageFixture : StorageFixture
{
    private readonly List<string> _databases = [];

    public override async Task<string> CreateDatabaseAsync()
    {
        var uri = await PostgresDatabase.CreateDatabaseAsync();
        lock (_databases)
        {
            _databases.Add(uri);
        }

        return uri;
    }

    protected override async Task CleanupAsync()
    {
        foreach (var uri in _databases)
        {
            await PostgresDatabase.DropDatabaseAsync(uri);
        }
    }
}
