using Cairn.Core.Prompts;

namespace Cairn.Core.Tests.Prompts;

public sealed class PromptDiffTests
{
    [Fact]
    public void Lines_ChangedLine_RemovedThenAdded()
    {
        var diff = PromptDiff.Lines("You are helpful.\nAnswer {{question}}.\nBe brief.", "You are helpful.\nAnswer {{ question }} politely.\nBe brief.");

        Assert.Equal(
            [('=', "You are helpful."), ('-', "Answer {{question}}."), ('+', "Answer {{ question }} politely."), ('=', "Be brief.")],
            diff);
    }

    [Fact]
    public void Lines_Same_AllUnchanged()
    {
        Assert.Equal([('=', "a"), ('=', "b")], PromptDiff.Lines("a\nb", "a\nb"));
    }

    [Fact]
    public void Lines_AddedAndRemovedLines()
    {
        Assert.Equal([('-', "a"), ('=', "b"), ('+', "c")], PromptDiff.Lines("a\nb", "b\nc"));
    }

    [Fact]
    public void Lines_WhitespaceAndCase_Significant()
    {
        Assert.Equal([('-', "a b"), ('+', "a  B")], PromptDiff.Lines("a b", "a  B"));
    }

    [Fact]
    public void Lines_FromEmpty_AllAdded()
    {
        Assert.Equal([('+', "x"), ('+', "y")], PromptDiff.Lines("", "x\ny"));
    }

    [Fact]
    public void Lines_CrLf_SameAsLf()
    {
        Assert.Equal([('=', "a"), ('-', "b"), ('+', "c")], PromptDiff.Lines("a\r\nb", "a\nc"));
    }

    [Fact]
    public void Lines_Null_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => PromptDiff.Lines(null!, ""));
        Assert.Throws<ArgumentNullException>(() => PromptDiff.Lines("", null!));
    }
}
