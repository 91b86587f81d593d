import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, connect, eventually, hubOf, push, uniqueUser } from "./helpers";

describe("hibernation: the object is evicted, the sockets stay", () => {
  it("push, targeting, presence and kick all work after eviction", async () => {
    const user = uniqueUser();
    const other = uniqueUser();
    const phone = await connect(user, { device: "phone" });
    const laptop = await connect(user, { device: "laptop" });
    const bystander = await connect(other, { device: "phone" });
    const before = await (await api(`/users/${user}/presence`)).json();

    await evictDurableObject(hubOf(user));
    await evictDurableObject(hubOf(other));

    // Attachments came back intact: presence is the same as before eviction.
    expect(await (await api(`/users/${user}/presence`)).json()).toEqual(before);

    expect(await push(user, { data: "all", ttl: 0 })).toMatchObject({ delivered: 2, sessions: 2 });
    await evictDurableObject(hubOf(user));
    expect(await push(user, { data: "phone-only", device: "phone", ttl: 0 })).toMatchObject({ delivered: 1 });
    await evictDurableObject(hubOf(user));
    expect(await push(user, { data: "not-phone", exceptSession: phone.welcome.sessionId, ttl: 0 })).toMatchObject({
      delivered: 1,
    });

    expect((await phone.nextMessages(2)).map((m) => m.data)).toEqual(["all", "phone-only"]);
    expect((await laptop.nextMessages(2)).map((m) => m.data)).toEqual(["all", "not-phone"]);
    expect(bystander.messages()).toHaveLength(0);

    await evictDurableObject(hubOf(user));
    const kicked = await api(`/users/${user}/sessions?device=laptop`, { method: "DELETE" });
    expect(await kicked.json()).toEqual({ closed: 1 });
    expect((await laptop.waitClosed()).code).toBe(4001);
    phone.close();
    bystander.close();
  });

  it("the sockets' attachments and the stored log survive, and a frame wakes the object", async () => {
    const user = uniqueUser();
    const c = await connect(user, { device: "tab" });
    await push(user, { data: 1 });
    await push(user, { data: 2 });
    await c.nextMessages(2);
    await evictDurableObject(hubOf(user));

    const state = await runInDurableObject(hubOf(user), (_instance, ctx) => ({
      sockets: ctx.getWebSockets().map((ws) => ws.deserializeAttachment() as Record<string, unknown>),
      head: ctx.storage.sql.exec<{ head: number }>("SELECT max(seq) AS head FROM messages").one().head,
    }));
    expect(state.head).toBe(2);
    expect(state.sockets).toHaveLength(1);
    expect(state.sockets[0]).toMatchObject({ sessionId: c.welcome.sessionId, userId: user, device: "tab" });

    await evictDurableObject(hubOf(user));
    c.send(JSON.stringify({ type: "ack", seq: 2 }));
    c.send('{"type":"nope"}');
    await c.until(() => c.frames.some((f) => f.type === "error"), "error frame after wake");
    expect((await push(user, { data: 3 })).seq).toBe(3);
    c.close();
  });

  it("eviction really drops memory: live-only idempotency (memory only) is forgotten, stored is not", async () => {
    const user = uniqueUser();
    const c = await connect(user);
    expect((await push(user, { data: 1, ttl: 0, id: "live-1" })).duplicate).toBe(false);
    expect((await push(user, { data: 1, ttl: 0, id: "live-1" })).duplicate).toBe(true);
    expect((await push(user, { data: 1, id: "stored-1" })).duplicate).toBe(false);
    await evictDurableObject(hubOf(user));
    expect((await push(user, { data: 1, ttl: 0, id: "live-1" })).duplicate).toBe(false);
    expect(await push(user, { data: 1, id: "stored-1" })).toMatchObject({ duplicate: true, seq: 1 });
    c.close();
  });

  it("a session's close after eviction is seen and presence updates", async () => {
    const user = uniqueUser();
    const a = await connect(user, { device: "a" });
    const b = await connect(user, { device: "b" });
    await evictDurableObject(hubOf(user));
    a.close();
    await a.waitClosed();
    await eventually(
      "one session in presence",
      async () => ((await (await api(`/users/${user}/presence`)).json()) as { sessions: unknown[] }).sessions.length === 1,
    );
    b.close();
  });
});
