/**
 * Validation middleware for path parameters: each named one must be a valid
 * name, else a 400 naming it, checked in the order given (the order the route
 * reports problems in). `c.req.valid("param")` then holds them. Not hono's
 * `validator("param")`, which decodes every parameter and reads Content-Type
 * first: on the push route that is work each push would pay for (query.ts).
 * Synchronous for the same reason.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./env";
import { DEVICE_MAX, isDevice, isUserId, nameRule, USER_ID_MAX } from "@switchboard/protocol";
import { refuse } from "./errors";

export const USER_ID_RULE = nameRule("userId", USER_ID_MAX);
export const DEVICE_RULE = nameRule("device", DEVICE_MAX);

const RULES = {
  userId: { valid: isUserId, message: USER_ID_RULE },
  device: { valid: isDevice, message: DEVICE_RULE },
} as const;

export function params<const N extends keyof typeof RULES>(
  ...names: N[]
): MiddlewareHandler<AppEnv, string, { in: { param: Record<N, string> }; out: { param: Record<N, string> } }> {
  return (c, next) => {
    const value = {} as Record<N, string>;
    for (const name of names) {
      const v = c.req.param(name);
      if (!RULES[name].valid(v)) refuse(400, "bad_request", RULES[name].message, name);
      value[name] = v as string;
    }
    c.req.addValidatedData("param", value);
    return next();
  };
}
