import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CLIENT_ASSETS } from "../../src/dashboard/assets.js";
import { createDashboard, type DashboardHandler } from "../../src/dashboard/index.js";
import { startDevServer, type DevServer } from "../../src/http/index.js";
import { createTestRuntime } from "../../src/testing/index.js";

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function serve(handler: DashboardHandler): Promise<string> {
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("createDashboard", () => {
  it("serves the page with a strict Content-Security-Policy and the API base in a meta tag", async () => {
    const url = await serve(createDashboard({ apiBase: "/api" }));
    const res = await fetch(`${url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).not.toContain("unsafe-inline");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(await res.text()).toContain('<meta name="firestep-api-base" content="/api">');
  });

  it("serves every client module and the stylesheet, with ETags that answer 304", async () => {
    const url = await serve(createDashboard());
    for (const name of Object.keys(CLIENT_ASSETS)) {
      const res = await fetch(`${url}/assets/${name}`);
      expect(res.status, name).toBe(200);
      expect(res.headers.get("content-type")).toBe(name.endsWith(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8");
      const again = await fetch(`${url}/assets/${name}`, { headers: { "if-none-match": res.headers.get("etag")! } });
      expect(again.status, name).toBe(304);
    }
  });

  it("answers under its basePath only, and 404 for anything it does not serve", async () => {
    const dashboard = createDashboard({ basePath: "/dashboard/" });
    const url = await serve(dashboard);
    expect((await fetch(`${url}/dashboard`)).status).toBe(200);
    expect((await fetch(`${url}/dashboard/`)).status).toBe(200);
    expect((await fetch(`${url}/dashboard/assets/app.js`)).status).toBe(200);
    expect((await fetch(`${url}/`)).status).toBe(404);
    expect((await fetch(`${url}/dashboard/assets/../../etc/passwd`)).status).toBe(404);
    const missing = await fetch(`${url}/dashboard/assets/nope.js`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
    expect(dashboard.serves({ url: "/dashboard/assets/app.js?v=1" })).toBe(true);
    expect(dashboard.serves({ url: "/flows" })).toBe(false);
    expect(dashboard.serves({ url: "/dashboardx" })).toBe(false);
  });

  it("refuses methods other than GET and HEAD", async () => {
    const url = await serve(createDashboard());
    const res = await fetch(`${url}/`, { method: "POST", body: "{}" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(await res.json()).toEqual({ error: { code: "METHOD_NOT_ALLOWED", message: "The dashboard accepts GET and HEAD." } });
    const head = await fetch(`${url}/assets/app.js`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("lets an absolute API URL through connect-src and escapes it in the page", async () => {
    const url = await serve(createDashboard({ apiBase: 'https://api.example.com/fs?a="x"' }));
    const res = await fetch(`${url}/`);
    expect(res.headers.get("content-security-policy")).toContain("connect-src 'self' https://api.example.com");
    expect(await res.text()).toContain('content="https://api.example.com/fs?a=&quot;x&quot;"');
  });

  it("ships client modules that parse as JavaScript modules", () => {
    const dir = mkdtempSync(join(tmpdir(), "firestep-dashboard-"));
    try {
      for (const [name, asset] of Object.entries(CLIENT_ASSETS)) {
        if (!name.endsWith(".js")) continue;
        const file = join(dir, name.replace(/\.js$/, ".mjs"));
        writeFileSync(file, asset.body);
        execFileSync(process.execPath, ["--check", file], { stdio: "pipe" });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("startDevServer with the dashboard", () => {
  it("serves the dashboard at / next to the API, and not at all with dashboard: false", async () => {
    const t = createTestRuntime();
    closers.push(() => t.close());
    const on: DevServer = await startDevServer({ runtime: t.runtime, port: 0 });
    closers.push(() => on.close());
    expect((await fetch(`${on.url}/`)).headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await (await fetch(`${on.url}/flows`)).json()).toEqual({ operations: [] });

    const off = await startDevServer({ runtime: t.runtime, port: 0, dashboard: false });
    closers.push(() => off.close());
    const res = await fetch(`${off.url}/`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
  });

  it("points the page at the API's basePath", async () => {
    const t = createTestRuntime();
    closers.push(() => t.close());
    const server = await startDevServer({ runtime: t.runtime, port: 0, basePath: "/firestep" });
    closers.push(() => server.close());
    const root = server.url.replace(/\/firestep$/, "");
    expect(await (await fetch(`${root}/`)).text()).toContain('content="/firestep"');
    expect((await fetch(`${server.url}/flows`)).status).toBe(200);
  });
});
