using System.Text;
using Cairn.Core.Tracking;
using Cairn.Storage.Relational;

namespace Cairn.Storage.Tests.Relational;

public sealed class PageTokenTests
{
    [Fact]
    public void Create_Offset_IsBase64OfMlflowJson() =>
        Assert.Equal("{\"offset\": 100}", Encoding.UTF8.GetString(Convert.FromBase64String(PageToken.Create(100))));

    [Theory]
    [InlineData(null, 0)]
    [InlineData("", 0)]
    [InlineData("eyJvZmZzZXQiOiAxMDB9", 100)]
    [InlineData("eyJvZmZzZXQiOiAiNyJ9", 7)]
    public void ParseOffset_ValidTokens_ReturnsOffset(string? token, long expected) =>
        Assert.Equal(expected, PageToken.ParseOffset(token));

    [Theory]
    [InlineData("!!")]
    [InlineData("bm90IGpzb24=")]
    [InlineData("eyJvdGhlciI6IDF9")]
    [InlineData("eyJvZmZzZXQiOiAtMX0=")]
    public void ParseOffset_InvalidTokens_ThrowsInvalid(string token) =>
        Assert.Equal(TrackingErrorCode.InvalidParameterValue, Assert.Throws<TrackingException>(() => PageToken.ParseOffset(token)).Code);
}

public sealed class PythonJsonTests
{
    [Fact]
    public void AppendModelVersion_NoExistingTag_WritesPythonStyleArray() =>
        Assert.Equal("[{\"name\": \"iris_lr_model\", \"version\": 1}]", PythonJson.AppendModelVersion(null, "iris_lr_model", 1));

    [Fact]
    public void AppendModelVersion_ExistingCompactJson_ReformatsAndAppends() =>
        Assert.Equal(
            "[{\"name\": \"a\", \"version\": 1, \"extra\": [true, null, 2.5]}, {\"name\": \"b\", \"version\": 3}]",
            PythonJson.AppendModelVersion("[{\"name\":\"a\",\"version\":1,\"extra\":[true,null,2.5]}]", "b", 3));

    [Fact]
    public void AppendModelVersion_NonAsciiAndQuotes_EscapesLikePython() =>
        Assert.Equal("[{\"name\": \"caf\\u00e9 \\\"x\\\"\", \"version\": 2}]", PythonJson.AppendModelVersion("not json", "café \"x\"", 2));
}

public sealed class SampleStepsTests
{
    [Fact]
    public void SampleSteps_FewerStepsThanMax_ReturnsAllInRange() =>
        Assert.Equal([2L, 3, 5], RelationalTrackingStore.SampleSteps(2, 5, 10, [0, 2, 3, 5, 8]).Order());

    [Fact]
    public void SampleSteps_ManySteps_TakesEvenlySpacedStepsAndTheLast() =>
        Assert.Equal([0L, 25, 50, 75, 99], RelationalTrackingStore.SampleSteps(0, 99, 4, [.. Enumerable.Range(0, 100).Select(i => (long)i)]).Order());
}
