using System.Text;
using Cairn.Core.Gateway;
using Microsoft.ML.Tokenizers;

namespace Cairn.Server.Gateway;

/// <summary>Counts tokens with the o200k tokenizer (GPT-4o's) when a provider reports no usage; the result is marked estimated.</summary>
internal static class TokenEstimator
{
    // Per-message overhead of OpenAI's chat format (role and separators), as in OpenAI's cookbook counting.
    private const int TokensPerMessage = 3;
    private const int ReplyPriming = 3;

    private static readonly Lazy<Tokenizer> s_tokenizer = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));

    /// <summary>Estimates the usage of a call from its request and response bodies (either may be truncated or absent).</summary>
    public static TokenUsage? Estimate(string? requestBody, string? responseBody, bool stream)
    {
        var prompt = ChatTranscript.FromRequest(requestBody);
        var answer = ChatTranscript.FromResponse(responseBody, stream);
        if (prompt.Count == 0 && answer.Count == 0)
        {
            return null;
        }

        var promptTokens = prompt.Count == 0 ? 0 : ReplyPriming + prompt.Sum(m => TokensPerMessage + Count(m));
        var completionTokens = answer.Sum(Count);
        return new TokenUsage(promptTokens, completionTokens, Estimated: true);
    }

    private static int Count(ChatMessage message)
    {
        var text = new StringBuilder(message.Text);
        foreach (var call in message.ToolCalls)
        {
            text.Append(call);
        }

        return text.Length == 0 ? 0 : s_tokenizer.Value.CountTokens(text.ToString());
    }
}
