using Cairn.Server;
using Microsoft.AspNetCore.Builder;

namespace Cairn.Client.Tests.Integration;

/// <summary>A real Cairn server, in process on a free loopback port with its own data folder, shared by the tests of a class.</summary>
public sealed class CairnServerFixture : IAsyncLifetime
{
    private WebApplication? _app;

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("cairn-client-it-").FullName;

    public Uri BaseAddress { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        _app = await CairnApp.CreateAsync(
            ["--Logging:LogLevel:Default=Warning"],
            options =>
            {
                options.Port = 0;
                options.DataDirectory = DataDirectory;
            });
        await _app.StartAsync(TestContext.Current.CancellationToken);
        BaseAddress = _app.GetListeningAddresses()[0];
    }

    public CairnClient CreateClient() => new(BaseAddress);

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync(CancellationToken.None);
            await _app.DisposeAsync();
        }

        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by the OS is left for the temp folder's cleanup.
        }
    }
}
