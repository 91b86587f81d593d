/**
 * The Pusher dialect over a real upgrade through the Worker (raw frames, as
 * pusher-js sends them): handshake, refusals, signin, subscriptions, and the
 * auth deadline. The HTTP API is in pusherApi.test.ts; the real pusher-js,
 * `pusher` SDK and Laravel Echo run against workerd in test/node/pusher*.
 */
import { env } from "cloudflare:workers";
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../src/http/app";
import { channelAuth, userAuth } from "../src/pusher/auth";
import { PUSHER_PING } from "../src/pusher/protocol";
import { onFakeClock } from "./clock";
import { api, connect, eventually, hubOf, push, uniqueUser } from "./helpers";
import { KEY, PusherClient, pusherConnect, pusherPath, SECRET, upgradeRaw } from "./pusherHelpers";

const presence = async (user: string) =>
  (await (await api(`/users/${user}/presence`)).json()) as { online: boolean; sessions: Array<{ sessionId: string; device: string }> };

describe("pusher: handshake", () => {
  it("sends connection_established first: a unique \\d+.\\d+ socket_id and activity_timeout, data JSON-encoded", async () => {
    const user = uniqueUser();
    const a = await pusherConnect(user);
    const b = await pusherConnect(user);
    const raw = JSON.parse(a.raw[0] ?? "") as { event: string; data: unknown };
    expect(raw.event).toBe("pusher:connection_established");
    expect(typeof raw.data).toBe("string");
    expect(a.frames[0]?.data).toEqual({ socket_id: expect.stringMatching(/^\d+\.\d+$/), activity_timeout: 90 });
    expect(a.socketId).not.toBe(b.socketId);
    a.close();
    b.close();
  });

  it("an unknown key gets pusher:error 4001 and close 4001", async () => {
    const c = await pusherConnect(uniqueUser(), "not-our-key");
    await c.waitClosed();
    expect(c.frames[0]).toMatchObject({ event: "pusher:error", data: { code: 4001 } });
    expect(c.closed?.code).toBe(4001);
  });

  it("a protocol below 7 (or none) gets pusher:error 4007 and close 4007", async () => {
    for (const query of ["protocol=6&client=js", "client=js"]) {
      const c = await pusherConnect(uniqueUser(), KEY, query);
      await c.waitClosed();
      expect(c.frames[0]).toMatchObject({ event: "pusher:error", data: { code: 4007 } });
      expect(c.closed?.code).toBe(4007);
    }
  });

  it("a bad userId is closed (4009) before any frame, and no object is involved", async () => {
    const res = await upgradeRaw(pusherPath("not a user id!"));
    expect(res.status).toBe(101);
    const c = new PusherClient(res.webSocket as WebSocket);
    expect((await c.waitClosed()).code).toBe(4009);
    expect(c.raw).toEqual([]);
  });

  it("refuses a plain GET (426) and an Origin not allowed (403)", async () => {
    const plain = await app.fetch(new Request(`https://switchboard.test${pusherPath("u1")}`), env);
    expect(plain.status).toBe(426);
    const cross = await upgradeRaw(pusherPath("u1"), { Origin: "https://evil.example" });
    expect(cross.status).toBe(403);
    expect(((await cross.json()) as { error: { field: string } }).error.field).toBe("Origin");
  });

  it("every Pusher route answers 404 when PUSHER_* are unset, and 500 naming the knob when half set", async () => {
    // Own properties shadow env's (defined, not assigned: an assignment would reach env's own setter).
    const without = (...names: string[]) => Object.create(env, Object.fromEntries(names.map((n) => [n, { value: undefined }]))) as object;
    const unset = without("PUSHER_APP_ID", "PUSHER_KEY", "PUSHER_SECRET");
    for (const [method, path] of [
      ["GET", pusherPath("u1")],
      ["POST", "/apps/test-app/events"],
      ["POST", "/apps/test-app/batch_events"],
      ["POST", "/apps/test-app/users/u1/terminate_connections"],
    ] as const) {
      const res = await app.fetch(new Request(`https://switchboard.test${path}`, { method, headers: { Upgrade: "websocket" } }), unset);
      expect(res.status, path).toBe(404);
    }
    const half = without("PUSHER_SECRET");
    const res = await app.fetch(new Request(`https://switchboard.test/apps/test-app/events`, { method: "POST" }), half);
    expect(res.status).toBe(500);
    expect(await res.text()).toContain("PUSHER_SECRET");
  });
});

describe("pusher: signin", () => {
  it("a valid signin gets signin_success with the user_data; #server-to-user-{id} then subscribes; a native push arrives", async () => {
    const user = uniqueUser();
    const c = await pusherConnect(user);
    const ok = await c.signin(user, { name: "Ada" });
    expect(JSON.parse((ok.data as { user_data: string }).user_data)).toEqual({ id: user, name: "Ada" });
    await c.signinAndSubscribe(user);
    const answer = await push(user, { data: { hello: 1 }, ttl: 0 });
    expect(answer).toMatchObject({ delivered: 1, sessions: 1 });
    const got = await c.next("switchboard:message", `#server-to-user-${user}`);
    expect(got.data).toMatchObject({ id: answer.id, seq: null, data: { hello: 1 } });
    c.close();
  });

  it("a bad signature, or a valid one for another user, gets pusher:error 4009 and close 4009", async () => {
    const user = uniqueUser();
    const bad = await pusherConnect(user);
    bad.send({ event: "pusher:signin", data: { auth: `${KEY}:${"0".repeat(64)}`, user_data: JSON.stringify({ id: user }) } });
    expect((await bad.waitClosed()).code).toBe(4009);
    expect(bad.all("pusher:error")[0]?.data).toMatchObject({ code: 4009 });

    const other = await pusherConnect(user);
    const userData = JSON.stringify({ id: uniqueUser() });
    other.send({ event: "pusher:signin", data: { auth: await userAuth(KEY, SECRET, other.socketId, userData), user_data: userData } });
    expect((await other.waitClosed()).code).toBe(4009);
    expect(other.all("pusher:signin_success")).toHaveLength(0);
  });
});

describe("pusher: subscriptions", () => {
  it("private per-user channels subscribe with channel auth; refusals answer subscription_error and keep the socket open", async () => {
    const user = uniqueUser();
    const c = await pusherConnect(user);
    expect(await c.subscribePrivate(`private-user-${user}`)).toMatchObject({ event: "pusher_internal:subscription_succeeded" });
    expect(await c.subscribePrivate(`private-App.Models.User.${user}`)).toMatchObject({ event: "pusher_internal:subscription_succeeded" });
    const refusals: Array<[string, string | undefined, number]> = [
      [`private-user-${user}`.replace("private-user-", "private-App.Models.User."), `${KEY}:${"ab".repeat(32)}`, 401],
      [`private-user-${uniqueUser()}`, undefined, 403],
      ["public-news", undefined, 403],
      [`presence-user-${user}`, undefined, 403],
      [`private-team-${user}`, undefined, 403],
    ];
    for (const [channel, auth, status] of refusals) {
      const answer = await c.subscribePrivate(channel, auth);
      expect(answer, channel).toMatchObject({ event: "pusher:subscription_error", channel, data: { type: "AuthError", status } });
    }
    // #server-to-user before a signin is refused too.
    const s2u = c.next("pusher:subscription_error", `#server-to-user-${user}`);
    c.send({ event: "pusher:subscribe", data: { channel: `#server-to-user-${user}`, auth: "" } });
    expect((await s2u).data).toMatchObject({ status: 401 });
    expect(c.closed).toBeUndefined();
    c.close();
  });

  it("pusher:ping gets pusher:pong (exact and re-encoded forms); client events get pusher:error, socket open", async () => {
    const user = uniqueUser();
    const c = await pusherConnect(user);
    c.send(PUSHER_PING);
    await c.next("pusher:pong");
    c.send({ event: "pusher:ping", data: "{}" });
    await c.next("pusher:pong");
    await c.subscribePrivate(`private-user-${user}`);
    c.send({ event: "client-typing", channel: `private-user-${user}`, data: {} });
    expect((await c.next("pusher:error")).data).toMatchObject({ code: 4301 });
    c.send("not json");
    expect((await c.next("pusher:error")).data).toMatchObject({ code: null });
    c.send(PUSHER_PING);
    await c.next("pusher:pong");
    expect(c.closed).toBeUndefined();
    c.close();
  });

  it("pusher:unsubscribe stops that channel's events", async () => {
    const user = uniqueUser();
    const c = await pusherConnect(user);
    await c.subscribePrivate(`private-user-${user}`);
    c.send({ event: "pusher:unsubscribe", data: { channel: `private-user-${user}` } });
    await runInDurableObject(hubOf(user), async (instance) => {
      await instance.channelEvents(user, [{ event: "e", channel: `private-user-${user}`, data: "{}" }]);
    });
    c.send(PUSHER_PING);
    await c.next("pusher:pong");
    expect(c.all("e")).toHaveLength(0);
    c.close();
  });
});

describe("pusher: before authentication", () => {
  it("receives nothing and counts nowhere; counts once signed in, both dialects together", async () => {
    const user = uniqueUser();
    const pending = await pusherConnect(user);
    expect(await presence(user)).toMatchObject({ online: false, sessions: [] });
    expect(await push(user, { data: 1, ttl: 0 })).toMatchObject({ delivered: 0, sessions: 0 });
    const native = await connect(user, { device: "laptop" });
    expect((await presence(user)).sessions.map((s) => s.device)).toEqual(["laptop"]);
    await pending.signinAndSubscribe(user);
    expect((await presence(user)).sessions.map((s) => s.sessionId).sort()).toEqual([native.welcome.sessionId, pending.socketId].sort());
    expect(await push(user, { data: 2, ttl: 0 })).toMatchObject({ delivered: 2, sessions: 2 });
    const got = await pending.next("switchboard:message");
    expect(got.data).toMatchObject({ data: 2 });
    expect(pending.all("switchboard:message")).toHaveLength(1);
    pending.close();
    native.close();
  });

  it("is closed 4009 by the reaper once its auth deadline passes (and survives eviction meanwhile)", async () => {
    const user = uniqueUser();
    const c = await pusherConnect(user);
    // A client frame after open: see the runtime close bug in DEVELOPERS.md.
    c.send(PUSHER_PING);
    await c.next("pusher:pong");
    const stub = hubOf(user);
    const alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm as number).toBeLessThanOrEqual(Date.now() + 30_000);
    await evictDurableObject(stub);
    // Move the deadline into the past in the attachment (the truth after eviction).
    await runInDurableObject(stub, (_i, state) => {
      for (const ws of state.getWebSockets()) {
        ws.serializeAttachment({ ...(ws.deserializeAttachment() as Record<string, unknown>), expiresAt: Date.now() - 1 });
      }
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await c.waitClosed()).code).toBe(4009);
  });

  it("a socket authenticated by a subscription alone is not closed by the deadline", async () => {
    const user = uniqueUser();
    const c = await pusherConnect(user);
    await c.subscribePrivate(`private-App.Models.User.${user}`);
    const state = await runInDurableObject(hubOf(user), (_i, s) => s.getWebSockets()[0]?.deserializeAttachment() as Record<string, unknown>);
    expect(state).toMatchObject({ sessionId: c.socketId, pusher: { authed: true, signedIn: false, channels: [`private-App.Models.User.${user}`] } });
    expect(state.expiresAt).toBe(Number.POSITIVE_INFINITY);
    c.close();
  });
});

describe("pusher: read proofs", () => {
  it("a Pusher socket that keeps receiving is asked for a pusher:pong (pusher-js sends nothing while it receives)", async () => {
    const user = uniqueUser();
    const c = await pusherConnect(user);
    await c.signinAndSubscribe(user);
    // MAX_SESSION_BACKLOG is 1 MiB: a ping after each 256 KiB sent without a frame back.
    const big = "x".repeat(60_000);
    for (let i = 0; i < 5; i++) await push(user, { data: big, ttl: 0 });
    await c.next("pusher:ping");
    expect(c.all("switchboard:message")).toHaveLength(5);
    c.send('{"event":"pusher:pong","data":{}}');
    for (let i = 0; i < 3; i++) await push(user, { data: big, ttl: 0 });
    await c.until(() => c.all("switchboard:message").length === 8, "three more");
    expect(c.all("pusher:ping")).toHaveLength(1); // the pong reset the count: 180 KB since
    c.close();
  });
});

describe("pusher: a socket that only receives", () => {
  // HEARTBEAT_INTERVAL 90 s, STALE_AFTER 180 s (the defaults). pusher-js pings only after 90 s
  // without receiving, so a socket sent something every minute never pings on its own.
  it("is asked for a pusher:pong once silent for the cadence, and stays open past STALE_AFTER", async () => {
    const user = uniqueUser();
    await onFakeClock(async (at) => {
      const c = await pusherConnect(user);
      await c.signinAndSubscribe(user);
      // The pong must reach the object before the clock moves on (on a real network it is long there).
      const pong = async () => {
        const sent = Date.now();
        c.send('{"event":"pusher:pong","data":{}}');
        await eventually("the pong heard", async () => {
          const p = (await (await api(`/users/${user}/presence`)).json()) as { sessions: Array<{ lastSeenAt: number }> };
          return (p.sessions[0]?.lastSeenAt ?? 0) >= sent;
        });
      };
      const pushAt = async (offsetMs: number, n: number) => {
        at(offsetMs);
        await push(user, { data: { n }, ttl: 0 });
        await c.until(() => c.all("switchboard:message").length === n, `message ${n}`);
      };
      await pushAt(60_000, 1);
      expect(c.all("pusher:ping")).toHaveLength(0);
      await pushAt(100_000, 2); // silent 100 s
      await c.next("pusher:ping");
      await pong();
      await pushAt(150_000, 3); // heard 50 s ago: no second ping
      await pushAt(250_000, 4); // heard 150 s ago: under STALE_AFTER, asked again
      await c.next("pusher:ping");
      expect(c.all("pusher:ping")).toHaveLength(2);
      expect(c.closed).toBeUndefined();
      await pong();
      await pushAt(400_000, 5); // 150 s after that pong: still open
      expect(c.closed).toBeUndefined();
      c.close();
    });
  });

  it("is closed 4201 when it never answers (STALE_AFTER still applies)", async () => {
    const user = uniqueUser();
    await onFakeClock(async (at) => {
      const c = await pusherConnect(user);
      await c.signinAndSubscribe(user);
      at(100_000);
      await push(user, { data: { n: 1 }, ttl: 0 });
      await c.next("pusher:ping"); // never answered
      at(200_000);
      const answer = await push(user, { data: { n: 2 }, ttl: 0 });
      expect(answer.delivered).toBe(0);
      expect((await c.waitClosed()).code).toBe(4201);
    });
  });
});

describe("pusher: heartbeats", () => {
  it("the runtime answers pusher:ping while every socket of the user speaks Pusher; native ping once a native socket joins", async () => {
    const user = uniqueUser();
    const stub = hubOf(user);
    const pairOf = () => runInDurableObject(stub, (_i, state) => state.getWebSocketAutoResponse()?.request);
    const p = await pusherConnect(user);
    await p.signinAndSubscribe(user);
    expect(await pairOf()).toBe(PUSHER_PING);
    p.send(PUSHER_PING);
    await p.next("pusher:pong");
    // Answered by the runtime, not the handler: only auto-responses leave a timestamp.
    expect(await runInDurableObject(stub, (_i, state) => state.getWebSocketAutoResponseTimestamp(state.getWebSockets()[0] as WebSocket))).not.toBeNull();

    const native = await connect(user, { device: "laptop" });
    expect(await pairOf()).toBe("ping");
    p.send(PUSHER_PING); // now the handler answers, the same bytes
    await p.next("pusher:pong");
    native.send("ping");
    await native.until(() => native.raw.includes("pong"), "native pong");
    native.close();
    await native.waitClosed();
    await evictDurableObject(stub); // the constructor picks the pair again from the sockets left
    expect(await pairOf()).toBe(PUSHER_PING);
    p.close();
  });
});

describe("pusher: channel auth vectors", () => {
  it("matches Pusher's documented example", async () => {
    expect(await channelAuth("278d425bdf160c739803", "7ad3773142a6692b25b8", "1234.1234", "private-foobar")).toBe(
      "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4",
    );
  });
});
