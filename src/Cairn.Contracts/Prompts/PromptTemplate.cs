using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Cairn.Contracts.Prompts;

/// <summary>
/// A parsed prompt template: a subset of Mustache over MLflow's <c>{{variable}}</c> placeholders, shared by the server and the SDK.
/// </summary>
/// <remarks>
/// <para>Supported syntax:</para>
/// <list type="bullet">
/// <item><c>{{name}}</c>, <c>{{ name }}</c>, dotted names <c>{{user.name}}</c> (MLflow's variable rule:
/// <c>[a-zA-Z_][a-zA-Z0-9_]*</c> parts joined by <c>.</c>), and <c>{{.}}</c>, the current item, inside a section.</item>
/// <item><c>{{{name}}}</c> and <c>{{&amp; name}}</c>, which are the same as <c>{{name}}</c>: prompts are plain text, so values are
/// inserted exactly as given and never HTML-escaped (Mustache escapes by default because it targets HTML; a prompt that
/// turned <c>&lt;</c> into <c>&amp;lt;</c> would show the model something else than what the caller passed).</item>
/// <item>Sections <c>{{#name}}...{{/name}}</c> (once per item of a non-empty list, once with the value as context for any other
/// truthy value, skipped for a missing, null, false, empty string, empty list or empty object value) and inverted sections
/// <c>{{^name}}...{{/name}}</c> (rendered exactly when the section would be skipped).</item>
/// <item>Comments <c>{{! ... }}</c>.</item>
/// <item>A backslash escapes a tag: <c>\{{</c> is a literal <c>{{</c>; in a run of backslashes right before <c>{{</c> each
/// <c>\\</c> is one literal backslash (so <c>\\{{name}}</c> is a backslash and the value). Backslashes anywhere else are
/// plain text.</item>
/// <item>Standalone lines: a line holding only a section, inverted-section, end or comment tag (and spaces or tabs) is removed
/// whole, with its line break, as in the Mustache specification.</item>
/// </list>
/// <para>Partials, blocks, lambdas and delimiter changes are not supported and are parse errors.</para>
/// <para>Instances are immutable and thread-safe: parse once, render many times.</para>
/// </remarks>
public sealed class PromptTemplate
{
    private const string EscapeHint = @"write '\{{' for a literal '{{'";

    private readonly Op[] _ops;
    private readonly int _capacityHint;

    private PromptTemplate(string text, Op[] ops, IReadOnlyList<string> variables, int capacityHint)
    {
        Text = text;
        _ops = ops;
        Variables = variables;
        _capacityHint = capacityHint;
    }

    /// <summary>The template's source text.</summary>
    public string Text { get; }

    /// <summary>
    /// The top-level variable names the template uses, distinct, in order of first appearance: every name of a variable or section
    /// tag (anywhere, inside sections too), and of a dotted name its first part only (<c>user</c> for <c>{{user.name}}</c>);
    /// <c>{{.}}</c> adds nothing.
    /// </summary>
    /// <remarks>
    /// A name inside a section may in fact be resolved against the section's item (<c>{{#docs}}{{title}}{{/docs}}</c> lists
    /// <c>title</c>); which names an item holds is only known at render time, so they are all listed.
    /// </remarks>
    public IReadOnlyList<string> Variables { get; }

    /// <summary>Parses a template.</summary>
    /// <exception cref="PromptTemplateException">The template is malformed; the message says what and where.</exception>
    public static PromptTemplate Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Parse(text, messageIndex: null, role: null);
    }

    /// <summary>Renders the template with <paramref name="variables"/>.</summary>
    /// <remarks>
    /// <para>Values: strings as they are; <see langword="null"/> as nothing; booleans as <c>true</c>/<c>false</c>; numbers in the
    /// invariant culture (shortest round-trip form for floating point); <see cref="DateTime"/> and <see cref="DateTimeOffset"/>
    /// in ISO 8601; dictionaries, lists, JSON objects and arrays as compact JSON; <see cref="JsonElement"/> and JSON nodes
    /// holding strings unquoted and numbers as their raw text. Dictionaries (<see cref="IReadOnlyDictionary{TKey, TValue}"/> with
    /// string keys, <see cref="System.Collections.IDictionary"/>) and JSON objects can be looked into with dotted names and sections;
    /// other objects are not (no reflection).</para>
    /// <para>A name is looked up in the innermost section's item first, then outwards to <paramref name="variables"/>. A variable
    /// tag whose name is found nowhere is an error, inside sections too; a present key with a null value renders as nothing.
    /// A section whose name is missing is simply skipped.</para>
    /// </remarks>
    /// <exception cref="PromptRenderException">Variables are missing; every one is named at once.</exception>
    public string Render(IReadOnlyDictionary<string, object?> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        return RenderOrThrow(variables);
    }

    /// <summary>Renders the template with JSON variables (as the REST API receives them); see the other overload for the rules.</summary>
    /// <exception cref="PromptRenderException">Variables are missing; every one is named at once.</exception>
    public string Render(IReadOnlyDictionary<string, JsonElement> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        return RenderOrThrow(variables);
    }

    /// <summary>Returns the template's source text.</summary>
    public override string ToString() => Text;

    internal static PromptTemplate Parse(string text, int? messageIndex, string? role)
    {
        var tokens = Tokenize(text, messageIndex, role);
        RemoveStandaloneLines(tokens);
        return Build(text, tokens, messageIndex, role);
    }

    /// <summary>Renders into a new string; names missing anywhere are added to <paramref name="missing"/> (created on first need).</summary>
    internal string RenderCollecting(object root, ref List<string>? missing)
    {
        var renderer = new Renderer(new StringBuilder(_capacityHint), root);
        renderer.RenderRange(_ops, 0, _ops.Length);
        if (renderer.Missing is { } found)
        {
            missing ??= [];
            foreach (var name in found)
            {
                if (!missing.Contains(name))
                {
                    missing.Add(name);
                }
            }
        }

        return renderer.Builder.ToString();
    }

    internal static string MissingMessage(List<string> missing) =>
        (missing.Count == 1 ? "Missing variable: " : "Missing variables: ") + string.Join(", ", missing);

    private string RenderOrThrow(object root)
    {
        List<string>? missing = null;
        var rendered = RenderCollecting(root, ref missing);
        return missing is null ? rendered : throw new PromptRenderException(MissingMessage(missing), missing);
    }

    // ---- parsing ----

    private enum TokenKind : byte
    {
        Text,
        Value,
        Section,
        InvertedSection,
        End,
        Comment,
    }

    /// <summary>A lexical token; texts and tags alternate, starting and ending with a (possibly empty) text.</summary>
    private struct Token
    {
        public TokenKind Kind;

        /// <summary>The literal text (escapes resolved) of a text token; the name of a tag.</summary>
        public string Value;

        /// <summary>The index of the tag's <c>{{</c> in the source.</summary>
        public int Position;

        /// <summary>The tag's source text, for messages.</summary>
        public string Source;
    }

    private static List<Token> Tokenize(string text, int? messageIndex, string? role)
    {
        var tokens = new List<Token>();
        var literal = new StringBuilder();
        var index = 0;
        while (true)
        {
            var open = text.IndexOf("{{", index, StringComparison.Ordinal);
            if (open < 0)
            {
                literal.Append(text, index, text.Length - index);
                tokens.Add(new Token { Kind = TokenKind.Text, Value = literal.ToString(), Source = "" });
                return tokens;
            }

            var backslashes = 0;
            while (open - backslashes > index && text[open - backslashes - 1] == '\\')
            {
                backslashes++;
            }

            literal.Append(text, index, open - backslashes - index).Append('\\', backslashes / 2);
            if (backslashes % 2 == 1)
            {
                literal.Append("{{");
                index = open + 2;
                continue;
            }

            tokens.Add(new Token { Kind = TokenKind.Text, Value = literal.ToString(), Source = "" });
            literal.Clear();
            tokens.Add(ReadTag(text, open, out index, messageIndex, role));
        }
    }

    private static Token ReadTag(string text, int open, out int next, int? messageIndex, string? role)
    {
        var triple = open + 2 < text.Length && text[open + 2] == '{';
        var contentStart = open + (triple ? 3 : 2);
        var close = text.IndexOf(triple ? "}}}" : "}}", contentStart, StringComparison.Ordinal);
        if (close < 0)
        {
            var shown = Excerpt(text.AsSpan(open));
            throw Error(
                triple
                    ? $"Unclosed tag '{shown}': no closing '}}}}}}' ({EscapeHint})"
                    : $"Unclosed tag '{shown}': no closing '}}}}' ({EscapeHint})",
                text, open, messageIndex, role);
        }

        next = close + (triple ? 3 : 2);
        var source = text[open..next];
        var content = text.AsSpan(contentStart, close - contentStart).Trim();
        if (!triple && content.StartsWith('!'))
        {
            return new Token { Kind = TokenKind.Comment, Value = "", Position = open, Source = source };
        }

        var inner = text.AsSpan(contentStart, close - contentStart).IndexOf("{{", StringComparison.Ordinal);
        if (inner >= 0)
        {
            throw Error(
                $"Unclosed tag '{Excerpt(text.AsSpan(open, contentStart - open + inner))}': no closing '}}}}' before the next '{{{{' ({EscapeHint})",
                text, open, messageIndex, role);
        }

        if (content.IsEmpty)
        {
            throw Error($"Empty tag '{Excerpt(source)}'", text, open, messageIndex, role);
        }

        var kind = TokenKind.Value;
        if (!triple)
        {
            var sigil = content[0];
            if (sigil is '#' or '^' or '/' or '&')
            {
                kind = sigil switch
                {
                    '#' => TokenKind.Section,
                    '^' => TokenKind.InvertedSection,
                    '/' => TokenKind.End,
                    _ => TokenKind.Value,
                };
                content = content[1..].Trim();
                if (content.IsEmpty)
                {
                    throw Error($"Tag '{Excerpt(source)}' has no name", text, open, messageIndex, role);
                }
            }
            else if (sigil is not ('_' or '.') && !char.IsLetterOrDigit(sigil) && (char.IsPunctuation(sigil) || char.IsSymbol(sigil)))
            {
                throw Error(
                    $"Unknown tag type '{sigil}' in '{Excerpt(source)}' (partials, blocks, lambdas and delimiter changes are not supported; {EscapeHint})",
                    text, open, messageIndex, role);
            }
        }

        if (!IsValidName(content))
        {
            throw Error(
                $"Invalid variable name '{Excerpt(content)}' in '{Excerpt(source)}': a name is letters, digits and '_', not starting with a digit, with '.' between the parts of a dotted name ({EscapeHint})",
                text, open, messageIndex, role);
        }

        return new Token { Kind = kind, Value = content.ToString(), Position = open, Source = source };
    }

    /// <summary>MLflow's variable rule, <c>[a-zA-Z_][a-zA-Z0-9_]*(\.[a-zA-Z_][a-zA-Z0-9_]*)*</c>, or <c>.</c> (the current item).</summary>
    private static bool IsValidName(ReadOnlySpan<char> name)
    {
        if (name is ".")
        {
            return true;
        }

        var partStart = true;
        foreach (var c in name)
        {
            if (c == '.')
            {
                if (partStart)
                {
                    return false;
                }

                partStart = true;
            }
            else if (char.IsAsciiLetter(c) || c == '_' || (!partStart && char.IsAsciiDigit(c)))
            {
                partStart = false;
            }
            else
            {
                return false;
            }
        }

        return !partStart;
    }

    /// <summary>Applies the Mustache "standalone" rule to section, end and comment tags.</summary>
    private static void RemoveStandaloneLines(List<Token> tokens)
    {
        // Decide on the untouched texts first, then cut: a text between two standalone tags is cut from both sides.
        var cutStart = new int[tokens.Count];
        var cutEnd = new int[tokens.Count];
        for (var i = 0; i < tokens.Count; i++)
        {
            cutEnd[i] = tokens[i].Value.Length;
        }

        var last = tokens.Count - 1;
        for (var t = 1; t < last; t += 2)
        {
            if (tokens[t].Kind is TokenKind.Value)
            {
                continue;
            }

            var before = tokens[t - 1].Value;
            var lineStart = before.LastIndexOf('\n') + 1;
            if ((lineStart == 0 && t != 1) || !IsBlank(before.AsSpan(lineStart)))
            {
                continue;
            }

            var after = tokens[t + 1].Value;
            var lineEnd = after.IndexOf('\n');
            int afterCut;
            if (lineEnd < 0)
            {
                if (t + 1 != last || !IsBlank(after))
                {
                    continue;
                }

                afterCut = after.Length;
            }
            else
            {
                var head = after.AsSpan(0, lineEnd);
                if (head.EndsWith('\r'))
                {
                    head = head[..^1];
                }

                if (!IsBlank(head))
                {
                    continue;
                }

                afterCut = lineEnd + 1;
            }

            cutEnd[t - 1] = Math.Min(cutEnd[t - 1], lineStart);
            cutStart[t + 1] = Math.Max(cutStart[t + 1], afterCut);
        }

        for (var i = 0; i < tokens.Count; i += 2)
        {
            var value = tokens[i].Value;
            if (cutStart[i] != 0 || cutEnd[i] != value.Length)
            {
                var token = tokens[i];
                token.Value = cutStart[i] >= cutEnd[i] ? "" : value[cutStart[i]..cutEnd[i]];
                tokens[i] = token;
            }
        }
    }

    private static bool IsBlank(ReadOnlySpan<char> span) => span.IndexOfAnyExcept(' ', '\t') < 0;

    private static PromptTemplate Build(string text, List<Token> tokens, int? messageIndex, string? role)
    {
        var ops = new List<Op>(tokens.Count);
        var open = new List<(int Op, Token Tag)>();
        var variables = new List<string>();
        var literalLength = 0;
        var valueCount = 0;
        var textIsLast = false;
        foreach (var token in tokens)
        {
            switch (token.Kind)
            {
                case TokenKind.Text:
                    if (token.Value.Length == 0)
                    {
                        continue;
                    }

                    literalLength += token.Value.Length;
                    if (textIsLast)
                    {
                        // Only after a removed comment: two texts are joined so rendering appends once.
                        ops[^1] = new Op(OpKind.Text, ops[^1].Text + token.Value, [], 0);
                    }
                    else
                    {
                        ops.Add(new Op(OpKind.Text, token.Value, [], 0));
                        textIsLast = true;
                    }

                    continue;
                case TokenKind.Value:
                    valueCount++;
                    ops.Add(new Op(OpKind.Value, token.Value, Path(token, open.Count, text, messageIndex, role, variables), 0));
                    break;
                case TokenKind.Section:
                case TokenKind.InvertedSection:
                    var path = Path(token, open.Count, text, messageIndex, role, variables);
                    open.Add((ops.Count, token));
                    ops.Add(new Op(token.Kind == TokenKind.Section ? OpKind.Section : OpKind.InvertedSection, token.Value, path, 0));
                    break;
                case TokenKind.End:
                    if (open.Count == 0)
                    {
                        throw Error($"End tag '{Excerpt(token.Source)}' has no section to close", text, token.Position, messageIndex, role);
                    }

                    var (start, tag) = open[^1];
                    if (!string.Equals(tag.Value, token.Value, StringComparison.Ordinal))
                    {
                        var (line, column) = LineAndColumn(text, tag.Position);
                        throw Error(
                            $"End tag '{Excerpt(token.Source)}' does not match '{Excerpt(tag.Source)}' opened at line {line}, column {column}",
                            text, token.Position, messageIndex, role);
                    }

                    open.RemoveAt(open.Count - 1);
                    ops[start] = ops[start] with { End = ops.Count };
                    break;
                case TokenKind.Comment:
                default:
                    continue;
            }

            textIsLast = false;
        }

        if (open.Count > 0)
        {
            var (_, tag) = open[^1];
            throw Error($"Unclosed section '{Excerpt(tag.Source)}': no '{{{{/{tag.Value}}}}}'", text, tag.Position, messageIndex, role);
        }

        var capacity = (int)Math.Min(literalLength + (32L * valueCount) + 16, 1 << 20);
        return new PromptTemplate(text, [.. ops], variables.AsReadOnly(), capacity);
    }

    private static string[] Path(Token token, int depth, string text, int? messageIndex, string? role, List<string> variables)
    {
        if (token.Value == ".")
        {
            return depth > 0
                ? []
                : throw Error($"'{Excerpt(token.Source)}' (the current item) is only allowed inside a section", text, token.Position, messageIndex, role);
        }

        var path = token.Value.Split('.');
        if (!variables.Contains(path[0]))
        {
            variables.Add(path[0]);
        }

        return path;
    }

    private static string Excerpt(ReadOnlySpan<char> span) =>
        span.Length <= 40 ? span.ToString() : string.Concat(span[..37], "...");

    private static (int Line, int Column) LineAndColumn(string text, int position)
    {
        var before = text.AsSpan(0, position);
        var lastBreak = before.LastIndexOf('\n');
        return (before.Count('\n') + 1, position - lastBreak);
    }

    private static PromptTemplateException Error(string problem, string text, int position, int? messageIndex, string? role)
    {
        var (line, column) = LineAndColumn(text, position);
        var where = messageIndex is { } index ? $"Message {index} ({role}): " : "";
        return new PromptTemplateException(
            string.Create(CultureInfo.InvariantCulture, $"{where}{problem} (line {line}, column {column})."),
            position,
            line,
            column,
            messageIndex);
    }

    // ---- rendering ----

    private enum OpKind : byte
    {
        Text,
        Value,
        Section,
        InvertedSection,
    }

    /// <summary>
    /// One step of the flat program: a literal (<see cref="Text"/>), a value (<see cref="Text"/> is its name), or a section whose
    /// body is the ops up to <see cref="End"/> (exclusive).
    /// </summary>
    private readonly record struct Op(OpKind Kind, string Text, string[] Path, int End);

    private enum Lookup : byte
    {
        Found,
        MissingName,
        MissingMember,
    }

    private struct Renderer(StringBuilder builder, object root)
    {
        private object?[] _scopes = [root, null, null, null];
        private int _depth = 1;

        public readonly StringBuilder Builder => builder;

        public List<string>? Missing { get; private set; }

        public void RenderRange(Op[] ops, int from, int to)
        {
            for (var i = from; i < to; i++)
            {
                var op = ops[i];
                switch (op.Kind)
                {
                    case OpKind.Text:
                        builder.Append(op.Text);
                        break;
                    case OpKind.Value:
                        switch (Resolve(op.Path, out var value))
                        {
                            case Lookup.Found:
                                PromptValues.Append(builder, value);
                                break;
                            case Lookup.MissingName:
                                AddMissing(op.Path[0]);
                                break;
                            case Lookup.MissingMember:
                            default:
                                AddMissing(op.Text);
                                break;
                        }

                        break;
                    case OpKind.Section:
                        if (Resolve(op.Path, out var sectionValue) == Lookup.Found)
                        {
                            RenderSection(ops, i + 1, op.End, sectionValue);
                        }

                        i = op.End - 1;
                        break;
                    case OpKind.InvertedSection:
                    default:
                        if (Resolve(op.Path, out var invertedValue) != Lookup.Found || !PromptValues.IsTruthy(invertedValue))
                        {
                            RenderRange(ops, i + 1, op.End);
                        }

                        i = op.End - 1;
                        break;
                }
            }
        }

        private void RenderSection(Op[] ops, int from, int to, object? value)
        {
            switch (value)
            {
                case JsonElement { ValueKind: JsonValueKind.Array } array:
                    foreach (var item in array.EnumerateArray())
                    {
                        RenderScoped(ops, from, to, PromptValues.Normalize(item));
                    }

                    return;
                case System.Text.Json.Nodes.JsonArray nodes:
                    foreach (var item in nodes)
                    {
                        RenderScoped(ops, from, to, PromptValues.Normalize(item));
                    }

                    return;
                case string:
                case System.Collections.IDictionary:
                case IReadOnlyDictionary<string, object?>:
                case IReadOnlyDictionary<string, JsonElement>:
                case System.Text.Json.Nodes.JsonObject:
                    break;
                case System.Collections.IEnumerable items:
                    foreach (var item in items)
                    {
                        RenderScoped(ops, from, to, PromptValues.Normalize(item));
                    }

                    return;
                default:
                    break;
            }

            if (PromptValues.IsTruthy(value))
            {
                RenderScoped(ops, from, to, value);
            }
        }

        private void RenderScoped(Op[] ops, int from, int to, object? scope)
        {
            if (_depth == _scopes.Length)
            {
                Array.Resize(ref _scopes, _depth * 2);
            }

            _scopes[_depth++] = scope;
            RenderRange(ops, from, to);
            _scopes[--_depth] = null;
        }

        private readonly Lookup Resolve(string[] path, out object? value)
        {
            if (path.Length == 0)
            {
                value = _scopes[_depth - 1];
                return Lookup.Found;
            }

            for (var d = _depth - 1; d >= 0; d--)
            {
                if (PromptValues.TryGetMember(_scopes[d], path[0], out value))
                {
                    // As in Mustache, only the first part searches the enclosing scopes; the rest must be members of what it found.
                    for (var p = 1; p < path.Length; p++)
                    {
                        if (value is null)
                        {
                            return Lookup.Found;
                        }

                        if (!PromptValues.TryGetMember(value, path[p], out value))
                        {
                            return Lookup.MissingMember;
                        }
                    }

                    return Lookup.Found;
                }
            }

            value = null;
            return Lookup.MissingName;
        }

        private void AddMissing(string name)
        {
            Missing ??= [];
            if (!Missing.Contains(name))
            {
                Missing.Add(name);
            }
        }
    }
}
