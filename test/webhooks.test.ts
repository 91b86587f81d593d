/** Runs in the "webhooks" project: WEBHOOK_URL set, WEBHOOK_OFFLINE_GRACE = 2 s, STATS_SHARDS = 4. */
import { env } from "cloudflare:workers";
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { shardIndex, shardName } from "../src/stats/shardKey";
import { verifySignature } from "../src/webhooks/sign";
import { later } from "./clock";
import { connect, eventually, uniqueUser } from "./helpers";

interface Sent {
  url: string;
  eventId: string;
  signature: string;
  body: string;
  event: { id: string; type: string; userId: string; at: number };
}

/** Intercept the shards' outbound fetch (it runs in this isolate), answering with `statuses` in turn. */
function receiver(statuses: number[]): Sent[] {
  const sent: Sent[] = [];
  let call = 0;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const body = await request.text();
    sent.push({
      url: request.url,
      eventId: request.headers.get("Switchboard-Event-Id") ?? "",
      signature: request.headers.get("Switchboard-Signature") ?? "",
      body,
      event: JSON.parse(body) as Sent["event"],
    });
    const status = statuses[Math.min(call++, statuses.length - 1)] ?? 200;
    return new Response(null, { status });
  });
  return sent;
}

afterEach(() => {
  vi.restoreAllMocks();
});

const shardOf = (userId: string) => env.STATS_SHARD.getByName(shardName(shardIndex(userId, 4)));

/** Wait for the user's presence report to reach its shard's outbox. */
async function outbox(userId: string): Promise<Array<{ type: string; attempts: number; due_at: number }>> {
  return runInDurableObject(shardOf(userId), (_i, state) =>
    state.storage.sql
      .exec<{ type: string; attempts: number; due_at: number }>("SELECT type, attempts, due_at FROM outbox WHERE user_id = ? ORDER BY due_at", userId)
      .toArray(),
  );
}

function untilOutbox(userId: string, n: number) {
  return eventually(`${n} rows in ${userId}'s outbox`, async () => {
    const rows = await outbox(userId);
    return rows.length === n && rows;
  });
}

/**
 * The user's first event is due at once, so the shard's own alarm may send it
 * before the test gets to: run the alarm while the event is still pending,
 * until one attempt has been made either way. Returns the outbox after it.
 */
function untilAttempted(userId: string, sent: Sent[]) {
  return eventually(`an attempt to send ${userId}'s event`, async () => {
    const rows = await outbox(userId);
    const attempted = rows.length === 0 ? sent.some((s) => s.event.userId === userId) : (rows[0]?.attempts ?? 0) > 0;
    if (attempted) return rows;
    if (rows.length === 1) await runDurableObjectAlarm(shardOf(userId));
    return undefined;
  });
}

/** Make every pending event of the user due now, then run the shard's alarm. */
async function deliverDue(userId: string): Promise<void> {
  await runInDurableObject(shardOf(userId), (_i, state) => {
    state.storage.sql.exec("UPDATE outbox SET due_at = ? WHERE user_id = ?", Date.now() - 1, userId);
  });
  await runDurableObjectAlarm(shardOf(userId));
}

describe("webhooks", () => {
  it("user.online is sent signed with HMAC-SHA256 over timestamp and body", async () => {
    const sent = receiver([200]);
    const user = uniqueUser("hook");
    const c = await connect(user);
    expect(await untilAttempted(user, sent)).toEqual([]);
    const mine = sent.filter((s) => s.event.userId === user);
    expect(mine).toHaveLength(1);
    const hook = mine[0] as Sent;
    expect(hook.url).toBe("https://hooks.example.test/switchboard");
    expect(hook.event).toMatchObject({ type: "user.online", userId: user, id: hook.eventId });
    const now = Math.floor(Date.now() / 1000);
    expect(await verifySignature("test-webhook-secret", hook.signature, hook.body, now)).toBe(true);
    expect(await verifySignature("wrong-secret", hook.signature, hook.body, now)).toBe(false);
    expect(await verifySignature("test-webhook-secret", hook.signature, hook.body.replace("online", "offline"), now)).toBe(false);
    expect(await verifySignature("test-webhook-secret", hook.signature, hook.body, now + 3600)).toBe(false); // replayed later
    expect(await outbox(user)).toEqual([]);
    c.close();
  });

  it("a failing receiver is retried by the alarm with backoff, with the same event id, across an eviction", async () => {
    const sent = receiver([500, 503, 200]);
    const user = uniqueUser("retry");
    const c = await connect(user);
    const rows = await untilAttempted(user, sent); // first attempt: 500
    expect(rows).toHaveLength(1);
    expect(rows[0]?.attempts).toBe(1);
    expect(rows[0]?.due_at).toBeGreaterThan(Date.now()); // backed off, not hammered

    // Lose the shard's memory mid-retry. The outbox row and its alarm are
    // durable: the alarm is still scheduled after the eviction, and running it
    // (the row made due rather than the backoff waited out on the wall clock)
    // retries (503), then delivers (200). The real alarm may beat us to either.
    await evictDurableObject(shardOf(user));
    expect(await runInDurableObject(shardOf(user), (_i, state) => state.storage.getAlarm())).not.toBeNull();
    const mine = () => sent.filter((s) => s.event.userId === user);
    for (let i = 0; i < 5 && (await outbox(user)).length > 0; i++) {
      await deliverDue(user);
      await evictDurableObject(shardOf(user));
    }
    expect(await outbox(user)).toEqual([]);
    expect(mine()).toHaveLength(3); // 500, 503, then 200: no attempt lost or repeated
    expect(new Set(mine().map((s) => s.eventId)).size).toBe(1); // receivers dedupe on it
    c.close();
  });

  it("a quick reconnect within the grace period sends nothing; a real offline is sent after it", async () => {
    const sent = receiver([200]);
    const user = uniqueUser("grace");
    const first = await connect(user);
    expect(await untilAttempted(user, sent)).toEqual([]); // user.online goes out
    first.close();
    const pending = await untilOutbox(user, 1);
    expect(pending[0]?.type).toBe("user.offline");
    expect(pending[0]?.due_at).toBeGreaterThan(Date.now()); // waits for the grace period

    const again = await connect(user); // back within 2 s
    await untilOutbox(user, 0);
    await runDurableObjectAlarm(shardOf(user));
    expect(sent.filter((s) => s.event.userId === user).map((s) => s.event.type)).toEqual(["user.online"]);

    again.close();
    const [offline] = await untilOutbox(user, 1);
    // The grace period passes on the clock the shard reads, not on the wall clock.
    await later((offline?.due_at ?? Infinity) - Date.now() + 1, () => runDurableObjectAlarm(shardOf(user)));
    expect(sent.filter((s) => s.event.userId === user).map((s) => s.event.type)).toEqual(["user.online", "user.offline"]);
  });
});
