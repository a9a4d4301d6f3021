/**
 * The browser side of the dashboard, by file name. Each module is plain JavaScript kept as a string in
 * a .ts file, so `tsc` ships it with the package and nothing needs bundling.
 */
import { ACTIONS_JS } from "./client/actions.js";
import { API_JS } from "./client/api.js";
import { APP_JS } from "./client/app.js";
import { DOM_JS } from "./client/dom.js";
import { FLOW_VIEW_JS } from "./client/flow-view.js";
import { LIST_VIEW_JS } from "./client/list-view.js";
import { QUERY_FORM_JS } from "./client/query-form.js";
import { SCHEMA_FORM_JS } from "./client/schema-form.js";
import { STYLES_CSS } from "./client/styles.js";
import { TIMELINE_JS } from "./client/timeline.js";
import { WAIT_FORMS_JS } from "./client/wait-forms.js";

const JS = "text/javascript; charset=utf-8";

export const CLIENT_ASSETS: Record<string, { body: string; contentType: string }> = {
  "app.js": { body: APP_JS, contentType: JS },
  "api.js": { body: API_JS, contentType: JS },
  "dom.js": { body: DOM_JS, contentType: JS },
  "actions.js": { body: ACTIONS_JS, contentType: JS },
  "list-view.js": { body: LIST_VIEW_JS, contentType: JS },
  "flow-view.js": { body: FLOW_VIEW_JS, contentType: JS },
  "timeline.js": { body: TIMELINE_JS, contentType: JS },
  "schema-form.js": { body: SCHEMA_FORM_JS, contentType: JS },
  "wait-forms.js": { body: WAIT_FORMS_JS, contentType: JS },
  "query-form.js": { body: QUERY_FORM_JS, contentType: JS },
  "app.css": { body: STYLES_CSS, contentType: "text/css; charset=utf-8" },
};
