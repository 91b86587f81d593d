/**
 * The Pusher HTTP API through the Worker: signed requests (as pusher-http-node
 * signs them), validation naming the field, and delivery to the right sockets
 * of the right user in both dialects.
 */
import { describe, expect, it } from "vitest";
import { md5Hex } from "../src/pusher/auth";
import { connect, hubOf, uniqueUser, worker } from "./helpers";
import { APP_ID, pusherConnect, signedApi, trigger } from "./pusherHelpers";

async function refusal(res: Response): Promise<{ status: number; code: string; field?: string }> {
  const body = (await res.json()) as { error: { code: string; field?: string } };
  return { status: res.status, code: body.error.code, ...(body.error.field ? { field: body.error.field } : {}) };
}

describe("pusher API: signatures", () => {
  it("md5 is available to the Worker (crypto.subtle.digest 'MD5')", async () => {
    expect(await md5Hex("")).toBe("d41d8cd98f00b204e9800998ecf8427e");
    // UTF-8 bytes, as the SDK's crypto.createHash("md5").update(body, "utf8") (value from Node).
    expect(await md5Hex('{"a":"é"}')).toBe("110df10b56b83299182f70164879d203");
  });

  it("accepts a correctly signed request and answers {}", async () => {
    const res = await trigger({ name: "e", data: "{}", channel: `#server-to-user-${uniqueUser()}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
  });

  it("refuses a wrong secret, key, version, body_md5, a tampered body, an old or future timestamp, and no signature: 401 naming the field", async () => {
    const body = { name: "e", data: "{}", channel: `#server-to-user-${uniqueUser()}` };
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[Parameters<typeof trigger>[1], string]> = [
      [{ secret: "wrong-secret" }, "auth_signature"],
      [{ key: "wrong-key" }, "auth_key"],
      [{ version: "2.0" }, "auth_version"],
      [{ bodyMd5: "0".repeat(32) }, "body_md5"],
      [{ tamperBody: JSON.stringify({ ...body, name: "f" }) }, "body_md5"],
      [{ timestamp: now - 1000 }, "auth_timestamp"],
      [{ timestamp: now + 1000 }, "auth_timestamp"],
    ];
    for (const [o, field] of cases) {
      const res = await trigger(body, o);
      expect(res.status, JSON.stringify(o)).toBe(401);
      expect(await refusal(res), JSON.stringify(o)).toEqual({ status: 401, code: "unauthorized", field });
    }
    expect((await trigger(body, { timestamp: now - 300 })).status).toBe(200);
    const unsigned = await worker(`/apps/${APP_ID}/events`, { method: "POST", body: JSON.stringify(body) });
    expect(unsigned.status).toBe(401);
  });

  it("a wrong app id is 404, and so is an unknown path", async () => {
    const res = await signedApi("POST", "/apps/other-app/events", { name: "e", data: "{}", channel: "#server-to-user-u1" });
    expect(await refusal(res)).toEqual({ status: 404, code: "not_found", field: "app_id" });
    expect((await signedApi("POST", `/apps/${APP_ID}/channels`, {})).status).toBe(404);
  });
});

describe("pusher API: validation names the field", () => {
  it("refuses non-user channels, too many channels, both or neither of channel/channels, bad socket_id, reserved names", async () => {
    const u = uniqueUser();
    const many = Array.from({ length: 101 }, (_, i) => `#server-to-user-${u}-${i}`);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: "e", data: "{}", channels: [`#server-to-user-${u}`, "news"] }, "channels[1]"],
      [{ name: "e", data: "{}", channel: "presence-room" }, "channel"],
      [{ name: "e", data: "{}", channel: `private-team-${u}` }, "channel"],
      [{ name: "e", data: "{}", channels: many }, "channels"],
      [{ name: "e", data: "{}", channels: [] }, "channels"],
      [{ name: "e", data: "{}" }, "channels"],
      [{ name: "e", data: "{}", channel: `#server-to-user-${u}`, channels: [`#server-to-user-${u}`] }, "channels"],
      [{ name: "e", data: "{}", channel: `#server-to-user-${u}`, socket_id: "abc" }, "socket_id"],
      [{ name: "pusher:x", data: "{}", channel: `#server-to-user-${u}` }, "name"],
      [{ data: "{}", channel: `#server-to-user-${u}` }, "name"],
      [{ name: "e", channel: `#server-to-user-${u}` }, "data"],
    ];
    for (const [body, field] of cases) {
      expect(await refusal(await trigger(body)), JSON.stringify(body).slice(0, 80)).toEqual({ status: 400, code: "bad_request", field });
    }
    const bad = await signedApi("POST", `/apps/${APP_ID}/events`, undefined, { tamperBody: "{not json" });
    expect(bad.status).toBe(401); // body_md5 is checked before the JSON is read
  });

  it("batch_events: at most 10, each item's channel checked", async () => {
    const u = uniqueUser();
    const item = { name: "e", data: "{}", channel: `#server-to-user-${u}` };
    const path = `/apps/${APP_ID}/batch_events`;
    expect(await refusal(await signedApi("POST", path, { batch: Array.from({ length: 11 }, () => item) }))).toMatchObject({ status: 400, field: "batch" });
    expect(await refusal(await signedApi("POST", path, { batch: [item, { ...item, channel: "news" }] }))).toMatchObject({
      status: 400,
      field: "batch[1].channel",
    });
    expect(await refusal(await signedApi("POST", path, { batch: [{ ...item, name: "" }] }))).toMatchObject({ status: 400, field: "batch[0].name" });
    const ok = await signedApi("POST", path, { batch: [item, item] });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({});
  });
});

describe("pusher API: delivery", () => {
  it("events reach the channel's sockets of that user only, except socket_id; native sessions get a live-only message", async () => {
    const user = uniqueUser();
    const bystander = uniqueUser();
    const tab1 = await pusherConnect(user);
    const tab2 = await pusherConnect(user);
    const laravel = await pusherConnect(user);
    const other = await pusherConnect(bystander);
    const native = await connect(user, { device: "phone" });
    await tab1.signinAndSubscribe(user);
    await tab2.signinAndSubscribe(user);
    await laravel.subscribePrivate(`private-App.Models.User.${user}`);
    await other.signinAndSubscribe(bystander);

    const s2u = `#server-to-user-${user}`;
    expect((await trigger({ name: "greet", data: JSON.stringify({ n: 1 }), channels: [s2u, `#server-to-user-${bystander}`] })).status).toBe(200);
    expect((await tab1.next("greet", s2u)).data).toEqual({ n: 1 });
    expect((await tab2.next("greet", s2u)).data).toEqual({ n: 1 });
    expect((await other.next("greet", `#server-to-user-${bystander}`)).data).toEqual({ n: 1 });
    const [m1] = await native.nextMessages(1);
    expect(m1).toMatchObject({ type: "message", seq: null, data: { event: "greet", channel: s2u, data: JSON.stringify({ n: 1 }) } });

    // Exclude the sender.
    expect((await trigger({ name: "greet", data: "2", channel: s2u, socket_id: tab1.socketId })).status).toBe(200);
    expect((await tab2.next("greet", s2u)).data).toBe(2);
    // The Laravel channel, through batch_events.
    const priv = `private-App.Models.User.${user}`;
    const batch = await signedApi("POST", `/apps/${APP_ID}/batch_events`, { batch: [{ name: "notify", data: '{"x":1}', channel: priv }] });
    expect(batch.status).toBe(200);
    expect((await laravel.next("notify", priv)).data).toEqual({ x: 1 });
    await native.nextMessages(3);

    // Nothing else arrived anywhere: tab1 got one greet, laravel no greet, the bystander one.
    for (const c of [tab1, tab2, laravel, other]) c.send('{"event":"pusher:ping","data":{}}');
    await Promise.all([tab1, tab2, laravel, other].map((c) => c.next("pusher:pong")));
    expect(tab1.all("greet")).toHaveLength(1);
    expect(tab2.all("greet")).toHaveLength(2);
    expect(laravel.all("greet")).toHaveLength(0);
    expect(other.all("greet")).toHaveLength(1);
    expect(other.all("notify")).toHaveLength(0);
    for (const c of [tab1, tab2, laravel, other]) c.close();
    native.close();
  });

  it("terminate_connections closes every session of the user: Pusher 4009, native 4001; the bystander stays", async () => {
    const user = uniqueUser();
    const bystander = uniqueUser();
    const p = await pusherConnect(user);
    await p.signinAndSubscribe(user);
    // Not yet proven to be the user's: not one of their sessions (its deadline closes it).
    const pending = await pusherConnect(user);
    pending.send('{"event":"pusher:ping","data":{}}');
    await pending.next("pusher:pong");
    const native = await connect(user, { device: "phone" });
    native.send("ping");
    const other = await pusherConnect(bystander);
    await other.signinAndSubscribe(bystander);
    const res = await signedApi("POST", `/apps/${APP_ID}/users/${user}/terminate_connections`, {});
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    expect((await p.waitClosed()).code).toBe(4009);
    expect(pending.closed).toBeUndefined();
    pending.close();
    expect((await native.waitClosed()).code).toBe(4001);
    expect(other.closed).toBeUndefined();
    expect((await signedApi("POST", `/apps/${APP_ID}/users/bad%20id/terminate_connections`, {})).status).toBe(400);
    other.close();
  });

  it("a hub RPC for an event on a channel nobody holds delivers nothing and costs no storage", async () => {
    const user = uniqueUser();
    const r = await hubOf(user).channelEvents(user, [{ event: "e", channel: `#server-to-user-${user}`, data: "{}" }]);
    expect(r).toEqual({ delivered: 0 });
  });
});
