/**
 * Every argument of every public function, checked at run time before
 * anything is sent: TypeScript catches `{ devcie: "phone" }` in a literal,
 * plain JavaScript (or a value built at run time) does not, and an option
 * dropped silently can widen a call (a kick with a misspelt device closed
 * every session). An unknown option, a wrong type or a value out of range is
 * a SwitchboardError with code `invalid_argument`, status 0 and `field`
 * naming the option (`ttl`, `backoff.baseMs`).
 *
 * Hand-written rather than valibot (measured with esbuild, 2026-12-02): the
 * client SDK's connect options alone as a valibot strictObject bundle to
 * 7.8 kB minified, more than this whole package was without checks (6.7 kB);
 * with this file and its messages naming each field it is 10.0 kB, and the
 * package keeps no runtime dependency.
 */
import { invalidArgument } from "./errors.ts";
import { checkName } from "./names.ts";

/** Throws invalid_argument naming `field` unless `value` passes. Never called with undefined (absent). */
export type Check = (value: unknown, field: string) => void;

/** What a value is, for a message (never the value itself: it may be a secret). */
function kind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

const wrong = (field: string, expected: string, value: unknown) => invalidArgument(field, `${field} must be ${expected}, not ${kind(value)}`);

export const nonEmptyString: Check = (value, field) => {
  if (typeof value !== "string" || value === "") throw wrong(field, "a non-empty string", value);
};

/** The contract's name rule (userId, device, id), 1-max characters. */
export const name =
  (max: number): Check =>
  (value, field) =>
    void checkName(value, field, max);

/** A string of 1-max characters (a session id is the server's to interpret). */
export const shortString =
  (max: number): Check =>
  (value, field) => {
    if (typeof value !== "string" || value.length < 1 || value.length > max) throw wrong(field, `a string of 1-${max} characters`, value);
  };

export const integer =
  (min: number, max = Number.MAX_SAFE_INTEGER): Check =>
  (value, field) => {
    if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
      throw invalidArgument(field, `${field} must be an integer from ${min} to ${max === Number.MAX_SAFE_INTEGER ? "2^53-1" : max}`);
    }
  };

/** A finite number of milliseconds, at least `min`. */
export const ms =
  (min: number): Check =>
  (value, field) => {
    if (typeof value !== "number" || !Number.isFinite(value) || value < min)
      throw invalidArgument(field, `${field} must be a finite number of ms, at least ${min}`);
  };

export const func: Check = (value, field) => {
  if (typeof value !== "function") throw wrong(field, "a function", value);
};

export const literal =
  (expected: unknown): Check =>
  (value, field) => {
    if (value !== expected) throw invalidArgument(field, `${field} must be ${JSON.stringify(expected)}`);
  };

/** Field names are `parent.key`, or `key` at the top. */
const join = (parent: string, key: string) => (parent === "" ? key : `${parent}.${key}`);

/**
 * An options object: absent, or a plain object whose every own key `shape`
 * knows and whose every value (but undefined, which means absent) passes its
 * check. `field` names the object in errors; "" for a function's own options,
 * so that the option itself is named (`ttl`, not `options.ttl`).
 */
export function checkOptions(value: unknown, field: string, shape: Readonly<Record<string, Check>>): void {
  if (value === undefined) return;
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw wrong(field || "options", "an object of options", value);
  for (const [key, option] of Object.entries(value)) {
    const path = join(field, key);
    if (!Object.hasOwn(shape, key)) throw invalidArgument(path, `unknown option ${path} (known: ${Object.keys(shape).join(", ")})`);
    if (option !== undefined) shape[key]?.(option, path);
  }
}

/** `required` keys must be present (not undefined) in an object checkOptions already passed. */
export function checkRequired(value: object, field: string, required: readonly string[]): void {
  for (const key of required) {
    if ((value as Record<string, unknown>)[key] === undefined) throw invalidArgument(join(field, key), `${join(field, key)} is required`);
  }
}

/** Calls with more arguments than the function takes: `presence("u", "phone")` is a mistake, not a presence of "u". */
export function checkArity(args: { length: number }, max: number, call: string): void {
  if (args.length > max)
    throw invalidArgument("arguments", `${call} takes ${max === 0 ? "no arguments" : `at most ${max} argument${max === 1 ? "" : "s"}`}, got ${args.length}`);
}

/** Push data must survive JSON: undefined, a function or a symbol would vanish, a BigInt or a cycle would throw later. */
export function checkData(data: unknown): void {
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (cause) {
    throw invalidArgument("data", `data must be JSON-serializable (${cause instanceof Error ? cause.message : "JSON.stringify threw"})`);
  }
  if (json === undefined) throw invalidArgument("data", `data must be a JSON value, not ${kind(data)}`);
}
