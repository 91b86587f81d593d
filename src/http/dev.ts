/**
 * Development-only routes for the demo page and the README's quick start.
 * They exist only when DEV_MODE=1 (set by .dev.vars for `wrangler dev`); in a
 * deployment every /dev path answers 404.
 *
 * - GET  /dev/token?user=<userId>[&ttl=<s>]  mints a client token (JWT_SECRET)
 * - GET  /dev/presence?user=<userId>          the presence API without the API key
 * - POST /dev/push?user=<userId>              the push API without the API key
 * - GET  /dev/api                             the API reference page (apiReference.ts)
 *
 * The last two let a browser page show and drive the product without holding a
 * server secret; they go through the real API routes (see devProxyRequest).
 */
import { Hono, type Context } from "hono";
import { validator } from "hono/validator";
import { SignJWT } from "jose";
import { isUserId, parseSeq } from "@switchboard/protocol";
import { apiReferencePage } from "./apiReference";
import type { AppEnv } from "./env";
import { jsonError, refuse } from "./errors";
import { checkNotRepeated, noQuery, query } from "./query";

const MAX_DEV_TTL = 24 * 3600;

/** Sends a request through the whole app (the caller's router): see devProxyRequest. */
export type Dispatch = (request: Request, c: Context<AppEnv>) => Response | Promise<Response>;

/** The /dev sub-app, mounted at /dev. */
export function devRoutes(dispatch: Dispatch): Hono<AppEnv> {
  const dev = new Hono<AppEnv>();

  // The one guard: in a deployment every /dev path, whatever the method, is a 404
  // (not a 405 or a 400 that would tell a prober the route exists).
  dev.use("*", async (c, next) => {
    if (!c.var.config.devMode) return jsonError(404, "not_found", "no such endpoint");
    await next();
  });

  dev.get("/api", noQuery, apiReferencePage);

  const tokenQuery = query(["user", "ttl"], ({ user, ttl }) => {
    if (!isUserId(user)) refuse(400, "bad_request", "user must be a valid userId", "user");
    const seconds = ttl === undefined ? 3600 : parseSeq(ttl);
    if (seconds === undefined || seconds < 1 || seconds > MAX_DEV_TTL) refuse(400, "bad_request", `ttl must be 1-${MAX_DEV_TTL} seconds`, "ttl");
    return { user, ttl: seconds };
  });

  dev.get(
    "/token",
    async (c, next) => {
      if (c.var.config.jwtSecret === undefined) return jsonError(404, "not_found", "dev tokens need JWT_SECRET");
      await next();
    },
    tokenQuery,
    async (c) => {
      const config = c.var.config;
      const { user, ttl } = c.req.valid("query");
      const now = Math.floor(Date.now() / 1000);
      let jwt = new SignJWT({})
        .setProtectedHeader({ alg: "HS256" })
        .setSubject(user)
        .setIssuedAt(now)
        .setExpirationTime(now + ttl);
      if (config.jwtAudience !== undefined) jwt = jwt.setAudience(config.jwtAudience);
      if (config.jwtIssuer !== undefined) jwt = jwt.setIssuer(config.jwtIssuer);
      const token = await jwt.sign(new TextEncoder().encode(config.jwtSecret));
      return c.json({ token, userId: user, expiresAt: (now + ttl) * 1000 }, 200, { "Cache-Control": "no-store" });
    },
  );

  dev.get("/presence", proxiedUser, (c) => dispatch(devProxyRequest(c, c.req.valid("query").user, "presence"), c));
  dev.post("/push", proxiedUser, (c) => dispatch(devProxyRequest(c, c.req.valid("query").user, "messages"), c));
  return dev;
}

/**
 * `user` is taken off before the request is passed on, so the API route
 * cannot see a second one; every other parameter the API route checks itself.
 */
const proxiedUser = validator("query", (_value, c) => {
  checkNotRepeated(c.req.url, "user");
  const user = c.req.query("user");
  if (!isUserId(user)) refuse(400, "bad_request", "user must be a valid userId", "user");
  return { user };
});

/**
 * The server API request a dev proxy route stands for: same method, query and
 * body, with the API key added. The caller dispatches it through the whole
 * app, so body limits and validation are the real ones.
 */
function devProxyRequest(c: Context<AppEnv>, user: string, suffix: "presence" | "messages"): Request {
  let url: URL;
  try {
    url = new URL(c.req.url);
  } catch {
    // Two Host headers give the runtime's URL a host of `a, b`.
    refuse(400, "bad_request", "the request's Host header is not one host", "Host");
  }
  url.pathname = `/v1/users/${user}/${suffix}`;
  url.searchParams.delete("user");
  const headers = new Headers(c.req.raw.headers);
  headers.set("Authorization", `Bearer ${c.var.config.apiKey}`);
  return new Request(url, { method: c.req.method, headers, body: c.req.method === "POST" ? c.req.raw.body : null });
}
