/**
 * The Pusher dialect from outside: the real pusher-js (Node build), the real
 * `pusher` server SDK and Laravel Echo, over real sockets, against
 * standalone workerd (scripts/lib/service.ts). Each test uses its own users.
 */
import Echo from "laravel-echo";
import WebSocket from "ws";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Service, startService } from "../../scripts/lib/service.ts";
import {
  client,
  connected,
  errorsOf,
  nativePush,
  nativeToken,
  presence,
  PUSHER_KNOBS,
  server,
  signedIn,
  uniqueUser,
  type PusherClient,
} from "./pusherHarness.ts";
import { eventually } from "../../scripts/lib/time.ts";

let service: Service;
const open: PusherClient[] = [];
const track = (p: PusherClient): PusherClient => (open.push(p), p);

beforeAll(async () => {
  service = await startService({ kind: "workerd", knobs: PUSHER_KNOBS });
});
afterEach(() => {
  for (const p of open.splice(0)) p.disconnect();
});
afterAll(async () => {
  await service?.stop();
});

/** Collect what pusher-js hands the app for `event` on the user channel. */
function onUser(p: PusherClient, event: string): unknown[] {
  const got: unknown[] = [];
  p.user.bind(event, (data: unknown) => got.push(data));
  return got;
}

describe("pusher-js + pusher SDK: per-user push", () => {
  it("signin + sendToUser reaches both tabs of the user, not a bystander", async () => {
    const user = uniqueUser();
    const tab1 = track(client(service, user));
    const tab2 = track(client(service, user));
    const bystander = track(client(service, uniqueUser("by")));
    await Promise.all([signedIn(tab1), signedIn(tab2), signedIn(bystander)]);
    expect(tab1.user.user_data).toEqual({ id: user });
    const got1 = onUser(tab1, "order-shipped");
    const got2 = onUser(tab2, "order-shipped");
    const gotB = onUser(bystander, "order-shipped");
    await server(service).sendToUser(user, "order-shipped", { order: 42 });
    await eventually("both tabs", () => got1.length === 1 && got2.length === 1);
    expect(got1).toEqual([{ order: 42 }]);
    expect(got2).toEqual([{ order: 42 }]);
    // A later push to the bystander arrives alone: the first one never went there.
    await server(service).sendToUser(bystander.user.user_data.id as string, "order-shipped", { order: 7 });
    await eventually("bystander", () => gotB.length === 1);
    expect(gotB).toEqual([{ order: 7 }]);
    expect((await presence(service, user)).sessions).toHaveLength(2);
  });

  it("trigger with socket_id excludes that socket", async () => {
    // The SDK's trigger() refuses '#' channel names (only sendToUser may use them), so this is on the private channel.
    const user = uniqueUser();
    const sender = track(client(service, user));
    const other = track(client(service, user));
    await Promise.all([connected(sender), connected(other)]);
    const channel = `private-user-${user}`;
    const [cs, co] = [sender.subscribe(channel), other.subscribe(channel)];
    await eventually("both subscribed", () => cs.subscribed && co.subscribed);
    const gotS: unknown[] = [];
    const gotO: unknown[] = [];
    cs.bind("edit", (d: unknown) => gotS.push(d));
    co.bind("edit", (d: unknown) => gotO.push(d));
    const sdk = server(service);
    await sdk.trigger(channel, "edit", { v: 1 }, { socket_id: sender.connection.socket_id });
    await sdk.trigger(channel, "edit", { v: 2 });
    await eventually("both edits at the other tab", () => gotO.length === 2);
    await eventually("the second edit at the sender", () => gotS.length === 1);
    expect(gotS).toEqual([{ v: 2 }]);
  });

  it("private per-user channel: channel auth from the SDK, events through trigger and triggerBatch", async () => {
    const user = uniqueUser();
    const p = track(client(service, user));
    await connected(p);
    const channel = p.subscribe(`private-user-${user}`);
    await eventually("subscribed", () => channel.subscribed);
    const got: unknown[] = [];
    channel.bind("invoice", (d: unknown) => got.push(d));
    const sdk = server(service);
    await sdk.trigger(`private-user-${user}`, "invoice", { n: 1 });
    await sdk.triggerBatch([{ channel: `private-user-${user}`, name: "invoice", data: { n: 2 } }]);
    await eventually("two invoices", () => got.length === 2);
    expect(got).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it("Laravel Echo: .private('App.Models.User.' + id).notification(cb) gets a BroadcastNotificationCreated", async () => {
    const user = uniqueUser();
    const p = track(client(service, user));
    const echo = new Echo({ broadcaster: "pusher", key: "unused", client: p });
    const got: unknown[] = [];
    echo.private(`App.Models.User.${user}`).notification((n: unknown) => got.push(n));
    await eventually("subscribed", () => p.channel(`private-App.Models.User.${user}`)?.subscribed === true);
    const notification = { id: "9f1c", type: "App\\Notifications\\InvoicePaid", amount: 12 };
    await server(service).trigger(`private-App.Models.User.${user}`, "Illuminate\\Notifications\\Events\\BroadcastNotificationCreated", notification);
    await eventually("notification", () => got.length === 1);
    expect(got).toEqual([notification]);
    echo.disconnect();
  });
});

describe("pusher-js: refusals", () => {
  it("an unknown key: pusher:error 4001, the connection is refused and not retried", async () => {
    const p = track(client(service, uniqueUser(), { key: "not-our-key" }));
    const errors = errorsOf(p);
    const states: string[] = [];
    p.connection.bind("state_change", ({ current }: { current: string }) => states.push(current));
    await eventually("error 4001", () => errors.some((e) => e.data?.code === 4001 || e.error?.data?.code === 4001));
    await eventually("disconnected", () => p.connection.state === "disconnected");
    // pusher-js retries a close it may retry by arming retryTimer (4100-4199 after 1 s, 4200-4299
    // at once) and going through "connecting" again; a refusal (4000-4099) disconnects for good.
    expect(p.connection.retryTimer ?? null).toBeNull();
    expect(states).not.toContain("connecting");
    expect(states.at(-1)).toBe("disconnected");
  });

  it("a bad signin (bad signature, or another user's id) gets 4009 and pusher-js stays disconnected", async () => {
    for (const o of [{ badUserAuth: "node-test-key:" + "0".repeat(64) }, { signinAs: uniqueUser("someone-else") }]) {
      const user = uniqueUser();
      const p = track(client(service, user, o));
      const errors = errorsOf(p);
      await connected(p);
      p.signin();
      await eventually("error 4009", () => errors.some((e) => e.data?.code === 4009 || e.error?.data?.code === 4009));
      await eventually("disconnected", () => p.connection.state === "disconnected");
      expect((await presence(service, user)).sessions).toHaveLength(0);
    }
  });

  it("another user's private channel (403), a public and a presence channel: subscription_error, connection stays up", async () => {
    const user = uniqueUser();
    const p = track(client(service, user));
    await signedIn(p);
    const statuses: Record<string, number> = {};
    for (const name of [`private-user-${uniqueUser("x")}`, "news", `presence-user-${user}`]) {
      p.subscribe(name).bind("pusher:subscription_error", (e: { status: number }) => (statuses[name] = e.status));
    }
    await eventually("three refusals", () => Object.keys(statuses).length === 3);
    expect(Object.values(statuses)).toEqual([403, 403, 403]);
    expect(p.connection.state).toBe("connected");
    const got = onUser(p, "still-here");
    await server(service).sendToUser(user, "still-here", {});
    await eventually("push after refusals", () => got.length === 1);
  });

  it("a signed request with the wrong secret is refused (401)", async () => {
    const err = await server(service, "wrong-secret")
      .trigger(`private-user-${uniqueUser()}`, "e", {})
      .catch((e: { status?: number }) => e);
    expect(err.status).toBe(401);
    const bad = await server(service)
      .trigger("news", "e", {})
      .catch((e: { status?: number; body?: string }) => e);
    expect((bad as { status?: number }).status).toBe(400);
    expect((bad as { body?: string }).body).toContain('"field":"channels[0]"');
  });

  it("a socket that neither signs in nor subscribes is closed 4009 after 30 s, counted nowhere meanwhile", async () => {
    const user = uniqueUser();
    const p = track(client(service, user));
    const errors = errorsOf(p);
    await connected(p);
    expect(await presence(service, user)).toMatchObject({ online: false, sessions: [] });
    await eventually("closed by the auth deadline", () => p.connection.state === "disconnected", 45_000);
    expect(errors.some((e) => e.error?.data?.code === 4009 || e.data?.code === 4009 || JSON.stringify(e).includes("4009"))).toBe(true);
  }, 60_000);
});

describe("terminate and cross-dialect", () => {
  it("terminateUserConnections closes every Pusher socket of the user with 4009 (no reconnect) and native ones with 4001", async () => {
    const user = uniqueUser();
    const a = track(client(service, user));
    const b = track(client(service, user));
    const bystander = track(client(service, uniqueUser("by")));
    await Promise.all([signedIn(a), signedIn(b), signedIn(bystander)]);
    const native = new WebSocket(`${service.wsBase}/v1/connect`, { headers: { Authorization: `Bearer ${await nativeToken(user)}` } });
    let nativeClose: number | undefined;
    native.on("close", (code) => (nativeClose = code));
    await new Promise((r) => native.once("message", r));
    native.send("ping");
    await server(service).terminateUserConnections(user);
    await eventually("both tabs disconnected", () => a.connection.state === "disconnected" && b.connection.state === "disconnected");
    await eventually("native closed", () => nativeClose);
    expect(nativeClose).toBe(4001);
    expect(bystander.connection.state).toBe("connected");
    expect((await presence(service, user)).sessions).toHaveLength(0);
  });

  it("a native push reaches signed-in Pusher sockets as switchboard:message; a Pusher event reaches native sessions", async () => {
    const user = uniqueUser();
    const p = track(client(service, user));
    await signedIn(p);
    const native = new WebSocket(`${service.wsBase}/v1/connect`, { headers: { Authorization: `Bearer ${await nativeToken(user)}` } });
    const frames: Array<{ type: string; data?: unknown; seq?: unknown }> = [];
    native.on("message", (m) => {
      const text = m.toString();
      if (text !== "pong") frames.push(JSON.parse(text) as { type: string });
    });
    await eventually("welcome", () => frames.length > 0);
    const viaPusher = onUser(p, "switchboard:message");
    const res = await nativePush(service, user, { hello: "from native" });
    const pushed = (await res.json()) as { id: string; delivered: number };
    expect(pushed.delivered).toBe(2);
    await eventually("native push at pusher-js", () => viaPusher.length === 1);
    expect(viaPusher[0]).toMatchObject({ id: pushed.id, seq: null, data: { hello: "from native" } });

    await server(service).sendToUser(user, "from-pusher", { n: 1 });
    await eventually("pusher event at native", () => frames.filter((f) => f.type === "message").length === 2);
    expect(frames.filter((f) => f.type === "message")[1]).toMatchObject({
      seq: null,
      data: { event: "from-pusher", channel: `#server-to-user-${user}`, data: JSON.stringify({ n: 1 }) },
    });
    native.close();
  });
});
