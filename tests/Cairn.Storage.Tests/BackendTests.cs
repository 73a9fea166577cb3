using Cairn.Storage.Tests.Compliance;

namespace Cairn.Storage.Tests;

/// <summary>The compliance suite on embedded SQLite (a temporary folder per class).</summary>
public sealed class SqliteTrackingStoreTests(SqliteStorageFixture fixture) : TrackingStoreComplianceTests(fixture), IClassFixture<SqliteStorageFixture>
{
    [Fact]
    public void BackendKind_SqliteUri_IsSqlite() => Assert.Equal("sqlite", Fixture.Storage.BackendKind);
}

/// <summary>The compliance suite on a real PostgreSQL server (a fresh database per class).</summary>
public sealed class PostgresTrackingStoreTests(PostgresStorageFixture fixture) : TrackingStoreComplianceTests(fixture), IClassFixture<PostgresStorageFixture>
{
    [Fact]
    public void BackendKind_PostgresUri_IsPostgresql() => Assert.Equal("postgresql", Fixture.Storage.BackendKind);
}
