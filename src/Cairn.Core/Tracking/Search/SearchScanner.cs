using System.Globalization;
using System.Text;

namespace Cairn.Core.Tracking.Search;

/// <summary>The kinds of token of MLflow's search grammar.</summary>
internal enum SearchTokenKind
{
    /// <summary>The end of the input.</summary>
    End,

    /// <summary>An unquoted word: an identifier such as <c>metrics.val.loss</c>, a prefix such as <c>tags.</c>, or a keyword.</summary>
    Word,

    /// <summary>A string quoted with <c>'</c>, <c>"</c> or <c>`</c>; <see cref="SearchToken.Text"/> holds it unquoted and unescaped.</summary>
    Quoted,

    /// <summary>A number such as <c>-1.5e3</c>; <see cref="SearchToken.Number"/> holds its value.</summary>
    Number,

    /// <summary>A run of comparison characters (<c>= ! &lt; &gt;</c>), such as <c>&lt;=</c>, valid or not.</summary>
    Operator,

    /// <summary><c>(</c></summary>
    OpenParen,

    /// <summary><c>)</c></summary>
    CloseParen,

    /// <summary><c>,</c></summary>
    Comma,

    /// <summary>Any other character.</summary>
    Other,
}

/// <summary>One token: its kind, its span [<see cref="Start"/>, <see cref="End"/>) in the source, and its decoded value.</summary>
internal readonly record struct SearchToken(SearchTokenKind Kind, int Start, int End, char Quote = '\0', string? Text = null, double Number = 0);

/// <summary>Splits a filter or order-by clause into tokens on demand, with one token of look-ahead.</summary>
/// <remarks>
/// Whitespace separates tokens and is otherwise ignored; callers that care about adjacency (a prefix such as
/// <c>metrics.</c> directly followed by a quoted key) compare <see cref="SearchToken.End"/> and <see cref="SearchToken.Start"/>.
/// Every error is a <see cref="TrackingException"/> with <see cref="TrackingErrorCode.InvalidParameterValue"/> whose message
/// quotes the whole input and ends with the 0-based position of the problem.
/// </remarks>
internal sealed class SearchScanner
{
    private const int MaxSnippetLength = 40;

    private readonly string _source;
    private readonly string _subject;
    private int _position;
    private SearchToken? _peeked;

    /// <summary>Creates a scanner over <paramref name="source"/>; <paramref name="subject"/> names it in error messages (<c>filter</c>, <c>order_by clause</c>).</summary>
    public SearchScanner(string source, string subject)
    {
        _source = source;
        _subject = subject;
    }

    /// <summary>The next token, without consuming it.</summary>
    public SearchToken Peek() => _peeked ??= Scan();

    /// <summary>The next token, consumed.</summary>
    public SearchToken Next()
    {
        var token = Peek();
        _peeked = null;
        return token;
    }

    /// <summary>The source text of a token.</summary>
    public ReadOnlySpan<char> Slice(in SearchToken token) => _source.AsSpan(token.Start, token.End - token.Start);

    /// <summary>Whether a token is the given keyword (case-insensitive).</summary>
    public bool IsKeyword(in SearchToken token, string keyword) =>
        token.Kind == SearchTokenKind.Word && Slice(token).Equals(keyword, StringComparison.OrdinalIgnoreCase);

    /// <summary>A token as error messages show it: quoted source text, <c>the string 'x'</c>, or <c>the end of the input</c>.</summary>
    public string Describe(in SearchToken token)
    {
        if (token.Kind == SearchTokenKind.End)
        {
            return "the end of the input";
        }

        var text = Slice(token);
        var snippet = text.Length <= MaxSnippetLength ? text.ToString() : $"{text[..MaxSnippetLength]}...";
        return token.Kind != SearchTokenKind.Quoted ? $"'{snippet}'"
            : token.Quote == '`' ? $"the quoted identifier {snippet}"
            : $"the string {snippet}";
    }

    /// <summary>An error naming the problem and its position in the input.</summary>
    public TrackingException Error(string problem, int position) =>
        TrackingException.Invalid(string.Create(CultureInfo.InvariantCulture, $"Invalid {_subject} '{_source}': {problem} at position {position}"));

    private SearchToken Scan()
    {
        var source = _source;
        var i = _position;
        while (i < source.Length && char.IsWhiteSpace(source[i]))
        {
            i++;
        }

        SearchToken token;
        if (i >= source.Length)
        {
            token = new SearchToken(SearchTokenKind.End, source.Length, source.Length);
        }
        else
        {
            var c = source[i];
            if (IsWordStart(c))
            {
                var end = i + 1;
                while (end < source.Length && IsWordPart(source[end]))
                {
                    end++;
                }

                token = new SearchToken(SearchTokenKind.Word, i, end);
            }
            else if (c is '\'' or '"' or '`')
            {
                token = ScanQuoted(i);
            }
            else if (IsNumberStart(source, i))
            {
                token = ScanNumber(i);
            }
            else if (IsOperatorChar(c))
            {
                var end = i + 1;
                while (end < source.Length && IsOperatorChar(source[end]))
                {
                    end++;
                }

                token = new SearchToken(SearchTokenKind.Operator, i, end);
            }
            else
            {
                var kind = c switch
                {
                    '(' => SearchTokenKind.OpenParen,
                    ')' => SearchTokenKind.CloseParen,
                    ',' => SearchTokenKind.Comma,
                    _ => SearchTokenKind.Other,
                };
                var length = char.IsHighSurrogate(c) && i + 1 < source.Length && char.IsLowSurrogate(source[i + 1]) ? 2 : 1;
                token = new SearchToken(kind, i, i + length);
            }
        }

        _position = token.End;
        return token;
    }

    /// <summary>Reads a quoted string; the quote is escaped by doubling it or with a backslash, and <c>\\</c> is one backslash.</summary>
    /// <remarks>Any other backslash is kept as is, so LIKE patterns and Windows paths such as <c>'C:\temp'</c> survive.</remarks>
    private SearchToken ScanQuoted(int start)
    {
        var source = _source;
        var quote = source[start];
        var i = start + 1;
        var segmentStart = i;
        StringBuilder? builder = null;
        while (i < source.Length)
        {
            var c = source[i];
            if (c == '\\' && i + 1 < source.Length && (source[i + 1] == quote || source[i + 1] == '\\'))
            {
                builder ??= new StringBuilder();
                builder.Append(source, segmentStart, i - segmentStart).Append(source[i + 1]);
                i += 2;
                segmentStart = i;
            }
            else if (c == quote && i + 1 < source.Length && source[i + 1] == quote)
            {
                builder ??= new StringBuilder();
                builder.Append(source, segmentStart, i + 1 - segmentStart);
                i += 2;
                segmentStart = i;
            }
            else if (c == quote)
            {
                var text = builder is null
                    ? source.Substring(segmentStart, i - segmentStart)
                    : builder.Append(source, segmentStart, i - segmentStart).ToString();
                return new SearchToken(SearchTokenKind.Quoted, start, i + 1, quote, text);
            }
            else
            {
                i++;
            }
        }

        throw Error(quote == '`' ? "unterminated quoted identifier" : "unterminated string literal", start);
    }

    /// <summary>Reads <c>[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?</c>.</summary>
    private SearchToken ScanNumber(int start)
    {
        var source = _source;
        var i = start;
        if (source[i] is '+' or '-')
        {
            i++;
        }

        i = SkipDigits(source, i);
        if (i < source.Length && source[i] == '.')
        {
            i = SkipDigits(source, i + 1);
        }

        if (i < source.Length && source[i] is 'e' or 'E')
        {
            var j = i + 1;
            if (j < source.Length && source[j] is '+' or '-')
            {
                j++;
            }

            if (j < source.Length && char.IsAsciiDigit(source[j]))
            {
                i = SkipDigits(source, j);
            }
        }

        if (i < source.Length && IsWordPart(source[i]))
        {
            var end = i;
            while (end < source.Length && IsWordPart(source[end]))
            {
                end++;
            }

            throw Error($"malformed number '{source.AsSpan(start, end - start)}'", start);
        }

        var text = source.AsSpan(start, i - start);
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            throw Error($"number '{text}' is out of range", start);
        }

        return new SearchToken(SearchTokenKind.Number, start, i, Number: value);
    }

    private static int SkipDigits(string source, int i)
    {
        while (i < source.Length && char.IsAsciiDigit(source[i]))
        {
            i++;
        }

        return i;
    }

    private static bool IsNumberStart(string source, int i)
    {
        if (source[i] is '+' or '-')
        {
            i++;
        }

        if (i < source.Length && source[i] == '.')
        {
            i++;
        }

        return i < source.Length && char.IsAsciiDigit(source[i]);
    }

    private static bool IsWordStart(char c) => char.IsLetter(c) || c == '_';

    /// <summary>Characters of unquoted identifiers after the first: MLflow key characters (letters, digits, <c>_ - . / :</c>).</summary>
    private static bool IsWordPart(char c) => char.IsLetterOrDigit(c) || c is '_' or '.' or '-' or '/' or ':';

    private static bool IsOperatorChar(char c) => c is '=' or '!' or '<' or '>';
}
