import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, connect, eventually, hubOf, push, tokenFor, uniqueUser } from "./helpers";
import { frame, openStomp, stompSession } from "./stompHelpers";

const subscribe = (id: string, destination: string, extra: Record<string, string> = {}) => frame("SUBSCRIBE", { id, destination, ...extra });

describe("STOMP: connect", () => {
  it("CONNECT with Authorization: Bearer gets CONNECTED with version, heart-beat, user-name, session, server", async () => {
    const user = uniqueUser();
    const c = await stompSession(user, {}, { protocols: "v10.stomp, v12.stomp, v11.stomp" });
    expect(c.response.headers.get("Sec-WebSocket-Protocol")).toBe("v12.stomp");
    const [connected] = c.of("CONNECTED");
    expect(connected?.headers).toMatchObject({ version: "1.2", "user-name": user, server: "switchboard/1" });
    expect(connected?.headers.session).toMatch(/^[0-9a-f-]{36}$/);
    // The deployment's cadence (HEARTBEAT_INTERVAL, test/cadence.test.ts), never stompjs's 10 s default.
    expect(Number(connected?.headers["heart-beat"]?.split(",")[0])).toBeGreaterThan(10_000);
    const presence = await (await api(`/users/${user}/presence`)).json<{ sessions: unknown[] }>();
    expect(presence.sessions).toHaveLength(1);
    c.close();
  });

  it("the token may be the passcode header or ?token=, the device a header or ?device=", async () => {
    const user = uniqueUser();
    const a = await stompSession(user, { Authorization: "", passcode: await tokenFor(user), device: "phone" });
    const b = await openStomp({ query: { token: await tokenFor(user), device: "laptop" } });
    b.send(frame("STOMP", { "accept-version": "1.1" }));
    expect((await b.next("CONNECTED"))[0]?.headers.version).toBe("1.1");
    const presence = await (await api(`/users/${user}/presence`)).json<{ sessions: { device: string }[] }>();
    expect(presence.sessions.map((s) => s.device).sort()).toEqual(["laptop", "phone"]);
    a.close();
    b.close();
  });

  it("a bad token gets ERROR with a message, then close 1008, and never counts", async () => {
    const user = uniqueUser();
    const c = await openStomp();
    c.send(frame("CONNECT", { "accept-version": "1.2", Authorization: `Bearer ${await tokenFor(user, { secret: "wrong-secret-0123456789abcdef0123" })}` }));
    const [error] = await c.next("ERROR");
    expect(error?.headers.message).toMatch(/^unauthorized/);
    expect((await c.waitClosed()).code).toBe(1008);
    const viaQuery = await openStomp({ query: { token: "not-a-jwt" } });
    viaQuery.send(frame("CONNECT", { "accept-version": "1.2" }));
    await viaQuery.next("ERROR");
    expect((await viaQuery.waitClosed()).code).toBe(1008);
    const presence = await (await api(`/users/${user}/presence`)).json<{ online: boolean }>();
    expect(presence.online).toBe(false);
  });

  it("refuses offered subprotocols without a STOMP version (400), a foreign Origin (403), and no common version (ERROR)", async () => {
    const bad = await (await import("./helpers")).worker("/v1/stomp", { headers: { Upgrade: "websocket", "Sec-WebSocket-Protocol": "mqtt" } });
    expect(bad.status).toBe(400);
    const foreign = await (await import("./helpers")).worker("/v1/stomp", { headers: { Upgrade: "websocket", Origin: "https://evil.example" } });
    expect(foreign.status).toBe(403);
    const c = await openStomp({ query: { token: await tokenFor(uniqueUser()) } });
    c.send(frame("CONNECT", { "accept-version": "2.0" }));
    const [error] = await c.next("ERROR");
    expect(error?.headers.version).toBe("1.2,1.1,1.0");
    await c.waitClosed();
  });
});

describe("STOMP: messages", () => {
  it("a push with an event reaches /user/queue/{event}; none reaches /user/queue/messages; headers as listed", async () => {
    const user = uniqueUser();
    const c = await stompSession(user);
    c.send(subscribe("s1", "/user/queue/notify"));
    c.send(subscribe("s2", "/user/queue/messages", { receipt: "r2" }));
    await c.next("RECEIPT");
    const stored = await push(user, { data: { text: "héllo ✓" }, event: "notify", id: "m-1" });
    await push(user, { data: [1, 2], ttl: 0 });
    await push(user, { data: "other", event: "elsewhere" });
    const [first, second] = await c.next("MESSAGE", 2);
    expect(first?.headers).toEqual({
      destination: "/user/queue/notify",
      subscription: "s1",
      "message-id": "m-1",
      "content-type": "application/json",
      seq: String(stored.seq),
      "content-length": String(new TextEncoder().encode(JSON.stringify({ text: "héllo ✓" })).byteLength),
    });
    expect(JSON.parse(first?.body ?? "")).toEqual({ text: "héllo ✓" });
    expect(second?.headers).toMatchObject({ destination: "/user/queue/messages", subscription: "s2" });
    expect(second?.headers.seq).toBeUndefined();
    expect(c.of("MESSAGE")).toHaveLength(2);
    c.close();
  });

  it("except-device skips a STOMP session of that device, across dialects", async () => {
    const user = uniqueUser();
    const stomp = await stompSession(user, { device: "phone" });
    stomp.send(subscribe("s", "/user/queue/messages", { receipt: "r" }));
    await stomp.next("RECEIPT");
    const native = await connect(user, { device: "laptop" });
    expect(await push(user, { data: "not-phone", exceptDevice: "phone", ttl: 0 })).toMatchObject({ delivered: 1, sessions: 2 });
    expect(await push(user, { data: "not-laptop", exceptDevice: "laptop", ttl: 0, event: "messages" })).toMatchObject({ delivered: 1 });
    expect((await native.nextMessages(1)).map((m) => m.data)).toEqual(["not-phone"]);
    await stomp.next("MESSAGE");
    expect(stomp.bodies()).toEqual(["not-laptop"]);
    native.close();
    stomp.close();
  });

  it("client acks move the cursor; a reconnect after SUBSCRIBE gets what is after it, in seq order, then live ones", async () => {
    const user = uniqueUser();
    const a = await stompSession(user, { device: "phone" });
    a.send(subscribe("s", "/user/queue/messages", { ack: "client", receipt: "r" }));
    await a.next("RECEIPT");
    for (const n of [1, 2, 3]) await push(user, { data: n });
    const msgs = await a.next("MESSAGE", 3);
    expect(msgs.map((m) => m.headers.ack)).toEqual(msgs.map((m) => m.headers.seq));
    a.send(frame("ACK", { id: msgs[1]?.headers.ack ?? "" }, ""));
    a.send(frame("NACK", { id: msgs[2]?.headers.ack ?? "", receipt: "after-nack" }));
    await a.until(() => a.of("RECEIPT").length >= 2, "nack receipt");
    a.close();
    await a.waitClosed();
    await push(user, { data: 4 });

    const b = await stompSession(user, { device: "phone" });
    b.send(subscribe("s", "/user/queue/messages", { ack: "client" }));
    await b.next("MESSAGE", 2);
    await push(user, { data: 5 });
    await b.next("MESSAGE", 3);
    expect(b.bodies()).toEqual([3, 4, 5]);
    b.close();
  });

  it("ack:auto counts as delivered when sent: a reconnect gets only what it never got", async () => {
    const user = uniqueUser();
    const a = await stompSession(user, { device: "d" });
    a.send(subscribe("s", "/user/queue/messages", { receipt: "r" }));
    await a.next("RECEIPT");
    await push(user, { data: 1 });
    await a.next("MESSAGE");
    a.close();
    await a.waitClosed();
    await push(user, { data: 2 });
    const b = await stompSession(user, { device: "d" });
    b.send(subscribe("s", "/user/queue/messages"));
    await b.next("MESSAGE");
    expect(b.bodies()).toEqual([2]);
    b.close();
  });
});

describe("STOMP: refusals, kick, receipts", () => {
  it("SUBSCRIBE to anything but /user/queue/{name} gets ERROR naming it, then close", async () => {
    for (const destination of ["/topic/news", `/user/someone-else/queue/x`, "/user/queue/a/b"]) {
      const c = await stompSession(uniqueUser());
      c.send(subscribe("s", destination));
      const [error] = await c.next("ERROR");
      expect(error?.headers.message).toContain(destination);
      await c.waitClosed();
    }
  });

  it("a destination whose UTF-8 overflows a close frame's reason still gets ERROR, then close 1002", async () => {
    // 100 "é" (200 bytes): the message names it, and the close reason must be cut to fit 123 bytes.
    const c = await stompSession(uniqueUser());
    c.send(subscribe("s", `/topic/${"é".repeat(100)}`));
    await c.next("ERROR");
    expect((await c.waitClosed()).code).toBe(1002);
  });

  it("32 subscriptions per connection; the 33rd is ERROR naming the limit, then close 1002", async () => {
    const c = await stompSession(uniqueUser());
    c.send(Array.from({ length: 32 }, (_, i) => subscribe(`s${i}`, `/user/queue/q${i}`)).join("") + subscribe("last", "/user/queue/ok", { receipt: "r" }));
    const [error] = await c.next("ERROR");
    expect(error?.headers.message).toBe("at most 32 subscriptions per connection");
    expect(c.of("RECEIPT")).toEqual([]);
    expect((await c.waitClosed()).code).toBe(1002);
  });

  it("a kick sends ERROR and closes 4001; DISCONNECT with a receipt gets its RECEIPT, then close", async () => {
    const user = uniqueUser();
    const kicked = await stompSession(user, { device: "k" });
    const leaving = await stompSession(user, { device: "l" });
    await evictDurableObject(hubOf(user));
    expect(await (await api(`/users/${user}/sessions?device=k`, { method: "DELETE" })).json()).toEqual({ closed: 1 });
    await kicked.next("ERROR");
    expect((await kicked.waitClosed()).code).toBe(4001);
    leaving.send(frame("DISCONNECT", { receipt: "close-1" }));
    expect((await leaving.next("RECEIPT"))[0]?.headers["receipt-id"]).toBe("close-1");
    await leaving.waitClosed();
  });

  it("SEND, a frame over the limit, an undefined escape and a frame before CONNECT each get ERROR + close, never a stack trace", async () => {
    const user = uniqueUser();
    const cases: [string | ArrayBuffer, number][] = [
      [frame("SEND", { destination: "/queue/x" }, "hi"), 1002],
      [frame("SUBSCRIBE", { id: "a\\tb", destination: "/user/queue/x" }), 1002],
      [frame("ACK", { id: "x".repeat(5000) }), 1009],
    ];
    for (const [bad, code] of cases) {
      const c = await stompSession(user);
      c.send(bad);
      const [error] = await c.next("ERROR");
      expect(error?.headers.message).not.toMatch(/\bat \w|Error:/);
      expect((await c.waitClosed()).code).toBe(code);
    }
    const early = await openStomp({ query: { token: await tokenFor(user) } });
    early.send(frame("SUBSCRIBE", { id: "s", destination: "/user/queue/x" }));
    await early.next("ERROR");
    await early.waitClosed();
  });
});

describe("STOMP: framing", () => {
  it("binary frames, several frames and EOL beats in one message, and a frame split across messages all parse", async () => {
    const user = uniqueUser();
    const c = await openStomp({ query: { token: await tokenFor(user) } });
    const connect = frame("CONNECT", { "accept-version": "1.2", "heart-beat": "0,0" });
    c.send(new TextEncoder().encode(connect).buffer as ArrayBuffer);
    await c.next("CONNECTED");
    const both = `\n${subscribe("a", "/user/queue/x")}\r\n\n${subscribe("b", "/user/queue/y", { receipt: "r-b" })}\n`;
    c.send(both.slice(0, 30));
    c.send(both.slice(30));
    await c.next("RECEIPT");
    await push(user, { data: "x", event: "x", ttl: 0 });
    await push(user, { data: "y", event: "y", ttl: 0 });
    await c.next("MESSAGE", 2);
    expect(c.of("MESSAGE").map((m) => m.headers.subscription)).toEqual(["a", "b"]);
    c.close();
  });

  it("a binary CONNECT through the relay (token in the frame) is read like a text one", async () => {
    const user = uniqueUser();
    const c = await openStomp();
    const connect = frame("CONNECT", { "accept-version": "1.2", Authorization: `Bearer ${await tokenFor(user)}` });
    c.send(new TextEncoder().encode(connect).buffer as ArrayBuffer);
    c.send(new TextEncoder().encode(subscribe("s", "/user/queue/messages", { receipt: "r" })).buffer as ArrayBuffer);
    await c.next("RECEIPT");
    expect(c.of("CONNECTED")[0]?.headers["user-name"]).toBe(user);
    c.close();
  });

  it("a session survives eviction: subscriptions and acks still work", async () => {
    const user = uniqueUser();
    const c = await stompSession(user, { device: "e" });
    c.send(subscribe("s", "/user/queue/messages", { ack: "client-individual", receipt: "r" }));
    await c.next("RECEIPT");
    await evictDurableObject(hubOf(user));
    await push(user, { data: "after" });
    const [m] = await c.next("MESSAGE");
    expect(m?.headers.ack).toBe(m?.headers.seq);
    await evictDurableObject(hubOf(user));
    c.send(frame("ACK", { id: m?.headers.ack ?? "", receipt: "acked" }));
    await c.until(() => c.of("RECEIPT").length >= 2, "ack receipt");
    const page = await (await api(`/users/${user}/presence`)).json<{ sessions: unknown[] }>();
    expect(page.sessions).toHaveLength(1);
    c.close();
  });
});

describe("STOMP: heart-beats", () => {
  const autoResponse = (user: string) => runInDurableObject(hubOf(user), (_instance, state) => state.getWebSocketAutoResponse()?.request);

  it("with only STOMP sockets the runtime echoes a bare EOL; with a native one too, native pings keep the pair and an EOL is answered awake", async () => {
    const user = uniqueUser();
    const c = await stompSession(user);
    expect(await autoResponse(user)).toBe("\n");
    const native = await connect(user);
    expect(await autoResponse(user)).toBe("ping");
    const before = c.raw.length;
    c.send("\n");
    await c.until(() => c.raw.length > before, "echo");
    expect(c.raw.at(-1)).toBe("\n");
    native.close();
    await native.waitClosed();
    // The pair returns to STOMP's once the native socket's close reaches the object.
    await eventually("STOMP's heart-beat pair back", async () => (await autoResponse(user)) === "\n");
    c.close();
  });

  it("a socket that has not sent CONNECT counts nowhere", async () => {
    const user = uniqueUser();
    const waiting = await openStomp({ query: { token: await tokenFor(user) } });
    waiting.send("\n");
    await waiting.until(() => waiting.raw.length > 0, "echo");
    const presence = await (await api(`/users/${user}/presence`)).json<{ online: boolean }>();
    expect(presence.online).toBe(false);
    expect(await push(user, { data: 1, ttl: 0 })).toMatchObject({ delivered: 0, sessions: 0 });
    waiting.close();
  });
});
