namespace Cairn.Server.Web;

/// <summary>The UI's hand-written stylesheet, inlined into every page (no static files, no build step).</summary>
internal static class UiStyles
{
    public const string Css = """
        :root { --bg: #f6f7f9; --panel: #fff; --text: #1f2430; --muted: #6b7280; --line: #e5e7eb; --accent: #2563eb; --side: #111827; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--text); background: var(--bg); }
        a { color: var(--accent); text-decoration: none; }
        a:hover { text-decoration: underline; }
        .shell { display: flex; min-height: 100vh; }
        .sidebar { width: 200px; flex: none; background: var(--side); color: #d1d5db; padding: 20px 12px; display: flex; flex-direction: column; gap: 4px; }
        .sidebar .brand { color: #fff; font-weight: 700; font-size: 18px; padding: 4px 10px 16px; }
        .sidebar .nav-link { color: #d1d5db; padding: 8px 10px; border-radius: 6px; }
        .sidebar .nav-link:hover { background: #1f2937; color: #fff; text-decoration: none; }
        .sidebar .nav-foot { margin-top: auto; font-size: 12px; color: #6b7280; padding: 0 10px; }
        .content { flex: 1; min-width: 0; padding: 24px 32px; }
        h1 { font-size: 22px; margin: 0 0 4px; }
        h2 { font-size: 16px; margin: 28px 0 10px; }
        .crumbs { color: var(--muted); font-size: 13px; margin-bottom: 6px; }
        .subtitle { color: var(--muted); margin-bottom: 16px; }
        .card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 16px; margin-bottom: 16px; }
        .table-wrap { overflow-x: auto; background: var(--panel); border: 1px solid var(--line); border-radius: 10px; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: 8px 12px; border-bottom: 1px solid var(--line); white-space: nowrap; vertical-align: top; }
        th { background: #f9fafb; font-weight: 600; font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; }
        th a { color: var(--muted); }
        th.group { text-align: center; border-left: 1px solid var(--line); }
        tr:last-child td { border-bottom: none; }
        tbody tr:hover { background: #f9fafb; }
        td.num { font-variant-numeric: tabular-nums; }
        td.wrap { white-space: normal; word-break: break-word; }
        .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
        .muted { color: var(--muted); }
        .badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; background: #e5e7eb; color: #374151; }
        .badge-finished { background: #dcfce7; color: #166534; }
        .badge-running { background: #dbeafe; color: #1e40af; }
        .badge-scheduled { background: #ede9fe; color: #5b21b6; }
        .badge-failed { background: #fee2e2; color: #991b1b; }
        .badge-killed { background: #fef3c7; color: #92400e; }
        .badge-production { background: #dcfce7; color: #166534; }
        .badge-staging { background: #fef3c7; color: #92400e; }
        .alias { display: inline-block; padding: 1px 8px; margin-right: 4px; border-radius: 6px; font-size: 12px; background: #eef2ff; color: #3730a3; border: 1px solid #c7d2fe; }
        form.search { display: flex; gap: 8px; margin: 12px 0 16px; }
        form.search input[type=text] { flex: 1; max-width: 640px; padding: 8px 10px; border: 1px solid var(--line); border-radius: 8px; font: inherit; background: #fff; }
        button, .button { padding: 8px 14px; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 8px; font: inherit; cursor: pointer; white-space: nowrap; }
        .button.secondary { background: #fff; color: var(--accent); }
        .filter-error { background: #fef2f2; color: #991b1b; border: 1px solid #fecaca; border-radius: 8px; padding: 8px 12px; margin-bottom: 12px; }
        .pager { display: flex; gap: 8px; margin-top: 12px; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 6px 24px; margin: 0; }
        dl.facts dt { color: var(--muted); }
        dl.facts dd { margin: 0; word-break: break-word; }
        .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); gap: 16px; }
        .chart { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 12px; }
        .chart h3 { margin: 0 0 6px; font-size: 14px; }
        .chart svg { width: 100%; height: auto; display: block; }
        .artifacts { display: grid; grid-template-columns: minmax(240px, 1fr) 2fr; gap: 16px; align-items: start; }
        ul.tree { list-style: none; margin: 0; padding: 0; }
        ul.tree li { padding: 3px 0; display: flex; justify-content: space-between; gap: 12px; }
        ul.tree li.selected a { font-weight: 700; }
        ul.tree .dir { font-weight: 600; color: #374151; }
        .preview pre { margin: 0; max-height: 520px; overflow: auto; background: #0f172a; color: #e2e8f0; padding: 12px; border-radius: 8px; font-size: 12.5px; white-space: pre-wrap; word-break: break-word; }
        .preview img { max-width: 100%; border: 1px solid var(--line); border-radius: 8px; }
        .preview-head { display: flex; justify-content: space-between; align-items: center; margin-bottom: 8px; }
        .notice { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 32px; max-width: 640px; }
        .notice.error h1 { color: #991b1b; }
        .empty { color: var(--muted); padding: 16px; }
        .page-head { display: flex; justify-content: space-between; align-items: flex-start; gap: 16px; }
        .page-head .actions { display: flex; gap: 8px; align-items: flex-start; }
        details.action { position: relative; }
        details.action > summary { list-style: none; display: inline-block; }
        details.action > summary::-webkit-details-marker { display: none; }
        details.action[open] > .action-form { position: absolute; right: 0; top: 42px; z-index: 5; }
        .action-form { display: flex; gap: 8px; align-items: flex-end; background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 12px; box-shadow: 0 8px 24px rgba(15, 23, 42, .12); white-space: nowrap; }
        .action-form label, .stack-form label { display: flex; flex-direction: column; gap: 4px; font-size: 12px; color: var(--muted); }
        input[type=text], textarea, select { padding: 7px 10px; border: 1px solid var(--line); border-radius: 8px; font: inherit; background: #fff; color: var(--text); }
        textarea { width: 100%; resize: vertical; }
        .stack-form { display: flex; flex-direction: column; gap: 8px; align-items: flex-start; }
        .stack-form label.check, label.check { flex-direction: row; align-items: center; color: var(--text); font-size: 13px; }
        .row-form { display: flex; gap: 8px; margin-top: 10px; }
        form.inline { display: inline; }
        button.danger { background: #fff; color: #b91c1c; border-color: #fca5a5; }
        button.danger:hover { background: #fef2f2; }
        button.link, summary.link { background: none; border: none; color: var(--accent); padding: 0 4px; cursor: pointer; font: inherit; }
        .edit-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); gap: 16px; }
        .edit-grid h2 { margin-top: 0; }
        ul.chips { list-style: none; padding: 0; margin: 0 0 6px; display: flex; flex-wrap: wrap; gap: 6px; }
        ul.chips li { display: inline-flex; align-items: center; }
        .form-error { margin-top: 10px; }
        .table-actions { display: flex; gap: 12px; align-items: center; margin-bottom: 10px; }
        th.select, td.select { width: 28px; padding-right: 0; }
        .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
        tr.diff td { background: #fffbeb; }
        tr.diff td:first-child { box-shadow: inset 3px 0 0 #f59e0b; font-weight: 600; }
        .section-head { display: flex; align-items: baseline; justify-content: space-between; }
        .toggle { font-size: 13px; }
        .legend { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0 14px; }
        .legend-item { display: inline-flex; align-items: center; gap: 6px; }
        .sidebar .nav-section { color: #6b7280; font-size: 11px; text-transform: uppercase; letter-spacing: .06em; padding: 14px 10px 4px; }
        form.filters { display: flex; flex-wrap: wrap; gap: 10px; align-items: flex-end; margin: 12px 0 16px; }
        form.filters label { display: flex; flex-direction: column; gap: 4px; font-size: 12px; color: var(--muted); }
        form.filters input[type=text] { width: 150px; }
        .stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 12px; margin: 12px 0 16px; }
        .stat { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
        .stat-label { color: var(--muted); font-size: 12px; }
        .stat-value { font-size: 20px; font-weight: 650; font-variant-numeric: tabular-nums; }
        .chat { display: flex; flex-direction: column; gap: 10px; max-width: 900px; }
        .bubble { border: 1px solid var(--line); border-radius: 12px; padding: 10px 14px; background: var(--panel); }
        .bubble.role-user { background: #eff6ff; border-color: #bfdbfe; margin-right: 15%; }
        .bubble.role-assistant { background: #f0fdf4; border-color: #bbf7d0; margin-left: 15%; }
        .bubble.role-system { background: #f9fafb; font-size: 13px; }
        .bubble.role-tool { background: #fffbeb; border-color: #fde68a; }
        .bubble-role { font-size: 11px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin-bottom: 4px; }
        .bubble-text { white-space: pre-wrap; word-break: break-word; }
        .bubble-tool { margin-top: 6px; background: #f3f4f6; border-radius: 6px; padding: 6px 8px; white-space: pre-wrap; word-break: break-all; }
        details.raw { margin-top: 12px; }
        details.raw pre { max-height: 420px; overflow: auto; background: #0f172a; color: #e2e8f0; padding: 12px; border-radius: 8px; font-size: 12px; white-space: pre-wrap; word-break: break-word; }
        .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 3px; margin-right: 6px; vertical-align: middle; }
        form.filters input.short { width: 90px; }
        td.trace-name .alias { margin-left: 6px; }
        .trace-tree { position: relative; background: var(--panel); border: 1px solid var(--line); border-radius: 10px; overflow: auto; max-height: 70vh; }
        .tree-head, .tree-row { display: grid; grid-template-columns: minmax(300px, 2.4fr) 84px minmax(110px, 1fr) 72px 76px 72px minmax(220px, 3fr); gap: 0 10px; align-items: center; padding: 3px 12px; min-width: 1060px; }
        .tree-head { position: sticky; top: 0; z-index: 1; background: #f9fafb; border-bottom: 1px solid var(--line); font-size: 12px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; padding-top: 8px; padding-bottom: 8px; }
        .tree-row { border-bottom: 1px solid #f1f3f5; font-size: 13px; }
        .tree-row[hidden] { display: none; }
        .tree-row:hover { background: #f9fafb; }
        .tree-row.selected { background: #eff6ff; box-shadow: inset 3px 0 0 var(--accent); }
        .tree-row.status-error .span-link { color: #b91c1c; }
        .tree-row.loading { opacity: .6; }
        .tree-row.tree-error { color: #991b1b; padding-left: 40px; }
        .tree-name { display: flex; align-items: center; gap: 6px; min-width: 0; white-space: nowrap; }
        .tree-name .span-link { overflow: hidden; text-overflow: ellipsis; }
        .tree-toggle, .tree-toggle-spacer { flex: none; width: 16px; text-align: center; color: var(--muted); }
        .tree-toggle:hover { color: var(--accent); text-decoration: none; }
        .child-count { font-size: 11px; color: var(--muted); background: #f3f4f6; border-radius: 999px; padding: 0 6px; }
        .tree-type, .tree-model { color: var(--muted); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
        .tree-num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        .tree-ticks { display: flex; justify-content: space-between; text-transform: none; letter-spacing: 0; font-weight: 500; }
        .tree-track { position: relative; height: 12px; background: #f3f4f6; border-radius: 3px; }
        .tree-bar { position: absolute; top: 0; bottom: 0; min-width: 2px; border-radius: 3px; background: #94a3b8; }
        .tree-row.status-error .tree-bar { background: #ef4444; }
        .tree-more .tree-name { padding-top: 4px; padding-bottom: 4px; }
        .tree-foot { margin: 8px 0 16px; font-size: 13px; }
        .type-icon { flex: none; display: inline-flex; align-items: center; justify-content: center; width: 18px; height: 18px; border-radius: 4px; font-size: 11px; font-weight: 700; color: #fff; background: #94a3b8; }
        .type-generation { background: #7c3aed; }
        .type-embedding { background: #0891b2; }
        .type-tool { background: #d97706; }
        .type-retrieval { background: #059669; }
        .type-agent { background: #db2777; }
        .type-chain { background: #2563eb; }
        .span-detail { margin-top: 8px; }
        .span-detail-head { display: flex; align-items: center; gap: 10px; }
        .span-detail-head h2 { margin: 0; }
        .span-detail h3 { font-size: 14px; margin: 20px 0 8px; }
        .stat-value.small { font-size: 15px; word-break: break-word; }
        pre.io-block { margin: 0; max-height: 480px; overflow: auto; background: #0f172a; color: #e2e8f0; padding: 12px; border-radius: 8px; font-size: 12.5px; white-space: pre-wrap; word-break: break-word; }
        pre.io-inline { margin: 0; font-size: 12px; white-space: pre-wrap; word-break: break-word; }
        .title-badge { margin-left: 10px; vertical-align: middle; }
        table.kv td:first-child { width: 1%; }
        .conversation { display: flex; flex-direction: column; gap: 18px; max-width: 900px; }
        .turn-head { display: flex; gap: 10px; align-items: baseline; margin-bottom: 6px; font-size: 13px; }
        .prompt-label { display: inline-block; padding: 1px 8px; margin: 0 4px 2px 0; border-radius: 999px; font-size: 12px; font-weight: 600; background: #eef2ff; color: #3730a3; border: 1px solid #c7d2fe; white-space: nowrap; }
        a.prompt-label:hover { text-decoration: none; filter: brightness(.96); }
        .prompt-label.label-production { background: #dcfce7; color: #166534; border-color: #bbf7d0; }
        .prompt-label.label-staging { background: #fef3c7; color: #92400e; border-color: #fde68a; }
        .prompt-label.label-latest { background: #f3f4f6; color: #374151; border-color: #e5e7eb; }
        td.prompt-name a.muted { margin-right: 1px; }
        .label-row { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; }
        .label-chip { display: inline-flex; align-items: center; }
        .label-chip .prompt-label { margin-right: 0; }
        tr.selected td { background: #eff6ff; }
        tr.selected td:first-child { box-shadow: inset 3px 0 0 var(--accent); }
        .prompt-view { display: grid; grid-template-columns: minmax(0, 2fr) minmax(260px, 1fr); gap: 16px; align-items: start; }
        .prompt-view .card { margin-bottom: 0; }
        .prompt-side h3, .variables-panel h3 { font-size: 13px; margin: 16px 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; }
        .variables-panel h3 { margin-top: 0; }
        .diff-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(360px, 1fr)); gap: 16px; }
        .diff-grid h3 { font-size: 14px; margin: 0 0 6px; }
        .diff-lines { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 6px 0; overflow-x: auto; font-size: 12.5px; }
        .diff-line { white-space: pre-wrap; word-break: break-word; padding: 0 12px 0 4px; min-height: 1.5em; }
        .diff-line.op-add { background: #dcfce7; color: #14532d; }
        .diff-line.op-del { background: #fee2e2; color: #7f1d1d; }
        .diff-op { display: inline-block; width: 1.6em; color: var(--muted); user-select: none; text-align: center; }
        td.num.bad { color: #b91c1c; font-weight: 600; }
        .editor-grid { display: grid; grid-template-columns: minmax(0, 3fr) minmax(220px, 1fr); gap: 16px; align-items: start; }
        .editor-main { display: flex; flex-direction: column; gap: 12px; margin-bottom: 0; }
        .editor-main h3 { font-size: 14px; margin: 8px 0 0; }
        .prompt-editor .field { display: flex; flex-direction: column; gap: 4px; font-size: 12px; color: var(--muted); }
        .prompt-editor .field-label { font-size: 12px; color: var(--muted); }
        .prompt-editor input[readonly] { background: #f3f4f6; color: var(--muted); }
        .type-choice { flex-direction: row !important; align-items: center; gap: 14px !important; }
        .config-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 10px; }
        .when-chat { display: flex; flex-direction: column; gap: 8px; }
        .message-row { display: grid; grid-template-columns: 130px minmax(0, 1fr); gap: 8px; align-items: start; }
        .prompt-editor:has(input[name="Draft.Type"][value="chat"]:checked) .when-text { display: none; }
        .prompt-editor:has(input[name="Draft.Type"][value="text"]:checked) .when-chat { display: none; }
        .variables-panel { position: sticky; top: 16px; }
        .picker-row { display: flex; flex-wrap: wrap; gap: 0 28px; align-items: flex-end; }
        .playground { display: grid; grid-template-columns: minmax(340px, 5fr) minmax(0, 7fr); gap: 16px; align-items: start; }
        .playground-side .card { margin-bottom: 16px; }
        .playground-side h3, .playground-runs h3, .compare-templates h3 { font-size: 13px; margin: 0 0 8px; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; }
        .playground .field { display: flex; flex-direction: column; gap: 4px; font-size: 12px; color: var(--muted); }
        .playground .small-note { font-size: 12px; margin-bottom: 8px; }
        .variable-inputs { display: flex; flex-direction: column; gap: 8px; }
        .variable-field .mono { color: #3730a3; }
        .model-list { display: flex; flex-wrap: wrap; gap: 6px 18px; }
        .model-check { display: inline-flex; gap: 6px; align-items: center; }
        .run-bar { display: flex; gap: 12px; align-items: center; margin: 0 0 16px; }
        .run-bar button:disabled { opacity: .55; cursor: default; }
        .run-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 16px; }
        .run-cell { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 12px; min-width: 240px; white-space: normal; }
        .compare-grid .run-cell { border: none; padding: 0; }
        .compare-grid td { min-width: 260px; }
        .run-head { display: flex; flex-wrap: wrap; gap: 8px; align-items: baseline; margin-bottom: 8px; }
        .run-model { font-weight: 600; }
        .run-state { margin-left: auto; font-size: 12px; }
        .run-cell[data-state=failed] .run-state { color: #b91c1c; }
        .run-cell[data-state=done] .run-state { color: #166534; }
        pre.run-output { margin: 0 0 10px; min-height: 3em; max-height: 420px; overflow: auto; background: #f9fafb; border: 1px solid var(--line); border-radius: 8px; padding: 10px; font: inherit; white-space: pre-wrap; word-break: break-word; }
        .run-output:empty { display: none; }
        dl.run-metrics { font-size: 12.5px; gap: 2px 14px; }
        .run-foot { margin-top: 8px; font-size: 13px; }
        .compare-templates { margin-bottom: 16px; }
        .compare-templates .card { margin-bottom: 0; }
        .compare-templates pre.io-inline { margin-top: 8px; }
        """;
}
