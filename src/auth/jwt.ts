/**
 * Client tokens: JWTs checked with `jose`. HS256 with JWT_SECRET by default;
 * RS256/ES256 against a JWKS in JWT_PUBLIC_KEYS when configured. The accepted
 * algorithms are an explicit allowlist, so `alg: none` and HS/RS confusion (an
 * HS256 token MAC'd with a public key) never reach a key.
 */
import { createLocalJWKSet, errors, jwtVerify, type JWTVerifyGetKey, type JSONWebKeySet } from "jose";
import type { Config } from "../config";
import { isUserId } from "@switchboard/protocol";

/** Clock skew allowed on `nbf` and `iat`. `exp` is strict, so that a session closes exactly at it. */
export const CLOCK_SKEW_SECONDS = 60;

export interface ClientIdentity {
  userId: string;
  /** Token expiry, ms since epoch: the session is closed with 1008 then. */
  expiresAt: number;
}

export type TokenResult = { ok: true; identity: ClientIdentity } | { ok: false; reason: string };

interface Verifier {
  algorithms: string[];
  getKey: JWTVerifyGetKey;
}

const verifiers = new WeakMap<Config, Promise<Verifier>>();

async function buildVerifier(config: Config): Promise<Verifier> {
  const algorithms: string[] = [];
  let hmac: CryptoKey | undefined;
  let jwks: JWTVerifyGetKey | undefined;
  if (config.jwtSecret !== undefined) {
    algorithms.push("HS256");
    hmac = await crypto.subtle.importKey("raw", new TextEncoder().encode(config.jwtSecret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  }
  if (config.jwtPublicKeys !== undefined) {
    algorithms.push("RS256", "ES256");
    jwks = createLocalJWKSet(JSON.parse(config.jwtPublicKeys) as JSONWebKeySet);
  }
  const getKey: JWTVerifyGetKey = (header, token) => {
    if (header.alg === "HS256" && hmac !== undefined) return hmac;
    if (jwks !== undefined && (header.alg === "RS256" || header.alg === "ES256")) return jwks(header, token);
    throw new errors.JOSEAlgNotAllowed(`"alg" (Algorithm) Header Parameter value not allowed`);
  };
  return { algorithms, getKey };
}

function verifierFor(config: Config): Promise<Verifier> {
  let verifier = verifiers.get(config);
  if (verifier === undefined) {
    verifier = buildVerifier(config);
    verifiers.set(config, verifier);
  }
  return verifier;
}

export async function verifyClientToken(token: string, config: Config, now = Date.now()): Promise<TokenResult> {
  let verifier: Verifier;
  try {
    verifier = await verifierFor(config);
  } catch (err) {
    // A malformed JWT_PUBLIC_KEYS is an operator error, not the client's.
    console.error("switchboard: cannot load JWT keys", err);
    throw err;
  }
  try {
    const { payload } = await jwtVerify(token, verifier.getKey, {
      algorithms: verifier.algorithms,
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ["exp", "sub"],
      currentDate: new Date(now),
      ...(config.jwtAudience !== undefined ? { audience: config.jwtAudience } : {}),
      ...(config.jwtIssuer !== undefined ? { issuer: config.jwtIssuer } : {}),
    });
    const nowSeconds = now / 1000;
    if (typeof payload.exp !== "number" || payload.exp <= nowSeconds) return { ok: false, reason: "token expired" };
    if (typeof payload.iat === "number" && payload.iat > nowSeconds + CLOCK_SKEW_SECONDS) {
      return { ok: false, reason: "token issued in the future" };
    }
    if (!isUserId(payload.sub)) return { ok: false, reason: "token sub is not a valid userId" };
    return { ok: true, identity: { userId: payload.sub, expiresAt: payload.exp * 1000 } };
  } catch (err) {
    if (err instanceof errors.JOSEError) return { ok: false, reason: describe(err) };
    return { ok: false, reason: "token is malformed" };
  }
}

function describe(err: InstanceType<typeof errors.JOSEError>): string {
  if (err instanceof errors.JWTExpired) return "token expired";
  if (err instanceof errors.JWTClaimValidationFailed) return `token claim rejected: ${err.claim}`;
  if (err instanceof errors.JOSEAlgNotAllowed) return "token algorithm not allowed";
  if (err instanceof errors.JWSSignatureVerificationFailed) return "token signature invalid";
  return "token is malformed";
}
