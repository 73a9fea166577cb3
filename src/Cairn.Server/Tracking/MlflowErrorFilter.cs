using Cairn.Core.Tracking;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Cairn.Server.Tracking;

/// <summary>Turns failures of MLflow endpoints into MLflow's error JSON with MLflow's HTTP statuses.</summary>
internal sealed partial class MlflowErrorFilter(ILogger<MlflowErrorFilter> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (TrackingException e)
        {
            return MlflowHttp.Error(e);
        }
        catch (BadHttpRequestException e)
        {
            return MlflowHttp.Error(e.StatusCode, "INVALID_PARAMETER_VALUE", e.Message);
        }
        catch (OperationCanceledException) when (context.HttpContext.RequestAborted.IsCancellationRequested)
        {
            return Results.Empty;
        }
        catch (Exception e)
        {
            LogUnhandled(logger, context.HttpContext.Request.Path, e);
            return MlflowHttp.Error(StatusCodes.Status500InternalServerError, "INTERNAL_ERROR", "An internal error occurred. See the server log for details.");
        }
    }

    [LoggerMessage(EventId = 1000, Level = LogLevel.Error, Message = "Unhandled error in MLflow endpoint {Path}")]
    private static partial void LogUnhandled(ILogger logger, PathString path, Exception exception);
}
