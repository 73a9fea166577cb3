using Cairn.Client;
using Cairn.Samples.Quickstart;

// MLflow's quickstart in C#: train an Iris classifier with ML.NET, track it in Cairn, register it, load it back.
// The tracking server is CAIRN_TRACKING_URI, else MLFLOW_TRACKING_URI, else http://127.0.0.1:5000.
using var client = CairnClient.FromEnvironment();
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};

try
{
    await QuickstartProgram.RunAsync(client, Console.Out, cancellation.Token);
    return 0;
}
catch (HttpRequestException e)
{
    await Console.Error.WriteLineAsync($"Could not reach the tracking server at {client.BaseAddress}: {e.Message}. Start one with 'dotnet run --project src/Cairn.Host'.");
    return 1;
}
catch (CairnApiException e)
{
    await Console.Error.WriteLineAsync($"The tracking server refused a call: {e.Message}");
    return 1;
}
