/**
 * Careless input gets a clear 400, never a wider action than asked for:
 * unknown query parameters on every route, bodies that are not JSON objects,
 * and targeting combinations that mean nothing.
 */
import { describe, expect, it } from "vitest";
import { api, connect, connectRaw, push, settled, tokenFor, uniqueUser, worker, type TestClient } from "./helpers";

async function errorOf(res: Response): Promise<{ status: number; code?: string; message?: string; field?: string; hasField: boolean }> {
  const body = (await res.json()) as { error: { code: string; message: string; field?: string } };
  return { status: res.status, ...body.error, hasField: "field" in body.error };
}

/**
 * Every one of the user's sessions is still open: the server lists them all,
 * and a live-only push reaches each (a closed one would not count as
 * delivered). Proof without waiting a while for a close that should not come.
 */
async function expectStillOpen(user: string, ...clients: TestClient[]): Promise<void> {
  const presence = (await (await api(`/users/${user}/presence`)).json()) as { sessions: unknown[] };
  expect(presence.sessions).toHaveLength(clients.length);
  expect(await push(user, { data: "still here?", ttl: 0 })).toMatchObject({ delivered: clients.length });
  for (const client of clients) {
    await client.nextMessages(1);
    expect(client.closed).toBeUndefined();
  }
}

describe("unknown query parameters", () => {
  it("a typo in a kick query is a 400 naming it, and closes nothing", async () => {
    const user = uniqueUser("kick");
    const phone = await connect(user, { device: "phone" });
    const laptop = await connect(user, { device: "laptop" });
    const res = await api(`/users/${user}/sessions?devcie=phone`, { method: "DELETE" });
    expect(await errorOf(res)).toMatchObject({
      status: 400,
      code: "bad_request",
      field: "devcie",
      message: expect.stringContaining("unknown query parameter: devcie"),
    });
    await expectStillOpen(user, phone, laptop);
    // The correctly spelled kick still works.
    expect(await (await api(`/users/${user}/sessions?device=phone`, { method: "DELETE" })).json()).toEqual({ closed: 1 });
    laptop.close();
  });

  it("every route names an unknown parameter", async () => {
    const user = uniqueUser("q");
    const json = { "Content-Type": "application/json" };
    const cases: Array<[string, string, RequestInit]> = [
      ["/healthz?verbose=1", "verbose", {}],
      ["/v1/stats?x=1", "x", {}],
      [`/v1/users/${user}/presence?device=a`, "device", {}],
      [`/v1/users/${user}/messages?sinse=3`, "sinse", {}],
      [`/v1/users/${user}/messages?since=0&limit=5&page=2`, "page", {}],
      [`/v1/users/${user}/sessions?session=s&all=1`, "all", { method: "DELETE" }],
      [`/v1/users/${user}/messages?ttl=0`, "ttl", { method: "POST", headers: json, body: '{"data":1}' }],
      ["/v1/messages?dryRun=1", "dryRun", { method: "POST", headers: json, body: `{"data":1,"userIds":["${user}"]}` }],
      ["/v1/broadcast?x", "x", { method: "POST", headers: json, body: '{"data":1}' }],
    ];
    for (const [path, field, init] of cases) {
      const res = path.startsWith("/v1/") ? await api(path.slice(3), init) : await worker(path, init);
      expect(await errorOf(res), path).toMatchObject({ status: 400, code: "bad_request", field });
    }
    // Nothing was pushed by the refused requests.
    expect(await (await api(`/users/${user}/messages`)).json()).toMatchObject({ head: 0, messages: [] });
  });

  it("/v1/connect takes device, since and token only", async () => {
    const user = uniqueUser("c");
    const token = await tokenFor(user);
    const typo = await worker(`/v1/connect?devcie=phone`, { headers: { Upgrade: "websocket", Authorization: `Bearer ${token}` } });
    expect(await errorOf(typo)).toMatchObject({ status: 400, field: "devcie" });
    // A token in a misspelt parameter is named by its key, never echoed.
    const leaked = await worker(`/v1/connect?tokn=${token}`, { headers: { Upgrade: "websocket" } });
    const err = await errorOf(leaked);
    expect(err).toMatchObject({ status: 400, field: "tokn" });
    expect(JSON.stringify(err)).not.toContain(token);
    // All three known parameters together still connect.
    const ok = await worker(`/v1/connect?device=d1&since=0&token=${token}`, { headers: { Upgrade: "websocket" } });
    expect(ok.status).toBe(101);
    ok.webSocket?.accept();
    ok.webSocket?.close(1000, "bye");
    expect((await connectRaw(user, { device: "d2", via: "query" })).status).toBe(101);
  });
});

describe("bodies that are not JSON objects", () => {
  it("say so, naming no field, on push, batch and broadcast", async () => {
    const user = uniqueUser("b");
    for (const path of [`/users/${user}/messages`, "/messages", "/broadcast"]) {
      for (const body of ['"just a string"', "42", "null", "[1,2]", "true"]) {
        const err = await errorOf(await api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body }));
        expect(err, `${path} ${body}`).toMatchObject({ status: 400, code: "bad_request", message: "body must be a JSON object" });
        expect(err.hasField, `${path} ${body}`).toBe(false);
      }
    }
  });
});

describe("targeting combinations", () => {
  it("device with exceptDevice is refused, naming exceptDevice (push and batch)", async () => {
    const user = uniqueUser("t");
    for (const exceptDevice of ["y", "x"]) {
      const one = await api(`/users/${user}/messages`, { method: "POST", json: { data: 1, device: "x", exceptDevice } });
      expect(await errorOf(one)).toMatchObject({ status: 400, field: "exceptDevice" });
      const batch = await api("/messages", { method: "POST", json: { data: 1, userIds: [user], device: "x", exceptDevice } });
      expect(await errorOf(batch)).toMatchObject({ status: 400, field: "exceptDevice" });
    }
    expect(await (await api(`/users/${user}/messages`)).json()).toMatchObject({ head: 0 });
  });

  it("the other pairs narrow as documented: all filters must pass", async () => {
    const user = uniqueUser("t");
    const phone = await connect(user, { device: "phone" });
    const laptop1 = await connect(user, { device: "laptop" });
    const laptop2 = await connect(user, { device: "laptop" });
    const tablet = await connect(user, { device: "tablet" });
    const sid = (c: TestClient) => c.welcome.sessionId as string;
    // device + exceptSession: the device's other sessions ("my other tabs").
    expect(await push(user, { data: "other-laptop-tabs", device: "laptop", exceptSession: sid(laptop1), ttl: 0 })).toMatchObject({ delivered: 1 });
    // exceptDevice + exceptSession: everyone but that device and that session.
    expect(await push(user, { data: "not-phone-not-tablet", exceptDevice: "phone", exceptSession: sid(tablet), ttl: 0 })).toMatchObject({ delivered: 2 });
    await laptop2.nextMessages(2);
    await laptop1.nextMessages(1);
    await settled(phone, laptop1, laptop2, tablet);
    const seen = (c: TestClient) => c.messages().map((m) => m.data);
    expect(seen(laptop2)).toEqual(["other-laptop-tabs", "not-phone-not-tablet"]);
    expect(seen(laptop1)).toEqual(["not-phone-not-tablet"]);
    expect(seen(phone)).toEqual([]);
    expect(seen(tablet)).toEqual([]);
    [phone, laptop1, laptop2, tablet].forEach((c) => c.close());
  });
});

describe("a query parameter given twice", () => {
  it("is a 400 naming it on a kick, and closes nothing", async () => {
    const user = uniqueUser("kick2");
    const phone = await connect(user, { device: "a" });
    const laptop = await connect(user, { device: "b" });
    const res = await api(`/users/${user}/sessions?device=a&device=b`, { method: "DELETE" });
    expect(await errorOf(res)).toMatchObject({ status: 400, code: "bad_request", field: "device", message: expect.stringContaining("more than once") });
    await expectStillOpen(user, phone, laptop);
    phone.close();
    laptop.close();
  });

  it("is a 400 naming it on every route that takes parameters, even with the same value twice", async () => {
    const user = uniqueUser("q2");
    const token = await tokenFor(user);
    const cases: Array<[string, string, RequestInit]> = [
      [`/v1/users/${user}/messages?since=0&since=0`, "since", {}],
      [`/v1/users/${user}/messages?limit=5&since=1&limit=10`, "limit", {}],
      [`/v1/users/${user}/sessions?session=s1&session=s2`, "session", { method: "DELETE" }],
      [`/v1/connect?device=d&device=e&token=${token}`, "device", { headers: { Upgrade: "websocket" } }],
      [`/v1/connect?token=${token}&token=${token}`, "token", { headers: { Upgrade: "websocket" } }],
    ];
    for (const [path, field, init] of cases) {
      const res = path.startsWith("/v1/connect") ? await worker(path, init) : await api(path.slice(3), init);
      const err = await errorOf(res);
      expect(err, path).toMatchObject({ status: 400, code: "bad_request", field });
      expect(JSON.stringify(err), path).not.toContain(token);
    }
  });
});

describe("a JSON body that is not UTF-8", () => {
  // 0xff and 0xfe never occur in UTF-8; 0xc3 alone is a truncated sequence.
  const invalid = [
    [0x7b, 0x22, 0x64, 0x61, 0x74, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d], // {"data":"\xff\xfe"}
    [0x7b, 0x22, 0x64, 0x61, 0x74, 0x61, 0x22, 0x3a, 0x22, 0x61, 0xc3, 0x22, 0x7d], // {"data":"a\xc3"}
  ];

  it("is a 400 naming the body on push, batch and broadcast, and nothing is stored", async () => {
    const user = uniqueUser("utf8");
    const json = { "Content-Type": "application/json" };
    for (const bytes of invalid) {
      const body = new Uint8Array(bytes);
      const batch = new Uint8Array([...new TextEncoder().encode(`{"userIds":["${user}"],`), ...bytes.slice(1)]);
      for (const [path, payload] of [
        [`/users/${user}/messages`, body],
        ["/messages", batch],
        ["/broadcast", body],
      ] as const) {
        const err = await errorOf(await api(path, { method: "POST", headers: json, body: payload }));
        expect(err, path).toMatchObject({ status: 400, code: "bad_json", field: "body", message: expect.stringContaining("UTF-8") });
      }
    }
    expect(await (await api(`/users/${user}/messages`)).json()).toMatchObject({ head: 0, messages: [] });
  });

  it("valid UTF-8 beyond ASCII (and a leading BOM) is stored exactly", async () => {
    const user = uniqueUser("utf8ok");
    const text = "héllo ✓ 𝄞";
    const body = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(JSON.stringify({ data: text }))]);
    const res = await api(`/users/${user}/messages`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
    expect(res.status).toBe(200);
    const page = (await (await api(`/users/${user}/messages`)).json()) as { messages: Array<{ data: unknown }> };
    expect(page.messages.map((m) => m.data)).toEqual([text]);
  });
});
