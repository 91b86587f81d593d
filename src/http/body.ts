/** Reading a JSON request body: 415 for other media types, 400 for bad JSON (413 is the body-limit middleware's). */
import type { Context, Env, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Checked } from "../util/checked";
import type { AppEnv } from "./env";
import { jsonError, refuse, refuseWith, valueOr400 } from "./errors";

const unreadable = () => jsonError(400, "bad_request", "request body could not be read (malformed chunked encoding?)", "body");

/**
 * A body-reading middleware (hono's bodyLimit reads a chunked body before the
 * route runs) whose read fails is the caller's doing: workerd parses chunked
 * framing lazily, so a bad chunk size surfaces as "Network connection lost"
 * with `retryable`, which onError would answer 503 "retry". Errors from
 * further down the chain (a user's object, say) pass through untouched.
 */
export function guardBodyRead<E extends Env>(middleware: MiddlewareHandler<E>): MiddlewareHandler<E> {
  return async (c, next) => {
    let downstream = false;
    try {
      return await middleware(c, async () => {
        downstream = true;
        await next();
      });
    } catch (err) {
      if (downstream || err instanceof HTTPException) throw err;
      console.warn("switchboard: request body could not be read", err);
      return unreadable();
    }
  };
}

/** `application/json`, optionally with parameters (`; charset=utf-8`). */
function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  return contentType.split(";")[0]?.trim().toLowerCase() === "application/json";
}

/**
 * Fatal, so that bytes that are not UTF-8 are refused instead of turned into
 * U+FFFD (what Request.text() does, per the Encoding Standard's "UTF-8
 * decode"): data would otherwise be stored and delivered changed, with a 200.
 * The BOM is still dropped, as text() and JSON.parse's callers expect.
 */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** The request's body as JSON: 415 for another media type, 400 for bytes that are not UTF-8 JSON (thrown). */
export async function readJson(c: Context): Promise<unknown> {
  if (!isJson(c.req.header("Content-Type"))) {
    refuse(415, "unsupported_media_type", "Content-Type must be application/json", "Content-Type");
  }
  let bytes: ArrayBuffer;
  try {
    bytes = await c.req.arrayBuffer();
  } catch (err) {
    // The body stream failed: malformed chunked framing (workerd parses it lazily,
    // after the Worker has started) or the client went away. The caller's
    // bytes, not our fault; the error carries `retryable`, which would make it a 503.
    if (err instanceof HTTPException) throw err; // the body-limit middleware's 413
    console.warn("switchboard: request body could not be read", err);
    refuseWith(unreadable());
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    refuse(400, "bad_json", "body is not valid UTF-8 (JSON text is UTF-8, RFC 8259 §8.1)", "body");
  }
  return parseJson(text);
}

/** JSON text → value, or the 400 (thrown). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    refuse(400, "bad_json", "body is not valid JSON", "body");
  }
}

/**
 * Validation middleware for a JSON body: `c.req.valid("json")` is `check`'s
 * value, else a 400 naming the field. Not hono's `validator("json")`, which
 * reads any other media type as `{}` (we answer 415), decodes bad UTF-8 as
 * U+FFFD (we refuse it) and answers bad JSON in text/plain.
 */
export function jsonBody<T>(
  check: (input: unknown, c: Context<AppEnv>) => Checked<T>,
): MiddlewareHandler<AppEnv, string, { in: { json: unknown }; out: { json: T } }> {
  return async (c, next) => {
    c.req.addValidatedData("json", valueOr400(check(await readJson(c), c)) as object);
    await next();
  };
}

/**
 * `data` back to JSON text, once, at the edge. JSON.parse accepts nesting that
 * JSON.stringify (recursive in V8) cannot re-serialize: that is the caller's
 * input, so a 400, not a 500.
 */
export function serializeData(data: unknown): string | undefined {
  try {
    return JSON.stringify(data);
  } catch {
    return undefined;
  }
}
