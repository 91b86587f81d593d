import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { later } from "./clock";
import { api, connect, hubOf, push, uniqueUser, type TestClient } from "./helpers";

/** Past a `ttl: 1` message's expiry. */
const PAST_TTL_1 = 1100;

const seqs = (c: TestClient) => c.messages().map((m) => m.seq);

async function pushN(user: string, n: number, body: Record<string, unknown> = {}): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await push(user, { data: i, ...body })).seq as number);
  return out;
}

/** Connect, then wait until `n` messages have arrived (and a moment for any extra). */
async function resume(user: string, opts: Parameters<typeof connect>[1], n: number): Promise<TestClient> {
  const c = await connect(user, opts);
  await c.nextMessages(n);
  await c.settled(); // nothing else is in flight
  return c;
}

async function rowCount(user: string): Promise<number> {
  return runInDurableObject(hubOf(user), (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM messages").one().n);
}

describe("resume with ?since=", () => {
  it("replays what came after since, oldest first, right after welcome", async () => {
    const user = uniqueUser();
    expect(await pushN(user, 5)).toEqual([1, 2, 3, 4, 5]);
    const table: Array<[number, number[], boolean]> = [
      [2, [3, 4, 5], true], // middle of the stream
      [5, [], true], // at head
      [0, [1, 2, 3, 4, 5], true], // from the start
      [9, [], false], // beyond head
    ];
    for (const [since, expected, recovered] of table) {
      const c = await resume(user, { since, device: `d${since}` }, expected.length);
      expect(c.frames[0]).toMatchObject({ type: "welcome", head: 5, recovered });
      expect(seqs(c), `since=${since}`).toEqual(expected);
      expect(c.frames.slice(1).every((f) => f.type === "message")).toBe(true);
      c.close();
    }
  });

  it("recovered:false when messages after since were trimmed (MAX_STORED_PER_USER = 200)", async () => {
    const user = uniqueUser();
    await pushN(user, 205);
    const c = await resume(user, { since: 0 }, 200);
    expect(c.welcome).toMatchObject({ head: 205, recovered: false });
    expect(seqs(c)).toEqual(Array.from({ length: 200 }, (_, i) => i + 6));
    c.close();
    const d = await resume(user, { since: 5, device: "x" }, 200);
    expect(d.welcome.recovered).toBe(true); // 6..205 are all still there
    d.close();
  });

  it("recovered:false when messages after since have expired; they are not replayed", async () => {
    const user = uniqueUser();
    await push(user, { data: "short", ttl: 1 });
    await push(user, { data: "long" });
    await later(PAST_TTL_1, async () => {
      const c = await resume(user, { since: 0 }, 1);
      expect(c.welcome).toMatchObject({ head: 2, recovered: false });
      expect(c.messages().map((m) => m.data)).toEqual(["long"]);
      c.close();
      const d = await resume(user, { since: 1, device: "y" }, 1);
      expect(d.welcome.recovered).toBe(true);
      d.close();
    });
  });

  it("a live message pushed during the replay comes after it, once", async () => {
    const user = uniqueUser();
    await pushN(user, 50);
    const connecting = connect(user, { since: 0 });
    const pushes = Promise.all(Array.from({ length: 30 }, (_, i) => push(user, { data: `race-${i}` })));
    const [c, answers] = await Promise.all([connecting, pushes]);
    await c.nextMessages(80);
    await c.settled();
    expect(seqs(c)).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
    expect(answers.map((a) => a.seq).sort((a, b) => (a as number) - (b as number))).toEqual(Array.from({ length: 30 }, (_, i) => i + 51));
    c.close();
  });
});

describe("resume by device cursor", () => {
  it("a new device starts at head; a known one resumes after its last ack", async () => {
    const user = uniqueUser();
    await pushN(user, 3);
    const c = await resume(user, { device: "phone" }, 0);
    expect(c.welcome).toMatchObject({ head: 3, recovered: true });
    expect(c.messages()).toEqual([]);

    await pushN(user, 4); // 4..7 arrive live
    await c.nextMessages(4);
    c.send(JSON.stringify({ type: "ack", seq: 5 })); // the app processed up to 5
    c.send(JSON.stringify({ type: "ack", seq: 4 })); // cumulative: an older ack never moves it back
    await c.settled();
    c.close();
    await c.waitClosed();

    await pushN(user, 2); // 8, 9 while offline
    await evictDurableObject(hubOf(user));
    const back = await resume(user, { device: "phone" }, 4);
    expect(back.welcome).toMatchObject({ head: 9, recovered: true });
    expect(seqs(back)).toEqual([6, 7, 8, 9]);
    back.close();

    const other = await resume(user, { device: "tablet" }, 0); // never seen: starts at head
    expect(other.messages()).toEqual([]);
    other.close();
  });

  it("a device that never acks replays from where it first connected", async () => {
    const user = uniqueUser();
    await pushN(user, 2);
    const c = await resume(user, { device: "lazy" }, 0);
    await pushN(user, 2);
    await c.nextMessages(2);
    c.close();
    const again = await resume(user, { device: "lazy" }, 2);
    expect(seqs(again)).toEqual([3, 4]);
    again.close();
  });
});

describe("targeting is stored and honoured on replay", () => {
  it("device, exceptDevice and exceptSession", async () => {
    const user = uniqueUser();
    const trigger = await connect(user, { device: "desk" });
    await push(user, { data: "for-phone", device: "phone" });
    await push(user, { data: "not-phone", exceptDevice: "phone" });
    await push(user, { data: "not-desk-session", exceptSession: trigger.welcome.sessionId });
    await push(user, { data: "all" });
    trigger.close();

    const phone = await resume(user, { device: "phone", since: 0 }, 3);
    expect(phone.messages().map((m) => m.data)).toEqual(["for-phone", "not-desk-session", "all"]);
    const tablet = await resume(user, { device: "tablet", since: 0 }, 3);
    expect(tablet.messages().map((m) => m.data)).toEqual(["not-phone", "not-desk-session", "all"]);
    // The session that triggered it already knows; its device skips it on replay too.
    const desk = await resume(user, { device: "desk", since: 0 }, 2);
    expect(desk.messages().map((m) => m.data)).toEqual(["not-phone", "all"]);
    for (const c of [phone, tablet, desk]) c.close();
  });
});

describe("idempotency", () => {
  it("the same id is stored and delivered once; the retry repeats the seq", async () => {
    const user = uniqueUser();
    const c = await connect(user);
    const first = await push(user, { data: "x", id: "invoice-7" });
    const retry = await push(user, { data: "x", id: "invoice-7" });
    expect(first).toMatchObject({ id: "invoice-7", seq: 1, stored: true, duplicate: false, delivered: 1 });
    expect(retry).toMatchObject({ id: "invoice-7", seq: 1, stored: true, duplicate: true, delivered: 0 });
    expect((await push(user, { data: "y" })).seq).toBe(2);
    await c.nextMessages(2);
    expect(seqs(c)).toEqual([1, 2]);
    expect(await rowCount(user)).toBe(2);
    c.close();
  });

  it("an id may be reused once its message has expired", async () => {
    const user = uniqueUser();
    await push(user, { data: 1, id: "k", ttl: 1 });
    expect(await later(PAST_TTL_1, () => push(user, { data: 2, id: "k" }))).toMatchObject({ seq: 2, duplicate: false });
  });
});

describe("live-only pushes", () => {
  it("ttl: 0 is delivered but never stored and takes no seq", async () => {
    const user = uniqueUser();
    await push(user, { data: "stored" });
    const c = await connect(user);
    expect(await push(user, { data: "live", ttl: 0 })).toMatchObject({ seq: null, stored: false, delivered: 1 });
    expect((await c.nextMessages(1))[0]).toMatchObject({ seq: null, data: "live" });
    expect(await rowCount(user)).toBe(1);
    expect((await push(user, { data: "next" })).seq).toBe(2);
    c.close();
  });
});

describe("retention", () => {
  it("the alarm purges expired messages and trims past MAX_STORED_PER_USER, keeping head", async () => {
    const user = uniqueUser();
    await pushN(user, 3, { ttl: 1 });
    await pushN(user, 2);
    await later(PAST_TTL_1, async () => {
      expect(await rowCount(user)).toBe(5); // expired rows are hidden at once, deleted by the alarm
      expect(await runDurableObjectAlarm(hubOf(user))).toBe(true);
      expect(await rowCount(user)).toBe(2);
    });

    await pushN(user, 260); // head 265, MAX_STORED 200
    expect(await runDurableObjectAlarm(hubOf(user))).toBe(true);
    expect(await rowCount(user)).toBe(200);
    const page = (await (await api(`/users/${user}/messages?since=0&limit=1000`)).json()) as {
      head: number;
      messages: Array<{ seq: number }>;
    };
    expect(page.head).toBe(265);
    expect(page.messages[0]?.seq).toBe(66);
    expect(page.messages).toHaveLength(200);
  }, 20_000); // 265 pushes one by one: ~3.5 s alone on 2 cores, more when other files run beside it

  it("the head survives when every message has expired", async () => {
    const user = uniqueUser();
    await pushN(user, 3, { ttl: 1 });
    await later(PAST_TTL_1, () => runDurableObjectAlarm(hubOf(user)));
    await evictDurableObject(hubOf(user));
    expect((await push(user, { data: "after" })).seq).toBe(4);
  });
});

describe("GET /v1/users/{userId}/messages", () => {
  it("pages through retained messages", async () => {
    const user = uniqueUser();
    await push(user, { data: { a: 1 }, id: "m1", device: "phone" });
    await pushN(user, 4);
    const res = await api(`/users/${user}/messages?since=0&limit=2`);
    expect(res.status).toBe(200);
    const page = (await res.json()) as { head: number; messages: Array<Record<string, unknown>> };
    expect(page.head).toBe(5);
    expect(page.messages).toHaveLength(2);
    expect(page.messages[0]).toMatchObject({ id: "m1", seq: 1, data: { a: 1 }, device: "phone" });
    const rest = (await (await api(`/users/${user}/messages?since=2`)).json()) as { messages: Array<{ seq: number }> };
    expect(rest.messages.map((m) => m.seq)).toEqual([3, 4, 5]);
  });

  it("returns deeply nested data as it was pushed (never reparsed)", async () => {
    const user = uniqueUser();
    const depth = 5000;
    const nested = `${"[".repeat(depth)}1${"]".repeat(depth)}`;
    const pushed = await api(`/users/${user}/messages`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: `{"id":"deep","data":${nested}}`,
    });
    expect(pushed.status).toBe(200);
    const res = await api(`/users/${user}/messages`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain(`"data":${nested}`);
    expect(text.startsWith('{"head":1,"messages":[{"id":"deep","seq":1,')).toBe(true);
  });

  it("400 for malformed since or limit", async () => {
    for (const q of ["since=-1", "since=x", "since=1.5", "limit=0", "limit=1001", "limit=abc", "since=9007199254740992"]) {
      const res = await api(`/users/u1/messages?${q}`);
      expect(res.status, q).toBe(400);
      const body = (await res.json()) as { error: { field: string } };
      expect(q.startsWith(body.error.field)).toBe(true);
    }
  });
});
