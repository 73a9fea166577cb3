namespace Cairn.Server.Tests;

/// <summary>Security defaults of the server host (issue #2).</summary>
public sealed class ServerOptionsTests
{
    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("192.168.1.10")]
    [InlineData("::")]
    public async Task CreateAsync_NonLoopbackHostWithoutAuthentication_IsRefused(string host)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => CairnApp.CreateAsync([], o =>
        {
            o.Host = host;
            o.DataDirectory = Path.Combine(Path.GetTempPath(), "cairn-tests", Guid.NewGuid().ToString("N"));
        }));
        Assert.Contains("Refusing to listen", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_AreLoopbackPort5000AndLocalDataFolder()
    {
        var options = new CairnServerOptions();
        Assert.Equal("127.0.0.1", options.Host);
        Assert.Equal(5000, options.Port);
        Assert.Equal("sqlite:///" + Path.Combine("cairn-data", "cairn.db"), options.EffectiveBackendStoreUri);
        Assert.Equal(Path.Combine("cairn-data", "artifacts"), options.EffectiveArtifactsDestination);
    }
}

/// <summary>Options come from configuration (appsettings.json, environment variables) as well as from code (issue #2).</summary>
public sealed class ServerConfigurationTests
{
    [Fact]
    public async Task CreateAsync_CairnSectionInConfiguration_IsBound()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "cairn-tests", Guid.NewGuid().ToString("N"));
        var app = await CairnApp.CreateAsync(
            [],
            configureBuilder: builder => Microsoft.Extensions.Configuration.MemoryConfigurationBuilderExtensions.AddInMemoryCollection(
                builder.Configuration,
                new Dictionary<string, string?> { ["Cairn:DataDirectory"] = dataDirectory, ["Cairn:Port"] = "0" }));
        try
        {
            await app.StartAsync();
            using var client = new HttpClient { BaseAddress = app.GetListeningAddresses()[0] };
            Assert.Equal("OK", await client.GetStringAsync("/health"));
            Assert.True(File.Exists(Path.Combine(dataDirectory, "cairn.db")));
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dataDirectory, recursive: true);
        }
    }
}
