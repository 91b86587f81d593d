/**
 * The Worker's router. It authenticates, validates and hands off to the user's
 * object; it holds no state of its own.
 */
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { configFrom, type Config } from "../config";
import { api } from "./api";
import { openApiJson } from "./openapi";
import { allowedOrigin, connect, CONNECT_QUERY, upgradeOnly } from "./connect";
import { stompConnect, STOMP_QUERY } from "../stomp/connect";
import { guardBodyRead } from "./body";
import { devRoutes } from "./dev";
import type { AppEnv } from "./env";
import { errorBody, jsonError } from "./errors";
import { allowedMethods, methodNotAllowed } from "./methodNotAllowed";
import { noQuery, query } from "./query";
import { pusherRoutes } from "../pusher/http";
import { sessionCap } from "./overload";
import { metrics } from "./metrics";
import { setEventLog } from "../metrics/events";
import * as webpush from "./webpush";

const unauthorized = () => jsonError(401, "unauthorized", "missing or bad API key");

/**
 * `Authorization: Bearer <API_KEY>`, compared in constant time, synchronously.
 * hono's bearerAuth hashes both sides with two awaited crypto.subtle.digest
 * calls on every request: ~25-35 µs of CPU per push, measured (docs/benchmark.md),
 * for a comparison timingSafeEqual does directly.
 */
function apiKeyAuth(keys: string[], refuse: (c: Context<AppEnv>) => Response = unauthorized): MiddlewareHandler<AppEnv> {
  const encoder = new TextEncoder();
  const expected = keys.map((k) => encoder.encode(k));
  return async (c, next) => {
    const given = encoder.encode(/^Bearer +(\S+) *$/i.exec(c.req.header("Authorization") ?? "")?.[1] ?? "");
    // timingSafeEqual needs equal lengths; only the keys' lengths can leak.
    if (!expected.some((key) => given.byteLength === key.byteLength && crypto.subtle.timingSafeEqual(given, key))) return refuse(c);
    await next();
  };
}

/** Middlewares built from config values are built once per config (per isolate). */
const perConfig = new WeakMap<Config, { auth: MiddlewareHandler<AppEnv>; metricsAuth: MiddlewareHandler<AppEnv>; limit: MiddlewareHandler<AppEnv> }>();
function middlewaresFor(config: Config) {
  let m = perConfig.get(config);
  if (m === undefined) {
    m = {
      auth: apiKeyAuth([config.apiKey], wrongMethodOrUnauthorized),
      metricsAuth: apiKeyAuth(config.metricsToken === undefined ? [config.apiKey] : [config.apiKey, config.metricsToken]),
      limit: guardBodyRead(
        bodyLimit({
          maxSize: config.maxMessageBytes,
          onError: () => jsonError(413, "payload_too_large", `body exceeds ${config.maxMessageBytes} bytes (MAX_MESSAGE_BYTES)`, "body"),
        }),
      ),
    };
    perConfig.set(config, m);
  }
  return m;
}

/**
 * The /v1 refusal without a valid key. A wrong method on a path served without the API key
 * (the connects, Web Push's key and client-token routes) is a 405, not "missing or bad API
 * key", which would send a browser or a client looking for a key it must never hold. Asked
 * only when the key is missing or wrong, so an authorised push never pays for the lookup (with
 * a key, such a request falls through to notFound's 405).
 */
function wrongMethodOrUnauthorized(c: Context<AppEnv>): Response {
  const allowed = allowedMethods(servedWithoutApiKey, c.req.path);
  return allowed.length > 0 ? methodNotAllowed(c.req.method, allowed) : unauthorized();
}

export const app = new Hono<AppEnv>();

// Fail closed: a deployment missing a secret answers 500 naming it, everywhere.
app.use("*", async (c, next) => {
  const result = configFrom(c.env);
  if (!result.ok) return jsonError(500, "misconfigured", result.problem);
  c.set("config", result.config);
  setEventLog(result.config.eventLog);
  await next();
});
app.use("*", sessionCap);

app.get("/metrics", (c, next) => middlewaresFor(c.var.config).metricsAuth(c, next), noQuery, metrics);
app.get("/healthz", noQuery, (c) => c.json({ ok: true }));
app.get("/openapi.json", noQuery, (c) => c.body(openApiJson(), 200, { "Content-Type": "application/json" }));
app.get("/v1/connect", upgradeOnly, query(CONNECT_QUERY), allowedOrigin, (c) => connect(c, c.var.config));
app.get("/v1/stomp", upgradeOnly, query(STOMP_QUERY), allowedOrigin, (c) => stompConnect(c, c.var.config));
// The dev proxies go through the whole app, so the API key, limits and validation are the real ones.
app.route(
  "/dev",
  devRoutes((request, c) => app.fetch(request, c.env, c.executionCtx)),
);

// Web Push's key route (anyone) and its client-token routes, before the API key is asked for.
app.route("/v1", webpush.publicRoutes);
const servedWithoutApiKey = app.routes.slice();
app.use("/v1/*", (c, next) => middlewaresFor(c.var.config).auth(c, next));
app.use("/v1/*", (c, next) => middlewaresFor(c.var.config).limit(c, next));
app.route("/v1", api);
app.route("/v1", webpush.serverRoutes);
app.route("/", pusherRoutes);

app.notFound((c) => {
  const allowed = allowedMethods(app.routes, c.req.path);
  return allowed.length > 0 ? methodNotAllowed(c.req.method, allowed) : jsonError(404, "not_found", "no such endpoint");
});

/**
 * The one error handler: a refusal thrown by a validator or middleware
 * (HTTPException) is its own answer; anything else is logged in full here and
 * the caller gets a code and a message.
 */
app.onError((err, c) => {
  if (err instanceof HTTPException) return err.getResponse();
  // A user's object can be briefly unavailable (overloaded, restarting): the
  // runtime marks such errors `retryable: true` or `overloaded: true` (Durable
  // Objects docs, "Error handling"). Tell the caller to retry rather than report a bug.
  if (isRetryable(err)) {
    console.warn("switchboard: retryable error", c.req.method, c.req.path, err);
    return c.json(errorBody("unavailable", "temporarily unavailable; retry"), 503, { "Retry-After": "1" });
  }
  console.error("switchboard: unhandled error", c.req.method, c.req.path, err);
  return c.json(errorBody("internal", "internal error"), 500);
});

function isRetryable(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const flags = err as { retryable?: unknown; overloaded?: unknown };
  return flags.retryable === true || flags.overloaded === true;
}
