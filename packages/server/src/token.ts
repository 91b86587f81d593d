/**
 * Client tokens: the HS256 JWT the Worker checks (src/auth/jwt.ts): `sub` the
 * userId, `exp` required, `iat` set, `aud`/`iss` when the deployment checks
 * them (JWT_AUDIENCE / JWT_ISSUER). HS256 is one HMAC over WebCrypto, which
 * every target runtime has, so the package needs no JWT library.
 */
import { USER_ID_MAX } from "@switchboard/protocol";
import { invalidArgument } from "./errors.ts";
import { checkArity, checkOptions, checkRequired, integer, name, nonEmptyString, type Check } from "./validate.ts";

export interface MintClientTokenOptions {
  /** The deployment's JWT_SECRET. */
  secret: string;
  userId: string;
  /** Lifetime in seconds; the session is closed (1008) when it runs out. */
  ttlSeconds: number;
  audience?: string;
  issuer?: string;
  /** Seconds since the epoch to issue at; default now. */
  now?: number;
}

const TOKEN_OPTIONS = {
  secret: nonEmptyString,
  userId: name(USER_ID_MAX),
  ttlSeconds: integer(1),
  audience: nonEmptyString,
  issuer: nonEmptyString,
  now: integer(0),
} satisfies Record<keyof MintClientTokenOptions, Check>;

const encoder = new TextEncoder();

export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const jsonPart = (value: unknown) => base64url(encoder.encode(JSON.stringify(value)));

export async function mintClientToken(options: MintClientTokenOptions): Promise<string> {
  checkArity(arguments, 1, "mintClientToken(options)");
  if (options === undefined) throw invalidArgument("options", "mintClientToken needs { secret, userId, ttlSeconds }");
  checkOptions(options, "", TOKEN_OPTIONS);
  checkRequired(options, "", ["secret", "userId", "ttlSeconds"]);
  const sub = options.userId;
  const iat = options.now ?? Math.floor(Date.now() / 1000);
  const payload: Record<string, string | number> = { sub, iat, exp: iat + options.ttlSeconds };
  if (options.audience !== undefined) payload.aud = options.audience;
  if (options.issuer !== undefined) payload.iss = options.issuer;
  const signingInput = `${jsonPart({ alg: "HS256", typ: "JWT" })}.${jsonPart(payload)}`;
  const key = await crypto.subtle.importKey("raw", encoder.encode(options.secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(signingInput));
  return `${signingInput}.${base64url(new Uint8Array(mac))}`;
}
