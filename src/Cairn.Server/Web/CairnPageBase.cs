using Cairn.Core.Tracking;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Cairn.Server.Web;

/// <summary>Whether a page loaded, found nothing, or failed.</summary>
public enum PageState
{
    /// <summary>The page is still loading; nothing of its content is rendered yet.</summary>
    /// <remarks>
    /// Blazor renders a component once before an awaited <c>OnInitializedAsync</c> completes. With a truly asynchronous store
    /// (PostgreSQL) the page's fields are still empty then, so content must wait for this state to end.
    /// </remarks>
    Loading,

    /// <summary>The page loaded.</summary>
    Ok,

    /// <summary>The requested resource does not exist (HTTP 404).</summary>
    NotFound,

    /// <summary>Loading failed unexpectedly (HTTP 500).</summary>
    Error,
}

/// <summary>The base of the UI's pages: loads data once and maps missing resources to 404 and failures to 500.</summary>
public abstract partial class CairnPageBase : ComponentBase
{
    /// <summary>The <see cref="HttpContext.Items"/> key under which the not-found message is passed to the not-found page.</summary>
    public const string NotFoundMessageKey = "Cairn.NotFoundMessage";

    /// <summary>The current request (always present under static server rendering).</summary>
    [CascadingParameter]
    public HttpContext? HttpContext { get; set; }

    /// <summary>The logger for unexpected failures.</summary>
    [Inject]
    public ILogger<CairnPageBase> Logger { get; set; } = default!;

    /// <summary>The navigation manager, whose <c>NotFound</c> renders <see cref="Pages.NotFoundPage"/> with HTTP 404.</summary>
    [Inject]
    public NavigationManager Navigation { get; set; } = default!;

    /// <summary>Whether the page loaded.</summary>
    protected PageState State { get; private set; } = PageState.Loading;

    /// <summary>The not-found message.</summary>
    protected string? NotFoundMessage { get; private set; }

    /// <summary>The request's cancellation token.</summary>
    protected CancellationToken Aborted => HttpContext?.RequestAborted ?? CancellationToken.None;

    /// <summary>Runs <paramref name="load"/>, turning a missing resource into the not-found view and any other failure into the error view.</summary>
    protected async Task LoadAsync(Func<CancellationToken, Task> load)
    {
        ArgumentNullException.ThrowIfNull(load);
        try
        {
            await load(Aborted);
            State = PageState.Ok;
        }
        catch (TrackingException e) when (e.Code == TrackingErrorCode.ResourceDoesNotExist)
        {
            NotFound(e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.PageFailed(Logger, HttpContext?.Request.Path.Value ?? "", e);
            State = PageState.Error;
            SetStatus(StatusCodes.Status500InternalServerError);
        }
    }

    /// <summary>The message of a form action that the store refused (shown beside the form), or null.</summary>
    protected string? ActionError { get; private set; }

    /// <summary>The form whose action failed, so the page can show <see cref="ActionError"/> next to it.</summary>
    protected string? FailedForm { get; private set; }

    /// <summary>
    /// Runs a form's action and redirects to <paramref name="redirectTo"/> (post/redirect/get, so a reload never repeats it);
    /// a refused action (invalid name, duplicate, missing resource) stays on the page with its message and HTTP 400 or 404.
    /// </summary>
    protected async Task SubmitAsync(string form, Func<CancellationToken, Task> action, Func<string> redirectTo)
    {
        ArgumentNullException.ThrowIfNull(action);
        ArgumentNullException.ThrowIfNull(redirectTo);
        if (State != PageState.Ok)
        {
            return;
        }

        try
        {
            await action(Aborted);
        }
        catch (TrackingException e)
        {
            FailedForm = form;
            ActionError = e.Message;
            SetStatus(e.Code == TrackingErrorCode.ResourceDoesNotExist ? StatusCodes.Status404NotFound : StatusCodes.Status400BadRequest);
            return;
        }

        // Under static rendering this ends the response with a redirect.
        Navigation.NavigateTo(redirectTo());
    }

    /// <summary>Shows the not-found view with HTTP 404.</summary>
    protected void NotFound(string message)
    {
        State = PageState.NotFound;
        NotFoundMessage = message;
        if (HttpContext is not null)
        {
            HttpContext.Items[NotFoundMessageKey] = message;
        }

        // Blazor's static rendering sends an empty body for a 404 set by hand; NotFound() renders the router's not-found page instead.
        Navigation.NotFound();
    }

    /// <summary>Sets the response's status code (for a page that renders with an error, such as a bad query).</summary>
    protected void SetStatus(int status)
    {
        if (HttpContext is { Response.HasStarted: false })
        {
            HttpContext.Response.StatusCode = status;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4000, Level = LogLevel.Error, Message = "Unhandled error rendering UI page {Path}")]
        public static partial void PageFailed(ILogger logger, string path, Exception exception);
    }
}
