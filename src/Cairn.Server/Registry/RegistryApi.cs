using Cairn.Contracts.Mlflow;
using Cairn.Core.Registry;
using Cairn.Core.Tracking;
using Cairn.Core.Tracking.Search;
using Cairn.Server.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using static Cairn.Server.Tracking.MlflowHttp;

namespace Cairn.Server.Registry;

/// <summary>MLflow's model registry REST API (<c>registered-models/...</c> and <c>model-versions/...</c>).</summary>
internal static class RegistryApi
{
    private const int RegisteredModelsMaxResults = 1000;
    private const int ModelVersionsMaxResults = 200_000;

    /// <summary>Maps the registry endpoints onto an MLflow API group (<c>/api/2.0/mlflow</c> or <c>/ajax-api/2.0/mlflow</c>).</summary>
    public static void MapRegistryApi(this RouteGroupBuilder api)
    {
        var models = api.MapGroup("/registered-models");
        models.MapPost("/create", CreateRegisteredModelAsync);
        models.MapGet("/get", static async (HttpContext context, IModelRegistryStore store) =>
            Model(await store.GetRegisteredModelAsync(Required(Query(context, "name"), "name"), context.RequestAborted)));
        models.MapPost("/rename", static async (HttpContext context, IModelRegistryStore store) =>
        {
            var request = await ReadAsync(context, Json.RenameRegisteredModelRequest);
            return Model(await store.RenameRegisteredModelAsync(Required(request.Name, "name"), Required(request.NewName, "new_name"), context.RequestAborted));
        });
        models.MapPatch("/update", static async (HttpContext context, IModelRegistryStore store) =>
        {
            var request = await ReadAsync(context, Json.RegisteredModelNameRequest);
            return Model(await store.UpdateRegisteredModelAsync(Required(request.Name, "name"), request.Description, context.RequestAborted));
        });
        models.MapDelete("/delete", static async (HttpContext context, IModelRegistryStore store) =>
        {
            var request = await ReadAsync(context, Json.RegisteredModelNameRequest);
            await store.DeleteRegisteredModelAsync(Required(request.Name ?? Query(context, "name"), "name"), context.RequestAborted);
            return Empty();
        });
        models.MapGet("/search", SearchRegisteredModelsAsync);
        models.MapPost("/get-latest-versions", static async (HttpContext context, IModelRegistryStore store) =>
        {
            var request = await ReadAsync(context, Json.GetLatestVersionsRequest);
            return await LatestVersionsAsync(context, store, request.Name, request.Stages);
        });
        models.MapGet("/get-latest-versions", static (HttpContext context, IModelRegistryStore store) =>
            LatestVersionsAsync(context, store, Query(context, "name"), [.. context.Request.Query["stages"].OfType<string>()]));
        models.MapPost("/set-tag", static async (HttpContext context, IModelRegistryStore store) =>
        {
            var request = await ReadAsync(context, Json.RegistryTagRequest);
            await store.SetRegisteredModelTagAsync(Required(request.Name, "name"), new KeyValue(Required(request.Key, "key"), request.Value ?? string.Empty), context.RequestAborted);
            return Empty();
        });
        models.MapDelete("/delete-tag", static async (HttpContext context, IModelRegistryStore store) =>
        {
            var request = await ReadOrQueryAsync(context, Json.RegistryTagRequest);
            await store.DeleteRegisteredModelTagAsync(Required(request.Name, "name"), Required(request.Key, "key"), context.RequestAborted);
            return Empty();
        });
        models.MapPost("/alias", static async (HttpContext context, IModelRegistryStore store) =>
        {
            var request = await ReadAsync(context, Json.AliasRequest);
            await store.SetAliasAsync(Required(request.Name, "name"), Required(request.Alias, "alias"), Required(request.Version, "version"), context.RequestAborted);
            return Empty();
        });
        models.MapDelete("/alias", static async (HttpContext context, IModelRegistryStore store) =>
        {
            var request = await ReadOrQueryAsync(context, Json.AliasRequest);
            await store.DeleteAliasAsync(Required(request.Name, "name"), Required(request.Alias, "alias"), context.RequestAborted);
            return Empty();
        });
        models.MapGet("/alias", static async (HttpContext context, IModelRegistryStore store) =>
            Version(await store.GetModelVersionByAliasAsync(Required(Query(context, "name"), "name"), Required(Query(context, "alias"), "alias"), context.RequestAborted)));

        var versions = api.MapGroup("/model-versions");
        versions.MapPost("/create", CreateModelVersionAsync);
        versions.MapGet("/get", static async (HttpContext context, IModelRegistryStore store) =>
            Version(await store.GetModelVersionAsync(Required(Query(context, "name"), "name"), Required(Query(context, "version"), "version"), context.RequestAborted)));
        versions.MapPatch("/update", static async (HttpContext context, IModelRegistryStore store) =>
        {
            var request = await ReadAsync(context, Json.ModelVersionRequest);
            return Version(await store.UpdateModelVersionAsync(Required(request.Name, "name"), Required(request.Version, "version"), request.Description, context.RequestAborted));
        });
        versions.MapDelete("/delete", static async (HttpContext context, IModelRegistryStore store) =>
        {
            var request = await ReadOrQueryAsync(context, Json.ModelVersionRequest);
            await store.DeleteModelVersionAsync(Required(request.Name, "name"), Required(request.Version, "version"), context.RequestAborted);
            return Empty();
        });
        versions.MapGet("/search", SearchModelVersionsAsync);
        versions.MapPost("/transition-stage", static async (HttpContext context, IModelRegistryStore store) =>
        {
            var request = await ReadAsync(context, Json.ModelVersionRequest);
            return Version(await store.TransitionModelVersionStageAsync(
                Required(request.Name, "name"), Required(request.Version, "version"), Required(request.Stage, "stage"), request.ArchiveExistingVersions ?? false, context.RequestAborted));
        });
        versions.MapPost("/set-tag", static async (HttpContext context, IModelRegistryStore store) =>
        {
            var request = await ReadAsync(context, Json.RegistryTagRequest);
            await store.SetModelVersionTagAsync(
                Required(request.Name, "name"), Required(request.Version, "version"), new KeyValue(Required(request.Key, "key"), request.Value ?? string.Empty), context.RequestAborted);
            return Empty();
        });
        versions.MapDelete("/delete-tag", static async (HttpContext context, IModelRegistryStore store) =>
        {
            var request = await ReadOrQueryAsync(context, Json.RegistryTagRequest);
            await store.DeleteModelVersionTagAsync(Required(request.Name, "name"), Required(request.Version, "version"), Required(request.Key, "key"), context.RequestAborted);
            return Empty();
        });
        versions.MapGet("/get-download-uri", GetModelVersionDownloadUriAsync);
    }

    private static IResult Model(RegisteredModel model) =>
        Ok(new RegisteredModelResponse { RegisteredModel = MlflowMapper.ToDto(model) }, Json.RegisteredModelResponse);

    private static IResult Version(ModelVersion version) =>
        Ok(new ModelVersionResponse { ModelVersion = MlflowMapper.ToDto(version) }, Json.ModelVersionResponse);

    /// <summary>Reads a DELETE request's fields from its JSON body (as MLflow's client sends them) or, when it has none, from the query string.</summary>
    private static async ValueTask<T> ReadOrQueryAsync<T>(HttpContext context, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
        where T : new()
    {
        if (context.Request.ContentLength is null or 0 && context.Request.Query.Count > 0)
        {
            // Query-string form: map snake_case parameters onto the message by serialising them as a JSON object.
            var json = new System.Text.Json.Nodes.JsonObject();
            foreach (var (key, value) in context.Request.Query)
            {
                json[key] = value.ToString();
            }

            return System.Text.Json.JsonSerializer.Deserialize(json.ToJsonString(), typeInfo) ?? new T();
        }

        return await ReadAsync(context, typeInfo);
    }

    private static async Task<IResult> CreateRegisteredModelAsync(HttpContext context, IModelRegistryStore store)
    {
        var request = await ReadAsync(context, Json.CreateRegisteredModelRequest);
        return Model(await store.CreateRegisteredModelAsync(Required(request.Name, "name"), request.Description, MlflowMapper.FromDto(request.Tags, "tags"), context.RequestAborted));
    }

    private static async Task<IResult> CreateModelVersionAsync(HttpContext context, IModelRegistryStore store)
    {
        var request = await ReadAsync(context, Json.CreateModelVersionRequest);
        var version = await store.CreateModelVersionAsync(
            new NewModelVersion(
                Required(request.Name, "name"),
                Required(request.Source, "source"),
                NullIfEmpty(request.RunId),
                NullIfEmpty(request.ModelId),
                request.Description,
                request.RunLink ?? string.Empty,
                MlflowMapper.FromDto(request.Tags, "tags")),
            context.RequestAborted);
        return Version(version);
    }

    private static async Task<IResult> SearchRegisteredModelsAsync(HttpContext context, IModelRegistryStore store)
    {
        var query = new RegistryQuery(
            SearchParser.ParseRegisteredModelFilter(Query(context, "filter")),
            SearchParser.ParseRegisteredModelOrderBy([.. context.Request.Query["order_by"].OfType<string>()]),
            MaxResults(QueryLong(context, "max_results"), 100, RegisteredModelsMaxResults),
            NullIfEmpty(Query(context, "page_token")));
        var page = await store.SearchRegisteredModelsAsync(query, context.RequestAborted);
        return Ok(
            new SearchRegisteredModelsResponse
            {
                RegisteredModels = page.Items.Count == 0 ? null : page.Items.Select(MlflowMapper.ToDto).ToList(),
                NextPageToken = page.NextPageToken,
            },
            Json.SearchRegisteredModelsResponse);
    }

    private static async Task<IResult> SearchModelVersionsAsync(HttpContext context, IModelRegistryStore store)
    {
        var query = new RegistryQuery(
            SearchParser.ParseModelVersionFilter(Query(context, "filter")),
            SearchParser.ParseModelVersionOrderBy([.. context.Request.Query["order_by"].OfType<string>()]),
            MaxResults(QueryLong(context, "max_results"), 10_000, ModelVersionsMaxResults),
            NullIfEmpty(Query(context, "page_token")));
        var page = await store.SearchModelVersionsAsync(query, context.RequestAborted);
        return Ok(
            new ModelVersionsResponse
            {
                ModelVersions = page.Items.Count == 0 ? null : page.Items.Select(MlflowMapper.ToDto).ToList(),
                NextPageToken = page.NextPageToken,
            },
            Json.ModelVersionsResponse);
    }

    private static async Task<IResult> LatestVersionsAsync(HttpContext context, IModelRegistryStore store, string? name, List<string>? stages)
    {
        var versions = await store.GetLatestVersionsAsync(Required(name, "name"), stages ?? [], context.RequestAborted);
        return Ok(new ModelVersionsResponse { ModelVersions = versions.Count == 0 ? null : versions.Select(MlflowMapper.ToDto).ToList() }, Json.ModelVersionsResponse);
    }

    private static async Task<IResult> GetModelVersionDownloadUriAsync(HttpContext context, IModelRegistryStore store, ILoggedModelStore models, IRunStore runs)
    {
        var version = await store.GetModelVersionAsync(Required(Query(context, "name"), "name"), Required(Query(context, "version"), "version"), context.RequestAborted);
        var uri = await ResolveSourceUriAsync(version.Source, models, runs, context.RequestAborted);
        return Ok(new GetDownloadUriResponse { ArtifactUri = uri }, Json.GetDownloadUriResponse);
    }

    /// <summary>Resolves a model version source (<c>models:/m-…</c>, <c>runs:/run/path</c> or a plain URI) to an artifact URI.</summary>
    internal static async Task<string> ResolveSourceUriAsync(string source, ILoggedModelStore models, IRunStore runs, CancellationToken cancellationToken)
    {
        if (source.StartsWith("models:/m-", StringComparison.Ordinal))
        {
            var model = await models.GetLoggedModelAsync(source["models:/".Length..].TrimEnd('/'), cancellationToken);
            return model.ArtifactUri;
        }

        if (source.StartsWith("runs:/", StringComparison.Ordinal))
        {
            var rest = source["runs:/".Length..];
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            var runId = slash < 0 ? rest : rest[..slash];
            var path = slash < 0 ? string.Empty : rest[(slash + 1)..].Trim('/');
            var run = await runs.GetRunAsync(runId, cancellationToken);
            return path.Length == 0 ? run.Info.ArtifactUri : run.Info.ArtifactUri + "/" + path;
        }

        return source;
    }
}
