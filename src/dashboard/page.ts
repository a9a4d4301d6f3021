/**
 * The dashboard's HTML shell and its Content-Security-Policy. The page holds one inline bootstrap
 * (allowed by its hash) that loads the app relative to the page's own address, because a function
 * mounted at its own URL cannot tell "/dashboard" from "/dashboard/" and relative asset links would
 * break on one of them.
 */
import { createHash } from "node:crypto";

/** Finds the assets next to the page whether or not its address ends in "/". */
const BOOTSTRAP =
  'const p=location.pathname;const base=p.endsWith("/")?"./":"./"+p.slice(p.lastIndexOf("/")+1)+"/";' +
  'import(base+"assets/app.js").catch((e)=>{document.getElementById("boot").textContent="The dashboard could not load its script: "+e.message;});';

const BOOTSTRAP_HASH = `'sha256-${createHash("sha256").update(BOOTSTRAP, "utf8").digest("base64")}'`;

export function renderPage(apiBase: string, title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="firestep-api-base" content="${escapeAttribute(apiBase)}">
<title>${escapeText(title)}</title>
<link rel="icon" href="data:,">
<script type="module">${BOOTSTRAP}</script>
</head>
<body>
<noscript>The Firestep dashboard needs JavaScript. The same data is available from the HTTP API and the firestep command line.</noscript>
<p id="boot">Loading the Firestep dashboard…</p>
</body>
</html>
`;
}

/**
 * Scripts only from this origin (plus the bootstrap), no inline styles, and API calls only to this
 * origin or to the API's, when it is given as an absolute URL.
 */
export function contentSecurityPolicy(apiBase: string): string {
  let connect = "'self'";
  try {
    const origin = new URL(apiBase).origin;
    if (origin !== "null") connect += ` ${origin}`;
  } catch {
    // A relative apiBase stays on this origin.
  }
  return [
    "default-src 'none'",
    `script-src 'self' ${BOOTSTRAP_HASH}`,
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${connect}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

function escapeText(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function escapeAttribute(s: string): string {
  return escapeText(s).replace(/"/g, "&quot;");
}
