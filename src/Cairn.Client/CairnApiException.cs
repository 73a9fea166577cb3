using System.Net;

namespace Cairn.Client;

/// <summary>The error a Cairn or MLflow server returned for a failed API call.</summary>
public sealed class CairnApiException : Exception
{
    /// <summary>Creates an exception for a failed call.</summary>
    /// <param name="statusCode">The HTTP status of the response.</param>
    /// <param name="errorCode">MLflow's <c>error_code</c>, such as <c>RESOURCE_DOES_NOT_EXIST</c>, or null when the response had none.</param>
    /// <param name="serverMessage">The server's message (or the raw response body when it was not MLflow's error JSON).</param>
    /// <param name="request">The call that failed, such as <c>POST api/2.0/mlflow/runs/log-batch</c>, or null.</param>
    /// <param name="innerException">The exception that caused this one, if any.</param>
    public CairnApiException(HttpStatusCode statusCode, string? errorCode, string serverMessage, string? request = null, Exception? innerException = null)
        : base(Format(statusCode, errorCode, serverMessage, request), innerException)
    {
        ArgumentNullException.ThrowIfNull(serverMessage);
        StatusCode = statusCode;
        ErrorCode = errorCode;
        ServerMessage = serverMessage;
        Request = request;
    }

    /// <summary>Gets the HTTP status of the response.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>Gets MLflow's <c>error_code</c> (for example <c>INVALID_PARAMETER_VALUE</c>), or null when the response carried none.</summary>
    public string? ErrorCode { get; }

    /// <summary>Gets the server's message, without the status and error code that <see cref="Exception.Message"/> adds.</summary>
    public string ServerMessage { get; }

    /// <summary>Gets the method and path of the call that failed, or null.</summary>
    public string? Request { get; }

    private static string Format(HttpStatusCode statusCode, string? errorCode, string serverMessage, string? request)
    {
        var prefix = request is null ? string.Empty : request + ": ";
        var code = errorCode is null ? string.Empty : " " + errorCode;
        return $"{prefix}HTTP {(int)statusCode}{code}: {serverMessage}";
    }
}
