import { env } from "cloudflare:workers";
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { configFrom } from "../src/config";
import { shardIndex, shardName } from "../src/stats/shardKey";
import { later, onFakeClock } from "./clock";
import { api, connect, eventuallyEqual, hubOf, tokenFor, uniqueUser, type TestClient } from "./helpers";

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
  await eventuallyEqual("the totals", stats, want);
}

function testConfig() {
  const result = configFrom(env);
  if (!result.ok) throw new Error(result.problem);
  return result.config;
}

/** STATS_AUDIT_INTERVAL in the test config (the default). */
const AUDIT_INTERVAL_MS = testConfig().statsAuditIntervalMs;

/** Make a session look like its client vanished long ago (a half-open socket). */
function makeSilent(user: string, device: string): Promise<void> {
  return runInDurableObject(hubOf(user), (_i, state) => {
    for (const ws of state.getWebSockets(`d:${device}`)) {
      const a = ws.deserializeAttachment() as Record<string, number>;
      ws.serializeAttachment({ ...a, connectedAt: Date.now() - 300_000, lastFrameAt: Date.now() - 300_000 });
    }
  });
}

/**
 * The client on `device` was just heard from (what its heartbeats would show),
 * on whatever clock Date.now() reads; the object is evicted so that it reads
 * the attachment afresh (as after hibernation).
 */
async function heardFrom(user: string, device: string): Promise<void> {
  await runInDurableObject(hubOf(user), (_i, state) => {
    for (const ws of state.getWebSockets(`d:${device}`)) {
      const a = ws.deserializeAttachment() as Record<string, number>;
      ws.serializeAttachment({ ...a, lastFrameAt: Date.now() });
    }
  });
  await evictDurableObject(hubOf(user));
}

/**
 * The shard last heard from `user` longer ago than an audit interval; and it is
 * evicted, so that its next alarm is its first (an audit is due on the first
 * alarm of a shard's life, then once per interval).
 */
async function quietFor(user: string): Promise<void> {
  await runInDurableObject(shardOf(user), (_i, state) => {
    state.storage.sql.exec("UPDATE users SET seen_at = ? WHERE user_id = ?", Date.now() - AUDIT_INTERVAL_MS - 60_000, user);
  });
  await evictDurableObject(shardOf(user));
}

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

  it("a half-open session is closed 4002 and taken off the counts at the object's next wake", async () => {
    const base = await stats();
    const user = uniqueUser("stale");
    const keep = await connect(user, { device: "alive" });
    const silent = await connect(user, { device: "silent" });
    await expectStats({ onlineUsers: base.onlineUsers + 1, sessions: base.sessions + 2 });
    await makeSilent(user, "silent");
    await evictDurableObject(hubOf(user));
    // Any wake sweeps: here a push, which must not count the half-open session as delivered.
    const res = await api(`/users/${user}/messages`, { method: "POST", json: { data: 1, ttl: 0 } });
    expect(await res.json()).toMatchObject({ delivered: 1, sessions: 1 });
    expect((await silent.waitClosed()).code).toBe(4002);
    await expectStats({ onlineUsers: base.onlineUsers + 1, sessions: base.sessions + 1 });
    keep.close();
    await expectStats(base);
  });

  it("the shard's audit takes a half-open session off the counts of a user nothing wakes", async () => {
    const base = await stats();
    const user = uniqueUser("audit");
    const keep = await connect(user, { device: "alive" });
    await connect(user, { device: "silent" });
    await expectStats({ onlineUsers: base.onlineUsers + 1, sessions: base.sessions + 2 });
    await makeSilent(user, "silent");
    await evictDurableObject(hubOf(user));
    await quietFor(user);
    expect(await runDurableObjectAlarm(shardOf(user))).toBe(true);
    await expectStats({ onlineUsers: base.onlineUsers + 1, sessions: base.sessions + 1 });
    keep.close();
    await expectStats(base);
  });

  it("on a fake clock: a client that vanishes right after its user's last report is counted until the audit two intervals later, not longer", async () => {
    const base = await stats();
    const user = uniqueUser("vanish");
    const token = await tokenFor(user, { expiresIn: 30 * 86_400 });
    const keep = await connect(user, { device: "keep", token });
    const gone = await connect(user, { device: "gone", token });
    await expectStats({ onlineUsers: base.onlineUsers + 1, sessions: base.sessions + 2 });
    await evictDurableObject(shardOf(user)); // its next alarm is its first: an audit round is due
    await onFakeClock(async (at) => {
      // "gone" says nothing from now on (a half-open socket); "keep" goes on pinging.
      at(AUDIT_INTERVAL_MS - 60_000);
      await heardFrom(user, "keep");
      expect(await runDurableObjectAlarm(shardOf(user))).toBe(true);
      // Heard from within the interval: not audited, so the vanished client still counts.
      await expectStats({ onlineUsers: base.onlineUsers + 1, sessions: base.sessions + 2 });

      at(2 * AUDIT_INTERVAL_MS - 60_000);
      await heardFrom(user, "keep");
      expect(await runDurableObjectAlarm(shardOf(user))).toBe(true);
      // The next round audits the quiet user; its object sweeps the silent session (4002).
      expect((await gone.waitClosed()).code).toBe(4002);
      await expectStats({ onlineUsers: base.onlineUsers + 1, sessions: base.sessions + 1 });
      expect(keep.closed).toBeUndefined();
      // Closed on the same clock, so the close's report is newer than what the audit stored.
      keep.close();
      await expectStats(base);
    });
  });

  it("on a fake clock: a vanished client is off the counts by its token's exp, whatever the audit interval (the expiry alarm sweeps)", async () => {
    const base = await stats();
    const user = uniqueUser("expires");
    const keep = await connect(user, { device: "keep", token: await tokenFor(user, { expiresIn: 30 * 86_400 }) });
    const gone = await connect(user, { device: "gone", token: await tokenFor(user, { expiresIn: 3600 }) });
    await expectStats({ onlineUsers: base.onlineUsers + 1, sessions: base.sessions + 2 });
    await onFakeClock(async (at) => {
      at(3600_000 + 1000);
      await heardFrom(user, "keep");
      expect(await runDurableObjectAlarm(hubOf(user))).toBe(true);
      expect((await gone.waitClosed()).code).toBe(1008);
      await expectStats({ onlineUsers: base.onlineUsers + 1, sessions: base.sessions + 1 });
      keep.close();
      await expectStats(base);
    });
  });

  it("an audit of a user heard from recently wakes nothing; one that finds the count unchanged writes nothing", async () => {
    const base = await stats();
    const user = uniqueUser("quiet");
    const c = await connect(user);
    await expectStats({ onlineUsers: base.onlineUsers + 1, sessions: base.sessions + 1 });
    const row = () =>
      runInDurableObject(shardOf(user), (_i, state) =>
        state.storage.sql.exec<{ seen_at: number; version: number }>("SELECT seen_at, version FROM users WHERE user_id = ?", user).one(),
      );
    let before = await row();
    expect(await runDurableObjectAlarm(shardOf(user))).toBe(true);
    expect(await row()).toEqual(before); // reported within the interval: not audited
    await quietFor(user);
    before = await row();
    expect(await runDurableObjectAlarm(shardOf(user))).toBe(true);
    expect(await row()).toEqual(before); // audited, one session as stored: no write
    c.close();
    await expectStats(base);
  });

  it("a ghost left by a dead process (the shard counts sessions the object no longer has) is dropped by the audit", async () => {
    const base = await stats();
    const user = uniqueUser("ghost");
    // What a killed process leaves behind: the shard counts the user, its
    // object has no sockets (no webSocketClose ever ran).
    await shardOf(user).report(user, 2, 1);
    await expectStats({ onlineUsers: base.onlineUsers + 1, sessions: base.sessions + 2 });
    await quietFor(user);
    expect(await runDurableObjectAlarm(shardOf(user))).toBe(true);
    await expectStats(base);
  });

  it("the first alarm after a restart reports the count even if nothing changed (closes lost with the process)", async () => {
    const base = await stats();
    const user = uniqueUser("crash");
    const c = await connect(user);
    await expectStats({ onlineUsers: base.onlineUsers + 1, sessions: base.sessions + 1 });
    c.close();
    await expectStats(base);
    // The shard is told "2 sessions" behind the object's back (as a dead process leaves it).
    const [row] = await runInDurableObject(shardOf(user), (_i, state) =>
      state.storage.sql.exec<{ version: number }>("SELECT version FROM users WHERE user_id = ?", user).toArray(),
    );
    await shardOf(user).report(user, 2, (row?.version ?? 0) + 1);
    await runInDurableObject(hubOf(user), async (_i, state) => {
      await state.storage.setAlarm(Date.now() + 600_000);
    });
    await evictDurableObject(hubOf(user));
    await expectStats({ onlineUsers: base.onlineUsers + 1, sessions: base.sessions + 2 });
    // A report's version is the object's clock in µs: a millisecond on, it is newer than the one injected.
    expect(await later(1, () => runDurableObjectAlarm(hubOf(user)))).toBe(true);
    await expectStats(base);
  });

  it("a healthy idle user with a long-lived token has no alarm: no timer wakes it", async () => {
    const base = await stats();
    const user = uniqueUser("idle");
    const token = await tokenFor(user, { expiresIn: 30 * 86_400 });
    const a = await connect(user, { device: "phone", token });
    const b = await connect(user, { device: "laptop", token });
    const alarm = await runInDurableObject(hubOf(user), (_i, state) => state.storage.getAlarm());
    // Token expiry is the only timer a healthy idle user has: at exp, not sooner.
    expect(alarm === null || alarm >= Date.now() + 29 * 86_400_000).toBe(true);
    await evictDurableObject(hubOf(user));
    expect(await runInDurableObject(hubOf(user), (_i, state) => state.storage.getAlarm())).toBe(alarm);
    a.close();
    b.close();
    await expectStats(base);
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

  it("reports that arrive together are committed together: each answered once stored, the newest version per user kept", async () => {
    // Users of one shard, so that their reports share a commit.
    const users: string[] = [];
    while (users.length < 6) {
      const u = uniqueUser("batch");
      if (shardIndex(u, 4) === 0) users.push(u);
    }
    const shard = shardOf(users[0] as string);
    const [a, b] = users as [string, string];
    const base = await shard.stats();
    // Concurrent, and for `a` out of order: version 3 (1 session) lands in the
    // same batch as versions 2 and 4 (5 and 2 sessions).
    await Promise.all([
      shard.report(a, 1, 3),
      shard.report(a, 5, 2),
      shard.report(a, 2, 4),
      shard.report(b, 3, 1),
      ...users.slice(2).map((u) => shard.report(u, 1, 1)),
    ]);
    // Every answer came after its row was written: read at once, no waiting.
    const rows = await runInDurableObject(shard, (_i, state) =>
      state.storage.sql
        .exec<{ user_id: string; sessions: number; version: number }>(
          `SELECT user_id, sessions, version FROM users WHERE user_id IN (${users.map(() => "?").join(",")})`,
          ...users,
        )
        .toArray(),
    );
    const byUser = new Map(rows.map((r) => [r.user_id, r]));
    expect(byUser.get(a)).toMatchObject({ sessions: 2, version: 4 });
    expect(byUser.get(b)).toMatchObject({ sessions: 3, version: 1 });
    expect(rows).toHaveLength(users.length);
    expect(await shard.stats()).toEqual({ onlineUsers: base.onlineUsers + users.length, sessions: base.sessions + 2 + 3 + 4 });
    // A stale report after the batch changes nothing; the totals survive eviction (recounted from the rows).
    await shard.report(a, 9, 3);
    await evictDurableObject(shard);
    expect(await shard.stats()).toEqual({ onlineUsers: base.onlineUsers + users.length, sessions: base.sessions + 2 + 3 + 4 });
    await Promise.all(users.map((u) => shard.report(u, 0, 10)));
    expect(await shard.stats()).toEqual(base);
  });
});
