/**
 * Optional persistence of the last seq, so a reloaded page resumes where the
 * previous one stopped instead of from the server's per-device cursor (which
 * another tab of the same device may have moved).
 */

/** `localStorage` and `sessionStorage` fit as they are. */
export interface SeqStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * The token's `sub`, read without verifying (the server verifies): it only
 * names the storage key, so that two users sharing a browser never resume
 * from each other's seq. Undefined for anything that is not a readable JWT.
 */
export function jwtSubject(token: string): string | undefined {
  const payload = token.split(".")[1];
  if (payload === undefined || payload === "") return undefined;
  try {
    const b64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const json = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof claims === "object" && claims !== null && "sub" in claims && typeof claims.sub === "string") return claims.sub;
  } catch {
    // Not a JWT we can read: no persistence for this connection.
  }
  return undefined;
}

export function storageKey(prefix: string, userId: string, device: string): string {
  return `${prefix}:${userId}:${device}`;
}

export function readSeq(storage: SeqStorage, key: string): number | undefined {
  try {
    const raw = storage.getItem(key);
    if (raw === null || !/^\d{1,16}$/.test(raw)) return undefined;
    const n = Number(raw);
    return Number.isSafeInteger(n) ? n : undefined;
  } catch {
    // Storage can throw (quota, privacy modes, a sandboxed iframe): resuming
    // from the server cursor instead is always safe.
    return undefined;
  }
}

export function writeSeq(storage: SeqStorage, key: string, seq: number): void {
  try {
    storage.setItem(key, String(seq));
  } catch {
    // See readSeq.
  }
}
