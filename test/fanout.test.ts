import { describe, expect, it } from "vitest";
import { api, connect, eventually, settled, uniqueUser, type TestClient } from "./helpers";

interface BatchAnswer {
  id: string;
  results: Array<{ userId: string; seq?: number | null; delivered?: number; sessions?: number; duplicate?: boolean; error?: { code: string } }>;
}

async function batch(body: Record<string, unknown>): Promise<{ status: number; body: BatchAnswer }> {
  const res = await api("/messages", { method: "POST", json: body });
  return { status: res.status, body: (await res.json()) as BatchAnswer };
}

describe("POST /v1/messages: push to many users", () => {
  it("answers per user; a bad userId fails only its own entry", async () => {
    const [a, b, offline] = [uniqueUser("a"), uniqueUser("b"), uniqueUser("off")];
    const ca = await connect(a);
    const cb1 = await connect(b, { device: "1" });
    const cb2 = await connect(b, { device: "2" });
    const { status, body } = await batch({ userIds: [a, "bad user", b, offline, 42], data: { hi: true } });
    expect(status).toBe(200);
    expect(body.results).toHaveLength(5);
    expect(body.results[0]).toMatchObject({ userId: a, seq: 1, delivered: 1, sessions: 1, duplicate: false });
    expect(body.results[1]).toMatchObject({ userId: "bad user", error: { code: "bad_request" } });
    expect(body.results[2]).toMatchObject({ userId: b, seq: 1, delivered: 2, sessions: 2 });
    expect(body.results[3]).toMatchObject({ userId: offline, seq: 1, delivered: 0, sessions: 0 });
    expect(body.results[4]).toMatchObject({ userId: "42", error: { code: "bad_request" } });
    for (const c of [ca, cb1, cb2]) expect((await c.nextMessages(1))[0]).toMatchObject({ id: body.id, data: { hi: true } });
    [ca, cb1, cb2].forEach((c) => c.close());
  });

  it("a retried batch with the same id delivers to no one twice", async () => {
    const users = [uniqueUser(), uniqueUser(), uniqueUser()];
    const clients: TestClient[] = [];
    for (const u of users) clients.push(await connect(u));
    const first = await batch({ userIds: users, data: "once", id: "batch-1" });
    const retry = await batch({ userIds: users, data: "once", id: "batch-1" });
    expect(first.body.results.map((r) => r.duplicate)).toEqual([false, false, false]);
    expect(retry.body.results.map((r) => [r.duplicate, r.seq, r.delivered])).toEqual([
      [true, 1, 0],
      [true, 1, 0],
      [true, 1, 0],
    ]);
    await settled(...clients);
    for (const c of clients) expect(c.messages()).toHaveLength(1);
    clients.forEach((c) => c.close());
  });

  it("exceptDevice applies to every user in the batch", async () => {
    const [u1, u2] = [uniqueUser(), uniqueUser()];
    const phone1 = await connect(u1, { device: "phone" });
    const web1 = await connect(u1, { device: "web" });
    const web2 = await connect(u2, { device: "web" });
    const { body } = await batch({ userIds: [u1, u2], data: "x", exceptDevice: "web", ttl: 0 });
    expect(body.results.map((r) => r.delivered)).toEqual([1, 0]);
    await phone1.nextMessages(1);
    await settled(web1, web2);
    expect(web1.messages()).toHaveLength(0);
    expect(web2.messages()).toHaveLength(0);
    [phone1, web1, web2].forEach((c) => c.close());
  });

  it("400 naming the field for a bad body; at most 1000 users", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ data: 1 }, "userIds"],
      [{ userIds: "alice", data: 1 }, "userIds"],
      [{ userIds: [], data: 1 }, "userIds"],
      [{ userIds: Array.from({ length: 1001 }, (_, i) => `u${i}`), data: 1 }, "userIds"],
      [{ userIds: ["a"] }, "data"],
      [{ userIds: ["a"], data: 1, ttl: -5 }, "ttl"],
    ];
    for (const [body, field] of cases) {
      const res = await api("/messages", { method: "POST", json: body });
      expect(res.status, field).toBe(400);
      expect(((await res.json()) as { error: { field: string } }).error.field).toBe(field);
    }
  });
});

describe("POST /v1/broadcast", () => {
  it("reaches exactly the users online now", async () => {
    const online = [uniqueUser("on"), uniqueUser("on"), uniqueUser("on"), uniqueUser("on"), uniqueUser("on")];
    const clients: TestClient[] = [];
    for (const [i, u] of online.entries()) {
      clients.push(await connect(u, { device: "a" }));
      if (i === 0) clients.push(await connect(u, { device: "b" }));
    }
    const gone = uniqueUser("gone");
    const goneClient = await connect(gone);
    goneClient.close();
    await goneClient.waitClosed();
    // Presence reaches the shards asynchronously: wait until they count these users, and not `gone`.
    await eventually("the shards to count the 5 online users' 6 sessions", async () => {
      const stats = (await (await api("/stats")).json()) as { onlineUsers: number; sessions: number };
      return stats.onlineUsers === 5 && stats.sessions === 6;
    });

    const res = await api("/broadcast", { method: "POST", json: { data: { notice: "maintenance" } } });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { id: string; users: number; sessions: number; failedUsers: number };
    // Other test files run in their own runtime, so these are the only online users.
    expect(answer).toMatchObject({ users: 5, sessions: 6, failedUsers: 0 });
    for (const c of clients) expect((await c.nextMessages(1))[0]).toMatchObject({ id: answer.id, seq: null, data: { notice: "maintenance" } });

    // Live-only by default: nothing was stored for anyone.
    const log = (await (await api(`/users/${online[0]}/messages`)).json()) as { head: number };
    expect(log.head).toBe(0);
    clients.forEach((c) => c.close());
  });

  it("400 for a bad body", async () => {
    expect((await api("/broadcast", { method: "POST", json: {} })).status).toBe(400);
    expect((await api("/broadcast", { method: "POST", json: { data: 1, device: "x" } })).status).toBe(400);
  });
});
