/**
 * Runs in the "webpush" project. Each push's Web Push notifications go through
 * the fake push service (a fetch mock that checks VAPID and decrypts).
 */
import { env } from "cloudflare:workers";
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { api, API_KEY, connect, eventually, hubOf, push, uniqueUser, untilCounted, worker } from "../helpers";
import { FakePushService, subscriber } from "./fakePushService";
import { outbox, register, sendDue, sendRetries, subscribedDevices } from "./outboxHelpers";

afterEach(() => {
  vi.restoreAllMocks();
});

const json = (text: string) => JSON.parse(text) as Record<string, unknown>;

type Answers = Parameters<FakePushService["add"]>[1];

/** A user whose device "phone" has a subscription at the fake push service, which answers `answers` in turn. */
async function withPhone(prefix: string, answers?: Answers) {
  const fake = new FakePushService();
  const user = uniqueUser(prefix);
  const phone = subscriber();
  fake.add(phone, answers);
  await register(user, "phone", phone);
  return { fake, user, phone };
}

describe("a push with webpush", () => {
  it("sends each offline subscribed device one encrypted notification: the message, TTL, Urgency, Topic, VAPID", async () => {
    const { fake, user, phone } = await withPhone("wp-send", [201]);

    const answer = await push(user, {
      data: { order: 42, shipped: true },
      event: "order.shipped",
      ttl: 600,
      webpush: { urgency: "very-low", topic: "order-42" },
    });
    expect(answer.webpush).toBe(1);
    await sendDue(user);

    const [got, ...more] = fake.to(phone);
    expect(more).toEqual([]);
    expect(fake.problems).toEqual([]);
    expect(json(got?.text ?? "")).toEqual({ id: answer.id, seq: answer.seq, event: "order.shipped", data: { order: 42, shipped: true } });
    expect(got?.headers["content-encoding"]).toBe("aes128gcm");
    expect(Number(got?.headers.ttl)).toBeGreaterThan(0);
    expect(Number(got?.headers.ttl)).toBeLessThanOrEqual(600);
    expect(got?.headers.urgency).toBe("very-low");
    expect(got?.headers.topic).toBe("order-42");
    expect(got?.claims).toMatchObject({ aud: "https://push.example.test", sub: env.VAPID_SUBJECT });
    // Padded to the 4096-byte record: the push service learns nothing from the size.
    expect(got?.bodyBytes).toBe(4096);
    expect(await outbox(user)).toEqual([]);
  });

  it("without webpush (absent or false) sends nothing and the answer has no webpush count", async () => {
    const { fake, user } = await withPhone("wp-off");
    expect((await push(user, { data: 1, ttl: 60 })).webpush).toBeUndefined();
    expect((await push(user, { data: 2, ttl: 60, webpush: false })).webpush).toBeUndefined();
    expect(await outbox(user)).toEqual([]);
    expect(fake.deliveries).toEqual([]);
  });

  it("with ttl 0 (or a bad urgency or topic) is refused, naming the field", async () => {
    const user = uniqueUser("wp-ttl0");
    const cases: Array<[string, unknown, string]> = [
      [`/users/${user}/messages`, { data: 1, ttl: 0, webpush: true }, "webpush"],
      ["/messages", { userIds: [user], data: 1, ttl: 0, webpush: true }, "webpush"],
      ["/broadcast", { data: 1, webpush: true }, "webpush"], // a broadcast is live-only unless given a ttl
      [`/users/${user}/messages`, { data: 1, webpush: { urgency: "asap" } }, "webpush.urgency"],
      [`/users/${user}/messages`, { data: 1, webpush: { topic: "x".repeat(33) } }, "webpush.topic"],
      [`/users/${user}/messages`, { data: 1, webpush: "yes" }, "webpush"],
    ];
    for (const [path, body, field] of cases) {
      const res = await api(path, { method: "POST", json: body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { error: { field: string } }).error.field).toBe(field);
    }
  });

  it("reaches only the devices the push targets that have no live session (device, exceptDevice)", async () => {
    const fake = new FakePushService();
    const user = uniqueUser("wp-target");
    const subs = { a: subscriber(), b: subscriber(), c: subscriber() };
    for (const [device, sub] of Object.entries(subs)) {
      fake.add(sub);
      await register(user, device, sub);
    }
    const live = await connect(user, { device: "c" }); // c is online: its socket gets the message, not a notification

    const toA = await push(user, { data: "only a", ttl: 60, device: "a", webpush: true });
    const notA = await push(user, { data: "not a", ttl: 60, exceptDevice: "a", webpush: true });
    const toC = await push(user, { data: "only c", ttl: 60, device: "c", webpush: true });
    expect([toA.webpush, notA.webpush, toC.webpush]).toEqual([1, 1, 0]);
    await sendDue(user);

    expect(fake.to(subs.a).map((d) => json(d.text).data)).toEqual(["only a"]);
    expect(fake.to(subs.b).map((d) => json(d.text).data)).toEqual(["not a"]);
    expect(fake.to(subs.c)).toEqual([]);
    expect((await live.nextMessages(2)).map((m) => m.data)).toEqual(["not a", "only c"]);
    expect(fake.problems).toEqual([]);
    live.close();
  });

  it("a repeated id sends no second notification", async () => {
    const { fake, user, phone } = await withPhone("wp-dup");
    expect((await push(user, { id: "order-1", data: 1, ttl: 60, webpush: true })).webpush).toBe(1);
    const again = await push(user, { id: "order-1", data: 1, ttl: 60, webpush: true });
    expect(again).toMatchObject({ duplicate: true, webpush: 0 });
    await sendDue(user);
    expect(fake.to(phone)).toHaveLength(1);
  });

  it("a batch notifies each user's offline devices, and says how many per user", async () => {
    const fake = new FakePushService();
    const [u1, u2] = [uniqueUser("wp-b1"), uniqueUser("wp-b2")];
    const [s1, s2] = [subscriber(), subscriber()];
    fake.add(s1);
    fake.add(s2);
    await register(u1, "phone", s1);
    await register(u2, "phone", s2);
    const res = await api("/messages", { method: "POST", json: { userIds: [u1, u2], data: "batch", ttl: 60, webpush: true } });
    const { id, results } = (await res.json()) as { id: string; results: Array<{ userId: string; webpush?: number }> };
    expect(results.map((r) => [r.userId, r.webpush])).toEqual([
      [u1, 1],
      [u2, 1],
    ]);
    await sendDue(u1);
    await sendDue(u2);
    expect([...fake.to(s1), ...fake.to(s2)].map((d) => json(d.text))).toEqual([
      { id, seq: 1, data: "batch" },
      { id, seq: 1, data: "batch" },
    ]);
  });

  it("a broadcast with a ttl notifies the offline devices of the users it reaches", async () => {
    const fake = new FakePushService();
    const user = uniqueUser("wp-bc");
    const tablet = subscriber();
    fake.add(tablet);
    await register(user, "tablet", tablet);
    const phone = await connect(user, { device: "phone" }); // online, so the broadcast reaches the user
    await untilCounted(user);
    const res = await api("/broadcast", { method: "POST", json: { data: "to all", ttl: 60, webpush: true } });
    const answer = (await res.json()) as { id: string; webpush?: number };
    expect(answer.webpush).toBeGreaterThanOrEqual(1); // other tests' users may be online too
    await sendDue(user);
    expect(fake.to(tablet).map((d) => json(d.text))).toMatchObject([{ id: answer.id, data: "to all" }]);
    phone.close();
  });
});

describe("push service answers", () => {
  it("410 deletes the subscription: no further request is ever made to it", async () => {
    const { fake, user, phone } = await withPhone("wp-410", [410]);
    await push(user, { data: 1, ttl: 60, webpush: true });
    await sendDue(user);
    expect(await subscribedDevices(user)).toEqual([]);
    expect((await push(user, { data: 2, ttl: 60, webpush: true })).webpush).toBe(0);
    expect(await outbox(user)).toEqual([]);
    expect(fake.to(phone)).toHaveLength(1);
  });

  it("a 410 for a subscription the device replaced meanwhile keeps the new one, which gets the message", async () => {
    const fake = new FakePushService();
    const user = uniqueUser("wp-race");
    const [old, renewed] = [subscriber(), subscriber()];
    fake.add(renewed, [201]);
    // While the old endpoint's request is in flight, the page registers a new subscription; then the old one answers 410.
    fake.add(old, [{ status: 410, before: () => register(user, "phone", renewed) }]);
    await register(user, "phone", old);
    const answer = await push(user, { data: "for the new one", ttl: 600, webpush: true });
    await sendDue(user);
    expect(await subscribedDevices(user)).toEqual(["phone"]);
    expect(fake.to(old).map((d) => d.status)).toEqual([410]);
    expect(fake.to(renewed).map((d) => json(d.text))).toEqual([{ id: answer.id, seq: answer.seq, data: "for the new one" }]);
    expect(await outbox(user)).toEqual([]);
  });

  it("429 is retried no sooner than Retry-After, with the same message", async () => {
    const { fake, user, phone } = await withPhone("wp-429", [{ status: 429, headers: { "Retry-After": "120" } }, 201]);
    const answer = await push(user, { data: "retry me", ttl: 3600, webpush: true });
    const before = Date.now();
    await sendDue(user);
    const [pending] = await outbox(user);
    expect(pending?.attempts).toBe(1);
    expect(pending?.due_at).toBeGreaterThanOrEqual(before + 120_000);

    await sendRetries(user);
    expect(fake.to(phone).map((d) => [d.status, json(d.text).id])).toEqual([
      [429, answer.id],
      [201, answer.id],
    ]);
    expect(await outbox(user)).toEqual([]);
  });

  it("a queued retry survives the object's eviction: the row and its alarm are durable", async () => {
    const { fake, user, phone } = await withPhone("wp-evict", [{ status: 503, headers: { "Retry-After": "300" } }, 201]);
    const answer = await push(user, { data: "durable", ttl: 3600, webpush: true });
    await sendDue(user);
    expect(await outbox(user)).toHaveLength(1);

    await evictDurableObject(hubOf(user));
    expect(await runInDurableObject(hubOf(user), (_i, state) => state.storage.getAlarm())).not.toBeNull();
    await sendRetries(user);
    expect(fake.to(phone).map((d) => [d.status, json(d.text).id])).toEqual([
      [503, answer.id],
      [201, answer.id],
    ]);
    expect(await outbox(user)).toEqual([]);
  });

  it("a retry that would land after the message's ttl is dropped, not sent late", async () => {
    const { fake, user, phone } = await withPhone("wp-late", [{ status: 503, headers: { "Retry-After": "600" } }]);
    await push(user, { data: 1, ttl: 30, webpush: true });
    await sendDue(user);
    expect(await outbox(user)).toEqual([]);
    expect(fake.to(phone)).toHaveLength(1);
    expect(await subscribedDevices(user)).toEqual(["phone"]); // a 5xx says nothing about the subscription
  });

  it("a device that comes online before its retry gets the message over its socket; the retry is dropped", async () => {
    // Retry-After keeps the runtime's own alarm from retrying before the phone is back.
    const { fake, user, phone } = await withPhone("wp-online", [{ status: 503, headers: { "Retry-After": "300" } }, 201]);
    const before = await connect(user, { device: "phone" }); // the device is known: it has a cursor to resume from
    before.close();
    await eventually("the phone offline", async () => (await hubOf(user).presenceOf(user)).sessions.length === 0);
    await push(user, { data: "hello", ttl: 600, webpush: true });
    await sendDue(user);
    expect(await outbox(user)).toHaveLength(1);

    const socket = await connect(user, { device: "phone" }); // resumes after its cursor: the replay brings it
    expect((await socket.nextMessages(1)).map((m) => m.data)).toEqual(["hello"]);
    await sendRetries(user);
    expect(await outbox(user)).toEqual([]);
    expect(fake.to(phone).map((d) => d.status)).toEqual([503]);
    socket.close();
  });
});

describe("queue bound", () => {
  it("keeps at most 100 notifications queued per device: the oldest are dropped, the newest sent", async () => {
    const { fake, user, phone } = await withPhone("wp-queue", [{ status: 503, headers: { "Retry-After": "3000" } }, 201]);
    await push(user, { id: "first", data: 0, ttl: 3600, webpush: true });
    await sendDue(user); // 503: it waits for its retry, and the queue fills behind it
    for (let i = 1; i <= 100; i++) await push(user, { id: `m${i}`, data: i, ttl: 3600, webpush: true });
    const queued = await outbox(user);
    expect(queued).toHaveLength(100);
    expect(queued.some((r) => r.message_id === "first")).toBe(false);
    await sendRetries(user);
    expect(await outbox(user)).toEqual([]);
    const sent = fake
      .to(phone)
      .filter((d) => d.status === 201)
      .map((d) => json(d.text).id);
    expect(new Set(sent)).toEqual(new Set(Array.from({ length: 100 }, (_, i) => `m${i + 1}`)));
  });
});

describe("notification size", () => {
  it("a message over 3,993 bytes of plaintext is sent truncated: id, seq and truncated, no data", async () => {
    const { fake, user, phone } = await withPhone("wp-big");
    const answer = await push(user, { data: "x".repeat(5000), ttl: 60, webpush: true });
    await sendDue(user);
    expect(fake.to(phone).map((d) => json(d.text))).toEqual([{ id: answer.id, seq: answer.seq, truncated: true }]);
    expect(fake.problems).toEqual([]);
  });

  it("one that fits exactly is sent whole", async () => {
    const { fake, user, phone } = await withPhone("wp-fit");
    const id = "fit";
    const overhead = `{"id":"fit","seq":1,"data":""}`.length;
    await push(user, { id, data: "y".repeat(3993 - overhead), ttl: 60, webpush: true });
    await sendDue(user);
    const [got] = fake.to(phone);
    expect(new TextEncoder().encode(got?.text).byteLength).toBe(3993);
    expect(json(got?.text ?? "").data).toBe("y".repeat(3993 - overhead));
  });

  it("413 from the push service is answered by resending the truncated form", async () => {
    const { fake, user, phone } = await withPhone("wp-413", [413, 201]);
    const answer = await push(user, { data: { note: "small enough for us, not for them" }, ttl: 60, webpush: true });
    await sendDue(user);
    expect(fake.to(phone).map((d) => [d.status, json(d.text)])).toEqual([
      [413, { id: answer.id, seq: answer.seq, data: { note: "small enough for us, not for them" } }],
      [201, { id: answer.id, seq: answer.seq, truncated: true }],
    ]);
    expect(await outbox(user)).toEqual([]);
  });
});

describe("Web Push in /metrics", () => {
  /** switchboard_webpush_total by outcome, read through GET /metrics as a scraper would. */
  async function webpushCounts(): Promise<Record<string, number>> {
    const res = await worker("/metrics", { headers: { Authorization: `Bearer ${API_KEY}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    const counts: Record<string, number> = {};
    for (const [, outcome, value] of text.matchAll(/^switchboard_webpush_total\{outcome="([^"]+)"\} (\d+)$/gm)) counts[outcome!] = Number(value);
    return counts;
  }
  const delta = (before: Record<string, number>, after: Record<string, number>) =>
    Object.fromEntries(Object.entries(after).flatMap(([k, v]) => (v === (before[k] ?? 0) ? [] : [[k, v - (before[k] ?? 0)]])));

  it("counts each notification queued and each attempt's outcome: sent, truncated on 413, gone on 410", async () => {
    const before = await webpushCounts();
    const sent = await withPhone("wp-m-sent", [201]);
    await push(sent.user, { data: 1, ttl: 60, webpush: true });
    await sendDue(sent.user);
    const big = await withPhone("wp-m-413", [413, 201]);
    await push(big.user, { data: 2, ttl: 60, webpush: true });
    await sendDue(big.user);
    const gone = await withPhone("wp-m-410", [410]);
    await push(gone.user, { data: 3, ttl: 60, webpush: true });
    await sendDue(gone.user);
    expect(delta(before, await webpushCounts())).toEqual({ queued: 3, sent: 2, truncated: 1, gone: 1 });
  });
});
