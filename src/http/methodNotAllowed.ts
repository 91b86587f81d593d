/**
 * 405 for a path the router serves under another method (RFC 9110 §15.5.6:
 * "MUST generate an Allow header field"), instead of the 404 "no such
 * endpoint" a client would read as a typo in the path.
 *
 * The allowed methods come from the router's own route table, matched with
 * hono's TrieRouter (the router hono itself falls back to, so path patterns
 * mean the same here), so a route added anywhere gets its 405 without a line
 * here. Middleware (method ALL) serves no method of its own and is left out;
 * a path whose handler takes every method never reaches notFound at all.
 */
import type { RouterRoute } from "hono/types";
import { TrieRouter } from "hono/router/trie-router";
import { jsonError } from "./errors";

/** Longest method name echoed back (a method is any token; the rest is noise). */
const MAX_ECHOED_METHOD = 16;

interface Table {
  size: number;
  router: TrieRouter<string>;
  methods: string[];
}

const tables = new WeakMap<readonly RouterRoute[], Table>();

function tableOf(routes: readonly RouterRoute[]): Table {
  let table = tables.get(routes);
  // Rebuilt if routes were added since (a router is filled at module load,
  // but nothing forbids adding later).
  if (table === undefined || table.size !== routes.length) {
    const router = new TrieRouter<string>();
    const methods = new Set<string>();
    for (const { method, path } of routes) {
      if (method === "ALL") continue;
      router.add(method, path, method);
      methods.add(method);
    }
    table = { size: routes.length, router, methods: [...methods] };
    tables.set(routes, table);
  }
  return table;
}

/**
 * The methods `path` is served with, sorted; HEAD wherever GET is, since
 * hono answers HEAD with the GET route (body dropped). Empty for a path no
 * route serves.
 */
export function allowedMethods(routes: readonly RouterRoute[], path: string): string[] {
  const { router, methods } = tableOf(routes);
  const allowed = new Set<string>();
  for (const method of methods) {
    const [handlers] = router.match(method, path);
    if (handlers.length > 0) allowed.add(method);
  }
  if (allowed.has("GET")) allowed.add("HEAD");
  return [...allowed].sort();
}

/** The 405 for `method` on a path served with `allowed` (non-empty), in the API's error shape. */
export function methodNotAllowed(method: string, allowed: readonly string[]): Response {
  const shown = method.slice(0, MAX_ECHOED_METHOD);
  const response = jsonError(405, "method_not_allowed", `${shown} is not allowed on this path (Allow: ${allowed.join(", ")})`);
  response.headers.set("Allow", allowed.join(", "));
  return response;
}
