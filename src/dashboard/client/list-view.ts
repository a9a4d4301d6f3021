/**
 * list-view.js: the flows list. Filters by flow name and status (kept in the address, so a reload or
 * a shared link shows the same list), pages with the API's cursor, and polls every two seconds.
 */
export const LIST_VIEW_JS = String.raw`
import { h, replaceChildren, statusBadge, timeEl, fmtAgo, waitingText, keepFocus } from "./dom.js";

const POLL_MS = 2000;
const STATUS_CHOICES = [
  ["", "Any status"],
  ["scheduled,running,waiting,paused", "Not finished"],
  ["succeeded,failed,cancelled", "Finished"],
  ["scheduled", "scheduled"], ["running", "running"], ["waiting", "waiting"], ["paused", "paused"],
  ["succeeded", "succeeded"], ["failed", "failed"], ["cancelled", "cancelled"],
];
const PAGE_SIZES = ["20", "50", "100"];

/** query: { flow, status, limit } from the address. */
export function createListView({ api, query, authHint }) {
  const state = { flow: query.flow || "", status: query.status || "", limit: PAGE_SIZES.includes(query.limit) ? query.limit : "20" };
  let cursors = [""];
  let page = 0, nextCursor = "", lastJson = "", timer = 0, disposed = false;
  const names = new Set();

  const nameInput = h("input", { id: "filter-flow", type: "search", value: state.flow, list: "flow-names", autocomplete: "off", placeholder: "all flows" });
  const nameList = h("datalist", { id: "flow-names" });
  const statusSelect = h("select", { id: "filter-status" }, STATUS_CHOICES.map(([v, t]) => h("option", { value: v, selected: v === state.status }, t)));
  const limitSelect = h("select", { id: "filter-limit" }, PAGE_SIZES.map((v) => h("option", { value: v, selected: v === state.limit }, v)));
  const live = h("input", { id: "live", type: "checkbox", checked: true });
  const updated = h("span", { class: "muted" });
  const form = h("form", { class: "filters", role: "search", "aria-label": "Filter flows" },
    h("div", { class: "field" }, h("label", { for: "filter-flow" }, "Flow name"), nameInput, nameList),
    h("div", { class: "field" }, h("label", { for: "filter-status" }, "Status"), statusSelect),
    h("div", { class: "field" }, h("label", { for: "filter-limit" }, "Per page"), limitSelect),
    h("button", { type: "submit" }, "Apply"),
    h("div", { class: "field field-check live" }, live, h("label", { for: "live" }, "Live updates (every 2 s)"), " ", updated));
  const alertBox = h("div", { role: "alert" });
  const tableSlot = h("div", { class: "table-wrap" });
  const prev = h("button", { type: "button", "data-key": "prev", onclick: () => go(page - 1) }, "← Newer");
  const next = h("button", { type: "button", "data-key": "next", onclick: () => go(page + 1) }, "Older →");
  const pageLabel = h("span", { class: "muted", "aria-live": "polite" });
  const pager = h("nav", { class: "pager", "aria-label": "Pages" }, prev, pageLabel, next);
  const element = h("section", { class: "list-page", "aria-labelledby": "list-title" },
    h("h1", { id: "list-title", tabindex: "-1" }, "Flows"), form, alertBox, tableSlot, pager);

  form.addEventListener("submit", (ev) => { ev.preventDefault(); apply(); });
  statusSelect.addEventListener("change", apply);
  limitSelect.addEventListener("change", apply);
  live.addEventListener("change", () => (live.checked ? loop() : clearTimeout(timer)));

  function apply() {
    state.flow = nameInput.value.trim();
    state.status = statusSelect.value;
    state.limit = limitSelect.value;
    const q = new URLSearchParams();
    for (const k of ["flow", "status"]) if (state[k]) q.set(k, state[k]);
    if (state.limit !== "20") q.set("limit", state.limit);
    const s = q.toString();
    history.replaceState(null, "", "#/" + (s ? "?" + s : ""));
    cursors = [""];
    go(0);
  }

  function go(n) {
    if (n < 0 || n >= cursors.length) return;
    page = n;
    lastJson = "";
    load();
  }

  async function load() {
    let res;
    try {
      res = await api.listFlows({ flow: state.flow, status: state.status, limit: state.limit, cursor: cursors[page] });
    } catch (e) {
      if (disposed) return;
      replaceChildren(alertBox, h("p", { class: "error" }, e.isAuth ? authHint(e) : "Could not list flows: " + e.message));
      return;
    }
    if (disposed) return;
    replaceChildren(alertBox);
    updated.textContent = "updated " + new Date().toLocaleTimeString();
    nextCursor = res.cursor || "";
    cursors = cursors.slice(0, page + 1);
    if (nextCursor) cursors.push(nextCursor);
    prev.disabled = page === 0;
    next.disabled = !nextCursor;
    pageLabel.textContent = "Page " + (page + 1);
    for (const op of res.operations) names.add(op.metadata.flowName);
    replaceChildren(nameList, [...names].sort().map((n) => h("option", { value: n })));
    const json = JSON.stringify(res.operations);
    if (json === lastJson) return refreshAges();
    lastJson = json;
    keepFocus(tableSlot, () => replaceChildren(tableSlot, table(res.operations)));
  }

  function refreshAges() {
    for (const t of tableSlot.querySelectorAll("time[data-ago]")) t.textContent = fmtAgo(t.getAttribute("datetime"));
  }

  function table(ops) {
    if (!ops.length) return h("p", { class: "empty" }, state.flow || state.status ? "No flows match these filters." : "No flows yet. Schedule one and it shows up here.");
    const now = Date.now();
    return h("table", { class: "flows" },
      h("caption", { class: "visually-hidden" }, "Flows, newest first"),
      h("thead", {}, h("tr", {}, ["Name", "Id", "Status", "Started", "Last update", "Waiting for"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, ops.map((op) => {
        const m = op.metadata;
        const ago = timeEl(m.updatedAt, fmtAgo(m.updatedAt, now));
        ago.setAttribute("data-ago", "");
        return h("tr", { "data-flow-id": op.name },
          h("td", {}, m.flowName),
          h("td", {}, h("a", { href: "#/flows/" + encodeURIComponent(op.name), "data-key": "flow:" + op.name, class: "mono" }, op.name)),
          h("td", {}, statusBadge(m.status)),
          h("td", {}, timeEl(m.createdAt)),
          h("td", {}, ago),
          h("td", { class: "waiting" }, waitingText(op)));
      })));
  }

  function loop() {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      if (!document.hidden) await load();
      if (!disposed && live.checked) loop();
    }, POLL_MS);
  }

  load().then(() => { if (!disposed) loop(); });
  return {
    element,
    dispose() { disposed = true; clearTimeout(timer); },
    focusTitle: () => document.getElementById("list-title").focus(),
  };
}
`;
