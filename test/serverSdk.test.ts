/**
 * @switchboard/server against the real Worker, in the runtime: the SDK's
 * fetch is the Worker's own (exports.default.fetch), so every call goes
 * through the router, validation and the user's object.
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { verifyClientToken } from "../src/auth/jwt";
import { parseConfig } from "../src/config";
import { mintClientToken, Switchboard, SwitchboardError, type FetchLike } from "../packages/server/src/index.ts";
import { API_KEY, BASE, connect, uniqueUser, untilCounted } from "./helpers";

const workerFetch: FetchLike = (request) => exports.default.fetch(request);

function sdk(options: { fetch?: FetchLike; apiKey?: string; retries?: number } = {}): Switchboard {
  return new Switchboard({
    url: BASE,
    apiKey: options.apiKey ?? API_KEY,
    fetch: options.fetch ?? workerFetch,
    retries: options.retries ?? 2,
    backoff: { baseMs: 1, maxMs: 5 },
  });
}

async function rejection(promise: Promise<unknown>): Promise<SwitchboardError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof SwitchboardError) return err;
    throw err;
  }
  throw new Error("expected a SwitchboardError");
}

/** Records every request (method, url, body) and answers with the Worker, or with `fake` while it returns one. */
function recording(fake: (n: number) => Response | undefined = () => undefined) {
  const calls: Array<{ method: string; url: string; body: string }> = [];
  const fetch: FetchLike = async (request) => {
    const body = await request.clone().text();
    calls.push({ method: request.method, url: request.url, body });
    return fake(calls.length) ?? workerFetch(request);
  };
  return { calls, fetch };
}

const unavailable = (retryAfter = "0") =>
  Response.json({ error: { code: "unavailable", message: "temporarily unavailable; retry" } }, { status: 503, headers: { "Retry-After": retryAfter } });

describe("@switchboard/server in the runtime", () => {
  it("push reaches a live session; presence, messages (and every page), kick, stats", async () => {
    const sb = sdk();
    const user = uniqueUser("sdk");
    const client = await connect(user, { device: "phone" });
    const pushed = await sb.push(user, { hello: 1 }, { id: "first" });
    expect(pushed).toEqual({ id: "first", seq: 1, delivered: 1, sessions: 1, stored: true, duplicate: false });
    expect((await client.nextMessages(1))[0]).toMatchObject({ id: "first", seq: 1, data: { hello: 1 } });
    expect(await sb.push(user, { hello: 1 }, { id: "first" })).toMatchObject({ seq: 1, duplicate: true });

    const presence = await sb.presence(user);
    expect(presence).toMatchObject({ userId: user, online: true });
    expect(presence.sessions.map((s) => s.device)).toEqual(["phone"]);

    for (let i = 2; i <= 5; i++) await sb.push(user, { n: i });
    const page = await sb.messages(user, { since: 1, limit: 2 });
    expect(page.head).toBe(5);
    expect(page.messages.map((m) => m.seq)).toEqual([2, 3]);
    const all = [];
    for await (const m of sb.allMessages(user, { limit: 2 })) all.push(m.seq);
    expect(all).toEqual([1, 2, 3, 4, 5]);

    await untilCounted(user);
    const stats = await sb.stats();
    expect(stats.onlineUsers).toBeGreaterThanOrEqual(1);
    expect(stats.sessions).toBeGreaterThanOrEqual(1);

    expect(await sb.kick(user, { device: "tablet" })).toEqual({ closed: 0 });
    client.send("ping"); // see the brief's runtime note: a frame first, so the server's close completes promptly
    expect(await sb.kickAll(user)).toEqual({ closed: 1 });
    expect((await client.waitClosed()).code).toBe(4001);
  });

  it("pushMany gives one entry per user (a bad userId fails only its own); broadcast reaches online users", async () => {
    const sb = sdk();
    const a = uniqueUser("many");
    const b = uniqueUser("many");
    const batch = await sb.pushMany([a, "bad user", b], { all: true }, { ttl: 60 });
    expect(batch.results.map((r) => r.userId)).toEqual([a, "bad user", b]);
    expect(batch.results[1]).toMatchObject({ error: { code: "bad_request" } });
    expect(batch.results[0]).toMatchObject({ id: batch.id, seq: 1, stored: true });

    const online = uniqueUser("bcast");
    const client = await connect(online);
    await untilCounted(online);
    const result = await sb.broadcast({ everyone: true });
    expect(result.failedShards).toBe(0);
    expect(result.users).toBeGreaterThanOrEqual(1);
    expect((await client.nextMessages(1))[0]).toMatchObject({ id: result.id, seq: null, data: { everyone: true } });
    client.close();
  });

  it("bad input is a typed SwitchboardError naming the field, and is never retried", async () => {
    const { calls, fetch } = recording();
    const sb = sdk({ fetch });
    const user = uniqueUser("bad");
    // What only the server can judge (a targeting conflict) is its 400, not retried.
    const conflict = await rejection(sb.push(user, 1, { device: "a", exceptDevice: "b" }));
    expect(conflict).toMatchObject({ status: 400, code: "bad_request", field: "exceptDevice", attempts: 1 });
    expect(calls).toHaveLength(1);

    const badKey = await rejection(sdk({ apiKey: "nope" }).stats());
    expect(badKey).toMatchObject({ status: 401, code: "unauthorized", attempts: 1 }); // a 401 is not retried either
    // Refused before any request: no answer could accept these.
    expect(await rejection(sb.push("", 1))).toMatchObject({ status: 0, code: "invalid_argument", field: "userId" });
    expect(await rejection(sb.push(user, 1, { id: "has space" }))).toMatchObject({ field: "id" });
    expect(await rejection(sb.push(user, 1, { ttl: -1 }))).toMatchObject({ status: 0, code: "invalid_argument", field: "ttl" });
    expect(await rejection(sb.push(user, 1, { exceptDevices: "x" } as never))).toMatchObject({ status: 0, field: "exceptDevices" });
    expect(await rejection(sb.messages(user, { limit: 0 }))).toMatchObject({ status: 0, field: "limit" });
    expect(await rejection(sb.kick(user, { devcie: "phone" } as never))).toMatchObject({ status: 0, field: "devcie" });
    expect(calls).toHaveLength(1);
  });

  it("retries a push on 503 with the same id, so it is stored once", async () => {
    const { calls, fetch } = recording((n) => (n <= 2 ? unavailable() : undefined));
    const user = uniqueUser("retry");
    const result = await sdk({ fetch }).push(user, { once: true });
    expect(calls).toHaveLength(3);
    const ids = calls.map((c) => (JSON.parse(c.body) as { id: string }).id);
    expect(new Set(ids).size).toBe(1);
    expect(result).toMatchObject({ id: ids[0], seq: 1, duplicate: false });
    expect((await sdk().messages(user)).messages).toHaveLength(1);
  });

  it("a retry after the push landed but its answer was lost is answered as a duplicate", async () => {
    let first = true;
    const fetch: FetchLike = async (request) => {
      const answer = await workerFetch(request);
      if (!first) return answer;
      first = false;
      return unavailable(); // the push was applied; the caller saw a 503
    };
    const user = uniqueUser("lost");
    const result = await sdk({ fetch }).push(user, { n: 1 });
    expect(result).toMatchObject({ seq: 1, duplicate: true });
    expect((await sdk().messages(user)).messages).toHaveLength(1);
  });

  it("gives up after `retries`, and on a Retry-After beyond its limit, with the last error", async () => {
    const always = recording(() => unavailable());
    const err = await rejection(sdk({ fetch: always.fetch, retries: 2 }).stats());
    expect(err).toMatchObject({ status: 503, code: "unavailable", attempts: 3 });
    expect(always.calls).toHaveLength(3);

    const long = recording(() => unavailable("3600"));
    expect(await rejection(sdk({ fetch: long.fetch }).stats())).toMatchObject({ status: 503, attempts: 1 });
    expect(long.calls).toHaveLength(1);
  });

  it("retries network errors; a 500 is not retried", async () => {
    let n = 0;
    const flaky: FetchLike = (request) => (++n === 1 ? Promise.reject(new TypeError("fetch failed")) : workerFetch(request));
    expect(await sdk({ fetch: flaky }).stats()).toMatchObject({ onlineUsers: expect.any(Number) });
    expect(n).toBe(2);

    const broken = recording(() => Response.json({ error: { code: "internal", message: "internal error" } }, { status: 500 }));
    expect(await rejection(sdk({ fetch: broken.fetch }).stats())).toMatchObject({ status: 500, code: "internal" });
    expect(broken.calls).toHaveLength(1);
  });

  it("mintClientToken makes a token the Worker accepts, for that user, with aud/iss when configured", async () => {
    const config = parseConfig({ ...env, JWT_AUDIENCE: "app", JWT_ISSUER: "me" });
    if (!config.ok) throw new Error(config.problem);
    const now = Math.floor(Date.now() / 1000);
    const token = await mintClientToken({ secret: env.JWT_SECRET, userId: "alice", ttlSeconds: 60, audience: "app", issuer: "me" });
    expect(await verifyClientToken(token, config.config)).toEqual({ ok: true, identity: { userId: "alice", expiresAt: expect.any(Number) } });
    const wrongAud = await mintClientToken({ secret: env.JWT_SECRET, userId: "alice", ttlSeconds: 60, audience: "other", issuer: "me" });
    expect((await verifyClientToken(wrongAud, config.config)).ok).toBe(false);
    const expired = await mintClientToken({ secret: env.JWT_SECRET, userId: "alice", ttlSeconds: 60, now: now - 120 });
    expect(await verifyClientToken(expired, parseConfigOrThrow())).toEqual({ ok: false, reason: "token expired" });

    // And a real connection with it.
    const user = uniqueUser("minted");
    const client = await connect(user, { token: await mintClientToken({ secret: env.JWT_SECRET, userId: user, ttlSeconds: 60 }) });
    expect(client.welcome).toMatchObject({ type: "welcome", userId: user });
    client.close();
  });
});

function parseConfigOrThrow() {
  const config = parseConfig({ ...env });
  if (!config.ok) throw new Error(config.problem);
  return config.config;
}
