/** The wire contract's name rule (userId, device, id): checked here so a bad one fails before any request. */
import { invalidArgument } from "./errors.ts";

const NAME = /^[A-Za-z0-9._:@-]+$/;

export function checkName(value: unknown, field: string, max: number): string {
  if (typeof value !== "string" || value.length < 1 || value.length > max || !NAME.test(value)) {
    throw invalidArgument(field, `${field} must be 1-${max} characters of A-Z a-z 0-9 . _ : @ -`);
  }
  return value;
}

export const USER_ID_MAX = 128;
