/**
 * The HTTP control plane: `createHttpApi` (mount it in `onRequest` or any node:http server) and
 * `startDevServer` (the same API on loopback for local development).
 */
export { createHttpApi, type HttpApiOptions, type HttpApiHandler } from "./http-api.js";
export { startDevServer, DEFAULT_DEV_PORT, type DevServer, type DevServerOptions } from "./dev-server.js";
export { DEFAULT_ADMIN_CLAIM, type HttpAuth } from "./auth.js";
export { MAX_BODY_BYTES, type ApiRequest } from "./request-body.js";
