/** app.css: plain styles, light and dark. Status colours only repeat the status words next to them. */
export const STYLES_CSS = String.raw`
:root {
  --bg: #ffffff; --fg: #1b2330; --muted: #5b6575; --border: #d5dae1; --rule: #eceff3; --panel: #f6f7f9;
  --code-bg: #f3f5f8; --accent: #1f5fbf; --accent-fg: #ffffff; --danger: #b42318; --grid: #e3e7ec;
  --hatch-bg: #f4f5f7; --hatch: #8b94a3;
  --ok: #2f9e52; --bad: #d93636; --attempt: #f0a35e; --run: #2b6cdf; --wait-bg: #fff7e6; --wait-edge: #d98a00;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #14181f; --fg: #e5e9f0; --muted: #9aa5b4; --border: #39414d; --rule: #232a33; --panel: #1b2029;
    --code-bg: #1d232c; --accent: #6ea1ff; --accent-fg: #0b1220; --danger: #ff8a80; --grid: #262d37;
    --hatch-bg: #1f252e; --hatch: #7d8796; --wait-bg: #2a2314;
  }
}
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1180px; padding: 0 1.25rem 3rem; background: var(--bg); color: var(--fg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
a { color: var(--accent); }
code, .mono, pre, textarea.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; }
h1 { font-size: 1.5rem; margin: 0.5rem 0 0.25rem; display: flex; align-items: center; gap: 0.6rem; flex-wrap: wrap; }
h2 { font-size: 1.1rem; margin: 1.6rem 0 0.5rem; }
h1:focus, main:focus { outline: none; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.muted, .hint { color: var(--muted); }
.hint { display: block; font-size: 0.85rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 0.5rem; background: var(--bg); padding: 0.3rem 0.6rem; z-index: 2; }

header.site { display: flex; align-items: center; gap: 1rem; flex-wrap: wrap; padding: 0.75rem 0; border-bottom: 1px solid var(--border); }
.brand { font-weight: 700; font-size: 1.1rem; color: var(--fg); text-decoration: none; }
.api-root { font-size: 0.85rem; }
.token-panel { margin-left: auto; position: relative; }
.token-panel summary { cursor: pointer; }
.token-form { position: absolute; right: 0; z-index: 3; width: min(26rem, 90vw); background: var(--bg); border: 1px solid var(--border);
  border-radius: 8px; padding: 0.8rem; box-shadow: 0 6px 24px rgb(0 0 0 / 0.15); display: flex; flex-direction: column; gap: 0.4rem; }
.flash:empty, .notice:empty { display: none; }
.flash, .notice { background: var(--panel); border-left: 4px solid var(--accent); padding: 0.4rem 0.8rem; margin: 0.75rem 0; }
.error { color: var(--danger); border-left: 4px solid var(--danger); padding: 0.4rem 0.8rem; margin: 0.5rem 0; background: var(--panel); }

button { font: inherit; line-height: 1.3; padding: 0.35rem 0.9rem; border-radius: 6px; border: 1px solid var(--border); background: var(--panel); color: var(--fg); cursor: pointer; }
button:hover:not(:disabled) { border-color: var(--fg); }
button:disabled { opacity: 0.45; cursor: not-allowed; }
button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-fg); }
button.danger { background: var(--danger); border-color: var(--danger); color: var(--bg); }
button.danger-outline { color: var(--danger); }
input, select, textarea { font: inherit; line-height: 1.3; color: inherit; background: var(--bg); border: 1px solid var(--border); border-radius: 6px; padding: 0.35rem 0.5rem; }
input[type="checkbox"] { width: 1.1rem; height: 1.1rem; }
.field { display: flex; flex-direction: column; gap: 0.2rem; margin: 0.4rem 0; }
.field-check { flex-direction: row; align-items: center; gap: 0.45rem; }
.optional { color: var(--muted); font-weight: normal; }
fieldset { border: 1px solid var(--border); border-radius: 6px; padding: 0.4rem 0.9rem 0.6rem; margin: 0.5rem 0; }
legend { font-weight: 600; padding: 0 0.3rem; }
.form-buttons { display: flex; gap: 0.5rem; margin-top: 0.5rem; }

.status { display: inline-flex; align-items: center; gap: 0.35em; padding: 0.05em 0.6em; border-radius: 999px; font-size: 0.85rem;
  font-weight: 600; border: 1px solid; white-space: nowrap; }
.status .dot { width: 0.55em; height: 0.55em; border-radius: 50%; background: currentColor; }
.status-scheduled { color: #3d4757; background: #eef1f5; }
.status-running { color: #1746a2; background: #e6f0ff; }
.status-waiting { color: #7a4a00; background: #fff4de; }
.status-paused { color: #553089; background: #f1eafd; }
.status-succeeded { color: #1d6b35; background: #e5f6ea; }
.status-failed { color: #9b1c1c; background: #fde8e8; }
.status-cancelled { color: #444a52; background: #ececec; }

.filters { display: flex; flex-wrap: wrap; align-items: flex-end; gap: 0.4rem 1rem; margin: 0.75rem 0; }
.filters .field { margin: 0; }
.filters .live { margin-left: auto; font-size: 0.9rem; align-self: center; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 0.92rem; }
th, td { text-align: left; padding: 0.4rem 0.6rem; border-bottom: 1px solid var(--rule); vertical-align: top; }
th { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.03em; color: var(--muted); border-bottom: 1px solid var(--border); }
tbody tr:hover { background: var(--panel); }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.waiting, td.detail { color: var(--muted); }
table.flows a { word-break: break-all; }
.empty { padding: 1.5rem; text-align: center; color: var(--muted); border: 1px dashed var(--border); border-radius: 8px; }
.pager { display: flex; align-items: center; gap: 1rem; justify-content: center; margin-top: 1rem; }

.back { margin: 0.75rem 0 0; }
.flow-id { margin: 0 0 0.75rem; color: var(--muted); }
.actions { display: flex; flex-wrap: wrap; gap: 0.5rem; margin: 0.5rem 0 1rem; }
.summary { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: 0.6rem 1.2rem; margin: 0; padding: 0.8rem 1rem;
  background: var(--panel); border-radius: 8px; }
.summary dt { font-size: 0.8rem; color: var(--muted); }
.summary dd { margin: 0; }
ul.plain { margin: 0; padding: 0; list-style: none; }
.io { display: grid; grid-template-columns: 1fr 1fr; gap: 0 1.5rem; }
@media (max-width: 760px) { .io { grid-template-columns: 1fr; } }
pre.json { margin: 0; max-height: 18rem; overflow: auto; background: var(--code-bg); padding: 0.6rem 0.8rem; border-radius: 6px; font-size: 0.85rem; }
.error-block p { margin: 0 0 0.4rem; color: var(--danger); }

.interrupt { border: 1px solid var(--wait-edge); border-left-width: 5px; background: var(--wait-bg); border-radius: 8px; padding: 0.2rem 1rem 0.9rem; margin: 1rem 0; }
.offer { border: 1px solid var(--border); border-radius: 8px; padding: 0.2rem 1rem 0.9rem; margin: 1rem 0; }
.interrupt h2, .offer h2 { margin-top: 0.6rem; }
.interrupt input:not([type="checkbox"]), .interrupt select, .interrupt textarea,
.offer input:not([type="checkbox"]), .offer select, .offer textarea { max-width: 28rem; }
.query-output pre.json { margin-top: 0.3rem; }
.form-error .error { margin-top: 0.6rem; }

.timeline-wrap { overflow-x: auto; border: 1px solid var(--rule); border-radius: 8px; padding: 0.25rem 0.25rem 0; }
svg.timeline { display: block; width: 100%; min-width: 640px; height: auto; }
svg.timeline text { font-size: 12px; fill: var(--fg); }
svg.timeline .axis text { fill: var(--muted); font-size: 11px; }
svg.timeline .grid { stroke: var(--grid); }
svg.timeline .row-rule { stroke: var(--rule); }
svg.timeline .row-kind { fill: var(--muted); font-size: 11px; }
svg.timeline .row-flow .row-label { font-weight: 600; }
svg.timeline .row-summary { fill: var(--muted); font-variant-numeric: tabular-nums; }
.seg-run { fill: var(--ok); }
.seg-running { fill: var(--run); }
.seg-fail { fill: var(--bad); }
.seg-attempt { fill: var(--attempt); }
.seg-wait, .seg-paused { stroke: var(--hatch); stroke-width: 1; }
.seg-paused { stroke: #8a5cd1; }
.hatch-bg { fill: var(--hatch-bg); }
.hatch-line { stroke: var(--hatch); stroke-width: 2; }
.mark-attempt { stroke: var(--fg); stroke-width: 2; }
.mark-round { fill: var(--bg); stroke: var(--fg); stroke-width: 1.5; }
.mark-answer { fill: var(--run); stroke: var(--bg); stroke-width: 1.5; }
.mark-instant { fill: #8a5cd1; }
.mark-reject { stroke: var(--bad); stroke-width: 2.5; fill: none; }
.now line { stroke: var(--run); stroke-dasharray: 4 3; }
.now text { fill: var(--run) !important; font-size: 11px; }
.legend { display: flex; flex-wrap: wrap; gap: 0.3rem 0.9rem; list-style: none; padding: 0; margin: 0.5rem 0 0; font-size: 0.85rem; color: var(--muted); }
.swatch { display: inline-block; width: 1.4rem; height: 0.75rem; border-radius: 2px; vertical-align: middle; margin-right: 0.35rem; }
.sw-run { background: var(--ok); } .sw-running { background: var(--run); } .sw-fail { background: var(--bad); } .sw-attempt { background: var(--attempt); }
.hatched { background: repeating-linear-gradient(45deg, var(--hatch-bg) 0 3px, var(--hatch) 3px 5px); border: 1px solid var(--hatch); }
.hatched.sw-paused { border-color: #8a5cd1; }
.sw-tick { width: 2px; height: 1rem; background: var(--fg); }
.sw-dot { width: 0.6rem; height: 0.6rem; border-radius: 50%; border: 1.5px solid var(--fg); }

ol.steps { list-style: none; padding: 0; margin: 0; border: 1px solid var(--rule); border-radius: 8px; }
ol.steps li { border-bottom: 1px solid var(--rule); }
ol.steps li:last-child { border-bottom: 0; }
ol.steps summary { cursor: pointer; padding: 0.45rem 0.8rem; display: flex; gap: 0.6rem; align-items: baseline; flex-wrap: wrap; }
ol.steps details[open] summary { background: var(--panel); }
ol.steps details > :not(summary) { margin: 0.5rem 0.8rem 0.8rem; }
.step-name { font-weight: 600; }
.step-kind { color: var(--muted); font-size: 0.85rem; }
.ok { color: var(--ok); } .bad { color: var(--bad); }
.step-meta { margin-left: auto; color: var(--muted); font-size: 0.85rem; }

dialog.confirm { border: 1px solid var(--border); border-radius: 10px; padding: 1rem 1.25rem; max-width: 30rem; background: var(--bg); color: var(--fg); }
dialog.confirm::backdrop { background: rgb(0 0 0 / 0.4); }
dialog.confirm h2 { margin-top: 0.2rem; }
.dialog-buttons { display: flex; justify-content: flex-end; gap: 0.5rem; margin-top: 1rem; }
dialog .field input, dialog input { width: 100%; }
`;
