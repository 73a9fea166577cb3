using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Cairn.Contracts.Mlflow;
using Cairn.Core.Tracking;
using Microsoft.AspNetCore.Http;

namespace Cairn.Server.Tracking;

/// <summary>Reads MLflow requests and writes MLflow responses and errors.</summary>
internal static class MlflowHttp
{
    public static MlflowJsonContext Json => MlflowJson.Context;

    public static async ValueTask<T> ReadAsync<T>(HttpContext context, JsonTypeInfo<T> typeInfo)
        where T : new()
    {
        var request = context.Request;
        if (request.ContentLength == 0)
        {
            return new T();
        }

        try
        {
            var value = await JsonSerializer.DeserializeAsync(request.Body, typeInfo, context.RequestAborted);
            return value ?? new T();
        }
        catch (JsonException e)
        {
            // An empty chunked body is an empty message, as in MLflow.
            if (e.BytePositionInLine == 0 && e.LineNumber == 0 && e.Message.Contains("does not contain any JSON tokens", StringComparison.Ordinal))
            {
                return new T();
            }

            throw TrackingException.Invalid($"Malformed JSON in request body: {e.Message}");
        }
    }

    public static IResult Ok<T>(T value, JsonTypeInfo<T> typeInfo) => TypedResults.Json(value, typeInfo);

    public static IResult Empty() => TypedResults.Json(new EmptyResponse(), Json.EmptyResponse);

    public static string Required(string? value, string name) =>
        string.IsNullOrEmpty(value)
            ? throw TrackingException.Invalid($"Missing value for required parameter '{name}'. See the API docs for more information about request parameters.")
            : value;

    public static T Required<T>(T? value, string name)
        where T : struct =>
        value ?? throw TrackingException.Invalid($"Missing value for required parameter '{name}'. See the API docs for more information about request parameters.");

    /// <summary>Protobuf's JSON treats an empty string as unset; so does Cairn for optional ids and tokens.</summary>
    public static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    public static string? Query(HttpContext context, string name)
    {
        var values = context.Request.Query[name];
        return values.Count == 0 ? null : values[0];
    }

    public static long? QueryLong(HttpContext context, string name)
    {
        var text = Query(context, name);
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw TrackingException.Invalid($"Invalid value '{text}' for parameter '{name}': expected an integer.");
    }

    public static int MaxResults(long? requested, int defaultValue, int limit, string name = "max_results")
    {
        if (requested is null)
        {
            return defaultValue;
        }

        if (requested <= 0 || requested > limit)
        {
            throw TrackingException.Invalid($"Invalid value {requested} for parameter '{name}' supplied. It must be at most {limit}, and greater than 0.");
        }

        return (int)requested.Value;
    }

    public static ViewType ParseViewType(string? text, string name) => text?.ToUpperInvariant() switch
    {
        null or "" or "ACTIVE_ONLY" or "1" => ViewType.ActiveOnly,
        "DELETED_ONLY" or "2" => ViewType.DeletedOnly,
        "ALL" or "3" => ViewType.All,
        _ => throw TrackingException.Invalid($"Invalid value '{text}' for parameter '{name}'. Expected one of ACTIVE_ONLY, DELETED_ONLY, ALL."),
    };

    public static int StatusCode(TrackingErrorCode code) => code switch
    {
        TrackingErrorCode.ResourceDoesNotExist => StatusCodes.Status404NotFound,
        TrackingErrorCode.InvalidParameterValue or TrackingErrorCode.ResourceAlreadyExists or TrackingErrorCode.MalformedRequest => StatusCodes.Status400BadRequest,
        _ => StatusCodes.Status500InternalServerError,
    };

    public static string ErrorCode(TrackingErrorCode code) => code switch
    {
        TrackingErrorCode.InvalidParameterValue => "INVALID_PARAMETER_VALUE",
        TrackingErrorCode.ResourceDoesNotExist => "RESOURCE_DOES_NOT_EXIST",
        TrackingErrorCode.ResourceAlreadyExists => "RESOURCE_ALREADY_EXISTS",
        TrackingErrorCode.InvalidState => "INVALID_STATE",
        TrackingErrorCode.MalformedRequest => "MALFORMED_REQUEST",
        _ => "INTERNAL_ERROR",
    };

    public static IResult Error(int status, string errorCode, string message) =>
        TypedResults.Json(new ErrorDto { ErrorCode = errorCode, Message = message }, Json.ErrorDto, statusCode: status);

    public static IResult Error(TrackingException exception) =>
        Error(StatusCode(exception.Code), ErrorCode(exception.Code), exception.Message);
}
