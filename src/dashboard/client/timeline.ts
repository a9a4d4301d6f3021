/**
 * timeline.js: a flow's steps as a Gantt-like SVG. buildTimeline turns the stored record, journal and
 * history into rows of segments (ran, failed attempt, waiting) and marks (attempt starts, poll rounds,
 * answers); renderTimeline draws them. Waits (sleeps, interrupts, retry back-offs, polls) are hatched.
 */
export const TIMELINE_JS = String.raw`
import { svg, fmtDuration, fmtDateTime } from "./dom.js";

const FINISHED = new Set(["succeeded", "failed", "cancelled"]);
const WAIT_KINDS = { interrupt: "interrupt", sleep: "sleep", retry: "run", poll: "poll", flows: "waitFor" };

/** The model: { start, end, finished, flow: row, rows: [row] }; row = { key, kind, state, segments, marks, attempts }. */
export function buildTimeline(detail, now) {
  const rec = detail.record;
  const finished = FINISHED.has(rec.status);
  const end = finished && rec.finishedAt ? rec.finishedAt : Math.max(now, rec.updatedAt);
  const history = (detail.history || []).slice().sort((a, b) => a.at - b.at);
  const steps = (detail.steps || []).slice().sort((a, b) => a.call - b.call);
  const eventsByKey = new Map();
  for (const e of history) {
    if (!e.step || !e.type.startsWith("step.")) continue;
    if (!eventsByKey.has(e.step)) eventsByKey.set(e.step, []);
    eventsByKey.get(e.step).push(e);
  }
  const stepByKey = new Map(steps.map((s) => [s.key, s]));
  const waitByKey = new Map((rec.waits || []).map((w) => [w.step, w]));
  const keys = steps.map((s) => s.key);
  for (const k of eventsByKey.keys()) if (!keys.includes(k)) keys.push(k);
  for (const k of waitByKey.keys()) if (!keys.includes(k)) keys.push(k);
  const ctx = { rec, end, history };
  const rows = keys.map((k) => stepRow(k, stepByKey.get(k), eventsByKey.get(k) || [], waitByKey.get(k), ctx));
  const model = { start: rec.createdAt, end, finished, now, flow: flowRow(history, rec, end), rows };
  for (const r of [model.flow].concat(rows)) {
    for (const s of r.segments) model.end = Math.max(model.end, s.to);
    for (const m of r.marks) model.end = Math.max(model.end, m.at);
  }
  if (model.end <= model.start) model.end = model.start + 1;
  return model;
}

function first(events, type) {
  return events.find((e) => e.type === type);
}

function stepRow(key, step, events, wait, ctx) {
  const kind = step ? step.kind : (wait && WAIT_KINDS[wait.kind]) || guessKind(events);
  const row = { key, kind, state: step ? (step.ok ? "succeeded" : "failed") : "pending", segments: [], marks: [], attempts: step ? step.attempts : 0, wait };
  const seg = (from, to, type, label) => {
    if (Number.isFinite(from) && Number.isFinite(to)) row.segments.push({ from, to: Math.max(from, to), type, label });
  };
  const progress = (ctx.rec.progress || {})[key];
  if (kind === "interrupt") {
    const asked = first(events, "step.interrupted");
    const from = asked ? asked.at : step ? step.startedAt : progress ? progress.firstAt : ctx.rec.startedAt || ctx.rec.createdAt;
    // The answer is the flow's first resume after the wait began (the journal keeps only when the wait began and ended).
    const resumed = ctx.history.find((e) => e.type === "flow.resumed" && e.at >= from && (!step || e.at <= step.endedAt));
    const answered = resumed ? resumed.at : step ? step.endedAt : undefined;
    seg(from, answered === undefined ? ctx.end : answered, "wait", step ? "waited for input" : "waiting for input");
    for (const e of events) if (e.type === "step.failed") row.marks.push({ at: e.at, type: "reject", label: e.detail || "payload rejected" });
    if (step) {
      row.marks.push({ at: answered, type: "answer", label: "answered" });
      seg(answered, step.endedAt, step.ok ? "run" : "fail", "taken by the flow");
    }
  } else if (kind === "sleep") {
    const slept = first(events, "step.slept");
    const from = step ? step.startedAt : slept ? slept.at : NaN;
    const until = step && step.value && typeof step.value.until === "number" ? step.value.until : wait ? wait.until : NaN;
    const stop = Math.min(until, FINISHED.has(ctx.rec.status) ? ctx.end : Infinity);
    seg(from, Number.isFinite(stop) ? stop : ctx.end, "wait", "sleep until " + fmtDateTime(until));
    row.until = until;
  } else if (kind === "poll" || kind === "waitFor" || kind === "child") {
    const from = step ? step.startedAt : progress ? progress.firstAt : events.length ? events[0].at : NaN;
    seg(from, step ? step.endedAt : ctx.end, "wait", kind === "poll" ? "polling" : "waiting for other flows");
    for (const e of events) if (e.type === "step.polled") row.marks.push({ at: e.at, type: "round", label: "round " + (e.attempt || "") });
    if (step) row.marks.push({ at: step.endedAt, type: step.ok ? "round" : "reject", label: step.ok ? "done" : "failed" });
    row.attempts = step ? step.attempts : progress ? progress.attempts : 0;
  } else if (kind === "value") {
    if (step) row.marks.push({ at: step.startedAt, type: "instant", label: "value recorded" });
  } else {
    attemptSegments(row, step, events, wait, ctx, seg);
  }
  return row;
}

/** A run or action step: one bar per attempt (from the events' durations), back-offs hatched between. */
function attemptSegments(row, step, events, wait, ctx, seg) {
  let backoffFrom;
  let count = 0;
  for (const e of events) {
    if (!["step.retrying", "step.completed", "step.failed"].includes(e.type) || typeof e.durationMs !== "number") continue;
    const from = e.at - e.durationMs;
    if (backoffFrom !== undefined) seg(backoffFrom, from, "wait", "retry back-off");
    backoffFrom = undefined;
    count++;
    row.marks.push({ at: from, type: "attempt", label: "attempt " + (e.attempt || count) });
    if (e.type === "step.retrying") {
      seg(from, e.at, "attempt", "attempt " + (e.attempt || count) + " failed: " + (e.detail || ""));
      backoffFrom = e.at;
    } else seg(from, e.at, e.type === "step.completed" ? "run" : "fail", e.type === "step.completed" ? "ran" : "failed: " + (e.detail || ""));
  }
  if (backoffFrom !== undefined && !step) {
    const until = wait && wait.kind === "retry" ? wait.until : ctx.end;
    seg(backoffFrom, Math.min(until, ctx.end), "wait", "retry back-off until " + fmtDateTime(until));
  }
  if (step && !row.segments.some((s) => s.type === "run" || s.type === "fail")) {
    seg(step.startedAt, step.endedAt, step.ok ? "run" : "fail", step.ok ? "ran" : "failed");
  }
  if (!step && !row.attempts) row.attempts = count;
  if (row.marks.length < 2) row.marks = row.marks.filter((m) => m.type !== "attempt");
}

function guessKind(events) {
  if (first(events, "step.interrupted")) return "interrupt";
  if (first(events, "step.slept")) return "sleep";
  if (first(events, "step.polled")) return "poll";
  return "run";
}

/** The flow itself: running between flow.started and the outcome, hatched while suspended, paused or not yet started. */
function flowRow(history, rec, end) {
  const row = { key: "flow", kind: "flow", state: rec.status, segments: [], marks: [], attempts: 0 };
  let open = { type: "wait", from: rec.createdAt, label: "scheduled" };
  const close = (at) => {
    if (open && at >= open.from) row.segments.push({ from: open.from, to: at, type: open.type, label: open.label });
    open = null;
  };
  for (const e of history) {
    if (!e.type.startsWith("flow.")) continue;
    switch (e.type) {
      case "flow.started": close(e.at); open = { type: "running", from: e.at, label: "running" }; break;
      case "flow.suspended": close(e.at); open = { type: "wait", from: e.at, label: "suspended" + (e.detail ? ": " + e.detail : "") }; break;
      case "flow.paused": close(e.at); open = { type: "paused", from: e.at, label: "paused" }; break;
      case "flow.continued":
      case "flow.resumed":
      case "flow.retried": close(e.at); open = { type: "wait", from: e.at, label: e.type.slice(5) }; break;
      case "flow.succeeded":
      case "flow.failed":
      case "flow.cancelled": close(e.at); row.marks.push({ at: e.at, type: e.type === "flow.succeeded" ? "round" : "reject", label: e.type.slice(5) }); break;
    }
  }
  if (open) close(FINISHED.has(rec.status) && rec.finishedAt ? rec.finishedAt : end);
  return row;
}

const W = 960, LABEL = 200, RIGHT = 110, AXIS = 26, ROW = 28, BAR = 14;
const STEPS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 216e5, 432e5, 864e5, 1728e5, 6048e5];

/** The SVG for a model. Its text equivalent is the steps list under it. */
export function renderTimeline(model) {
  const rows = [model.flow].concat(model.rows);
  const height = AXIS + rows.length * ROW + 18;
  const plot = W - LABEL - RIGHT;
  const span = model.end - model.start;
  const x = (t) => LABEL + ((Math.min(Math.max(t, model.start), model.end) - model.start) / span) * plot;
  const root = svg("svg", { viewBox: "0 0 " + W + " " + height, class: "timeline", role: "img",
    "aria-label": "Timeline of " + model.rows.length + " steps over " + fmtDuration(span) + ". The step list below has the same information as text." });
  root.append(svg("defs", {},
    svg("pattern", { id: "fs-hatch", width: "6", height: "6", patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
      svg("rect", { width: "6", height: "6", class: "hatch-bg" }),
      svg("line", { x1: "0", y1: "0", x2: "0", y2: "6", class: "hatch-line" }))));

  const tick = STEPS_MS.find((s) => span / s <= 6) || STEPS_MS[STEPS_MS.length - 1];
  const axis = svg("g", { class: "axis", "aria-hidden": "true" });
  for (let t = 0; t <= span + 1e-9; t += tick) {
    const tx = x(model.start + t);
    axis.append(svg("line", { x1: tx, x2: tx, y1: AXIS - 6, y2: height - 4, class: "grid" }),
      svg("text", { x: tx, y: AXIS - 10, "text-anchor": t === 0 ? "start" : "middle" }, t === 0 ? "0" : "+" + fmtDuration(t)));
  }
  axis.append(svg("text", { x: W - RIGHT + 8, y: AXIS - 10 }, "duration"));
  root.append(axis);

  rows.forEach((r, i) => root.append(renderRow(r, AXIS + i * ROW, x, model)));
  if (!model.finished) {
    const nx = x(model.now);
    root.append(svg("g", { class: "now", "aria-hidden": "true" },
      svg("line", { x1: nx, x2: nx, y1: AXIS - 4, y2: height - 16 }),
      svg("text", { x: nx, y: height - 4, "text-anchor": "middle" }, "now")));
  }
  return root;
}

function renderRow(r, top, x, model) {
  const mid = top + ROW / 2;
  const g = svg("g", { class: "row row-" + r.state + (r.kind === "flow" ? " row-flow" : "") });
  g.append(svg("title", {}, rowTitle(r)));
  if (r.kind !== "flow") g.append(svg("line", { x1: 0, x2: W, y1: top + ROW, y2: top + ROW, class: "row-rule" }));
  const name = r.key.length > 24 ? r.key.slice(0, 23) + "…" : r.key;
  g.append(svg("text", { x: 6, y: mid + 4, class: "row-label" }, r.kind === "flow" ? "whole flow" : name,
    r.kind === "flow" ? null : svg("tspan", { class: "row-kind", dx: "6" }, r.kind)));
  for (const s of r.segments) {
    const x1 = x(s.from), x2 = Math.max(x(s.to), x1 + 2);
    const cls = "seg seg-" + s.type + (r.kind === "flow" ? " seg-flow" : "");
    g.append(svg("rect", { x: x1, y: mid - BAR / 2, width: x2 - x1, height: BAR, rx: "2", class: cls,
      fill: s.type === "wait" || s.type === "paused" ? "url(#fs-hatch)" : null }));
  }
  for (const m of r.marks) g.append(markShape(m, x(m.at), mid));
  const total = r.segments.length ? r.segments[r.segments.length - 1].to - r.segments[0].from : NaN;
  const summary = (r.attempts > 1 ? "×" + r.attempts + " " : "") + (Number.isFinite(total) ? fmtDuration(total) : "");
  g.append(svg("text", { x: W - RIGHT + 8, y: mid + 4, class: "row-summary" }, summary));
  return g;
}

function markShape(m, mx, mid) {
  const d = BAR / 2 + 3;
  switch (m.type) {
    case "attempt": return svg("line", { x1: mx, x2: mx, y1: mid - d, y2: mid + d, class: "mark mark-attempt" });
    case "round": return svg("circle", { cx: mx, cy: mid, r: "3", class: "mark mark-round" });
    case "answer": return svg("circle", { cx: mx, cy: mid, r: "4", class: "mark mark-answer" });
    case "instant": return svg("polygon", { points: [mx, mid - 6, mx + 6, mid, mx, mid + 6, mx - 6, mid].join(" "), class: "mark mark-instant" });
    default: return svg("path", { d: "M" + (mx - 4) + " " + (mid - 4) + "l8 8m0 -8l-8 8", class: "mark mark-reject" });
  }
}

function rowTitle(r) {
  const parts = r.segments.map((s) => s.label + " (" + fmtDateTime(s.from) + ", " + fmtDuration(s.to - s.from) + ")");
  const marks = r.marks.filter((m) => m.type === "reject").map((m) => m.label);
  return r.key + " (" + r.kind + "): " + r.state + (r.attempts > 1 ? ", " + r.attempts + " attempts" : "") +
    (parts.length ? ". " + parts.join("; ") : "") + (marks.length ? ". " + marks.join("; ") : "");
}
`;
