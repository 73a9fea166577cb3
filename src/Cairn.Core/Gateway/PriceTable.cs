using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Cairn.Core.Gateway;

/// <summary>Model prices by model name, from the data file shipped with Cairn (<c>prices.json</c>) plus overrides.</summary>
/// <remarks>Immutable and thread-safe.</remarks>
public sealed partial class PriceTable
{
    private readonly FrozenDictionary<string, ModelPrice> _prices;

    /// <summary>Creates a table from prices by model name.</summary>
    public PriceTable(IReadOnlyDictionary<string, ModelPrice> prices, string source, string date)
    {
        ArgumentNullException.ThrowIfNull(prices);
        _prices = prices.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        Source = source;
        Date = date;
    }

    /// <summary>The table shipped with Cairn.</summary>
    public static PriceTable Default { get; } = LoadDefault();

    /// <summary>Where the prices come from.</summary>
    public string Source { get; }

    /// <summary>The day the prices were taken.</summary>
    public string Date { get; }

    /// <summary>The known model names.</summary>
    public IEnumerable<string> Models => _prices.Keys;

    /// <summary>Reads a table in the format of <c>prices.json</c>.</summary>
    public static PriceTable Parse(Stream json)
    {
        var file = JsonSerializer.Deserialize(json, PriceJsonContext.Default.PriceFile)
            ?? throw new InvalidDataException("The price table is empty.");
        return new PriceTable(file.Models ?? [], file.Source ?? "", file.Date ?? "");
    }

    /// <summary>
    /// Finds the price of <paramref name="model"/>: the exact name, then without a <c>provider/</c> prefix, then without a
    /// date or version suffix (<c>claude-sonnet-4-5-20250929</c>, <c>gpt-4o-2024-08-06</c>, <c>gemini-2.5-flash-001</c>).
    /// </summary>
    public ModelPrice? Find(string? model)
    {
        if (string.IsNullOrWhiteSpace(model))
        {
            return null;
        }

        if (_prices.TryGetValue(model, out var price))
        {
            return price;
        }

        var slash = model.LastIndexOf('/');
        if (slash >= 0 && slash < model.Length - 1)
        {
            return Find(model[(slash + 1)..]);
        }

        var stripped = VersionSuffix().Replace(model, "");
        return stripped.Length < model.Length && _prices.TryGetValue(stripped, out price) ? price : null;
    }

    /// <summary>A table with <paramref name="overrides"/> replacing or adding prices.</summary>
    public PriceTable With(IReadOnlyDictionary<string, ModelPrice> overrides)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        if (overrides.Count == 0)
        {
            return this;
        }

        var merged = new Dictionary<string, ModelPrice>(_prices, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, price) in overrides)
        {
            merged[name] = price;
        }

        return new PriceTable(merged, Source + " (with overrides)", Date);
    }

    private static PriceTable LoadDefault()
    {
        using var stream = typeof(PriceTable).Assembly.GetManifestResourceStream("Cairn.Core.Gateway.prices.json")
            ?? throw new InvalidOperationException("The price table resource is missing from Cairn.Core.");
        return Parse(stream);
    }

    // -20250929, -2024-08-06, -001, -latest, -preview
    [GeneratedRegex(@"(-\d{8}|-\d{4}-\d{2}-\d{2}|-\d{3}|-latest|-preview(-\d{2}-\d{4})?)$", RegexOptions.CultureInvariant)]
    private static partial Regex VersionSuffix();

    internal sealed class PriceFile
    {
        [JsonPropertyName("source")]
        public string? Source { get; set; }

        [JsonPropertyName("date")]
        public string? Date { get; set; }

        [JsonPropertyName("models")]
        public Dictionary<string, ModelPrice>? Models { get; set; }
    }
}

[JsonSerializable(typeof(PriceTable.PriceFile))]
internal sealed partial class PriceJsonContext : JsonSerializerContext;
