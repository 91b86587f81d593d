/**
 * The server API: push, presence, kick, stored messages, batch, broadcast and
 * stats. Every route here is behind the API key. Handlers validate, then hand
 * off to the user's object (or the stats shards) by RPC.
 */
import { Hono, type Context } from "hono";
import type { AppEnv } from "./env";
import type * as wire from "@switchboard/protocol";
import type { MessagesPage, PushRequest } from "../hub/rpc";
import { isDevice, isUserId, parseSeq, withData } from "@switchboard/protocol";
import { shardName } from "../stats/shardKey";
import { mapLimit } from "../util/mapLimit";
import { readJson, serializeData } from "./body";
import { jsonError } from "./errors";
import { queryProblem } from "./query";
import { webPushOptIn } from "./webpush";
import { BatchBody, BroadcastBody, check, PushBody, targetConflict, type Checked } from "./schemas";

/** Pushes the Worker has in flight at once for one batch request. */
const BATCH_CONCURRENCY = 50;
export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;

const badUserId = () => jsonError(400, "bad_request", "userId must be 1-128 characters of A-Z a-z 0-9 . _ : @ -", "userId");

/** Parse and validate a body; on failure, the ready 4xx response. */
async function body<T>(c: Context, validate: (input: unknown) => Checked<T>): Promise<{ ok: true; value: T } | { ok: false; response: Response }> {
  const badQuery = queryProblem(c.req.url, []);
  if (badQuery !== undefined) return { ok: false, response: badQuery };
  const read = await readJson(c);
  if (!read.ok) return read;
  const checked = validate(read.value);
  if (!checked.ok) return { ok: false, response: jsonError(400, "bad_request", checked.message, checked.field) };
  return checked;
}

function dataJsonOf(data: unknown): string | Response {
  const json = serializeData(data);
  return json ?? jsonError(400, "bad_request", "data is nested too deeply to store", "data");
}

export const api = new Hono<AppEnv>();

api.post("/users/:userId/messages", async (c) => {
  const userId = c.req.param("userId");
  if (!isUserId(userId)) return badUserId();
  const parsed = await body(c, (input) => targetConflict(check(PushBody, input)));
  if (!parsed.ok) return parsed.response;
  const dataJson = dataJsonOf(parsed.value.data);
  if (dataJson instanceof Response) return dataJson;
  const { id, ttl, event, device, exceptDevice, exceptSession } = parsed.value;
  const webpush = webPushOptIn(parsed.value.webpush, ttl ?? c.var.config.defaultTtl, c.var.config);
  if (webpush instanceof Response) return webpush;
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

api.get("/users/:userId/messages", async (c) => {
  const userId = c.req.param("userId");
  if (!isUserId(userId)) return badUserId();
  const badQuery = queryProblem(c.req.url, ["since", "limit"]);
  if (badQuery !== undefined) return badQuery;
  const sinceRaw = c.req.query("since");
  const since = sinceRaw === undefined ? 0 : parseSeq(sinceRaw);
  if (since === undefined) return jsonError(400, "bad_request", "since must be an integer from 0 to 2^53-1", "since");
  const limitRaw = c.req.query("limit");
  const limit = limitRaw === undefined ? DEFAULT_PAGE : parseSeq(limitRaw);
  if (limit === undefined || limit < 1 || limit > MAX_PAGE) {
    return jsonError(400, "bad_request", `limit must be an integer from 1 to ${MAX_PAGE}`, "limit");
  }
  const page = await c.env.USER_HUB.getByName(userId).messages(since, limit);
  return c.body(encodeMessagesPage(page), 200, { "Content-Type": "application/json" });
});

/** The page as JSON, each message's stored data spliced in as the text it was stored as. */
function encodeMessagesPage(page: MessagesPage): string {
  const messages = page.messages.map(({ dataJson, ...view }) => withData(JSON.stringify(view), dataJson));
  return `{"head":${String(page.head)},"messages":[${messages.join(",")}]}`;
}

api.get("/users/:userId/presence", async (c) => {
  const userId = c.req.param("userId");
  if (!isUserId(userId)) return badUserId();
  const badQuery = queryProblem(c.req.url, []);
  if (badQuery !== undefined) return badQuery;
  return c.json(await c.env.USER_HUB.getByName(userId).presenceOf(userId));
});

api.delete("/users/:userId/sessions", async (c) => {
  const userId = c.req.param("userId");
  if (!isUserId(userId)) return badUserId();
  const badQuery = queryProblem(c.req.url, ["device", "session"]);
  if (badQuery !== undefined) return badQuery;
  const device = c.req.query("device");
  const session = c.req.query("session");
  if (device !== undefined && session !== undefined) {
    return jsonError(400, "bad_request", "give device or session, not both", "session");
  }
  if (device !== undefined && !isDevice(device)) {
    return jsonError(400, "bad_request", "device must be 1-64 characters of A-Z a-z 0-9 . _ : @ -", "device");
  }
  if (session !== undefined && (session === "" || session.length > 128)) {
    return jsonError(400, "bad_request", "session must be a session id", "session");
  }
  return c.json((await c.env.USER_HUB.getByName(userId).kick({ device, session })) satisfies wire.KickResult);
});

type BatchEntry = wire.BatchEntry;

api.post("/messages", async (c) => {
  const parsed = await body(c, (input) => targetConflict(check(BatchBody, input)));
  if (!parsed.ok) return parsed.response;
  const dataJson = dataJsonOf(parsed.value.data);
  if (dataJson instanceof Response) return dataJson;
  const { userIds, id: givenId, ttl, event, device, exceptDevice, exceptSession } = parsed.value;
  const webpush = webPushOptIn(parsed.value.webpush, ttl ?? c.var.config.defaultTtl, c.var.config);
  if (webpush instanceof Response) return webpush;
  // One id for every user: a retried batch is then a duplicate in each user's log.
  const id = givenId ?? crypto.randomUUID();
  const results = await mapLimit(userIds, BATCH_CONCURRENCY, async (userId): Promise<BatchEntry> => {
    if (!isUserId(userId)) {
      return {
        userId: typeof userId === "string" ? userId.slice(0, 128) : String(userId).slice(0, 128),
        error: { code: "bad_request", message: "userId must be 1-128 characters of A-Z a-z 0-9 . _ : @ -" },
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

api.post("/broadcast", async (c) => {
  const parsed = await body(c, (input) => check(BroadcastBody, input));
  if (!parsed.ok) return parsed.response;
  const dataJson = dataJsonOf(parsed.value.data);
  if (dataJson instanceof Response) return dataJson;
  const id = parsed.value.id ?? crypto.randomUUID();
  // Broadcast targets who is online now, so it is live-only unless asked.
  const ttl = parsed.value.ttl ?? 0;
  const webpush = webPushOptIn(parsed.value.webpush, ttl, c.var.config);
  if (webpush instanceof Response) return webpush;
  const shards = Array.from({ length: c.var.config.statsShards }, (_, i) => i);
  const results = await Promise.all(
    shards.map(async (i) => {
      try {
        return await c.env.STATS_SHARD.getByName(shardName(i)).broadcast({ id, dataJson, ttl, event: parsed.value.event, webpush });
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

api.get("/stats", async (c) => {
  const badQuery = queryProblem(c.req.url, []);
  if (badQuery !== undefined) return badQuery;
  const shards = Array.from({ length: c.var.config.statsShards }, (_, i) => i);
  const all = await Promise.all(shards.map((i) => c.env.STATS_SHARD.getByName(shardName(i)).stats()));
  return c.json({
    onlineUsers: all.reduce((n, s) => n + s.onlineUsers, 0),
    sessions: all.reduce((n, s) => n + s.sessions, 0),
  } satisfies wire.StatsResult);
});
