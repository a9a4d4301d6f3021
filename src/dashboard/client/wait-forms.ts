/**
 * wait-forms.js: the forms that send a flow what it waits for or may take: an interrupt's input and a
 * signal's payload, each with fields from its JSON Schema when the API gives one (else a JSON text area;
 * the server checks the payload either way). Both show the API's refusal in place and leave the flow as it was.
 */
export const WAIT_FORMS_JS = String.raw`
import { h, replaceChildren } from "./dom.js";
import { buildSchemaForm } from "./schema-form.js";

/** blocked: the operation's blockedOnStep. onSent(text) runs after the API took the input. */
export function interruptForm({ api, id, blocked, authHint, onSent }) {
  return waitSection({
    kind: "interrupt",
    title: "Waiting for input: ",
    name: blocked.name,
    hint: "Submitting resumes the flow. Input the interrupt's schema rejects is refused and the flow keeps waiting.",
    built: buildSchemaForm(blocked.schema),
    submitLabel: "Resume flow",
    send: (value) => api.resume(id, value, blocked.name),
    sentText: "Input sent to " + blocked.name + "; the flow resumes.",
    refused: "Refused; the flow is still waiting.",
    authHint, onSent,
  });
}

/**
 * The signals to offer for a flow's details d: every one its definition declares while it has not finished
 * (the runtime takes a signal in any unfinished status and keeps it until the flow waits for it), those it
 * waits for first. None when the API does not know the definition: it would refuse them all. From an API
 * that does not describe definitions, the signals the flow waits for, with no schema.
 */
export function offeredSignals(d) {
  const op = d.operation;
  if (op.done) return [];
  const waited = new Set((op.metadata.waitingFor || []).filter((w) => w.kind === "signal").map((w) => w.name));
  const def = d.definition;
  if (!def) return [...waited].map((name) => ({ name, waiting: true }));
  if (!def.known) return [];
  const all = def.signals.map((s) => ({ name: s.name, schema: s.schema, waiting: waited.has(s.name) }));
  return all.filter((s) => s.waiting).concat(all.filter((s) => !s.waiting));
}

/** signal: one of offeredSignals, { name, schema?, waiting }. */
export function signalForm({ api, id, signal, authHint, onSent }) {
  const { name, waiting } = signal;
  return waitSection({
    kind: "signal",
    panel: waiting ? "interrupt" : "offer",
    title: waiting ? "Waiting for signal: " : "Send signal: ",
    name,
    hint: (waiting ? "Sending wakes the flow with this payload." : "The flow keeps it, in order, until it waits for this signal.") +
      " A payload the signal's schema rejects is refused and nothing changes.",
    built: buildSchemaForm(signal.schema),
    submitLabel: "Send signal",
    send: (value) => api.signal(id, name, value),
    sentText: "Signal " + name + " sent; " + (waiting ? "the flow resumes." : "the flow takes it when it waits for it."),
    refused: waiting ? "Refused; the flow is still waiting." : "Refused; nothing changed.",
    authHint, onSent,
  });
}

let sectionCount = 0;

function waitSection(o) {
  const titleId = "wait-title-" + (++sectionCount);
  const error = h("div", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary" }, o.submitLabel);
  const form = h("form", { class: o.kind + "-form", novalidate: true, "aria-labelledby": titleId, "data-wait": o.kind + ":" + o.name },
    o.built.fields, error, h("div", { class: "form-buttons" }, submit));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const r = o.built.read();
    if (!r.ok) {
      replaceChildren(error, h("p", { class: "error" }, r.message));
      r.input.focus();
      return;
    }
    submit.disabled = true;
    replaceChildren(error);
    try {
      await o.send(r.value);
    } catch (e) {
      const text = e.isAuth ? o.authHint(e) : e.code === "INVALID_PAYLOAD" ? o.refused + " " + e.message : e.message + " (" + e.code + ")";
      replaceChildren(error, h("p", { class: "error" }, h("strong", {}, e.code), " ", text));
      return;
    } finally {
      submit.disabled = false;
    }
    await o.onSent(o.sentText);
  });
  return h("section", { class: o.panel || "interrupt", "aria-labelledby": titleId },
    h("h2", { id: titleId }, o.title, h("code", {}, o.name)),
    h("p", { class: "hint" }, o.hint),
    form);
}
`;
