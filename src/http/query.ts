/**
 * Query strings are checked like bodies: a parameter the route does not know is
 * a 400 naming it, and so is a known one given twice. Ignoring the first is how
 * `DELETE …/sessions?devcie=phone` (a typo) used to close every session of the
 * user; ignoring the second is how `?device=a&device=b` used to close only `a`
 * and answer 200 as if both had been asked for.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./env";
import { refuse } from "./errors";

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
function repeatedParam(name: string): never {
  const shown = name.slice(0, MAX_ECHOED_NAME);
  refuse(400, "bad_request", `query parameter ${shown} given more than once (it takes one value)`, shown);
}

/**
 * Throws the 400 for the first unknown or repeated parameter of `url`, in the
 * order sent. Every parameter of this API takes one value.
 */
function checkQuery(url: string, allowed: readonly string[]): void {
  const params = paramsOf(url);
  if (params === undefined) return;
  for (const name of new Set(params.keys())) {
    const shown = name.slice(0, MAX_ECHOED_NAME);
    if (!allowed.includes(name)) {
      const known = allowed.length === 0 ? "this endpoint takes no query parameters" : `known: ${allowed.join(", ")}`;
      refuse(400, "bad_request", `unknown query parameter: ${shown} (${known})`, shown);
    }
    if (params.getAll(name).length > 1) repeatedParam(name);
  }
}

/** Throws the 400 when `name` is given more than once (for a route that passes its other parameters on). */
export function checkNotRepeated(url: string, name: string): void {
  if ((paramsOf(url)?.getAll(name).length ?? 0) > 1) repeatedParam(name);
}

/** The route's parameters, each given at most once: `c.req.valid("query")`. */
export type Query<N extends string> = Partial<Record<N, string>>;

/**
 * Validation middleware for a route's query string: only `allowed` names, each
 * once, else a 400 naming the first offender; `c.req.valid("query")` then
 * holds the values (as `c.req.query(name)` gives them), or what `refine` makes
 * of them (it throws the 400 naming a bad value).
 *
 * hono's validator's contract (c.req.valid) without hono's `validator()`: that
 * one parses the whole query (and reads Content-Type) before our check runs,
 * work every authorised push would pay for nothing: with it, the Worker's part
 * of a push measured ~4 µs more per validator (Node, the app bundled). The
 * names are checked on the query as sent (URLSearchParams): hono's parse drops
 * an empty name (`?=x`) and puts integer-like names first, which would change
 * which offender is named. Synchronous, handing back next()'s promise: an
 * async wrapper is one more frame and microtask per push (measured, as above).
 */
export function query<const N extends string, T = Query<N>>(
  allowed: readonly N[],
  refine?: (q: Query<N>, c: Context) => T,
): MiddlewareHandler<AppEnv, string, { in: { query: Query<N> }; out: { query: T } }> {
  return (c, next) => {
    checkQuery(c.req.url, allowed);
    const q: Query<N> = {};
    for (const name of allowed) {
      const v = c.req.query(name);
      if (v !== undefined) q[name] = v;
    }
    c.req.addValidatedData("query", (refine === undefined ? q : refine(q, c)) as object);
    return next();
  };
}

/** For the routes that take no query parameters. */
export const noQuery = query([]);
