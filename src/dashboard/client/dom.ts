/**
 * dom.js: building elements (always through textContent, never innerHTML, so flow data cannot inject
 * markup) and formatting times, durations, statuses and waits for people.
 */
export const DOM_JS = String.raw`
const SVG_NS = "http://www.w3.org/2000/svg";

/** h("a", { href, class, onclick }, ...children): an element; strings become text, null/false are skipped. */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** The same for SVG elements. */
export function svg(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function replaceChildren(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export const FINISHED = new Set(["succeeded", "failed", "cancelled"]);

/** A status in words, with a coloured dot that only repeats them. */
export function statusBadge(status) {
  return h("span", { class: "status status-" + status }, h("span", { class: "dot", "aria-hidden": "true" }), status);
}

function toMs(t) {
  return typeof t === "number" ? t : Date.parse(t);
}

export function fmtDateTime(t) {
  const d = new Date(toMs(t));
  const today = new Date();
  if (d.toDateString() === today.toDateString()) return d.toLocaleTimeString();
  return d.toLocaleString();
}

/** A <time> element: readable text, the exact instant as its datetime and tooltip. */
export function timeEl(t, text) {
  const ms = toMs(t);
  if (!Number.isFinite(ms)) return h("span", {}, "–");
  const d = new Date(ms);
  return h("time", { datetime: d.toISOString(), title: d.toLocaleString() }, text === undefined ? fmtDateTime(ms) : text);
}

export function fmtAgo(t, now) {
  const s = Math.round(((now || Date.now()) - toMs(t)) / 1000);
  if (s < 2) return "just now";
  if (s < 60) return s + " s ago";
  if (s < 3600) return Math.floor(s / 60) + " min ago";
  if (s < 86400) return Math.floor(s / 3600) + " h ago";
  return Math.floor(s / 86400) + " d ago";
}

/** "850 ms", "1.2 s", "3 min 5 s", "2 h 3 min", "1 d 2 h". */
export function fmtDuration(ms) {
  if (!Number.isFinite(ms)) return "–";
  const neg = ms < 0 ? "-" : "";
  ms = Math.abs(ms);
  if (ms < 1000) return neg + Math.round(ms) + " ms";
  if (ms < 10000) return neg + (Math.round(ms / 100) / 10) + " s";
  const s = Math.round(ms / 1000);
  if (s < 60) return neg + s + " s";
  if (s < 3600) return neg + Math.floor(s / 60) + " min" + (s % 60 ? " " + (s % 60) + " s" : "");
  if (s < 86400) return neg + Math.floor(s / 3600) + " h" + (Math.floor(s / 60) % 60 ? " " + (Math.floor(s / 60) % 60) + " min" : "");
  return neg + Math.floor(s / 86400) + " d" + (Math.floor(s / 3600) % 24 ? " " + (Math.floor(s / 3600) % 24) + " h" : "");
}

/** What a flow waits for, in words: "input: manager-approval", "sleep until 12:00:03", ... */
export function waitingText(op) {
  const m = op.metadata || {};
  const waits = m.waitingFor || [];
  const parts = waits.map(describeWait);
  if (m.status === "scheduled" && m.wakeAt && !parts.length) parts.push("start at " + fmtDateTime(m.wakeAt));
  if (m.status === "paused") parts.unshift("paused");
  return parts.join("; ");
}

export function describeWait(w) {
  switch (w.kind) {
    case "interrupt": return "input: " + w.name;
    case "signal": return "signal: " + w.name + (w.until ? " until " + fmtDateTime(w.until) : "");
    case "sleep": return "sleep (" + w.step + ") until " + fmtDateTime(w.until);
    case "retry": return "retry of " + w.step + " (attempt " + w.attempt + ") at " + fmtDateTime(w.until);
    case "poll": return "poll " + w.step + " (round " + w.attempt + ") at " + fmtDateTime(w.until);
    case "flows": return w.flowIds.length + " flow" + (w.flowIds.length === 1 ? "" : "s") + " (" + w.step + ")";
    default: return w.kind + (w.step ? " (" + w.step + ")" : "") + (w.until ? " until " + fmtDateTime(w.until) : "");
  }
}

/** A value as indented JSON; undefined (a step that returned nothing) in words. */
export function jsonBlock(value, label) {
  const text = value === undefined ? "(no value)" : JSON.stringify(value, null, 2);
  return h("pre", { class: "json", tabindex: "0", "aria-label": label || null }, h("code", {}, text));
}

/** Moves focus back to the element with the same data-key after a re-render (polling must not steal focus). */
export function keepFocus(container, render) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.getAttribute("data-key") : null;
  render();
  if (key) {
    const again = container.querySelector('[data-key="' + CSS.escape(key) + '"]');
    if (again) again.focus();
  }
}
`;
