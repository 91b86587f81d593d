import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, connect, eventually, hubOf, push, uniqueUser } from "./helpers";

interface Presence {
  userId: string;
  online: boolean;
  sessions: Array<{ sessionId: string; device: string; connectedAt: number; lastSeenAt: number }>;
}

async function presence(userId: string): Promise<Presence> {
  const res = await api(`/users/${userId}/presence`);
  expect(res.status).toBe(200);
  return (await res.json()) as Presence;
}

describe("presence", () => {
  it("lists open sessions, and drops them once closed", async () => {
    const user = uniqueUser();
    expect(await presence(user)).toEqual({ userId: user, online: false, sessions: [] });
    const before = Date.now();
    const phone = await connect(user, { device: "phone" });
    const laptop = await connect(user, { device: "laptop" });
    const p = await presence(user);
    expect(p.online).toBe(true);
    expect(p.sessions.map((s) => s.device).sort()).toEqual(["laptop", "phone"]);
    for (const s of p.sessions) {
      expect(s.connectedAt).toBeGreaterThanOrEqual(before - 1000);
      expect(s.lastSeenAt).toBeGreaterThanOrEqual(s.connectedAt);
    }
    expect(p.sessions.map((s) => s.sessionId).sort()).toEqual([phone.welcome.sessionId, laptop.welcome.sessionId].sort());

    phone.close();
    await phone.waitClosed();
    await eventually("one session left", async () => (await presence(user)).sessions.length === 1);
    expect((await presence(user)).sessions[0]?.device).toBe("laptop");
    laptop.close();
    await eventually("offline", async () => !(await presence(user)).online);
  });

  it("a heartbeat is answered by the runtime and moves lastSeenAt", async () => {
    const user = uniqueUser();
    const c = await connect(user);
    const first = (await presence(user)).sessions[0]?.lastSeenAt ?? 0;
    // The runtime stamps its heartbeat answer with its own clock (getWebSocketAutoResponseTimestamp),
    // which a fake Date does not move: wait for the clock to pass the first stamp, not a guessed time.
    await eventually("the clock past the first heartbeat", () => Date.now() > first);
    c.send("ping");
    await c.until(() => c.raw.includes("pong"), "pong");
    const after = (await presence(user)).sessions[0]?.lastSeenAt ?? 0;
    expect(after).toBeGreaterThan(first);
    c.close();
  });

  it("sessions silent past STALE_AFTER are not reported and are closed with 4002", async () => {
    const user = uniqueUser();
    const stale = await connect(user, { device: "stale" });
    const fresh = await connect(user, { device: "fresh" });
    const stub = hubOf(user);
    // Make one session look silent for 200 s (STALE_AFTER is 2 × HEARTBEAT_INTERVAL, 180 s).
    await runInDurableObject(stub, (_instance, state) => {
      for (const ws of state.getWebSockets("d:stale")) {
        const a = ws.deserializeAttachment() as Record<string, number>;
        ws.serializeAttachment({ ...a, connectedAt: Date.now() - 200_000, lastFrameAt: Date.now() - 200_000 });
      }
    });
    await evictDurableObject(stub); // drop the in-memory copy; attachments are the truth
    const p = await presence(user);
    expect(p.sessions.map((s) => s.device)).toEqual(["fresh"]);
    expect((await stale.waitClosed()).code).toBe(4002);
    expect(fresh.closed).toBeUndefined();
    fresh.close();
  });
});

describe("kick", () => {
  it("closes all sessions, one device's, or one session's with 4001", async () => {
    const user = uniqueUser();
    const phone = await connect(user, { device: "phone" });
    const laptopA = await connect(user, { device: "laptop" });
    const laptopB = await connect(user, { device: "laptop" });
    const tablet = await connect(user, { device: "tablet" });

    const kick = async (query: string) => {
      const res = await api(`/users/${user}/sessions${query}`, { method: "DELETE" });
      expect(res.status).toBe(200);
      return (await res.json()) as { closed: number };
    };

    expect(await kick(`?session=${laptopA.welcome.sessionId}`)).toEqual({ closed: 1 });
    expect((await laptopA.waitClosed()).code).toBe(4001);
    expect(await kick("?device=laptop")).toEqual({ closed: 1 });
    expect((await laptopB.waitClosed()).code).toBe(4001);
    expect(await kick("?device=nothing-here")).toEqual({ closed: 0 });
    expect(phone.closed).toBeUndefined();
    expect(await kick("")).toEqual({ closed: 2 });
    expect((await phone.waitClosed()).code).toBe(4001);
    expect((await tablet.waitClosed()).code).toBe(4001);
    expect((await push(user, { data: 1, ttl: 0 })).sessions).toBe(0);
  });

  it("400 for a bad device, or both device and session", async () => {
    expect((await api(`/users/u1/sessions?device=a%20b`, { method: "DELETE" })).status).toBe(400);
    expect((await api(`/users/u1/sessions?device=a&session=b`, { method: "DELETE" })).status).toBe(400);
  });
});
