using Cairn.Storage.Relational;
using Npgsql;

namespace Cairn.Storage.Tests.Relational;

public sealed class BackendStoreTests
{
    [Fact]
    public void ParseSqlitePath_ThreeSlashes_IsRelativeToCurrentDirectory() =>
        Assert.Equal(Path.GetFullPath("cairn-data/cairn.db"), BackendStore.ParseSqlitePath("sqlite:///cairn-data/cairn.db"));

    [Fact]
    public void ParseSqlitePath_FourSlashes_IsAbsolute() =>
        Assert.Equal("/var/lib/cairn/cairn.db", BackendStore.ParseSqlitePath("sqlite:////var/lib/cairn/cairn.db"));

    [Theory]
    [InlineData("sqlite:///")]
    [InlineData("sqlite:///:memory:")]
    [InlineData("sqlite://relative.db")]
    public void ParseSqlitePath_MissingOrInMemoryPath_Throws(string uri) =>
        Assert.Throws<ArgumentException>(() => BackendStore.ParseSqlitePath(uri));

    [Theory]
    [InlineData("postgresql://cairn:s%40cret@db.example:6543/tracking?sslmode=require")]
    [InlineData("postgres://cairn:s%40cret@db.example:6543/tracking?sslmode=require")]
    [InlineData("postgresql+psycopg2://cairn:s%40cret@db.example:6543/tracking?sslmode=require")]
    public void ToNpgsqlConnectionString_PostgresUri_MapsEveryPart(string uri)
    {
        var builder = new NpgsqlConnectionStringBuilder(BackendStore.ToNpgsqlConnectionString(uri));

        Assert.Equal("db.example", builder.Host);
        Assert.Equal(6543, builder.Port);
        Assert.Equal("cairn", builder.Username);
        Assert.Equal("s@cret", builder.Password);
        Assert.Equal("tracking", builder.Database);
        Assert.Equal(SslMode.Require, builder.SslMode);
    }

    [Fact]
    public void ToNpgsqlConnectionString_NoPort_DefaultsTo5432()
    {
        var builder = new NpgsqlConnectionStringBuilder(BackendStore.ToNpgsqlConnectionString("postgresql://u@localhost/db"));

        Assert.Equal(5432, builder.Port);
        Assert.Null(builder.Password);
    }

    [Fact]
    public void ToNpgsqlConnectionString_ConnectionString_PassesThrough()
    {
        var builder = new NpgsqlConnectionStringBuilder(BackendStore.ToNpgsqlConnectionString("Host=h;Port=1;Username=u;Password=p;Database=d"));

        Assert.Equal(("h", 1, "d"), (builder.Host, builder.Port, builder.Database));
    }

    [Fact]
    public void CreateDialect_UnknownScheme_Throws() =>
        Assert.Throws<ArgumentException>(() => BackendStore.CreateDialect("mysql://u:p@h/db"));

    [Fact]
    public void Redact_UriWithPassword_HidesIt() =>
        Assert.Equal("postgresql://u:***@h/db", BackendStore.Redact("postgresql://u:secret@h/db"));

    [Theory]
    [InlineData("mlflow-artifacts:", "mlflow-artifacts:/1")]
    [InlineData("mlflow-artifacts:/", "mlflow-artifacts:/1")]
    [InlineData("s3://bucket/root", "s3://bucket/root/1")]
    [InlineData("file:///tmp/", "file:///tmp/1")]
    public void AppendPath_Roots_JoinLikeMlflow(string root, string expected) =>
        Assert.Equal(expected, BackendStore.AppendPath(root, "1"));
}
