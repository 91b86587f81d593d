import { env } from "cloudflare:workers";
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { LEASE_RENEW_REAPS, leaseRenewalDue, shardIndex, shardName } from "../src/stats/shardKey";
import { api, connect, hubOf, uniqueUser, type TestClient } from "./helpers";

interface Stats {
  onlineUsers: number;
  sessions: number;
}

async function stats(): Promise<Stats> {
  const res = await api("/stats");
  expect(res.status).toBe(200);
  return (await res.json()) as Stats;
}

/** Reports reach the shards asynchronously: wait until the totals match. */
async function expectStats(want: Stats): Promise<void> {
  let got = await stats();
  for (let i = 0; i < 100 && (got.onlineUsers !== want.onlineUsers || got.sessions !== want.sessions); i++) {
    await new Promise((r) => setTimeout(r, 20));
    got = await stats();
  }
  expect(got).toEqual(want);
}

/** REAP_INTERVAL in the test config (the default). */
const REAP_INTERVAL_MS = 600_000;

const shardOf = (userId: string) => env.STATS_SHARD.getByName(shardName(shardIndex(userId, 4)));

describe("deployment-wide counts", () => {
  it("follow connects, closes and kicks across users on several shards, and survive eviction", async () => {
    const base = await stats();
    const users = Array.from({ length: 12 }, () => uniqueUser("s"));
    expect(new Set(users.map((u) => shardIndex(u, 4))).size).toBeGreaterThan(1);
    const clients = new Map<string, TestClient[]>();
    for (const [i, user] of users.entries()) {
      const list: TestClient[] = [];
      for (let d = 0; d <= i % 3; d++) list.push(await connect(user, { device: `d${d}` }));
      clients.set(user, list);
    }
    const sessions = users.reduce((n, _u, i) => n + (i % 3) + 1, 0);
    await expectStats({ onlineUsers: base.onlineUsers + 12, sessions: base.sessions + sessions });

    // Evict every user object: hibernation must not change the counts.
    for (const user of users) await evictDurableObject(hubOf(user));
    await expectStats({ onlineUsers: base.onlineUsers + 12, sessions: base.sessions + sessions });

    // One session of a multi-session user closes: sessions drop, users don't.
    const multi = users[2] as string;
    clients.get(multi)?.[0]?.close();
    await expectStats({ onlineUsers: base.onlineUsers + 12, sessions: base.sessions + sessions - 1 });

    // A kick takes a user offline entirely.
    const kicked = users[1] as string;
    expect(await (await api(`/users/${kicked}/sessions`, { method: "DELETE" })).json()).toEqual({ closed: 2 });
    await expectStats({ onlineUsers: base.onlineUsers + 11, sessions: base.sessions + sessions - 3 });

    for (const list of clients.values()) for (const c of list) c.close();
    await expectStats(base);
  });

  it("stale sessions reaped by the user's alarm are taken off the counts", async () => {
    const base = await stats();
    const user = uniqueUser("stale");
    const keep = await connect(user, { device: "alive" });
    await connect(user, { device: "silent" });
    await expectStats({ onlineUsers: base.onlineUsers + 1, sessions: base.sessions + 2 });
    await runInDurableObject(hubOf(user), (_i, state) => {
      for (const ws of state.getWebSockets("d:silent")) {
        const a = ws.deserializeAttachment() as Record<string, number>;
        ws.serializeAttachment({ ...a, connectedAt: Date.now() - 300_000, lastFrameAt: Date.now() - 300_000 });
      }
    });
    await evictDurableObject(hubOf(user));
    expect(await runDurableObjectAlarm(hubOf(user))).toBe(true);
    await expectStats({ onlineUsers: base.onlineUsers + 1, sessions: base.sessions + 1 });
    keep.close();
    await expectStats(base);
  });

  it("a shard drops a ghost whose lease lapsed, and is rebuilt from the user's object", async () => {
    const base = await stats();
    const user = uniqueUser("ghost");
    const c = await connect(user);
    await expectStats({ onlineUsers: base.onlineUsers + 1, sessions: base.sessions + 1 });

    // The shard has heard nothing for longer than its lease (3 × 6 × REAP_INTERVAL).
    await runInDurableObject(shardOf(user), (_i, state) => {
      state.storage.sql.exec("UPDATE users SET seen_at = ? WHERE user_id = ?", Date.now() - 4 * 3_600_000, user);
    });
    expect(await runDurableObjectAlarm(shardOf(user))).toBe(true);
    await expectStats(base);

    // The user's reaper alarm that falls in a renewal slot re-reports the
    // truth and the shard heals. The slot is chosen by the clock, so the test
    // sets the clock (the object runs in this isolate, on the same Date).
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const period = LEASE_RENEW_REAPS * REAP_INTERVAL_MS;
      vi.setSystemTime(Math.floor(Date.now() / period) * period + 1);
      expect(leaseRenewalDue(Date.now(), REAP_INTERVAL_MS)).toBe(true);
      expect(await runDurableObjectAlarm(hubOf(user))).toBe(true);
    } finally {
      vi.useRealTimers();
    }
    await expectStats({ onlineUsers: base.onlineUsers + 1, sessions: base.sessions + 1 });
    c.close();
    await expectStats(base);
  });

  it("a lease is renewed on exactly one reaper alarm in every LEASE_RENEW_REAPS", () => {
    for (const phase of [0, 1, 17_000, REAP_INTERVAL_MS - 1, REAP_INTERVAL_MS + 5]) {
      let renewals = 0;
      for (let k = 0; k < LEASE_RENEW_REAPS; k++) if (leaseRenewalDue(1_800_000_000_000 + phase + k * REAP_INTERVAL_MS, REAP_INTERVAL_MS)) renewals++;
      expect(renewals, `phase ${phase}`).toBe(1);
    }
  });

  it("sessions that died with the process (no close event) are reported gone by the next reaper alarm", async () => {
    const base = await stats();
    const user = uniqueUser("crash");
    const c = await connect(user);
    await expectStats({ onlineUsers: base.onlineUsers + 1, sessions: base.sessions + 1 });
    const flag = () =>
      runInDurableObject(hubOf(user), (_i, state) => state.storage.sql.exec("SELECT value FROM meta WHERE key = 'reported_online'").toArray());
    expect(await flag()).toEqual([{ value: 1 }]);
    c.close();
    await expectStats(base);
    expect(await flag()).toEqual([]);

    // What a killed process leaves behind: the shard still counts the user, the
    // object's storage says it last reported "online", its reaper alarm is
    // still set, and it has no sockets (no webSocketClose ever ran).
    const [row] = await runInDurableObject(shardOf(user), (_i, state) =>
      state.storage.sql.exec<{ version: number }>("SELECT version FROM users WHERE user_id = ?", user).toArray(),
    );
    await shardOf(user).report(user, 2, (row?.version ?? 0) + 1);
    await new Promise((r) => setTimeout(r, 5)); // the object's next report must be newer (versions are µs timestamps)
    await runInDurableObject(hubOf(user), async (_i, state) => {
      state.storage.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('reported_online', 1)");
      await state.storage.setAlarm(Date.now() + 600_000);
    });
    await evictDurableObject(hubOf(user));
    await expectStats({ onlineUsers: base.onlineUsers + 1, sessions: base.sessions + 2 });

    expect(await runDurableObjectAlarm(hubOf(user))).toBe(true);
    await expectStats(base);
    expect(await flag()).toEqual([]);
  });

  it("reports are absolute and versioned: a late, older report changes nothing and counts never go negative", async () => {
    const base = await stats();
    const user = uniqueUser("order");
    const shard = shardOf(user);
    await shard.report(user, 3, 2_000);
    await shard.report(user, 0, 3_000);
    await shard.report(user, 5, 1_000); // older: ignored
    await shard.report(user, 0, 4_000); // repeated offline: no double decrement
    await expectStats(base);
    await shard.report(user, 2, 5_000);
    await expectStats({ onlineUsers: base.onlineUsers + 1, sessions: base.sessions + 2 });
    await shard.report(user, 0, 6_000);
    await expectStats(base);
  });
});
