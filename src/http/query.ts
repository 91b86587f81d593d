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
  const params = new URL(url).searchParams;
  for (const name of new Set(params.keys())) {
    const shown = name.slice(0, MAX_ECHOED_NAME);
    if (!allowed.includes(name)) {
      const known = allowed.length === 0 ? "this endpoint takes no query parameters" : `known: ${allowed.join(", ")}`;
      return jsonError(400, "bad_request", `unknown query parameter: ${shown} (${known})`, shown);
    }
  }
  return undefined;
}
