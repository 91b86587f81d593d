/**
 * Client tokens for the suites: good ones (HS256 with JWT_SECRET, RS256/ES256
 * from a generated JWKS) and the bad ones of the JWT table.
 */
import { createHmac } from "node:crypto";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";

const enc = new TextEncoder();
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export function b64url(input: string | Uint8Array): string {
  return Buffer.from(typeof input === "string" ? enc.encode(input) : input).toString("base64url");
}

export interface KeyMaterial {
  rsa: { privateKey: CryptoKey; publicJwk: JWK; publicPem: string };
  ec: { privateKey: CryptoKey; publicJwk: JWK };
  /** A key pair that is NOT in the JWKS. */
  strangerRsa: { privateKey: CryptoKey };
  /** The JWKS to give the server in JWT_PUBLIC_KEYS. */
  jwks: string;
}

export async function makeKeys(): Promise<KeyMaterial> {
  const rsa = await generateKeyPair("RS256", { extractable: true });
  const ec = await generateKeyPair("ES256", { extractable: true });
  const stranger = await generateKeyPair("RS256", { extractable: true });
  const rsaJwk = { ...(await exportJWK(rsa.publicKey)), kid: "rsa-1", alg: "RS256", use: "sig" };
  const ecJwk = { ...(await exportJWK(ec.publicKey)), kid: "ec-1", alg: "ES256", use: "sig" };
  return {
    rsa: { privateKey: rsa.privateKey, publicJwk: rsaJwk, publicPem: await exportSPKI(rsa.publicKey) },
    ec: { privateKey: ec.privateKey, publicJwk: ecJwk },
    strangerRsa: { privateKey: stranger.privateKey },
    jwks: JSON.stringify({ keys: [rsaJwk, ecJwk] }),
  };
}

export interface Claims extends JWTPayload {
  [key: string]: unknown;
}

/** HS256 over `claims` exactly as given (no defaults added). */
export function hs256(claims: Claims, secret: string | Uint8Array, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ ...header, alg: "HS256" }).sign(typeof secret === "string" ? enc.encode(secret) : secret);
}

export function rs256(claims: Claims, key: CryptoKey, kid: string | undefined = "rsa-1"): Promise<string> {
  return new SignJWT(claims).setProtectedHeader(kid === undefined ? { alg: "RS256" } : { alg: "RS256", kid }).sign(key);
}

export function es256(claims: Claims, key: CryptoKey, kid = "ec-1"): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "ES256", kid }).sign(key);
}

/** An unsigned token (`alg: none`), with an empty or a borrowed signature. */
export function algNone(claims: Claims, signature = "", alg = "none"): string {
  return `${b64url(JSON.stringify({ alg, typ: "JWT" }))}.${b64url(JSON.stringify(claims))}.${signature}`;
}

/** Replace a signed token's payload, keeping its header and signature. */
export function tamper(token: string, claims: Claims): string {
  const [h, , s] = token.split(".");
  return `${h ?? ""}.${b64url(JSON.stringify(claims))}.${s ?? ""}`;
}

/** Good claims for `sub`, valid for `ttl` seconds, with aud/iss when the server wants them. */
export function claimsFor(sub: string, ttl: number, audience?: string, issuer?: string): Claims {
  const now = nowSeconds();
  const c: Claims = { sub, iat: now, exp: now + ttl };
  if (audience !== undefined) c.aud = audience;
  if (issuer !== undefined) c.iss = issuer;
  return c;
}

/** HS256 over any header and payload, byte for byte (jose refuses to sign some headers, e.g. unknown `crit`). */
export function hs256Raw(header: Record<string, unknown>, claims: Claims, secret: string | Uint8Array): string {
  const input = `${b64url(JSON.stringify({ ...header, alg: "HS256" }))}.${b64url(JSON.stringify(claims))}`;
  const mac = createHmac("sha256", typeof secret === "string" ? Buffer.from(secret) : Buffer.from(secret))
    .update(input)
    .digest();
  return `${input}.${mac.toString("base64url")}`;
}

/** A client token for `sub` as an app server would mint it (HS256, sub/iat/exp), synchronously: for load generators that mint thousands. */
export function clientToken(secret: string, sub: string, ttlSeconds = 3600): string {
  return hs256Raw({ typ: "JWT" }, claimsFor(sub, ttlSeconds), secret);
}
