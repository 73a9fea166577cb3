using Microsoft.Extensions.Time.Testing;

namespace Cairn.Client.Tests.TestDoubles;

internal static class TestClients
{
    public static readonly Uri BaseAddress = new("http://cairn.test:5000/");

    public static readonly DateTimeOffset Start = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

    public static CairnClient Create(RecordingHandler handler, TimeProvider? time = null, Uri? baseAddress = null) =>
        new(new HttpClient(handler) { BaseAddress = baseAddress ?? BaseAddress }, time ?? new FakeTimeProvider(Start));

    /// <summary>Waits (in real time) for a condition that a background flush makes true.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail("Timed out waiting until " + what);
            }

            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }
}
