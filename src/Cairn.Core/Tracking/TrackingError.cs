namespace Cairn.Core.Tracking;

/// <summary>The error kinds of the tracking domain; they map one to one onto MLflow's error codes.</summary>
public enum TrackingErrorCode
{
    /// <summary>An argument is missing, malformed or out of range (MLflow <c>INVALID_PARAMETER_VALUE</c>, HTTP 400).</summary>
    InvalidParameterValue,

    /// <summary>The addressed entity does not exist (MLflow <c>RESOURCE_DOES_NOT_EXIST</c>, HTTP 404).</summary>
    ResourceDoesNotExist,

    /// <summary>An entity with the same identity exists already (MLflow <c>RESOURCE_ALREADY_EXISTS</c>, HTTP 400).</summary>
    ResourceAlreadyExists,

    /// <summary>The entity is in a state that forbids the operation (MLflow <c>INVALID_STATE</c>, HTTP 400 for lifecycle errors).</summary>
    InvalidState,

    /// <summary>The request body could not be read (MLflow <c>MALFORMED_REQUEST</c>, HTTP 400).</summary>
    MalformedRequest,

    /// <summary>An unexpected failure (MLflow <c>INTERNAL_ERROR</c>, HTTP 500).</summary>
    InternalError,
}

/// <summary>An expected failure of a tracking operation, carrying the MLflow error code to report.</summary>
public sealed class TrackingException : Exception
{
    /// <summary>Creates an exception with an error code and a message meant for the API caller.</summary>
    public TrackingException(TrackingErrorCode code, string message) : base(message) => Code = code;

    /// <summary>Creates an exception with an error code, a message and the underlying cause.</summary>
    public TrackingException(TrackingErrorCode code, string message, Exception inner) : base(message, inner) => Code = code;

    /// <summary>Creates an internal error.</summary>
    public TrackingException() : this(TrackingErrorCode.InternalError, "Internal error") { }

    /// <summary>Creates an internal error with a message.</summary>
    public TrackingException(string message) : this(TrackingErrorCode.InternalError, message) { }

    /// <summary>Creates an internal error with a message and cause.</summary>
    public TrackingException(string message, Exception innerException) : this(TrackingErrorCode.InternalError, message, innerException) { }

    /// <summary>The MLflow error code to report.</summary>
    public TrackingErrorCode Code { get; }

    /// <summary>Creates an <see cref="TrackingErrorCode.InvalidParameterValue"/> error.</summary>
    public static TrackingException Invalid(string message) => new(TrackingErrorCode.InvalidParameterValue, message);

    /// <summary>Creates a <see cref="TrackingErrorCode.ResourceDoesNotExist"/> error.</summary>
    public static TrackingException NotFound(string message) => new(TrackingErrorCode.ResourceDoesNotExist, message);

    /// <summary>Creates a <see cref="TrackingErrorCode.ResourceAlreadyExists"/> error.</summary>
    public static TrackingException AlreadyExists(string message) => new(TrackingErrorCode.ResourceAlreadyExists, message);
}
