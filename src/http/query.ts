/**
 * Query strings are checked like bodies: a parameter the route does not know is
 * a 400 naming it. Ignoring it is how `DELETE …/sessions?devcie=phone` (a typo)
 * used to close every session of the user.
 */
import { jsonError } from "./errors";

/** Longest parameter name echoed back in an error (the rest is the caller's noise). */
const MAX_ECHOED_NAME = 64;

/** The 400 for the first unknown parameter of `url`, or undefined when every one is allowed. */
export function queryProblem(url: string, allowed: readonly string[]): Response | undefined {
  // Not `new URL(url)`: the runtime builds the URL from the Host header, and a
  // request with two Host headers (`a, b`) yields a string URL() rejects; that
  // is the caller's mistake, not a 500. Only the query part is needed.
  const start = url.indexOf("?");
  if (start === -1) return undefined;
  const hash = url.indexOf("#", start);
  const params = new URLSearchParams(url.slice(start + 1, hash === -1 ? undefined : hash));
  for (const name of new Set(params.keys())) {
    const shown = name.slice(0, MAX_ECHOED_NAME);
    if (!allowed.includes(name)) {
      const known = allowed.length === 0 ? "this endpoint takes no query parameters" : `known: ${allowed.join(", ")}`;
      return jsonError(400, "bad_request", `unknown query parameter: ${shown} (${known})`, shown);
    }
  }
  return undefined;
}
