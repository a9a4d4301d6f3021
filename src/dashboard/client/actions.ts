/**
 * actions.js: which control actions a flow's status allows (the same rules the runtime enforces, so a
 * button is never offered for a call that would be refused) and the confirmation <dialog>.
 */
export const ACTIONS_JS = String.raw`
import { h, replaceChildren } from "./dom.js";

const UNFINISHED = ["scheduled", "running", "waiting", "paused"];

export const ACTIONS = [
  { name: "pause", label: "Pause", when: ["scheduled", "running", "waiting"],
    explain: "It stops at its next step and stays paused until you continue it." },
  { name: "continue", label: "Continue", when: ["paused"],
    explain: "It picks up where it was paused." },
  { name: "cancel", label: "Cancel", when: UNFINISHED, danger: true, reason: true,
    explain: "It stops for good and cannot be continued." },
  { name: "retry", label: "Retry", when: ["failed"],
    explain: "It runs again from the step that failed; completed steps are kept." },
  { name: "delete", label: "Delete", when: ["succeeded", "failed", "cancelled"], danger: true,
    explain: "Its record, steps and history are removed for good." },
];

export function allowedActions(status) {
  return ACTIONS.filter((a) => a.when.includes(status)).map((a) => a.name);
}

/** Why an action is off, for its tooltip. */
export function whyDisabled(action, status) {
  return action.label + " is not possible while the flow is " + status + " (only when " + action.when.join(", ") + ").";
}

/**
 * One modal <dialog>, reused: ask({ title, text, confirmLabel, danger, reason }) resolves with
 * { ok, reason }. Escape and the dismiss button resolve with ok false.
 */
export function createConfirmDialog() {
  const title = h("h2", { id: "confirm-title" });
  const text = h("p", { id: "confirm-text" });
  const reasonSlot = h("div");
  const okButton = h("button", { type: "submit", value: "ok", class: "primary" });
  const form = h("form", { method: "dialog" },
    title, text, reasonSlot,
    h("div", { class: "dialog-buttons" }, h("button", { type: "submit", value: "dismiss", autofocus: true }, "Go back"), okButton));
  const dialog = h("dialog", { class: "confirm", "aria-labelledby": "confirm-title", "aria-describedby": "confirm-text" }, form);
  document.body.append(dialog);

  function ask(opts) {
    title.textContent = opts.title;
    text.textContent = opts.text;
    okButton.textContent = opts.confirmLabel;
    okButton.className = opts.danger ? "danger" : "primary";
    let reasonInput = null;
    if (opts.reason) {
      reasonInput = h("input", { id: "confirm-reason", type: "text", maxlength: "500", autocomplete: "off" });
      replaceChildren(reasonSlot, h("label", { for: "confirm-reason" }, "Reason (optional)"), reasonInput);
    } else replaceChildren(reasonSlot);
    dialog.returnValue = "";
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => {
        resolve({ ok: dialog.returnValue === "ok", reason: reasonInput ? reasonInput.value.trim() : "" });
      }, { once: true });
      dialog.showModal();
    });
  }
  return { ask, element: dialog };
}
`;
