/**
 * The server API: push, presence, kick, stored messages, batch, broadcast and
 * stats. Every route here is behind the API key. Handlers validate, then hand
 * off to the user's object (or the stats shards) by RPC.
 */
import { Hono } from "hono";
import type { AppEnv } from "./env";
import type * as wire from "@switchboard/protocol";
import type { MessagesPage, PushRequest } from "../hub/rpc";
import { isDevice, isUserId, parseSeq, withData } from "@switchboard/protocol";
import { shardName } from "../stats/shardKey";
import { mapLimit } from "../util/mapLimit";
import { jsonBody, serializeData } from "./body";
import { refuse } from "./errors";
import { DEVICE_RULE, params, USER_ID_RULE } from "./params";
import { noQuery, query } from "./query";
import { webPushOptIn } from "./webpush";
import { BatchBody, BroadcastBody, check, PushBody, targetConflict } from "./schemas";

/** Pushes the Worker has in flight at once for one batch request. */
const BATCH_CONCURRENCY = 50;
export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;

/** `data` as the JSON text stored and sent, or the 400 (thrown). */
function dataJsonOf(data: unknown): string {
  return serializeData(data) ?? refuse(400, "bad_request", "data is nested too deeply to store", "data");
}

export const api = new Hono<AppEnv>();

/** The bodies, each checked against its schema (a 400 naming the first bad field). */
const pushBody = jsonBody((input) => targetConflict(check(PushBody, input)));
const batchBody = jsonBody((input) => targetConflict(check(BatchBody, input)));
const broadcastBody = jsonBody((input) => check(BroadcastBody, input));

api.post("/users/:userId/messages", params("userId"), noQuery, pushBody, async (c) => {
  const { userId } = c.req.valid("param");
  const body = c.req.valid("json");
  const dataJson = dataJsonOf(body.data);
  const { id, ttl, event, device, exceptDevice, exceptSession } = body;
  const webpush = webPushOptIn(body.webpush, ttl ?? c.var.config.defaultTtl, c.var.config);
  const req: PushRequest = {
    userId,
    id: id ?? crypto.randomUUID(),
    dataJson,
    ttl: ttl ?? c.var.config.defaultTtl,
    event,
    device,
    exceptDevice,
    exceptSession,
    webpush,
  };
  return c.json(await c.env.USER_HUB.getByName(userId).push(req));
});

const page = query(["since", "limit"], (q) => {
  const since = q.since === undefined ? 0 : parseSeq(q.since);
  if (since === undefined) refuse(400, "bad_request", "since must be an integer from 0 to 2^53-1", "since");
  const limit = q.limit === undefined ? DEFAULT_PAGE : parseSeq(q.limit);
  if (limit === undefined || limit < 1 || limit > MAX_PAGE) refuse(400, "bad_request", `limit must be an integer from 1 to ${MAX_PAGE}`, "limit");
  return { since, limit };
});

api.get("/users/:userId/messages", params("userId"), page, async (c) => {
  const { since, limit } = c.req.valid("query");
  const stored = await c.env.USER_HUB.getByName(c.req.valid("param").userId).messages(since, limit);
  return c.body(encodeMessagesPage(stored), 200, { "Content-Type": "application/json" });
});

/** The page as JSON, each message's stored data spliced in as the text it was stored as. */
function encodeMessagesPage(page: MessagesPage): string {
  const messages = page.messages.map(({ dataJson, ...view }) => withData(JSON.stringify(view), dataJson));
  return `{"head":${String(page.head)},"messages":[${messages.join(",")}]}`;
}

api.get("/users/:userId/presence", params("userId"), noQuery, async (c) => {
  const { userId } = c.req.valid("param");
  return c.json(await c.env.USER_HUB.getByName(userId).presenceOf(userId));
});

const kickTarget = query(["device", "session"], ({ device, session }) => {
  if (device !== undefined && session !== undefined) refuse(400, "bad_request", "give device or session, not both", "session");
  if (device !== undefined && !isDevice(device)) refuse(400, "bad_request", DEVICE_RULE, "device");
  if (session !== undefined && (session === "" || session.length > 128)) refuse(400, "bad_request", "session must be a session id", "session");
  return { device, session };
});

api.delete("/users/:userId/sessions", params("userId"), kickTarget, async (c) => {
  const kicked = await c.env.USER_HUB.getByName(c.req.valid("param").userId).kick(c.req.valid("query"));
  return c.json(kicked satisfies wire.KickResult);
});

type BatchEntry = wire.BatchEntry;

api.post("/messages", noQuery, batchBody, async (c) => {
  const body = c.req.valid("json");
  const dataJson = dataJsonOf(body.data);
  const { userIds, id: givenId, ttl, event, device, exceptDevice, exceptSession } = body;
  const webpush = webPushOptIn(body.webpush, ttl ?? c.var.config.defaultTtl, c.var.config);
  // One id for every user: a retried batch is then a duplicate in each user's log.
  const id = givenId ?? crypto.randomUUID();
  const results = await mapLimit(userIds, BATCH_CONCURRENCY, async (userId): Promise<BatchEntry> => {
    if (!isUserId(userId)) {
      return {
        userId: typeof userId === "string" ? userId.slice(0, 128) : String(userId).slice(0, 128),
        error: { code: "bad_request", message: USER_ID_RULE },
      };
    }
    try {
      const req: PushRequest = { userId, id, dataJson, ttl: ttl ?? c.var.config.defaultTtl, event, device, exceptDevice, exceptSession, webpush };
      return { userId, ...(await c.env.USER_HUB.getByName(userId).push(req)) };
    } catch (err) {
      console.error("switchboard: batch push failed", userId, err);
      return { userId, error: { code: "unavailable", message: "the user's object did not answer; retry with the same id" } };
    }
  });
  return c.json({ id, results } satisfies wire.BatchResult);
});

api.post("/broadcast", noQuery, broadcastBody, async (c) => {
  const body = c.req.valid("json");
  const dataJson = dataJsonOf(body.data);
  const id = body.id ?? crypto.randomUUID();
  // Broadcast targets who is online now, so it is live-only unless asked.
  const ttl = body.ttl ?? 0;
  const webpush = webPushOptIn(body.webpush, ttl, c.var.config);
  const shards = Array.from({ length: c.var.config.statsShards }, (_, i) => i);
  const results = await Promise.all(
    shards.map(async (i) => {
      try {
        return await c.env.STATS_SHARD.getByName(shardName(i)).broadcast({ id, dataJson, ttl, event: body.event, webpush });
      } catch (err) {
        console.error("switchboard: broadcast shard failed", i, err);
        return undefined;
      }
    }),
  );
  let users = 0;
  let sessions = 0;
  let failedUsers = 0;
  let failedShards = 0;
  let webpushed = 0;
  for (const r of results) {
    if (r === undefined) failedShards++;
    else {
      users += r.users;
      sessions += r.sessions;
      failedUsers += r.failed;
      webpushed += r.webpush;
    }
  }
  const answer: wire.BroadcastResult = { id, users, sessions, failedUsers, failedShards };
  if (webpush !== undefined) answer.webpush = webpushed;
  return c.json(answer);
});

api.get("/stats", noQuery, async (c) => {
  const shards = Array.from({ length: c.var.config.statsShards }, (_, i) => i);
  const all = await Promise.all(shards.map((i) => c.env.STATS_SHARD.getByName(shardName(i)).stats()));
  return c.json({
    onlineUsers: all.reduce((n, s) => n + s.onlineUsers, 0),
    sessions: all.reduce((n, s) => n + s.sessions, 0),
  } satisfies wire.StatsResult);
});
