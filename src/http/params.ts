/**
 * Validation middleware for path parameters: each named one must be a valid
 * name, else a 400 naming it, checked in the order given (the order the route
 * reports problems in). `c.req.valid("param")` then holds them.
 */
import { validator } from "hono/validator";
import { isDevice, isUserId } from "../protocol";
import { refuse } from "./errors";

export const USER_ID_RULE = "userId must be 1-128 characters of A-Z a-z 0-9 . _ : @ -";
export const DEVICE_RULE = "device must be 1-64 characters of A-Z a-z 0-9 . _ : @ -";

const RULES = {
  userId: { valid: isUserId, message: USER_ID_RULE },
  device: { valid: isDevice, message: DEVICE_RULE },
} as const;

export function params<const N extends keyof typeof RULES>(...names: N[]) {
  return validator("param", (value): Record<N, string> => {
    for (const name of names) {
      if (!RULES[name].valid(value[name])) refuse(400, "bad_request", RULES[name].message, name);
    }
    return value as Record<N, string>;
  });
}
