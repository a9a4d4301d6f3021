/**
 * firestep/dashboard: a web UI for flows (list, timeline, interrupt forms, actions) that runs in the
 * browser against the HTTP API. Mount `createDashboard()` next to `createHttpApi()`; the dev server
 * serves both.
 */
export { createDashboard, type DashboardHandler, type DashboardOptions } from "./dashboard.js";
