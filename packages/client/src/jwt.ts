/**
 * A JWT's claims, read without verifying: the server verifies. The SDK only
 * needs `sub` (to name the storage key) and `exp` (to refresh in time).
 */

/** The payload of a readable JWT; undefined for anything else. */
function jwtClaims(token: string): Record<string, unknown> | undefined {
  const payload = token.split(".")[1];
  if (payload === undefined || payload === "") return undefined;
  try {
    const b64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const json = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof claims === "object" && claims !== null && !Array.isArray(claims)) return claims as Record<string, unknown>;
  } catch {
    // Not a JWT we can read.
  }
  return undefined;
}

/**
 * The token's `sub`: it names the storage key, so that two users sharing a
 * browser never resume from each other's seq.
 */
export function jwtSubject(token: string): string | undefined {
  const sub = jwtClaims(token)?.sub;
  return typeof sub === "string" ? sub : undefined;
}

/** The token's `exp` in ms since the epoch (RFC 7519 §4.1.4: seconds), if it has a usable one. */
export function jwtExpiry(token: string): number | undefined {
  const exp = jwtClaims(token)?.exp;
  return typeof exp === "number" && Number.isFinite(exp) && exp > 0 ? exp * 1000 : undefined;
}
