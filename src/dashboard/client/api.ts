/**
 * api.js: the JSON API client. Sends the bearer token kept in sessionStorage (none when the server
 * lets loopback in without one) and turns `{ error: { code, message } }` into an ApiError.
 */
export const API_JS = String.raw`
const TOKEN_KEY = "firestep.dashboard.token";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
  get isAuth() {
    return this.status === 401 || this.status === 403;
  }
}

export function getToken() {
  try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch { return ""; }
}

export function setToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage may be off (private mode); the token then lasts until the page reloads.
  }
}

/** root: the API's URL, ending in "/". onAuthError is told about every 401/403. */
export function createApi(root, onAuthError) {
  async function call(method, path, body) {
    const headers = { accept: "application/json" };
    const token = getToken();
    if (token) headers.authorization = "Bearer " + token;
    if (body !== undefined) headers["content-type"] = "application/json";
    let res;
    try {
      res = await fetch(new URL(path, root), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
        credentials: "omit",
      });
    } catch (e) {
      throw new ApiError(0, "NETWORK", "The API at " + root + " did not answer (" + e.message + ").");
    }
    if (res.status === 204) return undefined;
    let data;
    try { data = await res.json(); } catch { data = undefined; }
    if (!res.ok) {
      const err = data && data.error;
      const e = new ApiError(res.status, err ? err.code : "HTTP_" + res.status, err ? err.message : "The API answered " + res.status + " " + res.statusText + ".");
      if (e.isAuth && onAuthError) onAuthError(e);
      throw e;
    }
    return data;
  }
  const flowPath = (id) => "flows/" + encodeURIComponent(id);
  return {
    root,
    /** query: { flow?, status?, limit?, cursor? } */
    listFlows(query) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(query || {})) if (v) q.set(k, String(v));
      const s = q.toString();
      return call("GET", "flows" + (s ? "?" + s : ""));
    },
    getFlow: (id) => call("GET", flowPath(id)),
    resume: (id, payload, step) => call("POST", flowPath(id) + "/resume", step ? { payload, step } : { payload }),
    signal: (id, name, payload) => call("POST", flowPath(id) + "/signals/" + encodeURIComponent(name), { payload }),
    /** Resolves with { result? }: result is left out when the query's handler returned undefined. */
    query: (id, name) => call("GET", flowPath(id) + "/queries/" + encodeURIComponent(name)),
    /** action: pause | continue | cancel | retry */
    control: (id, action, body) => call("POST", flowPath(id) + "/" + action, body || {}),
    remove: (id) => call("DELETE", flowPath(id)),
  };
}
`;
