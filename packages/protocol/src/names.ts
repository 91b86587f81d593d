/**
 * The name rule (docs/http-api.md, "Names"): userId, device, message id and
 * event are 1 to `max` characters of A-Z a-z 0-9 . _ : @ -, and every refusal
 * says so in the one sentence `nameRule` builds.
 */

export const NAME_CHARS = /^[A-Za-z0-9._:@-]+$/;
export const USER_ID_MAX = 128;
export const DEVICE_MAX = 64;
export const MESSAGE_ID_MAX = 128;
/** Largest integer a JSON number carries exactly (2^53 - 1). */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

export function isName(value: unknown, max: number): value is string {
  return typeof value === "string" && value.length >= 1 && value.length <= max && NAME_CHARS.test(value);
}
export const isUserId = (value: unknown): value is string => isName(value, USER_ID_MAX);
export const isDevice = (value: unknown): value is string => isName(value, DEVICE_MAX);
export const isMessageId = (value: unknown): value is string => isName(value, MESSAGE_ID_MAX);

/** The refusal of a bad name: `device must be 1-64 characters of A-Z a-z 0-9 . _ : @ -`. */
export function nameRule(field: string, max: number): string {
  return `${field} must be 1-${max} characters of A-Z a-z 0-9 . _ : @ -`;
}

/** A `since`-like query value: decimal digits only, 0 … 2^53-1; anything else is undefined. */
export function parseSeq(raw: string): number | undefined {
  if (!/^\d{1,16}$/.test(raw)) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : undefined;
}
