/** Reading a JSON request body: 415 for other media types, 400 for bad JSON (413 is the body-limit middleware's). */
import type { Context } from "hono";
import { jsonError } from "./errors";

/** `application/json`, optionally with parameters (`; charset=utf-8`). */
function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  return contentType.split(";")[0]?.trim().toLowerCase() === "application/json";
}

export async function readJson(c: Context): Promise<{ ok: true; value: unknown } | { ok: false; response: Response }> {
  if (!isJson(c.req.header("Content-Type"))) {
    return { ok: false, response: jsonError(415, "unsupported_media_type", "Content-Type must be application/json", "Content-Type") };
  }
  const text = await c.req.text();
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, response: jsonError(400, "bad_json", "body is not valid JSON", "body") };
  }
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
