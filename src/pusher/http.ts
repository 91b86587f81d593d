/**
 * The Pusher HTTP API, as the `pusher` server SDKs call it: events,
 * batch_events and terminate_connections under /apps/{app_id}. The Worker
 * checks the signature and the bodies, groups a request's channels by user,
 * and hands each user's share to that user's object in one RPC.
 */
import { Hono, type MiddlewareHandler } from "hono";
import type * as v from "valibot";
import type { AppEnv } from "../http/env";
import { jsonError, refuse, valueOr400 } from "../http/errors";
import { parseJson, serializeData } from "../http/body";
import { params } from "../http/params";
import { allowedOrigin, upgradeOnly } from "../http/connect";
import { mapLimit } from "../util/mapLimit";
import { verifyRequest } from "./auth";
import { userChannel } from "./channels";
import { pusherConfigFrom, type PusherConfig } from "./config";
import type { ChannelEvent } from "../hub/rpc";
import { BatchEventsBody, checkBody, EventBody } from "./schemas";
import { pusherConnect } from "./connect";

export type PusherEnv = { Bindings: Env; Variables: AppEnv["Variables"] & { pusher: PusherConfig; body: string } };

/** Users' objects one request has in flight at once (a 100-channel event may reach 100 users). */
const USER_CONCURRENCY = 50;

const notFound = () => jsonError(404, "not_found", "no such endpoint");

/** Pusher routes exist only when the dialect is configured: unset = 404, half set = 500 naming the knob. */
export const withPusherConfig: MiddlewareHandler<PusherEnv> = async (c, next) => {
  const result = pusherConfigFrom(c.env);
  if (!result.ok) return jsonError(500, "misconfigured", result.problem);
  if (result.config === undefined) return notFound();
  c.set("pusher", result.config);
  await next();
};

/** The app id in the path (404 when it is not ours), the body (size-capped), then Pusher's signature (401). */
const signed: MiddlewareHandler<PusherEnv> = async (c, next) => {
  const config = c.var.pusher;
  if (c.req.param("appId") !== config.appId) refuse(404, "not_found", "no such app", "app_id");
  const max = c.var.config.maxMessageBytes;
  const declared = Number(c.req.header("Content-Length") ?? "0");
  const tooLarge = () => refuse(413, "payload_too_large", `body exceeds ${max} bytes (MAX_MESSAGE_BYTES)`, "body");
  if (declared > max) tooLarge();
  const body = await c.req.text();
  if (new TextEncoder().encode(body).byteLength > max) tooLarge();
  // Not new URL(c.req.url): two Host headers make a URL it rejects (a 500); only the query is needed.
  const url = c.req.url;
  const start = url.indexOf("?");
  const query = new URLSearchParams(start === -1 ? "" : url.slice(start + 1).split("#")[0]);
  // The path as sent (percent-encoding kept): that is what the SDKs sign.
  const pathStart = url.indexOf("/", url.indexOf("://") + 3);
  const path = url.slice(pathStart, start === -1 ? undefined : start);
  const check = await verifyRequest(config, c.req.method, path, query, body, Math.floor(Date.now() / 1000));
  if (!check.ok) refuse(401, "unauthorized", check.message, check.field);
  c.set("body", body);
  await next();
};

/**
 * Validation middleware for a signed request's JSON body (read by `signed`):
 * `c.req.valid("json")` is the schema's output, else a 400 naming the field.
 */
function pusherBody<S extends v.GenericSchema>(schema: S): MiddlewareHandler<PusherEnv, string, { in: { json: unknown }; out: { json: v.InferOutput<S> } }> {
  return async (c, next) => {
    c.req.addValidatedData("json", valueOr400(checkBody(schema, parseJson(c.var.body))) as object);
    await next();
  };
}

/** Pusher's data is a string; other JSON is encoded as the SDKs would have. */
function dataText(data: unknown): string | undefined {
  if (typeof data === "string") return data;
  if (data === undefined) return undefined;
  return serializeData(data);
}

type Grouped = Map<string, ChannelEvent[]>;

/** Add one event's channels to the per-user groups; the first channel that is not a user's is a 400 naming it (thrown). */
function group(
  into: Grouped,
  config: PusherConfig,
  e: { name: string; data: string; socket_id?: string | undefined },
  channels: readonly string[],
  field: (i: number) => string,
): void {
  for (const [i, channel] of channels.entries()) {
    const owner = userChannel(channel, config.userChannels);
    if (owner === undefined) {
      refuse(400, "bad_request", `not a per-user channel (#server-to-user-{id} or PUSHER_USER_CHANNELS): ${channel.slice(0, 64)}`, field(i));
    }
    let list = into.get(owner.userId);
    if (list === undefined) into.set(owner.userId, (list = []));
    list.push({ event: e.name, channel, data: e.data, exceptSession: e.socket_id });
  }
}

async function dispatch(env: Env, grouped: Grouped): Promise<void> {
  await mapLimit([...grouped], USER_CONCURRENCY, ([userId, events]) => env.USER_HUB.getByName(userId).channelEvents(userId, events));
}

export const pusherApi = new Hono<PusherEnv>();
pusherApi.use("*", withPusherConfig);
pusherApi.use("/:appId/*", signed);

pusherApi.post("/:appId/events", pusherBody(EventBody), async (c) => {
  const e = c.req.valid("json");
  if ((e.channel === undefined) === (e.channels === undefined)) refuse(400, "bad_request", "give channel or channels (one of them)", "channels");
  const data = dataText(e.data) ?? refuse(400, "bad_request", "data is required (a string)", "data");
  const grouped: Grouped = new Map();
  if (e.channels !== undefined) group(grouped, c.var.pusher, { ...e, data }, e.channels, (i) => `channels[${i}]`);
  else group(grouped, c.var.pusher, { ...e, data }, [e.channel ?? ""], () => "channel");
  await dispatch(c.env, grouped);
  return c.json({});
});

pusherApi.post("/:appId/batch_events", pusherBody(BatchEventsBody), async (c) => {
  const grouped: Grouped = new Map();
  for (const [i, e] of c.req.valid("json").batch.entries()) {
    const data = dataText(e.data) ?? refuse(400, "bad_request", "data is required (a string)", `batch[${i}].data`);
    group(grouped, c.var.pusher, { ...e, data }, [e.channel], () => `batch[${i}].channel`);
  }
  await dispatch(c.env, grouped);
  return c.json({});
});

pusherApi.post("/:appId/users/:userId/terminate_connections", params("userId"), async (c) => {
  // Every session of the user, both dialects; the hub closes Pusher sockets with 4009 (pusher-js does not reconnect).
  await c.env.USER_HUB.getByName(c.req.valid("param").userId).kick({});
  return c.json({});
});

pusherApi.all("*", () => notFound());

/** The Pusher dialect's routes: mounted at the root of the Worker's router (src/http/app.ts). */
export const pusherRoutes = new Hono<PusherEnv>();
pusherRoutes.get("/pusher/users/:userId/app/:key", withPusherConfig, upgradeOnly, allowedOrigin, (c) => pusherConnect(c));
pusherRoutes.route("/apps", pusherApi);
