/**
 * Development-only routes for the demo page and the README's quick start.
 * They exist only when DEV_MODE=1 (set by .dev.vars for `wrangler dev`); in a
 * deployment every /dev path answers 404.
 *
 * - GET  /dev/token?user=<userId>[&ttl=<s>]  mints a client token (JWT_SECRET)
 * - GET  /dev/presence?user=<userId>          the presence API without the API key
 * - POST /dev/push?user=<userId>              the push API without the API key
 *
 * The last two let a browser page show and drive the product without holding a
 * server secret; they go through the real API routes (see devProxyRequest).
 */
import { Hono, type Context } from "hono";
import { SignJWT } from "jose";
import { isUserId, parseSeq } from "@switchboard/protocol";
import type { AppEnv } from "./env";
import { jsonError } from "./errors";
import { queryProblem, repeatedProblem } from "./query";

const MAX_DEV_TTL = 24 * 3600;

export const dev = new Hono<AppEnv>();

dev.use("*", async (c, next) => {
  if (!c.var.config.devMode) return jsonError(404, "not_found", "no such endpoint");
  await next();
});

dev.get("/token", async (c) => {
  const config = c.var.config;
  if (config.jwtSecret === undefined) return jsonError(404, "not_found", "dev tokens need JWT_SECRET");
  const badQuery = queryProblem(c.req.url, ["user", "ttl"]);
  if (badQuery !== undefined) return badQuery;
  const user = c.req.query("user");
  if (!isUserId(user)) return jsonError(400, "bad_request", "user must be a valid userId", "user");
  const ttlRaw = c.req.query("ttl");
  const ttl = ttlRaw === undefined ? 3600 : parseSeq(ttlRaw);
  if (ttl === undefined || ttl < 1 || ttl > MAX_DEV_TTL) {
    return jsonError(400, "bad_request", `ttl must be 1-${MAX_DEV_TTL} seconds`, "ttl");
  }
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
});

/**
 * The server API request a dev proxy route stands for: same method, query and
 * body, with the API key added. The caller dispatches it through the whole
 * app, so body limits and validation are the real ones.
 */
export async function devProxyRequest(c: Context<AppEnv>, suffix: "presence" | "messages"): Promise<Request | Response> {
  if (!c.var.config.devMode) return jsonError(404, "not_found", "no such endpoint");
  // `user` is taken off before the request is passed on, so the API route
  // cannot see a second one; every other parameter it checks itself.
  const twice = repeatedProblem(c.req.url, "user");
  if (twice !== undefined) return twice;
  const user = c.req.query("user");
  if (!isUserId(user)) return jsonError(400, "bad_request", "user must be a valid userId", "user");
  let url: URL;
  try {
    url = new URL(c.req.url);
  } catch {
    // Two Host headers give the runtime's URL a host of `a, b`.
    return jsonError(400, "bad_request", "the request's Host header is not one host", "Host");
  }
  url.pathname = `/v1/users/${user}/${suffix}`;
  url.searchParams.delete("user");
  const headers = new Headers(c.req.raw.headers);
  headers.set("Authorization", `Bearer ${c.var.config.apiKey}`);
  return new Request(url, { method: c.req.method, headers, body: c.req.method === "POST" ? c.req.raw.body : null });
}
