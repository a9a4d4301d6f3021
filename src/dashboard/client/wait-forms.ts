/**
 * wait-forms.js: the forms that answer what a flow waits for: an interrupt's input (fields from its
 * JSON Schema) and a signal's payload (JSON: a wait carries no signal schema, so the server checks it).
 * Both show the API's refusal in place and leave the flow as it was.
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
    authHint, onSent,
  });
}

/** name: a signal the flow waits for (a wait of kind "signal"). */
export function signalForm({ api, id, name, authHint, onSent }) {
  return waitSection({
    kind: "signal",
    title: "Waiting for signal: ",
    name,
    hint: "Sending wakes the flow with this payload. A payload the signal's schema rejects is refused and the flow keeps waiting.",
    built: buildSchemaForm(undefined),
    submitLabel: "Send signal",
    send: (value) => api.signal(id, name, value),
    sentText: "Signal " + name + " sent; the flow resumes.",
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
      const text = e.isAuth ? o.authHint(e) : e.code === "INVALID_PAYLOAD" ? "Refused; the flow is still waiting. " + e.message : e.message + " (" + e.code + ")";
      replaceChildren(error, h("p", { class: "error" }, h("strong", {}, e.code), " ", text));
      return;
    } finally {
      submit.disabled = false;
    }
    await o.onSent(o.sentText);
  });
  return h("section", { class: "interrupt", "aria-labelledby": titleId },
    h("h2", { id: titleId }, o.title, h("code", {}, o.name)),
    h("p", { class: "hint" }, o.hint),
    form);
}
`;
