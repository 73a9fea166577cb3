namespace Cairn.Server.Serving;

/// <summary>A request the scoring endpoint cannot serve; answered with HTTP 400 and MLflow's <c>BAD_REQUEST</c> error code.</summary>
internal sealed class ServingException(string message) : Exception(message);
