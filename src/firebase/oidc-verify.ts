/**
 * Checks the Google OIDC token that Cloud Tasks attaches to an HTTP task (see `createCloudTasksQueue`): an
 * RS256 signature by one of Google's keys, the issuer, the audience, the token's time window and the service
 * account it was issued to. Uses node:crypto only.
 */
import { createPublicKey, verify as verifySignature, X509Certificate, type KeyObject } from "node:crypto";
import { StoreUnavailableError, UnauthenticatedError } from "../errors.js";

/** Why a request's token was refused (code UNAUTHENTICATED); the message never repeats the token. */
export class OidcVerificationError extends UnauthenticatedError {}

/** A public key as a JSON Web Key (RFC 7517), as Google publishes its signing keys. Declared here: `@types/node` has moved its own. */
export interface PublicJwk {
  kty?: string;
  kid?: string;
  alg?: string;
  use?: string;
  n?: string;
  e?: string;
  [member: string]: unknown;
}

/** A key by its `kid`: a PEM public key or certificate, a JWK, or a JWK as JSON text. */
export type PublicKeys = Record<string, string | PublicJwk>;

const fromJwk = (jwk: PublicJwk): KeyObject => createPublicKey({ key: jwk, format: "jwk" });

export interface OidcVerifierOptions {
  /** The expected `aud`: for Cloud Tasks, the task's URL unless another audience was set. */
  audience: string | string[];
  /** The service account the token must be issued to (its `email`). */
  serviceAccountEmail: string;
  issuers?: string[];
  /** Default: Google's published keys, fetched on first use and cached as long as Google says. */
  getPublicKeys?: () => Promise<PublicKeys>;
  /** Epoch ms. Default `Date.now`. */
  now?: () => number;
}

export interface OidcVerifier {
  /** Resolves with the token's email, or throws OidcVerificationError. */
  verify(authorizationHeader: string | undefined): Promise<{ email: string }>;
}

const SKEW_SECONDS = 60;
const GOOGLE_JWKS_URL = "https://www.googleapis.com/oauth2/v3/certs";

export function createOidcVerifier(options: OidcVerifierOptions): OidcVerifier {
  const audiences = Array.isArray(options.audience) ? options.audience : [options.audience];
  const issuers = options.issuers ?? ["https://accounts.google.com", "accounts.google.com"];
  const expectedEmail = options.serviceAccountEmail.toLowerCase();
  const getPublicKeys = options.getPublicKeys ?? googleKeyFetcher();
  const now = options.now ?? Date.now;

  return {
    async verify(authorizationHeader) {
      const token = bearerToken(authorizationHeader);
      const parts = token.split(".");
      if (parts.length !== 3 || parts.some((p) => p === "")) fail("the token is not a JWT (expected three dot-separated parts)");
      const [headerPart, payloadPart, signaturePart] = parts;
      const header = decodeJson(headerPart, "header");
      const claims = decodeJson(payloadPart, "payload");

      if (header.alg !== "RS256") fail(`the token is signed with ${JSON.stringify(header.alg)}; only RS256 is accepted`);
      if (typeof header.kid !== "string" || header.kid === "") fail("the token's header names no key (kid)");
      const keys = await getPublicKeys();
      const key = keys[header.kid];
      if (key === undefined) fail(`the token is signed with an unknown key "${header.kid}"`);
      const signed = Buffer.from(`${headerPart}.${payloadPart}`, "utf8");
      if (!signatureValid(signed, toPublicKey(key, header.kid), signaturePart)) fail("the token's signature is invalid");

      if (typeof claims.iss !== "string" || !issuers.includes(claims.iss)) fail(`the token's issuer ${JSON.stringify(claims.iss)} is not one of ${issuers.join(", ")}`);
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (!aud.some((a) => typeof a === "string" && audiences.includes(a))) {
        fail(`the token's audience ${JSON.stringify(claims.aud)} is not ${audiences.join(" or ")}`);
      }
      const nowSeconds = now() / 1000;
      if (typeof claims.exp !== "number") fail("the token has no expiry (exp)");
      if (nowSeconds > claims.exp + SKEW_SECONDS) fail(`the token expired at ${new Date(claims.exp * 1000).toISOString()}`);
      if (typeof claims.iat !== "number") fail("the token has no issue time (iat)");
      if (claims.iat > nowSeconds + SKEW_SECONDS) fail(`the token is issued in the future (${new Date(claims.iat * 1000).toISOString()})`);
      if (typeof claims.nbf === "number" && claims.nbf > nowSeconds + SKEW_SECONDS) fail("the token is not valid yet (nbf)");

      if (typeof claims.email !== "string" || claims.email.toLowerCase() !== expectedEmail) {
        fail(`the token is issued to ${JSON.stringify(claims.email ?? null)}, not to ${options.serviceAccountEmail}`);
      }
      if (claims.email_verified !== true && claims.email_verified !== "true") fail(`the token's email ${claims.email} is not verified`);
      return { email: claims.email };
    },
  };
}

function fail(why: string): never {
  throw new OidcVerificationError(`Request refused: ${why}. Cloud Tasks must send an OIDC token of the configured service account for this URL.`);
}

function bearerToken(header: string | undefined): string {
  if (header === undefined || header.trim() === "") fail("no Authorization header");
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) fail('the Authorization header is not "Bearer <token>"');
  return m[1];
}

function decodeJson(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  } catch {
    fail(`the token's ${what} is not base64url-encoded JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail(`the token's ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function signatureValid(signed: Buffer, key: KeyObject, signaturePart: string): boolean {
  try {
    return verifySignature("RSA-SHA256", signed, key, Buffer.from(signaturePart, "base64url"));
  } catch {
    return false;
  }
}

function toPublicKey(key: string | PublicJwk, kid: string): KeyObject {
  let k: KeyObject;
  try {
    if (typeof key !== "string") k = fromJwk(key);
    else if (key.trimStart().startsWith("{")) k = fromJwk(JSON.parse(key) as PublicJwk);
    else if (key.includes("BEGIN CERTIFICATE")) k = new X509Certificate(key).publicKey;
    else k = createPublicKey(key);
  } catch {
    fail(`key "${kid}" could not be read as a PEM public key, certificate or JWK`);
  }
  if (k.asymmetricKeyType !== "rsa") fail(`key "${kid}" is not an RSA key`);
  return k;
}

/** Google's signing keys as JWKs, cached for as long as the response's Cache-Control allows. */
function googleKeyFetcher(): () => Promise<PublicKeys> {
  let cached: { keys: PublicKeys; until: number } | undefined;
  let inflight: Promise<PublicKeys> | undefined;
  return async () => {
    if (cached && cached.until > Date.now()) return cached.keys;
    inflight ??= (async () => {
      try {
        const res = await fetch(GOOGLE_JWKS_URL);
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const body = (await res.json()) as { keys?: PublicJwk[] };
        const keys: PublicKeys = {};
        for (const k of body.keys ?? []) if (typeof k.kid === "string") keys[k.kid] = k;
        const maxAge = Number(/max-age=(\d+)/.exec(res.headers.get("cache-control") ?? "")?.[1] ?? 300);
        cached = { keys, until: Date.now() + maxAge * 1000 };
        return keys;
      } catch (e) {
        throw new StoreUnavailableError(
          `Google's signing keys could not be fetched from ${GOOGLE_JWKS_URL} (${e instanceof Error ? e.message : String(e)}), so no token can be checked; the request may be retried.`,
          { cause: e },
        );
      } finally {
        inflight = undefined;
      }
    })();
    return inflight;
  };
}
