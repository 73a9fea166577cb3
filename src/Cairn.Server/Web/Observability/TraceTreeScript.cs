namespace Cairn.Server.Web.Observability;

/// <summary>
/// The trace page's script: opens and closes tree nodes and loads more spans in place through the span API
/// (<c>GET /api/cairn/traces/{id}/spans</c>), so that a large trace never loads at once. Without it every toggle and
/// "load more" is a link that the server answers with the same tree.
/// </summary>
internal static class TraceTreeScript
{
    /// <summary>The script, inlined after the tree.</summary>
    /// <remarks>Rows are built with DOM calls and <c>textContent</c> only, so span names and models are never parsed as HTML.</remarks>
    public const string Js = """
        (function () {
          var tree = document.getElementById('span-tree');
          if (!tree || !window.fetch) { return; }
          var rows = document.getElementById('span-tree-rows');
          var traceId = tree.dataset.trace, project = tree.dataset.project, pageSize = Number(tree.dataset.pageSize);
          var traceStart = Number(tree.dataset.start), traceLength = Math.max(Number(tree.dataset.length), 1);
          var here = new URL(window.location.href);
          var opened = ids(here.searchParams.get('expand')), closed = ids(here.searchParams.get('collapse'));
          var selected = rows.querySelector('.tree-row.selected');
          if (selected && selected.offsetTop + selected.offsetHeight > tree.clientHeight) { tree.scrollTop = selected.offsetTop - tree.clientHeight / 2; }

          function ids(text) { var set = {}; (text || '').split(',').forEach(function (id) { if (id) { set[id] = true; } }); return set; }
          function list(set) { return Object.keys(set).sort().join(','); }
          function el(tag, cls, text) { var e = document.createElement(tag); if (cls) { e.className = cls; } if (text != null) { e.textContent = text; } return e; }
          function depthOf(row) { return Number(row.dataset.depth); }
          function descendants(row) {
            var found = [], depth = depthOf(row), next = row.nextElementSibling;
            while (next && depthOf(next) > depth) { found.push(next); next = next.nextElementSibling; }
            return found;
          }
          function ms(value) {
            if (value < 1000) { return (value < 10 ? value.toFixed(1) : Math.round(value).toString()) + ' ms'; }
            var s = (value / 1000).toFixed(2);
            return (s.endsWith('0') ? s.slice(0, -1) : s) + ' s';
          }
          function cost(usd) {
            if (usd == null) { return ''; }
            if (usd === 0) { return '$0'; }
            return '$' + Number(usd.toFixed(usd < 0.01 ? 6 : 4)).toString();
          }
          function tokens(count) { return count == null ? '' : count.toLocaleString('en-US'); }
          function typeIcon(type) { return ({ generation: 'G', embedding: 'E', tool: 'T', retrieval: 'R', agent: 'A', chain: 'C' })[type] || 'S'; }
          function typeClass(type) { return typeIcon(type) === 'S' ? 'type-span' : 'type-' + type; }
          function pageUrl(change, extraOpen) {
            var url = new URL(window.location.href), open = Object.assign({}, opened);
            change(url.searchParams);
            if (extraOpen) { open[extraOpen] = true; }
            var e = list(open), c = list(closed);
            if (e) { url.searchParams.set('expand', e); } else { url.searchParams.delete('expand'); }
            if (c) { url.searchParams.set('collapse', c); } else { url.searchParams.delete('collapse'); }
            return url.pathname + url.search;
          }

          function spanRow(span, depth) {
            var row = el('div', 'tree-row' + (span.status === 'error' ? ' status-error' : ''));
            row.setAttribute('role', 'treeitem');
            row.setAttribute('aria-level', String(depth + 1));
            row.dataset.spanId = span.span_id;
            row.dataset.depth = String(depth);
            row.dataset.children = String(span.child_count);
            row.dataset.loaded = '0';
            var name = el('div', 'tree-name');
            name.style.paddingLeft = (depth * 16) + 'px';
            if (span.child_count > 0) {
              var toggle = el('a', 'tree-toggle', '\u25B8');
              toggle.href = pageUrl(function () { }, span.span_id);
              toggle.setAttribute('aria-label', 'Expand');
              row.setAttribute('aria-expanded', 'false');
              name.appendChild(toggle);
            } else {
              name.appendChild(el('span', 'tree-toggle-spacer'));
            }
            var icon = el('span', 'type-icon ' + typeClass(span.type), typeIcon(span.type));
            icon.title = span.type;
            name.appendChild(icon);
            var link = el('a', 'span-link', span.name);
            link.href = pageUrl(function (q) { q.set('span', span.span_id); });
            name.appendChild(link);
            if (span.status === 'error') { name.appendChild(el('span', 'badge badge-failed', 'error')); }
            if (span.child_count > 0) { name.appendChild(el('span', 'child-count', span.child_count.toLocaleString('en-US'))); }
            row.appendChild(name);
            row.appendChild(el('div', 'tree-type', span.type));
            row.appendChild(el('div', 'tree-model', span.model || ''));
            row.appendChild(el('div', 'tree-num', tokens(span.total_tokens)));
            row.appendChild(el('div', 'tree-num', cost(span.cost_usd)));
            row.appendChild(el('div', 'tree-num', ms(span.duration_ms)));
            var track = el('div', 'tree-track'), bar = el('div', 'tree-bar ' + typeClass(span.type));
            var left = Math.min(Math.max((span.start_time_unix_nano - traceStart) / traceLength * 100, 0), 100);
            bar.style.left = left.toFixed(3) + '%';
            bar.style.width = Math.min(Math.max((span.end_time_unix_nano - span.start_time_unix_nano) / traceLength * 100, 0), 100 - left).toFixed(3) + '%';
            track.appendChild(bar);
            row.appendChild(track);
            return row;
          }

          function moreRow(parent, depth, token, remaining) {
            var row = el('div', 'tree-row tree-more');
            row.dataset.depth = String(depth);
            row.dataset.parent = parent || '';
            row.dataset.token = token;
            var cell = el('div', 'tree-name');
            cell.style.paddingLeft = (depth * 16) + 'px';
            var link = el('a', 'load-more', 'Load ' + pageSize + ' more' + (remaining > 0 ? ' (' + remaining.toLocaleString('en-US') + ' not shown)' : ''));
            link.href = pageUrl(function (q) { q.set('level', parent || 'top'); q.set('after', token); });
            cell.appendChild(link);
            row.appendChild(cell);
            return row;
          }

          function shown(parentRow) {
            if (!parentRow) { return 0; }
            var depth = depthOf(parentRow) + 1;
            return descendants(parentRow).filter(function (r) { return depthOf(r) === depth && r.dataset.spanId; }).length;
          }

          function load(parent, depth, token, before, parentRow) {
            var url = '/api/cairn/traces/' + encodeURIComponent(traceId) + '/spans?project=' + encodeURIComponent(project) +
              '&max_results=' + pageSize + (parent ? '&parent_span_id=' + encodeURIComponent(parent) : '') +
              (token ? '&page_token=' + encodeURIComponent(token) : '');
            return fetch(url, { headers: { accept: 'application/json' } })
              .then(function (response) {
                if (!response.ok) { throw new Error('HTTP ' + response.status); }
                return response.json();
              })
              .then(function (page) {
                var fragment = document.createDocumentFragment();
                page.spans.forEach(function (span) { fragment.appendChild(spanRow(span, depth)); });
                var total = parentRow ? Number(parentRow.dataset.children) : 0;
                var remaining = total - shown(parentRow) - page.spans.length;
                if (page.next_page_token) { fragment.appendChild(moreRow(parent, depth, page.next_page_token, remaining)); }
                rows.insertBefore(fragment, before);
              });
          }

          function failed(row, error) {
            var note = el('div', 'tree-row tree-error', 'Could not load spans: ' + error.message);
            note.dataset.depth = String(depthOf(row) + 1);
            rows.insertBefore(note, row.nextElementSibling);
          }

          function setOpen(row, open) {
            row.dataset.expanded = open ? '1' : '0';
            row.setAttribute('aria-expanded', open ? 'true' : 'false');
            var toggle = row.querySelector('.tree-toggle');
            toggle.textContent = open ? '\u25BE' : '\u25B8';
            toggle.setAttribute('aria-label', open ? 'Collapse' : 'Expand');
            var id = row.dataset.spanId;
            if (open) { delete closed[id]; opened[id] = true; } else { delete opened[id]; closed[id] = true; }
          }

          function show(row) {
            var skipBelow = null;
            descendants(row).forEach(function (next) {
              var depth = depthOf(next);
              if (skipBelow !== null && depth > skipBelow) { return; }
              skipBelow = null;
              next.hidden = false;
              if (next.dataset.spanId && next.dataset.expanded !== '1') { skipBelow = depth; }
            });
          }

          rows.addEventListener('click', function (e) {
            var toggle = e.target.closest('a.tree-toggle');
            if (toggle) {
              e.preventDefault();
              var row = toggle.closest('.tree-row');
              if (row.classList.contains('loading')) { return; }
              if (row.dataset.expanded === '1') {
                descendants(row).forEach(function (next) { next.hidden = true; });
                setOpen(row, false);
              } else if (row.dataset.loaded === '1') {
                setOpen(row, true);
                show(row);
              } else {
                row.classList.add('loading');
                load(row.dataset.spanId, depthOf(row) + 1, null, row.nextElementSibling, row)
                  .then(function () { row.dataset.loaded = '1'; setOpen(row, true); }, function (error) { failed(row, error); })
                  .then(function () { row.classList.remove('loading'); });
              }
              return;
            }

            var more = e.target.closest('a.load-more');
            if (more) {
              e.preventDefault();
              var moreRowEl = more.closest('.tree-row');
              if (moreRowEl.classList.contains('loading')) { return; }
              moreRowEl.classList.add('loading');
              var parent = moreRowEl.dataset.parent || null;
              var parentRow = parent ? rows.querySelector('.tree-row[data-span-id="' + CSS.escape(parent) + '"]') : null;
              load(parent, depthOf(moreRowEl), moreRowEl.dataset.token, moreRowEl, parentRow)
                .then(function () { moreRowEl.remove(); }, function (error) { moreRowEl.classList.remove('loading'); more.textContent = 'Could not load spans: ' + error.message + ' (retry)'; });
              return;
            }

            var link = e.target.closest('a.span-link');
            if (link) {
              // Keep the nodes opened here open on the page the link loads.
              var id = link.closest('.tree-row').dataset.spanId;
              link.href = pageUrl(function (q) { q.set('span', id); q.delete('level'); q.delete('after'); });
            }
          });
        })();
        """;
}
