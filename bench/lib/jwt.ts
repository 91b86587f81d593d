/** HS256 client tokens, as an app server would mint them (node:crypto, no dependencies). */
import { createHmac } from "node:crypto";

function b64url(s: string): string {
  return Buffer.from(s).toString("base64url");
}

/** A token for `sub`, expiring in `ttlSeconds`. */
export function signJwt(secret: string, sub: string, ttlSeconds = 3600): string {
  const now = Math.floor(Date.now() / 1000);
  const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = b64url(JSON.stringify({ sub, iat: now, exp: now + ttlSeconds }));
  const sig = createHmac("sha256", secret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${sig}`;
}
