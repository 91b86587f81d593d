/** A push's optional `event` names what the message is, in every dialect. */
import { describe, expect, it } from "vitest";
import { api, connect, push, uniqueUser, untilCounted } from "./helpers";
import { pusherConnect } from "./pusherHelpers";
import { frame, stompSession } from "./stompHelpers";

describe("push event", () => {
  it("native frames carry it, Pusher uses it as the event name, STOMP as the destination; stored messages keep it", async () => {
    const user = uniqueUser();
    const native = await connect(user, { device: "n" });
    const pusher = await pusherConnect(user);
    await pusher.signinAndSubscribe(user);
    const stomp = await stompSession(user, { device: "s" });
    stomp.send(frame("SUBSCRIBE", { id: "1", destination: "/user/queue/order.paid", receipt: "r" }));
    await stomp.next("RECEIPT");

    const answer = await push(user, { data: { order: 7 }, event: "order.paid" });
    expect(answer).toMatchObject({ delivered: 3, sessions: 3 });
    const [m] = await native.nextMessages(1);
    expect(m).toMatchObject({ id: answer.id, event: "order.paid", data: { order: 7 } });
    expect((await pusher.next("order.paid", `#server-to-user-${user}`)).data).toMatchObject({ id: answer.id, data: { order: 7 } });
    expect((await stomp.next("MESSAGE"))[0]?.headers.destination).toBe("/user/queue/order.paid");

    const page = await (await api(`/users/${user}/messages?since=0`)).json<{ messages: { event?: string }[] }>();
    expect(page.messages.map((s) => s.event)).toEqual(["order.paid"]);
    // A replay carries it too.
    const late = await connect(user, { device: "late", since: 0 });
    expect((await late.nextMessages(1))[0]).toMatchObject({ id: answer.id, event: "order.paid" });
    late.close();
    // Without an event: no field in native frames, today's Pusher event name.
    await push(user, { data: 2 });
    expect((await native.nextMessages(2))[1]).not.toHaveProperty("event");
    await pusher.next("switchboard:message", `#server-to-user-${user}`);
    native.close();
    pusher.close();
    stomp.close();
  });

  it("batch and broadcast take it; a bad event is a 400 naming the field", async () => {
    const user = uniqueUser();
    const native = await connect(user);
    // A broadcast reaches the users its shards count as online.
    await untilCounted(user);
    const batch = await api("/messages", { method: "POST", json: { userIds: [user], data: 1, event: "b" } });
    expect(batch.status).toBe(200);
    const broadcast = await api("/broadcast", { method: "POST", json: { data: 2, event: "c" } });
    expect(broadcast.status).toBe(200);
    expect((await native.nextMessages(2)).map((m) => m.event)).toEqual(["b", "c"]);
    const bad = await api(`/users/${user}/messages`, { method: "POST", json: { data: 1, event: "has space" } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { field: "event" } });
    // pusher-js takes these prefixes as protocol (a `pusher:error` push was a connection error there).
    for (const event of ["pusher:error", "pusher_internal:subscription_succeeded"]) {
      for (const [path, json] of [
        [`/users/${user}/messages`, { data: 1, event }],
        ["/messages", { userIds: [user], data: 1, event }],
        ["/broadcast", { data: 1, event }],
      ] as const) {
        const reserved = await api(path, { method: "POST", json });
        expect(reserved.status, `${event} on ${path}`).toBe(400);
        expect(await reserved.json()).toMatchObject({ error: { field: "event", message: expect.stringContaining("pusher:") } });
      }
    }
    // Other names with a colon stay fine.
    expect((await api(`/users/${user}/messages`, { method: "POST", json: { data: 3, event: "order:shipped" } })).status).toBe(200);
    expect((await native.nextMessages(3)).map((m) => m.event)).toEqual(["b", "c", "order:shipped"]);
    native.close();
  });
});
