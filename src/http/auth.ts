/**
 * Who may call the HTTP API: a service holding the shared secret, or a Firebase user whose ID token
 * carries the admin claim. Checked before anything else runs, so a refused request touches nothing.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { InvalidArgumentError, PermissionDeniedError, UnauthenticatedError } from "../errors.js";

export interface HttpAuth {
  /** Accepted as `Authorization: Bearer <secret>` (service calls); compared in constant time. At least 16 characters. */
  secret?: string;
  /** Firebase ID tokens (people): `verify` checks the token, the decoded token must have `claim === true`. */
  idTokens?: {
    /** Resolves with the decoded token or rejects, e.g. `(t) => getAuth().verifyIdToken(t)`. */
    verify(token: string): Promise<Record<string, unknown>>;
    /** Custom claim that grants access (default "firestepAdmin"). */
    claim?: string;
  };
  /** Lets every request in. For local development on a loopback address only. */
  allowUnauthenticated?: boolean;
}

export interface Caller {
  kind: "service" | "user" | "anonymous";
  uid?: string;
}

export const DEFAULT_ADMIN_CLAIM = "firestepAdmin";
const MIN_SECRET_LENGTH = 16;

/** Validates the configuration once and returns the per-request check. */
export function createAuthenticator(auth: HttpAuth): (req: IncomingMessage) => Promise<Caller> {
  if (!auth || typeof auth !== "object") throw new InvalidArgumentError("createHttpApi needs `auth`: { secret }, { idTokens: { verify } } or { allowUnauthenticated: true }.");
  if (auth.secret !== undefined && (typeof auth.secret !== "string" || auth.secret.length < MIN_SECRET_LENGTH)) {
    throw new InvalidArgumentError(`auth.secret must be a string of at least ${MIN_SECRET_LENGTH} characters; generate one with \`openssl rand -hex 32\`.`);
  }
  if (auth.idTokens !== undefined && typeof auth.idTokens?.verify !== "function") {
    throw new InvalidArgumentError("auth.idTokens.verify must be a function, e.g. (t) => getAuth().verifyIdToken(t).");
  }
  if (auth.secret === undefined && auth.idTokens === undefined && auth.allowUnauthenticated !== true) {
    throw new InvalidArgumentError("auth allows nobody: set auth.secret, auth.idTokens, or (for local development only) auth.allowUnauthenticated: true.");
  }
  const secretDigest = auth.secret === undefined ? undefined : sha256(auth.secret);
  const claim = auth.idTokens?.claim ?? DEFAULT_ADMIN_CLAIM;

  return async (req) => {
    if (auth.allowUnauthenticated === true) return { kind: "anonymous" };
    const token = bearerToken(req.headers.authorization);
    // Hashing first makes the comparison constant-time whatever the token's length.
    if (secretDigest && timingSafeEqual(sha256(token), secretDigest)) return { kind: "service" };
    if (!auth.idTokens) throw new UnauthenticatedError("The bearer token is not valid.");
    let decoded: Record<string, unknown>;
    try {
      decoded = await auth.idTokens.verify(token);
    } catch {
      throw new UnauthenticatedError("The bearer token is not valid: it is neither the service secret nor a verifiable ID token.");
    }
    if (decoded?.[claim] !== true) {
      throw new PermissionDeniedError(
        `This account may not use the Firestep API: its ID token lacks the custom claim "${claim}": true. ` +
          `An administrator grants it with getAuth().setCustomUserClaims(uid, { ${claim}: true }).`,
      );
    }
    return { kind: "user", ...(typeof decoded.uid === "string" ? { uid: decoded.uid } : {}) };
  };
}

function bearerToken(header: string | undefined): string {
  if (!header) throw new UnauthenticatedError('Missing credentials: send "Authorization: Bearer <token>".');
  const m = /^Bearer +([^\s]+) *$/i.exec(header);
  if (!m) throw new UnauthenticatedError('Malformed Authorization header: expected "Bearer <token>".');
  return m[1]!;
}

function sha256(s: string): Buffer {
  return createHash("sha256").update(s, "utf8").digest();
}
