/**
 * Query strings are checked like bodies: a parameter the route does not know is
 * a 400 naming it, and so is a known one given twice. Ignoring the first is how
 * `DELETE …/sessions?devcie=phone` (a typo) used to close every session of the
 * user; ignoring the second is how `?device=a&device=b` used to close only `a`
 * and answer 200 as if both had been asked for.
 */
import { jsonError } from "./errors";

/** Longest parameter name echoed back in an error (the rest is the caller's noise). */
const MAX_ECHOED_NAME = 64;

/** The query part of a request URL, parsed. */
function paramsOf(url: string): URLSearchParams | undefined {
  // Not `new URL(url)`: the runtime builds the URL from the Host header, and a
  // request with two Host headers (`a, b`) yields a string URL() rejects; that
  // is the caller's mistake, not a 500. Only the query part is needed.
  const start = url.indexOf("?");
  if (start === -1) return undefined;
  const hash = url.indexOf("#", start);
  return new URLSearchParams(url.slice(start + 1, hash === -1 ? undefined : hash));
}

/** The 400 for a query parameter given more than once. */
function repeatedParam(name: string): Response {
  const shown = name.slice(0, MAX_ECHOED_NAME);
  return jsonError(400, "bad_request", `query parameter ${shown} given more than once (it takes one value)`, shown);
}

/**
 * The 400 for the first unknown or repeated parameter of `url`, or undefined
 * when each one is allowed and given once. Every parameter of this API takes
 * one value.
 */
export function queryProblem(url: string, allowed: readonly string[]): Response | undefined {
  const params = paramsOf(url);
  if (params === undefined) return undefined;
  for (const name of new Set(params.keys())) {
    const shown = name.slice(0, MAX_ECHOED_NAME);
    if (!allowed.includes(name)) {
      const known = allowed.length === 0 ? "this endpoint takes no query parameters" : `known: ${allowed.join(", ")}`;
      return jsonError(400, "bad_request", `unknown query parameter: ${shown} (${known})`, shown);
    }
    if (params.getAll(name).length > 1) return repeatedParam(name);
  }
  return undefined;
}

/** The 400 when `name` is given more than once (for a route that passes its other parameters on). */
export function repeatedProblem(url: string, name: string): Response | undefined {
  const count = paramsOf(url)?.getAll(name).length ?? 0;
  return count > 1 ? repeatedParam(name) : undefined;
}
