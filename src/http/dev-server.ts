/**
 * The HTTP API on a plain node:http server, for local development and tools. Listens on loopback by
 * default; there, and only there, it lets requests in without credentials unless `auth` says otherwise.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createDashboard } from "../dashboard/dashboard.js";
import { InvalidArgumentError } from "../errors.js";
import type { Flow } from "../flow.js";
import type { FlowRuntime } from "../runtime/runtime.js";
import type { HttpAuth } from "./auth.js";
import { createHttpApi } from "./http-api.js";

export interface DevServerOptions {
  runtime: FlowRuntime | (() => FlowRuntime);
  /** Default 8787; 0 picks a free port. */
  port?: number;
  /** Default "127.0.0.1". Any other address needs `auth`. */
  host?: string;
  /** Default on loopback: `{ allowUnauthenticated: true }`. */
  auth?: HttpAuth;
  basePath?: string;
  flows?: Flow[];
  /** Serve the dashboard at "/" (default true); the API stays where it is. */
  dashboard?: boolean;
}

export interface DevServer {
  /** e.g. "http://127.0.0.1:8787" (with the base path, if any). */
  url: string;
  port: number;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

export const DEFAULT_DEV_PORT = 8787;
const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const host = options.host ?? "127.0.0.1";
  if (!options.auth && !LOOPBACK.has(host)) {
    throw new InvalidArgumentError(`startDevServer on ${host} (not a loopback address) needs auth: pass { auth: { secret } } or { auth: { idTokens } }.`);
  }
  const handler = createHttpApi({
    runtime: options.runtime,
    auth: options.auth ?? { allowUnauthenticated: true },
    ...(options.basePath !== undefined ? { basePath: options.basePath } : {}),
    ...(options.flows ? { flows: options.flows } : {}),
  });
  const dashboard = options.dashboard === false ? undefined : createDashboard({ apiBase: options.basePath || "." });
  const server = createServer((req, res) => void (dashboard?.serves(req) ? dashboard(req, res) : handler(req, res)));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? DEFAULT_DEV_PORT, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const hostPart = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${hostPart}:${port}${(options.basePath ?? "").replace(/\/+$/, "")}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}
