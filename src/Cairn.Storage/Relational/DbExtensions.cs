using System.Data.Common;

namespace Cairn.Storage.Relational;

/// <summary>Small ADO.NET conveniences shared by both dialects.</summary>
internal static class DbExtensions
{
    /// <summary>Adds a named parameter; null becomes <see cref="DBNull"/>.</summary>
    public static DbParameter Add(this DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return parameter;
    }

    public static DbCommand Command(this DbConnection connection, string sql)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        return command;
    }

    public static string? GetNullableString(this DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static long? GetNullableInt64(this DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);

    /// <summary>Reads a boolean stored as BOOLEAN (PostgreSQL) or 0/1 (SQLite); both providers map it through GetBoolean.</summary>
    public static bool GetFlag(this DbDataReader reader, int ordinal) => reader.GetBoolean(ordinal);

    /// <summary>Reads a metric value; NaN is stored as 0 with a flag because not every database keeps NaN.</summary>
    public static double GetMetricValue(this DbDataReader reader, int valueOrdinal, int isNanOrdinal) =>
        reader.GetFlag(isNanOrdinal) ? double.NaN : reader.GetDouble(valueOrdinal);
}
