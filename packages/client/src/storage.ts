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
