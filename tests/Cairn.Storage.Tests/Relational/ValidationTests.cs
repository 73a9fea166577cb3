using Cairn.Core.Tracking;

namespace Cairn.Storage.Tests.Relational;

/// <summary>Covers <see cref="Validation"/> in Cairn.Core, which this project introduced alongside the stores that enforce it.</summary>
public sealed class ValidationTests
{
    [Theory]
    [InlineData("loss")]
    [InlineData("train/loss")]
    [InlineData("a.b-c d_e")]
    [InlineData("ünïcode")]
    public void IsValidKey_AllowedNames_ReturnsTrue(string key) => Assert.True(Validation.IsValidKey(key));

    [Theory]
    [InlineData("")]
    [InlineData("a$b")]
    [InlineData("a//b")]
    [InlineData("./a")]
    [InlineData("../a")]
    [InlineData("/a")]
    [InlineData("a/")]
    [InlineData("a\n")]
    [InlineData("..a")]
    [InlineData("a/./b")]
    public void IsValidKey_RejectedNames_ReturnsFalse(string key) => Assert.False(Validation.IsValidKey(key));

    [Fact]
    public void ValidateMetric_BadCharacters_UsesMlflowMessage()
    {
        var e = Assert.Throws<TrackingException>(() => Validation.ValidateMetric(new Metric("a$b", 1, 0, 0)));

        Assert.Equal(
            "Invalid metric name: 'a$b'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/).",
            e.Message);
    }

    [Fact]
    public void ValidateParam_PathLikeKey_ExplainsResolution()
    {
        var e = Assert.Throws<TrackingException>(() => Validation.ValidateParam(new KeyValue("a/../b", "v")));

        Assert.EndsWith("This name would resolve to 'b'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateMetric_NaNAndInfinity_AreAllowed()
    {
        Validation.ValidateMetric(new Metric("m", double.NaN, 0, 0));
        Validation.ValidateMetric(new Metric("m", double.NegativeInfinity, 0, -5));
    }

    [Fact]
    public void ValidateExperimentName_TooLong_Throws() =>
        Assert.Throws<TrackingException>(() => Validation.ValidateExperimentName(new string('x', 501)));

    [Fact]
    public void ValidateRunId_BadShape_Throws()
    {
        Validation.ValidateRunId("0123456789abcdef0123456789abcdef");
        Assert.Equal("Invalid run ID: '../x'", Assert.Throws<TrackingException>(() => Validation.ValidateRunId("../x")).Message);
    }

    [Fact]
    public void ValidateLoggedModelName_ForbiddenCharacter_Throws()
    {
        Validation.ValidateLoggedModelName(null);
        Validation.ValidateLoggedModelName("model_1");
        Assert.Throws<TrackingException>(() => Validation.ValidateLoggedModelName("a.b"));
    }
}
