namespace Cairn.Server.Serving;

/// <summary>A loaded model that scores requests of the serving endpoint.</summary>
/// <remarks>Implementations are thread-safe: one instance serves concurrent requests.</remarks>
internal interface IServedModel : IDisposable
{
    /// <summary>Gets the registered model's name.</summary>
    string Name { get; }

    /// <summary>Gets the registered model version.</summary>
    string Version { get; }

    /// <summary>Scores <paramref name="input"/> and returns the response body <c>{"predictions": ...}</c>.</summary>
    /// <exception cref="ServingException">The input does not fit the model.</exception>
    byte[] Predict(ServingInput input);
}
