namespace Cairn.Server.Web.Playground;

/// <summary>
/// The playground's script: keeps the variable inputs in step with the template as it is typed, and runs the prompt
/// against every ticked model at once through <c>POST /api/cairn/playground/run</c>, streaming each answer into its own
/// column and then filling in the run's figures from its request record (<c>GET /api/cairn/gateway/requests/{id}</c>).
/// Without it the page still loads saved versions and saves drafts; only runs need it.
/// </summary>
internal static class PlaygroundScript
{
    /// <summary>The script, inlined after the playground.</summary>
    /// <remarks>
    /// Model output, names and error messages are added with <c>textContent</c> only, never parsed as HTML. Variable detection
    /// is the version editor's light approximation of the template parser; the server renders (and judges) every run.
    /// </remarks>
    public const string Js = """
        (function () {
          var root = document.getElementById('playground');
          if (!root || !window.fetch || !window.ReadableStream || !window.TextDecoder) { return; }
          var compare = root.dataset.mode === 'compare';
          var form = document.getElementById('playground-form');
          var varList = document.getElementById('variable-inputs');
          var noVars = document.getElementById('no-variables'), varError = document.getElementById('variables-error');
          var runButton = document.getElementById('run'), status = document.getElementById('run-status');
          var picker = document.getElementById('pick-prompt');
          var kept = {};
          var tag = /(?<!\\)\{\{\{?\s*[#^&]?\s*([A-Za-z_][A-Za-z0-9_]*)[A-Za-z0-9_.]*\s*\}?\}\}/g;

          function el(tag, cls, text) { var e = document.createElement(tag); if (cls) { e.className = cls; } if (text != null) { e.textContent = text; } return e; }
          function ms(value) {
            if (value == null) { return '—'; }
            if (value < 1000) { return (value < 10 ? value.toFixed(1) : Math.round(value).toString()) + ' ms'; }
            return (value / 1000).toFixed(2) + ' s';
          }
          function cost(usd) {
            if (usd == null) { return '—'; }
            if (usd === 0) { return '$0'; }
            return '$' + Number(usd.toFixed(usd < 0.01 ? 6 : 4)).toString();
          }
          function count(n) { return n == null ? '—' : Number(n).toLocaleString('en-US'); }
          function delay(msec) { return new Promise(function (resolve) { setTimeout(resolve, msec); }); }

          // ---- the draft and its variables ----
          function isChat() { var chat = form && form.querySelector('input[name="Draft.Type"][value="chat"]'); return !!(chat && chat.checked); }
          function templateInputs() {
            return form ? Array.prototype.slice.call(form.querySelectorAll(isChat() ? '.when-chat .template-input' : '.when-text .template-input')) : [];
          }
          function draft() {
            if (!isChat()) { var text = form.querySelector('.when-text .template-input'); return { template: text ? text.value : '' }; }
            var messages = [];
            form.querySelectorAll('.when-chat .message-row').forEach(function (row) {
              var role = row.querySelector('select'), content = row.querySelector('textarea');
              if (content && content.value.trim() !== '') { messages.push({ role: role ? role.value : 'user', content: content.value }); }
            });
            return { messages: messages };
          }
          var initial = form ? JSON.stringify(draft()) : '';

          function variableField(name) {
            var label = el('label', 'field variable-field');
            label.dataset.variable = name;
            label.appendChild(el('span', 'mono', '{{' + name + '}}'));
            var input = el('textarea', 'variable-input');
            input.name = 'Variables[' + name + ']';
            input.rows = 2;
            input.value = kept[name] || '';
            label.appendChild(input);
            return label;
          }
          function detect() {
            var names = [];
            templateInputs().forEach(function (input) {
              var match;
              tag.lastIndex = 0;
              while ((match = tag.exec(input.value)) !== null) { if (names.indexOf(match[1]) < 0) { names.push(match[1]); } }
            });
            var fields = {};
            varList.querySelectorAll('[data-variable]').forEach(function (field) {
              if (names.indexOf(field.dataset.variable) < 0) { kept[field.dataset.variable] = field.querySelector('textarea').value; field.remove(); }
              else { fields[field.dataset.variable] = field; }
            });
            names.forEach(function (name) { varList.appendChild(fields[name] || variableField(name)); });
            if (noVars) { noVars.hidden = names.length > 0; }
            if (varError) { varError.hidden = true; }
          }
          function variables() {
            var values = {};
            varList.querySelectorAll('[data-variable]').forEach(function (field) {
              // A blank input counts as missing, so the server names it rather than rendering an empty value.
              var value = field.querySelector('textarea').value;
              if (value !== '') { values[field.dataset.variable] = value; }
            });
            return values;
          }
          function settings() {
            var config = {}, error = null;
            root.querySelectorAll('[data-setting]').forEach(function (input) {
              var text = input.value.trim(), key = input.dataset.setting;
              if (text === '') { return; }
              var value = Number(text);
              if (!isFinite(value) || (key === 'max_tokens' && !Number.isInteger(value))) { error = error || (input.dataset.label + ' must be ' + (key === 'max_tokens' ? 'a whole number' : 'a number') + ", not '" + text + "'."); return; }
              config[key] = value;
            });
            return { config: config, error: error };
          }
          function models() {
            return Array.prototype.slice.call(root.querySelectorAll('input.model-choice:checked')).map(function (box) { return box.value; });
          }

          // ---- one run: a column (or grid cell) that streams the answer, then shows the request record's figures ----
          function cell(title, subtitle) {
            var box = el('div', 'run-cell');
            var head = el('div', 'run-head');
            head.appendChild(el('span', 'run-model mono', title));
            if (subtitle) { head.appendChild(el('span', 'muted', subtitle)); }
            var state = el('span', 'run-state muted', 'waiting');
            head.appendChild(state);
            box.appendChild(head);
            var output = el('pre', 'run-output');
            box.appendChild(output);
            var error = el('div', 'filter-error run-error');
            error.hidden = true;
            box.appendChild(error);
            var facts = el('dl', 'facts run-metrics');
            box.appendChild(facts);
            var foot = el('div', 'run-foot');
            box.appendChild(foot);
            function metric(key, label, value) {
              var dd = facts.querySelector('dd[data-metric="' + key + '"]');
              if (!dd) { facts.appendChild(el('dt', null, label)); dd = el('dd', 'mono'); dd.dataset.metric = key; facts.appendChild(dd); }
              dd.textContent = value;
            }
            function link(id) {
              if (!id || foot.firstChild) { return; }
              var a = el('a', 'run-record', 'Request log record →');
              a.href = '/gateway/requests/' + encodeURIComponent(id);
              foot.appendChild(a);
            }
            return {
              box: box,
              state: function (text, cls) { state.textContent = text; box.dataset.state = cls; },
              append: function (text) { output.appendChild(document.createTextNode(text)); },
              fail: function (message) { error.textContent = message; error.hidden = false; },
              metric: metric,
              link: link,
            };
          }
          function problem(text, code) {
            try {
              var json = JSON.parse(text);
              if (json.detail || json.title) { return (json.title ? json.title + ': ' : '') + (json.detail || ''); }
              if (json.error && json.error.message) { return json.error.message; }
            } catch (e) { /* not JSON: show the text */ }
            return 'HTTP ' + code + (text ? ': ' + text.slice(0, 300) : '');
          }
          function record(id) {
            var tries = 0;
            function attempt() {
              return fetch('/api/cairn/gateway/requests/' + encodeURIComponent(id), { headers: { Accept: 'application/json' } }).then(function (response) {
                // The gateway writes its record a few milliseconds after the stream ends.
                if (response.status === 404 && ++tries < 60) { return delay(50).then(attempt); }
                return response.ok ? response.json() : null;
              });
            }
            return attempt();
          }
          function run(c, body) {
            var started = performance.now(), first = null, usage = null, requestId = null;
            c.state('running…', 'running');
            return fetch('/api/cairn/playground/run', {
              method: 'POST',
              headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
              body: JSON.stringify(body),
            }).then(function (response) {
              requestId = response.headers.get('Cairn-Request-Id');
              c.link(requestId);
              if (!response.ok) { return response.text().then(function (text) { throw new Error(problem(text, response.status)); }); }
              var reader = response.body.getReader(), decoder = new TextDecoder(), buffer = '', finished = false;
              function line(text) {
                if (text.slice(0, 5) !== 'data:') { return; }
                var data = text.slice(5).trim();
                if (data === '[DONE]') { finished = true; return; }
                if (data === '') { return; }
                var chunk = JSON.parse(data);
                if (chunk.error) { throw new Error(chunk.error.message || 'The model call failed.'); }
                var choice = chunk.choices && chunk.choices[0], content = choice && choice.delta && choice.delta.content;
                if (content) {
                  if (first === null) { first = performance.now() - started; c.state('streaming…', 'running'); }
                  c.append(content);
                }
                if (chunk.usage) { usage = chunk.usage; }
              }
              function lines(final) {
                var parts = buffer.split('\n');
                buffer = final ? '' : parts.pop();
                parts.forEach(function (part) { line(part.replace(/\r$/, '')); });
              }
              function pump() {
                return reader.read().then(function (chunk) {
                  if (chunk.done) { buffer += decoder.decode(); lines(true); return; }
                  buffer += decoder.decode(chunk.value, { stream: true });
                  lines(false);
                  return finished ? reader.cancel() : pump();
                });
              }
              return pump();
            }).then(function () {
              var total = performance.now() - started;
              c.state('done', 'done');
              // Browser figures first (the stream's own usage included); the request record then fills in the server's.
              c.metric('latency', 'Latency', ms(total) + ' (browser)');
              c.metric('ttft', 'First token', '…');
              c.metric('browser-ttft', 'First token (browser)', ms(first));
              c.metric('tokens', 'Tokens in / out', usage ? count(usage.prompt_tokens) + ' / ' + count(usage.completion_tokens) : '…');
              c.metric('cost', 'Cost', '…');
              var pending = function (text) { ['ttft', 'cost'].forEach(function (key) { c.metric(key, key === 'ttft' ? 'First token' : 'Cost', text); }); };
              if (!requestId) { pending('—'); return; }
              return record(requestId).then(function (rec) {
                if (!rec) { pending('not recorded yet'); return; }
                c.metric('latency', 'Latency', ms(rec.latency_ms));
                c.metric('ttft', 'First token', ms(rec.ttft_ms));
                c.metric('tokens', 'Tokens in / out', count(rec.prompt_tokens) + ' / ' + count(rec.completion_tokens));
                c.metric('cost', 'Cost', cost(rec.cost_usd));
                if (rec.served_model) { c.metric('served', 'Served by', (rec.provider ? rec.provider + '/' : '') + rec.served_model); }
              });
            }).catch(function (e) {
              c.state('failed', 'failed');
              c.fail(e && e.message ? e.message : String(e));
            });
          }

          // ---- the run button ----
          function start(build) {
            var chosen = models(), conf = settings();
            status.textContent = '';
            if (chosen.length === 0) { status.textContent = 'Tick at least one model.'; return; }
            if (conf.error) { status.textContent = conf.error; return; }
            var runs = build(chosen, conf.config, variables());
            if (!runs) { return; }
            runButton.disabled = true;
            status.textContent = 'Running ' + runs.length + (runs.length === 1 ? ' call…' : ' calls…');
            Promise.all(runs.map(function (r) { return run(r.cell, r.body); })).then(function () {
              runButton.disabled = false;
              status.textContent = 'Finished ' + runs.length + (runs.length === 1 ? ' call.' : ' calls.');
            });
          }
          function single(chosen, config, values) {
            var current = draft();
            if ((current.template != null && current.template.trim() === '') || (current.messages && current.messages.length === 0)) {
              status.textContent = 'The template is empty.';
              return null;
            }
            var results = document.getElementById('run-results');
            results.textContent = '';
            // An unedited saved version runs by name, so the gateway attributes the call to it (Cairn-Prompt).
            var saved = root.dataset.sourceName && JSON.stringify(current) === initial;
            return chosen.map(function (model) {
              var body = { variables: values, model: model, model_config: config };
              if (saved) { body.prompt = { name: root.dataset.sourceName, version: Number(root.dataset.sourceVersion) }; }
              else if (current.messages) { body.messages = current.messages; }
              else { body.template = current.template; }
              var c = cell(model, saved ? root.dataset.sourceName + ' v' + root.dataset.sourceVersion : 'draft');
              c.box.dataset.model = model;
              results.appendChild(c.box);
              return { cell: c, body: body };
            });
          }
          function grid(chosen, overrides, values) {
            var table = document.getElementById('compare-grid');
            var head = table.querySelector('thead tr'), body = table.querySelector('tbody');
            head.textContent = '';
            body.textContent = '';
            head.appendChild(el('th', null, 'Version'));
            chosen.forEach(function (model) { head.appendChild(el('th', 'mono', model)); });
            var runs = [];
            [['A', root.dataset.a, root.dataset.configA], ['B', root.dataset.b, root.dataset.configB]].forEach(function (row) {
              var tr = el('tr');
              tr.dataset.version = row[1];
              tr.appendChild(el('th', null, row[0] + ' · v' + row[1]));
              // Overrides are laid over each version's own settings (the server takes model_config whole).
              var config = Object.keys(overrides).length === 0 ? null : Object.assign(JSON.parse(row[2] || '{}'), overrides);
              chosen.forEach(function (model) {
                var td = el('td', 'wrap');
                var c = cell(model, 'v' + row[1]);
                c.box.dataset.model = model;
                td.appendChild(c.box);
                tr.appendChild(td);
                var request = { prompt: { name: root.dataset.prompt, version: Number(row[1]) }, variables: values, model: model };
                if (config) { request.model_config = config; }
                runs.push({ cell: c, body: request });
              });
              body.appendChild(tr);
            });
            table.hidden = false;
            return runs;
          }
          runButton.disabled = false;
          runButton.addEventListener('click', function () { start(compare ? grid : single); });

          if (form) {
            form.addEventListener('input', function (e) { if (e.target.classList.contains('template-input')) { detect(); } });
            form.addEventListener('change', function (e) { if (e.target.name === 'Draft.Type') { detect(); } });
            // Enter in a settings field would submit the save form; only the save panel's fields should.
            form.addEventListener('keydown', function (e) {
              if (e.key === 'Enter' && e.target.tagName === 'INPUT' && !e.target.closest('.save-panel')) { e.preventDefault(); }
            });
          }
          if (picker) {
            picker.addEventListener('change', function () {
              var version = document.getElementById('pick-version');
              if (version) { version.value = ''; }
              picker.form.submit();
            });
          }
        })();
        """;
}
