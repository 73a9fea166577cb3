namespace Cairn.Server.Web.Prompts;

/// <summary>
/// The version editor's script: lists the <c>{{variables}}</c> of the template as it is typed. The server lists them on every
/// render (and is the judge on save), so the editor works without it.
/// </summary>
internal static class PromptEditorScript
{
    /// <summary>The script, inlined after the editor.</summary>
    /// <remarks>
    /// A light approximation of the template parser: variable, section and triple-brace tags, the first part of dotted names,
    /// not comments, closing tags or backslash-escaped tags. Names are added with <c>textContent</c> only.
    /// </remarks>
    public const string Js = """
        (function () {
          var form = document.getElementById('prompt-editor');
          var list = document.getElementById('detected-variables');
          if (!form || !list) { return; }
          var none = document.getElementById('no-variables'), error = document.getElementById('variables-error');
          var tag = /(?<!\\)\{\{\{?\s*[#^&]?\s*([A-Za-z_][A-Za-z0-9_]*)[A-Za-z0-9_.]*\s*\}?\}\}/g;
          function detect() {
            var chat = form.querySelector('input[name="Draft.Type"][value="chat"]');
            var inputs = form.querySelectorAll(chat && chat.checked ? '.when-chat .template-input' : '.when-text .template-input');
            var names = [];
            inputs.forEach(function (input) {
              var match;
              tag.lastIndex = 0;
              while ((match = tag.exec(input.value)) !== null) {
                if (names.indexOf(match[1]) < 0) { names.push(match[1]); }
              }
            });
            list.textContent = '';
            names.forEach(function (name) {
              var item = document.createElement('li');
              item.className = 'alias mono';
              item.textContent = name;
              list.appendChild(item);
            });
            if (none) { none.hidden = names.length > 0; }
            if (error) { error.hidden = true; }
          }
          form.addEventListener('input', function (e) { if (e.target.classList.contains('template-input')) { detect(); } });
          form.addEventListener('change', function (e) { if (e.target.name === 'Draft.Type') { detect(); } });
        })();
        """;
}
