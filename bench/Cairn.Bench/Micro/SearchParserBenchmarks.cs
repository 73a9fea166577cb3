using BenchmarkDotNet.Attributes;
using Cairn.Core.Tracking.Search;

namespace Cairn.Bench.Micro;

/// <summary>Parsing cost of a typical <c>runs/search</c> request's filter and order-by (paid once per request).</summary>
[MemoryDiagnoser]
public class SearchParserBenchmarks
{
    private const string Filter = "metrics.accuracy > 0.5 and params.solver = 'lbfgs'";
    private static readonly string[] s_orderBy = ["metrics.accuracy DESC"];

    [Benchmark]
    public SearchFilter ParseRunFilter() => SearchParser.ParseRunFilter(Filter);

    [Benchmark]
    public IReadOnlyList<OrderBy> ParseRunOrderBy() => SearchParser.ParseRunOrderBy(s_orderBy);
}
