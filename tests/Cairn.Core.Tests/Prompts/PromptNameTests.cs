using Cairn.Contracts.Prompts;

namespace Cairn.Core.Tests.Prompts;

public sealed class PromptNameTests
{
    [Theory]
    [InlineData("triage")]
    [InlineData("support/triage")]
    [InlineData("a.b-c_d/e")]
    [InlineData("Team_1/sub.folder/v2-prompt")]
    [InlineData("..a/b..")]
    [InlineData("x")]
    public void TryValidate_Good_ReturnsTrue(string name)
    {
        Assert.True(PromptName.TryValidate(name, out var error));
        Assert.Null(error);
        PromptName.Validate(name);
    }

    [Fact]
    public void TryValidate_MaxLength_Accepted()
    {
        Assert.True(PromptName.TryValidate(new string('a', 256), out _));
    }

    [Theory]
    [InlineData(null, "The prompt name is empty.")]
    [InlineData("", "The prompt name is empty.")]
    [InlineData("/a", "The prompt name must not start with '/'.")]
    [InlineData("a/", "The prompt name must not end with '/'.")]
    [InlineData("/", "The prompt name must not start with '/'.")]
    [InlineData("a//b", "The prompt name has an empty folder name ('//').")]
    [InlineData("../x", "The prompt name must not contain '.' or '..' as a folder or name.")]
    [InlineData("a/../b", "The prompt name must not contain '.' or '..' as a folder or name.")]
    [InlineData("a/./b", "The prompt name must not contain '.' or '..' as a folder or name.")]
    [InlineData("..", "The prompt name must not contain '.' or '..' as a folder or name.")]
    [InlineData("a b", "The prompt name contains whitespace at index 1.")]
    [InlineData("a\tb", "The prompt name contains a control character (U+0009) at index 1.")]
    [InlineData("a\u0000", "The prompt name contains a control character (U+0000) at index 1.")]
    [InlineData("a\u00a0b", "The prompt name contains whitespace at index 1.")]
    [InlineData("a\\b", "The prompt name contains '\\' at index 1; allowed are letters, digits, '_', '-', '.' and '/' between folders.")]
    [InlineData("a:b", "The prompt name contains ':' at index 1;")]
    [InlineData("caf\u00e9", "The prompt name contains U+00E9 at index 3;")]
    public void TryValidate_Bad_ReturnsFalseWithReason(string? name, string expected)
    {
        Assert.False(PromptName.TryValidate(name, out var error));
        Assert.StartsWith(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryValidate_TooLong_SaysLength()
    {
        Assert.False(PromptName.TryValidate(new string('a', 257), out var error));
        Assert.Equal("The prompt name is 257 characters long; the limit is 256.", error);
    }

    [Fact]
    public void Validate_Bad_ThrowsArgumentException()
    {
        var error = Assert.Throws<ArgumentException>(() => PromptName.Validate("a//b"));

        Assert.Equal("name", error.ParamName);
        Assert.StartsWith("The prompt name has an empty folder name ('//').", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => PromptName.Validate(null!));
    }
}
