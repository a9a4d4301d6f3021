/**
 * query-form.js: runs one of the queries a flow declares (GET /flows/:id/queries/:query) and shows its
 * JSON result or the API's error in place. A query reads the stored journal and runs no step, so it is
 * offered whatever the flow's status, finished flows included.
 */
export const QUERY_FORM_JS = String.raw`
import { h, replaceChildren, jsonBlock } from "./dom.js";

let formCount = 0;

/** queries: the definition's [{ name }], at least one. */
export function queryForm({ api, id, queries, authHint }) {
  const n = ++formCount;
  const titleId = "query-title-" + n, selectId = "query-select-" + n;
  const select = h("select", { id: selectId, name: "query" }, queries.map((q) => h("option", { value: q.name }, q.name)));
  const run = h("button", { type: "submit", class: "primary" }, "Run query");
  const output = h("div", { class: "query-output", role: "status" });
  const form = h("form", { class: "query-form", novalidate: true, "aria-labelledby": titleId },
    h("div", { class: "field" }, h("label", { for: selectId }, "Query"), select),
    h("div", { class: "form-buttons" }, run));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const name = select.value;
    run.disabled = true;
    replaceChildren(output, h("p", { class: "muted" }, "Running " + name + "…"));
    try {
      const answer = await api.query(id, name);
      replaceChildren(output, h("p", {}, "Result of ", h("code", {}, name), ":"), jsonBlock(answer.result, "Result of query " + name));
    } catch (e) {
      const text = e.isAuth ? authHint(e) : e.message;
      replaceChildren(output, h("p", { class: "error" }, h("strong", {}, e.code), " ", text));
    } finally {
      run.disabled = false;
    }
  });
  return h("section", { class: "offer", "aria-labelledby": titleId },
    h("h2", { id: titleId }, "Queries"),
    h("p", { class: "hint" }, "A query reads what the flow has stored, without running a step."),
    form, output);
}
`;
