/**
 * The Worker's router. It authenticates, validates and hands off to the user's
 * object; it holds no state of its own.
 */
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { configFrom, type Config } from "../config";
import { api } from "./api";
import { apiReferencePage } from "./apiReference";
import { openApiJson } from "./openapi";
import { connect } from "./connect";
import { stompConnect } from "../stomp/connect";
import { guardBodyRead } from "./body";
import { dev, devProxyRequest } from "./dev";
import type { AppEnv } from "./env";
import { errorBody, jsonError } from "./errors";
import { allowedMethods, methodNotAllowed } from "./methodNotAllowed";
import { queryProblem } from "./query";
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

app.get("/metrics", (c, next) => middlewaresFor(c.var.config).metricsAuth(c, next), metrics);
app.get("/healthz", (c) => queryProblem(c.req.url, []) ?? c.json({ ok: true }));
app.get("/openapi.json", (c) => queryProblem(c.req.url, []) ?? c.body(openApiJson(), 200, { "Content-Type": "application/json" }));
app.get("/dev/api", (c) => queryProblem(c.req.url, []) ?? apiReferencePage(c));
app.get("/v1/connect", (c) => connect(c, c.var.config));
app.get("/v1/stomp", (c) => stompConnect(c, c.var.config));
const viaApi = (suffix: "presence" | "messages") => async (c: Context<AppEnv>) => {
  const forwarded = await devProxyRequest(c, suffix);
  return forwarded instanceof Response ? forwarded : app.fetch(forwarded, c.env, c.executionCtx);
};
app.get("/dev/presence", viaApi("presence"));
app.post("/dev/push", viaApi("messages"));
app.route("/dev", dev);

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

app.onError((err, c) => {
  if (err instanceof HTTPException) return err.getResponse();
  // A user's object can be briefly unavailable (overloaded, restarting):
  // tell the caller to retry rather than report a bug.
  if (typeof err === "object" && err !== null && ("retryable" in err || "overloaded" in err)) {
    console.warn("switchboard: retryable error", c.req.method, c.req.path, err);
    return c.json(errorBody("unavailable", "temporarily unavailable; retry"), 503, { "Retry-After": "1" });
  }
  console.error("switchboard: unhandled error", c.req.method, c.req.path, err);
  return c.json(errorBody("internal", "internal error"), 500);
});
