using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Primitives;

namespace Cairn.Server;

/// <summary>What Cairn's own REST endpoints share: RFC 9457 problem details and query-string reading.</summary>
internal static class ApiResults
{
    /// <summary>A problem details answer.</summary>
    public static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(detail, statusCode: status, title: title);

    /// <summary>The first value of a query parameter, trimmed; null when absent or blank.</summary>
    public static string? QueryText(StringValues value) =>
        value.Count == 0 || string.IsNullOrWhiteSpace(value[0]) ? null : value[0]!.Trim();
}
