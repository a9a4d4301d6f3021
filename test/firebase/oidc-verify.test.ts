import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createOidcVerifier, OidcVerificationError, type OidcVerifierOptions } from "../../src/firebase/oidc-verify.js";

const NOW = Date.UTC(2030, 0, 1);
const NOW_S = NOW / 1000;
const AUDIENCE = "https://example.test/firestep/tasks";
const EMAIL = "tasks@demo-firestep.iam.gserviceaccount.com";

const google = generateKeyPairSync("rsa", { modulusLength: 2048 });
const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 });
const KID = "google-key-1";

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

function token(claims: Record<string, unknown> = {}, opts: { key?: KeyObject; kid?: string; alg?: string } = {}): string {
  const header = b64({ alg: opts.alg ?? "RS256", kid: opts.kid ?? KID, typ: "JWT" });
  const payload = b64({
    iss: "https://accounts.google.com",
    aud: AUDIENCE,
    sub: "1234567890",
    email: EMAIL,
    email_verified: true,
    iat: NOW_S - 10,
    exp: NOW_S + 3590,
    ...claims,
  });
  const signature = sign("RSA-SHA256", Buffer.from(`${header}.${payload}`), opts.key ?? google.privateKey).toString("base64url");
  return `${header}.${payload}.${signature}`;
}

function verifier(over: Partial<OidcVerifierOptions> = {}) {
  return createOidcVerifier({
    audience: AUDIENCE,
    serviceAccountEmail: EMAIL,
    getPublicKeys: async () => ({ [KID]: google.publicKey.export({ type: "spki", format: "pem" }).toString() }),
    now: () => NOW,
    ...over,
  });
}

async function refusal(header: string | undefined, over: Partial<OidcVerifierOptions> = {}): Promise<OidcVerificationError> {
  const err = await verifier(over)
    .verify(header)
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(err).toBeInstanceOf(OidcVerificationError);
  expect(err).toMatchObject({ code: "UNAUTHENTICATED" });
  return err as OidcVerificationError;
}

describe("createOidcVerifier", () => {
  it("accepts a valid token of the service account and returns its email", async () => {
    await expect(verifier().verify(`Bearer ${token()}`)).resolves.toEqual({ email: EMAIL });
  });

  it("accepts keys given as JWKs and the issuer without scheme", async () => {
    const jwk = google.publicKey.export({ format: "jwk" });
    await expect(
      verifier({ getPublicKeys: async () => ({ [KID]: JSON.stringify(jwk) }) }).verify(`bearer ${token({ iss: "accounts.google.com" })}`),
    ).resolves.toEqual({ email: EMAIL });
  });

  it("tolerates 60 s of clock skew", async () => {
    await expect(verifier().verify(`Bearer ${token({ exp: NOW_S - 59, iat: NOW_S + 59 })}`)).resolves.toEqual({ email: EMAIL });
  });

  it("refuses a request without an Authorization header", async () => {
    expect((await refusal(undefined)).message).toMatch(/no Authorization header/);
    expect((await refusal("")).message).toMatch(/no Authorization header/);
  });

  it("refuses a header that is not a bearer token", async () => {
    expect((await refusal(`Basic ${token()}`)).message).toMatch(/not "Bearer <token>"/);
  });

  it("refuses a malformed token, without echoing it", async () => {
    expect((await refusal("Bearer not-a-jwt")).message).toMatch(/not a JWT/);
    const err = await refusal("Bearer %%%.%%%.%%%");
    expect(err.message).toMatch(/not base64url-encoded JSON/);
    expect(err.message).not.toContain("%%%");
  });

  it("refuses a token signed by another key", async () => {
    expect((await refusal(`Bearer ${token({}, { key: stranger.privateKey })}`)).message).toMatch(/signature is invalid/);
  });

  it("refuses a token whose claims were altered after signing", async () => {
    const [h, , s] = token().split(".");
    const forged = `${h}.${b64({ iss: "https://accounts.google.com", aud: AUDIENCE, email: "evil@example.test", email_verified: true, iat: NOW_S, exp: NOW_S + 60 })}.${s}`;
    expect((await refusal(`Bearer ${forged}`)).message).toMatch(/signature is invalid/);
  });

  it("refuses a token signed with an unknown key id or another algorithm", async () => {
    expect((await refusal(`Bearer ${token({}, { kid: "rotated-away" })}`)).message).toMatch(/unknown key "rotated-away"/);
    expect((await refusal(`Bearer ${token({}, { alg: "HS256" })}`)).message).toMatch(/only RS256/);
  });

  it("refuses an expired token", async () => {
    expect((await refusal(`Bearer ${token({ exp: NOW_S - 61 })}`)).message).toMatch(/expired at/);
  });

  it("refuses a token issued in the future", async () => {
    expect((await refusal(`Bearer ${token({ iat: NOW_S + 120 })}`)).message).toMatch(/issued in the future/);
  });

  it("refuses a token for another audience", async () => {
    expect((await refusal(`Bearer ${token({ aud: "https://other.test/" })}`)).message).toMatch(/audience "https:\/\/other.test\/" is not https:\/\/example.test/);
  });

  it("refuses a token from another issuer", async () => {
    expect((await refusal(`Bearer ${token({ iss: "https://evil.test" })}`)).message).toMatch(/issuer "https:\/\/evil.test" is not one of/);
  });

  it("refuses a token of another account", async () => {
    expect((await refusal(`Bearer ${token({ email: "someone@example.test" })}`)).message).toMatch(/issued to "someone@example.test", not to tasks@/);
  });

  it("refuses a token whose email is not verified", async () => {
    expect((await refusal(`Bearer ${token({ email_verified: false })}`)).message).toMatch(/is not verified/);
    expect((await refusal(`Bearer ${token({ email_verified: undefined })}`)).message).toMatch(/is not verified/);
  });
});
