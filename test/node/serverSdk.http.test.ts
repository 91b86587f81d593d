/**
 * @switchboard/server over real HTTP against standalone workerd (the
 * `npm run serve` runtime, started by scripts/lib/service.ts): every method,
 * typed errors, a real outage (workerd killed mid-call and restarted) ridden
 * out by the retries without a second copy, and the served /openapi.json
 * validated with a real OpenAPI 3.1 validator.
 */
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { INVALID_ARGUMENT, mintClientToken, Switchboard, SwitchboardError } from "../../packages/server/src/index.ts";
import { type Service, startService } from "../../scripts/lib/service.ts";
import { eventually } from "../../scripts/lib/time.ts";

const API_KEY = "sdk-http-api-key-0123456789";
const JWT_SECRET = "sdk-http-jwt-secret-0123456789abcdef";
let svc: Service;
let sb: Switchboard;

beforeAll(async () => {
  svc = await startService({ kind: "workerd", knobs: { API_KEY, JWT_SECRET, STATS_SHARDS: "2", DEV_MODE: "1" } });
  sb = new Switchboard({ url: svc.base, apiKey: API_KEY, backoff: { baseMs: 50, maxMs: 500 } });
});

afterAll(async () => {
  await svc?.stop();
});

let n = 0;
const uniqueUser = (prefix: string) => `${prefix}-${process.pid}-${Date.now().toString(36)}-${++n}`;

/** A raw client over a real socket; it sends `ping` right after open (see the brief's runtime note). */
async function listen(userId: string, device = "node"): Promise<{ frames: unknown[]; closed: Promise<number>; ws: WebSocket }> {
  const token = await mintClientToken({ secret: JWT_SECRET, userId, ttlSeconds: 300 });
  const ws = new WebSocket(`${svc.wsBase}/v1/connect?device=${device}`, { headers: { Authorization: `Bearer ${token}` } });
  const frames: unknown[] = [];
  const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
  const welcomed = new Promise<void>((resolve, reject) => {
    ws.on("message", (data) => {
      const text = String(data);
      if (text === "pong") return;
      frames.push(JSON.parse(text));
      resolve();
    });
    ws.once("error", reject);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("unexpected-response", (_req, res) => reject(new Error(`connect answered ${res.statusCode}`)));
  });
  ws.send("ping");
  await welcomed;
  return { frames, closed, ws };
}

describe("@switchboard/server over HTTP", () => {
  it("every method against the real Worker", async () => {
    const user = uniqueUser("http");
    const onlineBefore = (await sb.stats()).onlineUsers;
    const client = await listen(user);
    const pushed = await sb.push(user, { hi: "there" });
    expect(pushed).toMatchObject({ seq: 1, delivered: 1, sessions: 1, stored: true, duplicate: false });
    await eventually("message", () => client.frames.length === 2);
    expect(client.frames[1]).toMatchObject({ type: "message", id: pushed.id, seq: 1, data: { hi: "there" } });

    expect(await sb.presence(user)).toMatchObject({ userId: user, online: true, sessions: [{ device: "node" }] });
    const batch = await sb.pushMany([user, uniqueUser("other")], { batch: true });
    expect(batch.results).toHaveLength(2);
    expect(batch.results[0]).toMatchObject({ userId: user, id: batch.id, seq: 2 });
    // Broadcast reaches the users the stats shards know online; a connect reaches them within REPORT_LINGER_MS.
    await eventually("the stats shard to count the user", async () => (await sb.stats()).onlineUsers > onlineBefore);
    const bcast = await sb.broadcast({ all: true });
    expect(bcast).toMatchObject({ id: expect.any(String), failedShards: 0 });
    expect(bcast.users).toBeGreaterThanOrEqual(1);
    const seqs: number[] = [];
    for await (const m of sb.allMessages(user, { limit: 1 })) seqs.push(m.seq);
    expect(seqs).toEqual([1, 2]);
    expect((await sb.messages(user, { since: 1 })).messages.map((m) => m.data)).toEqual([{ batch: true }]);
    expect((await sb.stats()).sessions).toBeGreaterThanOrEqual(1);
    expect(await sb.kickAll(user)).toEqual({ closed: 1 });
    expect(await client.closed).toBe(4001);
  });

  it("bad input and a bad key are typed errors with status, code and field", async () => {
    const user = uniqueUser("bad");
    // Only the server knows this one is a conflict: a 400 from it.
    const err = await sb.push(user, "x", { device: "a", exceptDevice: "b" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SwitchboardError);
    expect(err).toMatchObject({ status: 400, code: "bad_request", field: "exceptDevice" });
    // The SDK refuses what it can tell is wrong before sending: status 0.
    await expect(sb.push(user, "x", { ttl: 10 ** 9 })).rejects.toMatchObject({ status: 0, code: INVALID_ARGUMENT, field: "ttl" });
    await expect(sb.kick(user, { session: "" })).rejects.toMatchObject({ status: 0, code: INVALID_ARGUMENT, field: "session" });
    const wrong = new Switchboard({ url: svc.base, apiKey: "wrong" });
    await expect(wrong.stats()).rejects.toMatchObject({ status: 401, code: "unauthorized" });
  });

  it("rides out workerd going away mid-call (network errors), and the push lands once", async () => {
    const user = uniqueUser("outage");
    let refused = 0;
    const counting = (request: Request) =>
      fetch(request).catch((err: unknown) => {
        refused++;
        throw err;
      });
    const patient = new Switchboard({ url: svc.base, apiKey: API_KEY, retries: 12, backoff: { baseMs: 200, maxMs: 1000 }, fetch: counting });
    await svc.kill("SIGKILL");
    const pushing = patient.push(user, { during: "outage" }, { id: "outage-1" });
    const settled = pushing.then(
      () => "ok",
      () => "failed",
    );
    // The first attempts hit a closed port; once one has, bring workerd back on the same data dir.
    await eventually("an attempt refused by the closed port", () => refused > 0);
    await svc.restart();
    expect(await settled).toBe("ok");
    expect(await pushing).toMatchObject({ id: "outage-1", seq: 1 });
    expect((await sb.messages(user)).messages.map((m) => m.id)).toEqual(["outage-1"]);
  });

  it("a misspelt, mistyped or missing kick target throws invalid_argument and closes nothing; kickAll closes every session", async () => {
    const user = uniqueUser("kick");
    const phone = await listen(user, "phone");
    const laptop = await listen(user, "laptop");
    const loose = sb as unknown as { kick(userId: string, target?: unknown): Promise<unknown> };
    for (const [target, field] of [
      [{ devcie: "phone" }, "devcie"],
      ["phone", "target"],
      [undefined, "target"],
      [{}, "target"],
      [{ all: false }, "all"],
    ] as const) {
      const err = await loose.kick(user, target).catch((e: unknown) => e);
      expect(err, JSON.stringify(target)).toBeInstanceOf(SwitchboardError);
      expect(err, JSON.stringify(target)).toMatchObject({ status: 0, code: INVALID_ARGUMENT, field });
    }
    // Both sessions are still open: the server lists them and a push reaches each.
    expect((await sb.presence(user)).sessions.map((s) => s.device).sort()).toEqual(["laptop", "phone"]);
    expect(await sb.push(user, { still: "here" })).toMatchObject({ delivered: 2 });
    await eventually("the push on both sockets", () => phone.frames.length === 2 && laptop.frames.length === 2);
    expect([phone.ws.readyState, laptop.ws.readyState]).toEqual([WebSocket.OPEN, WebSocket.OPEN]);

    expect(await sb.kickAll(user)).toEqual({ closed: 2 });
    expect(await Promise.all([phone.closed, laptop.closed])).toEqual([4001, 4001]);
  });

  it("answers careless HTTP like the in-runtime tests say: 405 with Allow, a repeated key, bytes that are not UTF-8", async () => {
    const auth = { Authorization: `Bearer ${API_KEY}` };
    const user = uniqueUser("raw");
    const put = await fetch(`${svc.base}/v1/users/${user}/messages`, {
      method: "PUT",
      headers: { ...auth, "Content-Type": "application/json" },
      body: '{"data":1}',
    });
    expect(put.status).toBe(405);
    expect(put.headers.get("Allow")).toBe("GET, HEAD, POST");
    expect(await put.json()).toMatchObject({ error: { code: "method_not_allowed" } });
    const stats = await fetch(`${svc.base}/v1/stats`, { method: "POST", headers: auth });
    expect(stats.status).toBe(405);
    expect(stats.headers.get("Allow")).toBe("GET, HEAD");
    const twice = await fetch(`${svc.base}/v1/users/${user}/sessions?device=a&device=b`, { method: "DELETE", headers: auth });
    expect(twice.status).toBe(400);
    expect(await twice.json()).toMatchObject({ error: { field: "device" } });
    const bytes = new Uint8Array([...new TextEncoder().encode('{"data":"'), 0xff, 0xfe, ...new TextEncoder().encode('"}')]);
    const latin = await fetch(`${svc.base}/v1/users/${user}/messages`, {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json" },
      body: bytes,
    });
    expect(latin.status).toBe(400);
    expect(await latin.json()).toMatchObject({ error: { code: "bad_json", field: "body" } });
    expect((await sb.messages(user)).messages).toEqual([]);
  });

  it("serves /openapi.json without a key, valid OpenAPI 3.1, and /dev/api in dev mode", async () => {
    const res = await fetch(`${svc.base}/openapi.json`);
    expect(res.status).toBe(200);
    const doc: unknown = await res.json();
    const validator = new Validator();
    const result = await validator.validate(doc as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
    expect(() => validator.resolveRefs()).not.toThrow();
    // The validator is not a no-op: a response without its description is refused.
    const broken = { ...(doc as object), paths: { "/x": { get: { responses: { "200": { content: {} } } } } } };
    expect((await new Validator().validate(broken)).valid).toBe(false);

    const page = await fetch(`${svc.base}/dev/api`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("/openapi.json");
  });
});
