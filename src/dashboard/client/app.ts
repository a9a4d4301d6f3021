/**
 * app.js: the entry module. Finds the API (the page's meta tag, resolved against the dashboard's own
 * address), lays out the page, keeps the access token panel, and routes between the list ("#/") and a
 * flow ("#/flows/<id>").
 */
export const APP_JS = String.raw`
import { h, replaceChildren } from "./dom.js";
import { createApi, getToken, setToken } from "./api.js";
import { createConfirmDialog } from "./actions.js";
import { createListView } from "./list-view.js";
import { createFlowView } from "./flow-view.js";

const dashboardBase = new URL("..", import.meta.url);
const meta = document.querySelector('meta[name="firestep-api-base"]');
const apiBase = (meta && meta.content) || ".";
const apiRoot = new URL(apiBase.endsWith("/") ? apiBase : apiBase + "/", dashboardBase);

const stylesheet = h("link", { rel: "stylesheet", href: new URL("app.css", import.meta.url).href });
document.head.append(stylesheet);

const tokenInput = h("input", { id: "token", type: "password", autocomplete: "off", spellcheck: "false" });
const tokenState = h("span", { class: "token-state" });
const tokenPanel = h("details", { class: "token-panel" },
  h("summary", {}, "Access token ", tokenState),
  h("form", { class: "token-form" },
    h("label", { for: "token" }, "Bearer token for the API (a Firebase ID token or the service secret)"),
    tokenInput,
    h("small", { class: "hint" }, "Kept in this tab only (sessionStorage). Leave empty when the server needs none, like the local dev server."),
    h("div", { class: "form-buttons" },
      h("button", { type: "submit", class: "primary" }, "Use token"),
      h("button", { type: "button", onclick: () => saveToken("") }, "Forget"))));
tokenPanel.querySelector("form").addEventListener("submit", (ev) => { ev.preventDefault(); saveToken(tokenInput.value.trim()); });

const flash = h("p", { class: "flash", role: "status" });
const main = h("main", { id: "main", tabindex: "-1" });
replaceChildren(document.body,
  h("a", { class: "skip", href: "#main", onclick: (ev) => { ev.preventDefault(); main.focus(); } }, "Skip to content"),
  h("header", { class: "site" },
    h("a", { class: "brand", href: "#/" }, "Firestep"),
    h("span", { class: "api-root muted" }, "API: ", h("code", {}, apiRoot.href)),
    tokenPanel),
  flash,
  main);

const api = createApi(apiRoot.href, () => {
  tokenPanel.open = true;
});
const confirm = createConfirmDialog();
let view = null;

function authHint(e) {
  return (e.status === 403 ? "Access denied: " : "Sign-in needed: ") + e.message + " Enter a token under “Access token” at the top.";
}

function saveToken(token) {
  setToken(token);
  tokenInput.value = "";
  showTokenState();
  tokenPanel.open = false;
  flash.textContent = token ? "Token saved for this tab." : "Token forgotten.";
  route();
}

function showTokenState() {
  tokenState.textContent = getToken() ? "(set)" : "(none)";
}

function navigate(hash, message) {
  if (message) flash.textContent = message;
  if (location.hash === hash) route();
  else location.hash = hash;
}

function route() {
  if (view) view.dispose();
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, search] = hash.split("?");
  const m = /^\/flows\/(.+)$/.exec(path);
  const firstRender = !main.hasChildNodes();
  if (m) {
    view = createFlowView({ api, id: decodeURIComponent(m[1]), confirm, navigate, authHint, focus: !firstRender });
  } else {
    document.title = "Flows · Firestep";
    view = createListView({ api, query: Object.fromEntries(new URLSearchParams(search || "")), authHint });
  }
  replaceChildren(main, view.element);
  if (!firstRender && view.focusTitle) view.focusTitle();
}

window.addEventListener("hashchange", () => {
  if (location.hash && !location.hash.startsWith("#/")) return;
  route();
});
showTokenState();
route();
`;
