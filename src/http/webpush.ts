/**
 * Web Push's HTTP surface (docs/webpush.md):
 *
 * - `GET /v1/webpush/key` (anyone): the VAPID public key for pushManager.subscribe.
 * - `PUT|DELETE /v1/me/devices/{device}/webpush`: the page registers its own
 *   device with its client token (the token's `sub` is the user).
 * - `PUT|DELETE /v1/users/{userId}/devices/{device}/webpush`: the same, by the
 *   app's server with the API key.
 *
 * `publicRoutes` are mounted before the API-key middleware and `serverRoutes`
 * after it, so a client token never opens the server routes nor the API key
 * the client's. Also here: the push's `webpush` opt-in, checked against the
 * config and the ttl (webPushOptIn).
 */
import { Hono, type Context, type MiddlewareHandler, type Next } from "hono";
import { every } from "hono/combine";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { validator } from "hono/validator";
import { verifyClientToken } from "../auth/jwt";
import type { Config } from "../config";
import type { WebPushOptIn } from "../hub/rpc";
import { parseSubscription, type WebPushSubscription } from "../webpush/subscription";
import { guardBodyRead, jsonBody } from "./body";
import { bearerToken, originAllowed } from "./connect";
import type { AppEnv } from "./env";
import { jsonError, refuse, refuseWith } from "./errors";
import { params } from "./params";
import { noQuery } from "./query";

/** A PushSubscription's JSON is a few hundred bytes; the endpoint is capped at 2048 characters. */
export const MAX_SUBSCRIPTION_BYTES = 4096;

const disabled = (status: 400 | 404, field?: string) =>
  jsonError(status, "webpush_disabled", "Web Push is not configured on this deployment (set VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT)", field);

const limit = guardBodyRead<AppEnv>(
  bodyLimit({
    maxSize: MAX_SUBSCRIPTION_BYTES,
    onError: () => jsonError(413, "payload_too_large", `a subscription is at most ${MAX_SUBSCRIPTION_BYTES} bytes`, "body"),
  }),
);

/**
 * A push's `webpush` field as the user's object takes it: undefined when not
 * asked (absent or false), else the options; the 400 that refuses it is thrown.
 */
export function webPushOptIn(raw: boolean | WebPushOptIn | undefined, ttl: number, config: Config): WebPushOptIn | undefined {
  if (raw === undefined || raw === false) return undefined;
  if (config.webPush === undefined) refuseWith(disabled(400, "webpush"));
  // A notification points at a stored message: the page fetches it on resume, and a
  // live-only push has no seq to dedupe by.
  if (ttl === 0) refuse(400, "bad_request", "webpush needs a stored push: ttl must be above 0", "webpush");
  return raw === true ? {} : raw;
}

/** The subscription in the body, checked (a 400 naming the field); http: endpoints only in dev mode. */
const subscription = jsonBody((input, c) => parseSubscription(input, c.var.config.devMode));

/** PUT: store the checked subscription in the user's object. */
async function put(c: Context<AppEnv>, userId: string, device: string, value: WebPushSubscription): Promise<Response> {
  const { stored } = await c.env.USER_HUB.getByName(userId).putWebPush(device, value);
  if (!stored) return jsonError(409, "too_many_subscriptions", "the user has a subscription on 100 devices; delete one first", "device");
  return c.json({ userId, device, stored: true });
}

async function remove(c: Context<AppEnv>, userId: string, device: string): Promise<Response> {
  const { removed } = await c.env.USER_HUB.getByName(userId).deleteWebPush(device);
  return c.json({ userId, device, removed });
}

/** Before the API-key middleware: the key route (anyone) and the client-token routes. */
export const publicRoutes = new Hono<AppEnv>();

/**
 * Per route, never `use("*")`: mounted at /v1, a wildcard would run for every
 * /v1 route. Unknown query parameters first, then "is Web Push on".
 */
const enabled = every(noQuery, async (c: Context<AppEnv>, next: Next) => {
  if (c.var.config.webPush === undefined) refuseWith(disabled(404));
  await next();
});

/**
 * The page calls these from its own origin, usually not the service's: CORS
 * (preflight included, before the API-key middleware could refuse it). The key
 * is public, so any origin may read it; the client-token routes answer the
 * origins a connect is allowed from (the service's own and ALLOWED_ORIGINS).
 */
/** Only a cross-origin request (one with Origin) is CORS's: a bare OPTIONS stays the router's 405. */
const forBrowsers =
  (middleware: MiddlewareHandler<AppEnv>): MiddlewareHandler<AppEnv> =>
  (c, next) =>
    c.req.header("Origin") === undefined ? next() : middleware(c, next);

publicRoutes.use("/webpush/key", forBrowsers(cors({ origin: "*", allowMethods: ["GET"] })));
publicRoutes.use(
  "/me/devices/:device/webpush",
  forBrowsers(
    cors({
      origin: (origin, c: Context<AppEnv>) => (originAllowed(origin, c.req.url, c.var.config) ? origin : null),
      allowMethods: ["PUT", "DELETE"],
      allowHeaders: ["Authorization", "Content-Type"],
      maxAge: 600,
    }),
  ),
);

publicRoutes.get("/webpush/key", enabled, (c) => c.json({ publicKey: c.var.config.webPush?.publicKey }));

/** The client token decides the user; an API key is not a client token, so it is refused here (401). */
const clientUser = validator("header", async (headers, c: Context<AppEnv>) => {
  const token = bearerToken(headers.authorization);
  if (token === undefined) refuse(401, "unauthorized", "missing client token (Authorization: Bearer <client JWT>)");
  const verified = await verifyClientToken(token, c.var.config);
  if (!verified.ok) refuse(401, "unauthorized", verified.reason);
  return { userId: verified.identity.userId };
});

publicRoutes.put("/me/devices/:device/webpush", enabled, limit, clientUser, params("device"), subscription, (c) =>
  put(c, c.req.valid("header").userId, c.req.valid("param").device, c.req.valid("json")),
);

publicRoutes.delete("/me/devices/:device/webpush", enabled, clientUser, params("device"), (c) =>
  remove(c, c.req.valid("header").userId, c.req.valid("param").device),
);

/** After the API-key middleware. */
export const serverRoutes = new Hono<AppEnv>();

const PATH = "/users/:userId/devices/:device/webpush";
serverRoutes.put(PATH, enabled, params("userId", "device"), subscription, (c) => {
  const { userId, device } = c.req.valid("param");
  return put(c, userId, device, c.req.valid("json"));
});
serverRoutes.delete(PATH, enabled, params("userId", "device"), (c) => {
  const { userId, device } = c.req.valid("param");
  return remove(c, userId, device);
});
