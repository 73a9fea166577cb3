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
