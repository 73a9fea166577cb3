using Cairn.Server.Gateway;
using Cairn.Server.Observability;
using Cairn.Server.Prompts;
using Cairn.Server.Serving;
using Cairn.Server.Tracking;
using Cairn.Server.Web;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps Cairn's endpoints.</summary>
public static class CairnEndpointRouteBuilderExtensions
{
    /// <summary>Maps the health check, the MLflow tracking and registry API, the MLflow artifact service, model serving and the web UI.</summary>
    public static IEndpointRouteBuilder MapCairn(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/health", static () => TypedResults.Text("OK")).WithName("Health");
        endpoints.MapGet("/version", static () => TypedResults.Text(typeof(CairnEndpointRouteBuilderExtensions).Assembly.GetName().Version?.ToString() ?? "0.0.0"));
        endpoints.MapMlflowApi();
        endpoints.MapMlflowArtifacts();
        endpoints.MapServing();
        endpoints.MapGateway();
        endpoints.MapGatewayKeys();
        endpoints.MapGatewayConfig();
        endpoints.MapTraceIngest();
        endpoints.MapTracesApi();
        endpoints.MapPromptsApi();
        endpoints.MapPlaygroundApi();
        endpoints.MapRazorComponents<App>();
        return endpoints;
    }
}
