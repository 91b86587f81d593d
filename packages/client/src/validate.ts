/**
 * Every option and argument of the public API, checked at run time before
 * anything happens: TypeScript catches `{ devcie: "phone" }` in a literal,
 * plain JavaScript does not, and an option dropped silently changes what the
 * client does (a misspelt `device` connects as a server-assigned one and
 * resumes from nothing). A refusal throws SwitchboardError with kind
 * "argument", code `invalid_argument` and `field` naming the option
 * (`heartbeat.intervalMs`); no socket is opened, no listener added.
 *
 * Hand-written rather than valibot (measured with esbuild, 2026-12-02): the
 * connect options as a valibot strictObject bundle to 7.8 kB minified
 * (2.4 kB gzipped) before any message naming a field, against 11.6 kB for
 * the whole SDK (public/sdk.js, 4.3 kB gzipped) without checks; this file,
 * messages included, takes it to 14.4 kB (5.3 kB gzipped).
 */
import { DEVICE_MAX, isDevice, nameRule } from "@switchboard/protocol";
import type { BackoffOptions } from "./backoff.ts";
import { INVALID_ARGUMENT, SwitchboardError, type ConnectOptions, type HeartbeatOptions, type SwitchboardEvents } from "./types.ts";

/** Throws invalid_argument naming `field` unless `value` passes. Never called with undefined (absent). */
type Check = (value: unknown, field: string) => void;

export function invalidArgument(field: string, message: string): SwitchboardError {
  return new SwitchboardError("argument", message, { code: INVALID_ARGUMENT, field });
}

/** What a value is, for a message (never the value: it may be a token). */
function kind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

const wrong = (field: string, expected: string, value: unknown) => invalidArgument(field, `${field} must be ${expected}, not ${kind(value)}`);

const nonEmptyString: Check = (value, field) => {
  if (typeof value !== "string" || value === "") throw wrong(field, "a non-empty string", value);
};

const func: Check = (value, field) => {
  if (typeof value !== "function") throw wrong(field, "a function", value);
};

/** A finite number of ms, at least `min`. */
const ms =
  (min: number): Check =>
  (value, field) => {
    if (typeof value !== "number" || !Number.isFinite(value) || value < min)
      throw invalidArgument(field, `${field} must be a finite number of ms, at least ${min}`);
  };

const positiveMs: Check = (value, field) => {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) throw invalidArgument(field, `${field} must be a finite number of ms above 0`);
};

const seq: Check = (value, field) => {
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw invalidArgument(field, `${field} must be an integer from 0 to 2^53-1`);
};

const device: Check = (value, field) => {
  if (!isDevice(value)) throw invalidArgument(field, nameRule(field, DEVICE_MAX));
};

/** An object with these methods (localStorage, window, …): its other members are its own business. */
const withMethods =
  (...methods: string[]): Check =>
  (value, field) => {
    if (typeof value !== "object" || value === null) throw wrong(field, `an object with ${methods.join(" and ")}`, value);
    for (const m of methods)
      if (typeof (value as Record<string, unknown>)[m] !== "function") throw invalidArgument(`${field}.${m}`, `${field}.${m} must be a function`);
  };

/**
 * An options object: a plain object whose every own key `shape` knows and
 * whose every value (but undefined, which means absent) passes its check.
 * `field` is "" for connect()'s own options, so the option itself is named.
 */
function checkShape(value: unknown, field: string, shape: Readonly<Record<string, Check>>): void {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw wrong(field || "options", "an object of options", value);
  for (const [key, option] of Object.entries(value)) {
    const path = field === "" ? key : `${field}.${key}`;
    if (!Object.hasOwn(shape, key)) throw invalidArgument(path, `unknown option ${path} (known: ${Object.keys(shape).join(", ")})`);
    if (option !== undefined) shape[key]?.(option, path);
  }
}

const HEARTBEAT_OPTIONS = { intervalMs: ms(1), timeoutMs: ms(1) } satisfies Record<keyof HeartbeatOptions, Check>;

const BACKOFF_OPTIONS = {
  baseMs: positiveMs,
  maxMs: ms(0),
  resetAfterMs: ms(0),
  maxAttempts: (value, field) => {
    if (value !== Number.POSITIVE_INFINITY && (!Number.isSafeInteger(value) || (value as number) < 0)) {
      throw invalidArgument(field, `${field} must be an integer from 0, or Infinity`);
    }
  },
} satisfies Record<keyof BackoffOptions, Check>;

/** Backoff options, for connect() and resolveBackoff() alike (defaults as there). */
export function checkBackoffOptions(value: unknown, field = "backoff"): void {
  checkShape(value, field, BACKOFF_OPTIONS);
  const { baseMs = 500, maxMs = 30_000 } = value as BackoffOptions;
  if (maxMs < baseMs) throw invalidArgument(`${field}.maxMs`, `${field}.maxMs must be at least baseMs (${baseMs})`);
}

/** The service or its connect URL; relative to the page in a browser, as connectUrl() reads it. */
const url: Check = (value, field) => {
  if (typeof value !== "string" && !(value instanceof URL)) throw wrong(field, "a string or a URL", value);
  const location = (globalThis as { location?: { href?: unknown } }).location;
  let parsed: URL;
  try {
    parsed = new URL(String(value), typeof location?.href === "string" ? location.href : undefined);
  } catch {
    throw invalidArgument(field, `${field} must be an absolute URL (http, https, ws or wss)`);
  }
  if (!["http:", "https:", "ws:", "wss:"].includes(parsed.protocol)) throw invalidArgument(field, `${field} must be an http, https, ws or wss URL`);
};

/**
 * Each option connect() knows, with its check. `satisfies` holds the keys
 * equal to ConnectOptions': an option added there and not here fails the
 * build, instead of being refused at run time as unknown.
 */
const CONNECT_OPTIONS = {
  url,
  token: nonEmptyString,
  getToken: func,
  device,
  since: seq,
  auth: (value, field) => {
    if (value !== "protocol" && value !== "header" && value !== "query") throw invalidArgument(field, `${field} must be "protocol", "header" or "query"`);
  },
  createWebSocket: func,
  heartbeat: (value, field) => {
    if (value !== false) checkShape(value, field, HEARTBEAT_OPTIONS);
  },
  backoff: checkBackoffOptions,
  ackDelayMs: ms(0),
  connectTimeoutMs: ms(1),
  storage: withMethods("getItem", "setItem"),
  storagePrefix: nonEmptyString,
  random: func,
  environment: (value, field) => {
    if (value !== null) withMethods("addEventListener", "removeEventListener")(value, field);
  },
} satisfies Record<keyof ConnectOptions, Check>;

/** connect()'s options: refused here if no retry could ever fix them. */
export function checkConnectOptions(options: unknown): asserts options is ConnectOptions {
  if (options === undefined) throw invalidArgument("options", "connect needs { url, token } or { url, getToken }");
  checkShape(options, "", CONNECT_OPTIONS);
  const { url: given, token, getToken } = options as ConnectOptions;
  if (given === undefined) throw invalidArgument("url", "url is required");
  if ((token === undefined) === (getToken === undefined)) throw invalidArgument("token", "pass exactly one of token and getToken");
}

/** The events `on`, `once` and `off` take; the record keeps the list equal to SwitchboardEvents'. */
const EVENTS = { open: true, message: true, close: true, error: true, resync: true } satisfies Record<keyof SwitchboardEvents, true>;
export const CLIENT_EVENTS = Object.keys(EVENTS) as (keyof SwitchboardEvents)[];

/** A listener for one of `known`: `on("mesage", f)` would otherwise wait forever. */
export function checkListener(known: readonly PropertyKey[], type: unknown, listener: unknown): void {
  if (!known.includes(type as PropertyKey))
    throw invalidArgument("type", `unknown event ${String(type).slice(0, 32)} (known: ${known.map(String).join(", ")})`);
  func(listener, "listener");
}

/** RFC 6455 §5.5: a control frame's payload is at most 125 bytes, 2 of them the close code. */
const MAX_CLOSE_REASON_BYTES = 123;

/** close()'s reason: a longer one makes WebSocket.close() throw (a SyntaxError), and the socket would stay open. */
export function checkCloseReason(reason: unknown): void {
  if (typeof reason !== "string") throw wrong("reason", "a string", reason);
  if (new TextEncoder().encode(reason).byteLength > MAX_CLOSE_REASON_BYTES) {
    throw invalidArgument("reason", `reason must be at most ${MAX_CLOSE_REASON_BYTES} bytes of UTF-8 (RFC 6455 §5.5)`);
  }
}
