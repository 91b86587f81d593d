import { describe, expect, it } from "vitest";
import { api, connect, push, settled, tokenFor, uniqueUser, worker, type TestClient } from "./helpers";

async function errorOf(res: Response): Promise<{ status: number; code: string; field?: string; message: string }> {
  const text = await res.text();
  expect(text).not.toMatch(/\bat .*\.(ts|js):\d+/); // never a stack trace
  const body = JSON.parse(text) as { error: { code: string; field?: string; message: string } };
  return { status: res.status, ...body.error };
}

describe("push: who receives it", () => {
  it("reaches every session of the user and none of another user's", async () => {
    const alice = uniqueUser("alice");
    const bob = uniqueUser("bob");
    const a = [await connect(alice, { device: "phone" }), await connect(alice, { device: "laptop" }), await connect(alice, { device: "laptop" })];
    const b = [await connect(bob, { device: "phone" }), await connect(bob, { device: "tablet" })];

    const answer = await push(alice, { data: { n: 1 }, ttl: 0 });
    expect(answer).toMatchObject({ seq: null, delivered: 3, sessions: 3, stored: false, duplicate: false });
    expect(typeof answer.id).toBe("string");
    for (const c of a) expect((await c.nextMessages(1))[0]).toMatchObject({ type: "message", id: answer.id, seq: null, data: { n: 1 } });
    await settled(...b);
    for (const c of b) expect(c.messages()).toHaveLength(0);
    [...a, ...b].forEach((c) => c.close());
  });

  it("device, exceptDevice and exceptSession narrow delivery", async () => {
    const user = uniqueUser();
    const phone = await connect(user, { device: "phone" });
    const laptop1 = await connect(user, { device: "laptop" });
    const laptop2 = await connect(user, { device: "laptop" });
    const all = [phone, laptop1, laptop2];

    expect(await push(user, { data: "only-laptop", device: "laptop", ttl: 0 })).toMatchObject({ delivered: 2, sessions: 3 });
    expect(await push(user, { data: "not-laptop", exceptDevice: "laptop", ttl: 0 })).toMatchObject({ delivered: 1 });
    expect(await push(user, { data: "not-laptop1", exceptSession: laptop1.welcome.sessionId, ttl: 0 })).toMatchObject({ delivered: 2 });
    expect(await push(user, { data: "nobody", device: "watch", ttl: 0 })).toMatchObject({ delivered: 0, sessions: 3 });

    await laptop2.nextMessages(2);
    await phone.nextMessages(2);
    await laptop1.nextMessages(1);
    await settled(...all);
    const seen = (c: TestClient) => c.messages().map((m) => m.data);
    expect(seen(phone)).toEqual(["not-laptop", "not-laptop1"]);
    expect(seen(laptop1)).toEqual(["only-laptop"]);
    expect(seen(laptop2)).toEqual(["only-laptop", "not-laptop1"]);
    all.forEach((c) => c.close());
  });

  it("answers a push to a user with no sessions", async () => {
    const user = uniqueUser();
    expect(await push(user, { data: 1, ttl: 0 })).toMatchObject({ seq: null, delivered: 0, sessions: 0, stored: false });
  });

  it("keeps any JSON value as data, byte for byte", async () => {
    const user = uniqueUser();
    const c = await connect(user);
    const values = [null, 0, -1.5e300, "", "ünï©ødé \u2028 \ud83d\ude00", [1, [2, [3]]], { nested: { a: [true, false] } }];
    for (const data of values) await push(user, { data, ttl: 0 });
    const got = await c.nextMessages(values.length);
    expect(got.map((m) => m.data)).toEqual(values);
    c.close();
  });

  it("a message frame carries type, id, seq, sentAt and data", async () => {
    const user = uniqueUser();
    const c = await connect(user);
    const before = Date.now();
    const answer = await push(user, { data: { x: 1 }, id: "order-42:shipped" });
    const [m] = await c.nextMessages(1);
    expect(Object.keys(m ?? {}).sort()).toEqual(["data", "id", "sentAt", "seq", "type"]);
    expect(m).toMatchObject({ id: "order-42:shipped", seq: answer.seq });
    expect(m?.sentAt as number).toBeGreaterThanOrEqual(before - 1000);
    c.close();
  });
});

describe("push: bad input is a 4xx naming the field", () => {
  const user = "someone";
  const post = (body: string, contentType = "application/json", path = `/users/${user}/messages`) =>
    api(path, { method: "POST", body, headers: { "Content-Type": contentType } });

  it("400 for missing data, bad ttl, bad names, unknown fields", async () => {
    const cases: Array<[unknown, string]> = [
      [{}, "data"],
      [{ data: 1, ttl: -1 }, "ttl"],
      [{ data: 1, ttl: 604801 }, "ttl"],
      [{ data: 1, ttl: 1.5 }, "ttl"],
      [{ data: 1, ttl: "60" }, "ttl"],
      [{ data: 1, device: "" }, "device"],
      [{ data: 1, device: "a b" }, "device"],
      [{ data: 1, exceptDevice: "x".repeat(65) }, "exceptDevice"],
      [{ data: 1, exceptSession: 7 }, "exceptSession"],
      [{ data: 1, id: "x".repeat(129) }, "id"],
      [{ data: 1, id: "semi;colon" }, "id"],
      [{ data: 1, exceptDevices: "typo" }, "exceptDevices"],
    ];
    for (const [body, field] of cases) {
      const err = await errorOf(await post(JSON.stringify(body)));
      expect(err, JSON.stringify(body)).toMatchObject({ status: 400, field });
      expect(err.message.length).toBeGreaterThan(0);
    }
  });

  it("400 for a body that is not a JSON object, or not JSON", async () => {
    for (const body of ["[1]", "42", "null", '"s"']) expect((await errorOf(await post(body))).status, body).toBe(400);
    expect(await errorOf(await post("{nope"))).toMatchObject({ status: 400, code: "bad_json" });
    expect(await errorOf(await post(""))).toMatchObject({ status: 400, code: "bad_json" });
  });

  it("deeply nested data is stored or refused with a 400, never a 5xx", async () => {
    // The deepest array that fits in MAX_MESSAGE_BYTES.
    const depth = 32_000;
    const res = await post(`{"data":${"[".repeat(depth)}${"]".repeat(depth)},"ttl":0}`);
    expect([200, 400]).toContain(res.status);
  });

  it("400 for a malformed userId in the path", async () => {
    for (const bad of ["a%20b", "x".repeat(129), "a%2Fb", "%F0%9F%98%80"]) {
      const err = await errorOf(await post('{"data":1}', "application/json", `/users/${bad}/messages`));
      expect(err, bad).toMatchObject({ status: 400, field: "userId" });
    }
  });

  it("413 past MAX_MESSAGE_BYTES, with or without Content-Length", async () => {
    const big = JSON.stringify({ data: "x".repeat(70_000) });
    expect((await errorOf(await post(big))).status).toBe(413);
    const stream = new Blob([big]).stream();
    const res = await api(`/users/${user}/messages`, {
      method: "POST",
      body: stream,
      headers: { "Content-Type": "application/json" },
      // @ts-expect-error -- `duplex` is required by the fetch spec for stream bodies; workers-types omits it
      duplex: "half",
    });
    expect((await errorOf(res)).status).toBe(413);
  });

  it("415 for anything but application/json", async () => {
    expect(await errorOf(await post('{"data":1}', "text/plain"))).toMatchObject({ status: 415, field: "Content-Type" });
    expect((await errorOf(await post('{"data":1}', "application/x-www-form-urlencoded"))).status).toBe(415);
    expect((await post('{"data":1}', "application/json; charset=utf-8")).status).toBe(200);
  });
});

describe("server endpoints need the API key", () => {
  const endpoints: Array<[string, string, unknown?]> = [
    ["POST", "/v1/users/u1/messages", { data: 1 }],
    ["GET", "/v1/users/u1/messages"],
    ["GET", "/v1/users/u1/presence"],
    ["DELETE", "/v1/users/u1/sessions"],
    ["POST", "/v1/messages", { userIds: ["u1"], data: 1 }],
    ["POST", "/v1/broadcast", { data: 1 }],
    ["GET", "/v1/stats"],
  ];

  it("401 without a key, with a wrong key, and with a client JWT", async () => {
    const jwt = await tokenFor("u1");
    for (const [method, path, json] of endpoints) {
      for (const auth of [undefined, "Bearer wrong-key", `Bearer ${jwt}`, "Basic dXNlcjpwYXNz", "Bearer"]) {
        const headers = new Headers({ "Content-Type": "application/json" });
        if (auth !== undefined) headers.set("Authorization", auth);
        const res = await worker(path, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
        expect(res.status, `${method} ${path} with ${auth}`).toBe(401);
      }
    }
  });
});
