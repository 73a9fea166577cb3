using Cairn.Core.Tracking;
using Npgsql;

namespace Cairn.Storage.Relational;

/// <summary>Parses backend store URIs into dialects.</summary>
internal static class BackendStore
{
    public static SqlDialect CreateDialect(string? backendStoreUri)
    {
        if (string.IsNullOrWhiteSpace(backendStoreUri))
        {
            throw new ArgumentException("A backend store URI is required (sqlite:///path.db or postgresql://user:password@host:port/db).", nameof(backendStoreUri));
        }

        if (backendStoreUri.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            return new SqliteDialect(ParseSqlitePath(backendStoreUri));
        }

        if (IsPostgresUri(backendStoreUri) || backendStoreUri.Contains("Host=", StringComparison.OrdinalIgnoreCase))
        {
            return new PostgresDialect(ToNpgsqlConnectionString(backendStoreUri));
        }

        throw new ArgumentException(
            $"Unsupported backend store URI '{Redact(backendStoreUri)}'. Use sqlite:///path.db or postgresql://user:password@host:port/db.",
            nameof(backendStoreUri));
    }

    /// <summary>Maps <c>sqlite:///rel/path.db</c> to <c>rel/path.db</c> and <c>sqlite:////abs/path.db</c> to <c>/abs/path.db</c> (SQLAlchemy's rule).</summary>
    public static string ParseSqlitePath(string uri)
    {
        const string Prefix = "sqlite:///";
        if (!uri.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"Invalid SQLite URI '{uri}': expected sqlite:///relative/path.db or sqlite:////absolute/path.db.", nameof(uri));
        }

        var path = uri[Prefix.Length..];
        var query = path.IndexOf('?', StringComparison.Ordinal);
        if (query >= 0)
        {
            path = path[..query];
        }

        if (path.Length == 0 || path == ":memory:")
        {
            throw new ArgumentException($"Invalid SQLite URI '{uri}': a database file path is required (in-memory databases are not supported).", nameof(uri));
        }

        return Path.GetFullPath(Uri.UnescapeDataString(path));
    }

    public static bool IsPostgresUri(string uri) =>
        uri.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase) ||
        uri.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) ||
        uri.StartsWith("postgresql+", StringComparison.OrdinalIgnoreCase);

    /// <summary>Converts <c>postgresql://user:pass@host:port/db?sslmode=require</c> (or an Npgsql connection string) to an Npgsql connection string.</summary>
    public static string ToNpgsqlConnectionString(string uriOrConnectionString)
    {
        if (!IsPostgresUri(uriOrConnectionString))
        {
            return new NpgsqlConnectionStringBuilder(uriOrConnectionString).ConnectionString;
        }

        var schemeEnd = uriOrConnectionString.IndexOf("://", StringComparison.Ordinal);
        var normalized = "postgresql" + uriOrConnectionString[schemeEnd..];
        if (!Uri.TryCreate(normalized, UriKind.Absolute, out var uri))
        {
            throw new ArgumentException($"Invalid PostgreSQL URI '{Redact(uriOrConnectionString)}'.", nameof(uriOrConnectionString));
        }

        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.IdnHost.Length > 0 ? uri.IdnHost : "localhost",
            Port = uri.Port > 0 ? uri.Port : 5432,
        };
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Uri.UnescapeDataString(colon >= 0 ? uri.UserInfo[..colon] : uri.UserInfo);
            if (colon >= 0)
            {
                builder.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            }
        }

        var database = Uri.UnescapeDataString(uri.AbsolutePath.Trim('/'));
        if (database.Length > 0)
        {
            builder.Database = database;
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(eq >= 0 ? pair[..eq] : pair);
            var value = eq >= 0 ? Uri.UnescapeDataString(pair[(eq + 1)..]) : string.Empty;
            try
            {
                builder[key switch
                {
                    "sslmode" => "SSL Mode",
                    "application_name" => "Application Name",
                    "connect_timeout" => "Timeout",
                    _ => key,
                }] = value;
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"Unsupported PostgreSQL URI option '{key}'.", nameof(uriOrConnectionString), e);
            }
        }

        return builder.ConnectionString;
    }

    /// <summary>Hides a password in a URI for error messages.</summary>
    public static string Redact(string uri)
    {
        var at = uri.IndexOf('@', StringComparison.Ordinal);
        var scheme = uri.IndexOf("://", StringComparison.Ordinal);
        if (at < 0 || scheme < 0 || at < scheme)
        {
            return uri.Contains("Password=", StringComparison.OrdinalIgnoreCase) ? "(connection string)" : uri;
        }

        var colon = uri.IndexOf(':', scheme + 3);
        return colon > 0 && colon < at ? uri[..(colon + 1)] + "***" + uri[at..] : uri;
    }

    /// <summary>Appends path segments to a URI the way MLflow's <c>append_to_uri_path</c> does for plain roots.</summary>
    public static string AppendPath(string root, params ReadOnlySpan<string> segments)
    {
        var result = root;
        foreach (var segment in segments)
        {
            result = result.EndsWith('/') ? result + segment : result + "/" + segment;
        }

        return result;
    }

    internal static TrackingException Unreachable(string what, Exception inner) =>
        new(TrackingErrorCode.InternalError, $"Could not open the {what} database: {inner.Message}", inner);
}
