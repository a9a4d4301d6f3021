/**
 * flow-view.js: one flow's page. Its state and actions, a form for the interrupt it waits for and for each
 * signal it may take, input and output or error, its queries, the timeline, every step (expandable) and the
 * event history. Polls every two seconds; a re-render keeps focus, open steps, whatever the user typed into
 * a form, and the last query result.
 */
export const FLOW_VIEW_JS = String.raw`
import { h, replaceChildren, statusBadge, timeEl, fmtAgo, fmtDuration, jsonBlock, describeWait, keepFocus } from "./dom.js";
import { ACTIONS, allowedActions, whyDisabled } from "./actions.js";
import { interruptForm, offeredSignals, signalForm } from "./wait-forms.js";
import { queryForm } from "./query-form.js";
import { buildTimeline, renderTimeline } from "./timeline.js";

const POLL_MS = 2000;
const DONE_WORDS = { pause: "Paused.", continue: "Continued.", cancel: "Cancelled.", retry: "Retry scheduled: the flow runs again from the step that failed." };

export function createFlowView({ api, id, confirm, navigate, authHint, focus }) {
  const head = h("header", { class: "flow-head" });
  const actionsBar = h("div", { class: "actions", role: "group", "aria-label": "Actions on this flow" });
  const notice = h("p", { class: "notice", role: "status" });
  const alertBox = h("div", { class: "alert-slot", role: "alert" });
  const formSlot = h("div");
  const summary = h("section", { "aria-label": "Summary" });
  const io = h("div", { class: "io" });
  const querySlot = h("div");
  const timeline = h("section", { "aria-labelledby": "timeline-title" });
  const stepsSlot = h("section", { "aria-labelledby": "steps-title" });
  const historySlot = h("section", { "aria-labelledby": "history-title" });
  const element = h("article", { class: "flow-page" },
    h("p", { class: "back" }, h("a", { href: "#/" }, "← All flows")),
    head, actionsBar, notice, alertBox, formSlot, summary, io, querySlot, timeline, stepsSlot, historySlot);
  let detail = null, signature = "", formKey = null, queryKey = null, timer = 0, disposed = false, busy = false, wantFocus = !!focus;

  function say(text) { notice.textContent = text; }
  function fail(text) { replaceChildren(alertBox, text ? h("p", { class: "error" }, text) : null); }

  async function refresh() {
    let d;
    try {
      d = await api.getFlow(id);
    } catch (e) {
      if (disposed) return;
      if (e.code === "FLOW_NOT_FOUND") {
        stop();
        replaceChildren(head, h("h1", { id: "flow-title", tabindex: "-1" }, "Flow not found"));
        replaceChildren(summary, h("p", {}, "No flow with id ", h("code", {}, id), " exists (it may have been deleted)."));
        [actionsBar, formSlot, io, querySlot, timeline, stepsSlot, historySlot].forEach((el) => replaceChildren(el));
        return;
      }
      fail(e.isAuth ? authHint(e) : "Could not load the flow: " + e.message);
      return;
    }
    if (disposed) return;
    fail("");
    detail = d;
    const sig = JSON.stringify([d.record.rev, d.record.updatedAt, d.history.length]);
    const now = Date.now();
    if (sig !== signature) {
      signature = sig;
      keepFocus(element, () => {
        renderHead(d);
        renderActions();
        renderIO(d);
        renderSteps(d);
        renderHistory(d);
      });
      renderForm(d);
      renderQueries(d);
      if (wantFocus) document.getElementById("flow-title").focus();
      wantFocus = false;
    }
    renderSummary(d, now);
    renderTimelineSection(d, now);
  }

  function renderHead(d) {
    const m = d.operation.metadata;
    document.title = m.flowName + " " + id + " · Firestep";
    replaceChildren(head,
      h("h1", { id: "flow-title", tabindex: "-1", "data-key": "title" }, m.flowName, " ", statusBadge(m.status)),
      h("p", { class: "flow-id" }, "Flow id ", h("code", {}, id)));
  }

  function renderActions() {
    const status = detail.operation.metadata.status;
    const allowed = allowedActions(status);
    replaceChildren(actionsBar, ACTIONS.map((a) => {
      const ok = allowed.includes(a.name);
      return h("button", { type: "button", class: a.danger ? "danger-outline" : null, "data-key": "action:" + a.name,
        disabled: !ok || busy, title: ok ? a.explain : whyDisabled(a, status), onclick: () => act(a) }, a.label);
    }));
  }

  async function act(a) {
    const m = detail.operation.metadata;
    const answer = await confirm.ask({
      title: a.label + " this flow?",
      text: a.label + " " + m.flowName + " (" + id + ")? " + a.explain,
      confirmLabel: a.label + " flow",
      danger: a.danger,
      reason: a.reason,
    });
    if (!answer.ok) return;
    busy = true;
    keepFocus(element, renderActions);
    say("");
    fail("");
    try {
      if (a.name === "delete") {
        await api.remove(id);
        stop();
        navigate("#/", "Deleted flow " + id + ".");
        return;
      }
      await api.control(id, a.name, a.name === "cancel" && answer.reason ? { reason: answer.reason } : undefined);
      say(DONE_WORDS[a.name]);
    } catch (e) {
      fail(e.isAuth ? authHint(e) : a.label + " failed: " + e.message + " (" + e.code + ")");
    } finally {
      busy = false;
      signature = "";
      if (!disposed) await refresh();
      // The button that was pressed may now be disabled, which drops focus to the body: land on the title instead.
      const active = document.activeElement;
      if (!disposed && (!active || active === document.body || active.disabled)) document.getElementById("flow-title").focus();
    }
  }

  /** The interrupt's form and one per signal offered; rebuilt only when those change, so typing survives polls. */
  function renderForm(d) {
    const op = d.operation;
    const b = op.blockedOnStep;
    const signals = offeredSignals(d);
    const key = op.done ? "" : JSON.stringify([b ? [b.name, b.schema] : null, signals]);
    if (key === formKey) return;
    const hadFocus = formSlot.contains(document.activeElement);
    formKey = key;
    const onSent = async (text) => {
      say(text);
      signature = "";
      await refresh();
    };
    const forms = op.done ? [] : [
      b ? interruptForm({ api, id, blocked: b, authHint, onSent }) : null,
      ...signals.map((signal) => signalForm({ api, id, signal, authHint, onSent })),
    ].filter(Boolean);
    replaceChildren(formSlot, forms);
    if (hadFocus && !formSlot.contains(document.activeElement)) document.getElementById("flow-title").focus();
  }

  /** The query form, or why neither signals nor queries are offered; rebuilt only when the definition changes, so a result stays. */
  function renderQueries(d) {
    const def = d.definition;
    const key = JSON.stringify(def ? [def.known, def.message, def.queries] : null);
    if (key === queryKey) return;
    queryKey = key;
    replaceChildren(querySlot, !def ? null
      : !def.known ? h("p", { class: "definition-unknown hint" }, "Signals and queries: ", def.message)
      : def.queries.length ? queryForm({ api, id, queries: def.queries, authHint }) : null);
  }

  function renderSummary(d, now) {
    const r = d.record, m = d.operation.metadata;
    const rows = [
      ["Status", statusBadge(m.status)],
      ["Started", timeEl(r.createdAt)],
      ["First ran", r.startedAt ? timeEl(r.startedAt) : "not yet"],
      r.finishedAt ? ["Finished", h("span", {}, timeEl(r.finishedAt), " (took " + fmtDuration(r.finishedAt - r.createdAt) + ")")] : null,
      ["Last update", timeEl(r.updatedAt, fmtAgo(r.updatedAt, now))],
      ["Steps stored", String(r.stepCount)],
      (r.waits || []).length ? ["Waiting for", h("ul", { class: "plain" }, r.waits.map((w) => h("li", {}, describeWait(w))))] : null,
      m.wakeAt && !r.finishedAt ? ["Next wake-up", timeEl(m.wakeAt)] : null,
      r.version ? ["Version", r.version] : null,
    ].filter(Boolean);
    replaceChildren(summary, h("dl", { class: "summary" }, rows.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v)))));
  }

  function renderIO(d) {
    const res = d.operation.result;
    const out = !res ? h("p", { class: "muted" }, d.operation.done ? "No result." : "Not finished yet.")
      : "response" in res ? jsonBlock(res.response, "Output")
      : errorBlock(res.error);
    replaceChildren(io,
      h("section", { "aria-labelledby": "input-title" }, h("h2", { id: "input-title" }, "Input"), jsonBlock(d.record.input, "Input")),
      h("section", { "aria-labelledby": "output-title" }, h("h2", { id: "output-title" }, res && "error" in res ? "Error" : "Output"), out));
  }

  function renderTimelineSection(d, now) {
    const model = buildTimeline(d, now);
    replaceChildren(timeline, h("h2", { id: "timeline-title" }, "Timeline"),
      h("div", { class: "timeline-wrap" }, renderTimeline(model)), legend());
  }

  function renderSteps(d) {
    const open = new Set([...stepsSlot.querySelectorAll("details[open]")].map((el) => el.dataset.step));
    const steps = d.steps.slice().sort((a, b) => a.call - b.call);
    replaceChildren(stepsSlot, h("h2", { id: "steps-title" }, "Steps (" + steps.length + ")"),
      steps.length ? h("ol", { class: "steps" }, steps.map((s) => h("li", {},
        h("details", { "data-step": s.key, open: open.has(s.key) },
          h("summary", { "data-key": "step:" + s.key },
            h("span", { class: "step-name" }, s.key), " ",
            h("span", { class: "step-kind" }, s.kind), " ",
            h("span", { class: s.ok ? "ok" : "bad" }, s.ok ? "✓ completed" : "✗ failed"),
            h("span", { class: "step-meta" }, (s.attempts > 1 ? s.attempts + " attempts · " : "") + fmtDuration(s.endedAt - s.startedAt) + " · ", timeEl(s.startedAt))),
          s.ok ? jsonBlock(s.value, "Result of " + s.key) : errorBlock(s.error)))))
        : h("p", { class: "muted" }, "No step has completed yet."));
  }

  function renderHistory(d) {
    const start = d.record.createdAt;
    replaceChildren(historySlot, h("h2", { id: "history-title" }, "History"),
      h("div", { class: "table-wrap" }, h("table", { class: "history" },
        h("caption", { class: "visually-hidden" }, "Events of this flow, oldest first"),
        h("thead", {}, h("tr", {}, ["Time", "Since start", "Event", "Step", "Attempt", "Duration", "Detail"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, d.history.map((e) => h("tr", {},
          h("td", {}, timeEl(e.at)),
          h("td", { class: "num" }, "+" + fmtDuration(e.at - start)),
          h("td", {}, h("code", {}, e.type)),
          h("td", {}, e.step || ""),
          h("td", { class: "num" }, e.attempt === undefined ? "" : String(e.attempt)),
          h("td", { class: "num" }, e.durationMs === undefined ? "" : fmtDuration(e.durationMs)),
          h("td", { class: "detail" }, e.detail || "")))))));
  }

  function loop() {
    timer = setTimeout(async () => {
      if (!document.hidden) await refresh();
      if (!disposed) loop();
    }, POLL_MS);
  }
  function stop() { disposed = true; clearTimeout(timer); }

  refresh().then(() => { if (!disposed) loop(); });
  return { element, dispose: stop };
}

function errorBlock(err) {
  if (!err) return h("p", { class: "muted" }, "No error recorded.");
  return h("div", { class: "error-block" },
    h("p", {}, h("strong", {}, err.code || err.name || "Error"), ": ", err.message || ""),
    h("details", {}, h("summary", {}, "Full error"), jsonBlock(err, "Error")));
}

function legend() {
  const swatch = (cls, hatched) => h("span", { class: "swatch " + cls + (hatched ? " hatched" : ""), "aria-hidden": "true" });
  return h("ul", { class: "legend", "aria-label": "Timeline legend" },
    h("li", {}, swatch("sw-run"), "ran"),
    h("li", {}, swatch("sw-running"), "flow running"),
    h("li", {}, swatch("sw-attempt"), "retried attempt"),
    h("li", {}, swatch("sw-fail"), "failed"),
    h("li", {}, swatch("sw-wait", true), "waiting: sleep, input, back-off, poll"),
    h("li", {}, swatch("sw-paused", true), "paused"),
    h("li", {}, h("span", { class: "swatch sw-tick", "aria-hidden": "true" }), "attempt start"),
    h("li", {}, h("span", { class: "swatch sw-dot", "aria-hidden": "true" }), "poll round, answer"));
}
`;
