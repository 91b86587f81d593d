/** Runs in the "webpush" project: VAPID keys set, DEV_MODE=0. */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { api, hubOf, tokenFor, uniqueUser, worker } from "../helpers";
import { subscriber } from "./fakePushService";

type Row = { device: string; endpoint: string; p256dh: string; auth: string };

async function stored(userId: string): Promise<Row[]> {
  return runInDurableObject(hubOf(userId), (_i, state) => {
    const has = state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'webpush_subscriptions'").toArray().length > 0;
    return has ? state.storage.sql.exec<Row>("SELECT device, endpoint, p256dh, auth FROM webpush_subscriptions ORDER BY device").toArray() : [];
  });
}

async function asClient(userId: string, device: string, method: "PUT" | "DELETE", body?: unknown, token?: string): Promise<Response> {
  return worker(`/v1/me/devices/${device}/webpush`, {
    method,
    headers: { Authorization: `Bearer ${token ?? (await tokenFor(userId))}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const asServer = (userId: string, device: string, method: "PUT" | "DELETE", body?: unknown) =>
  api(`/users/${userId}/devices/${device}/webpush`, { method, json: body });

describe("the VAPID key", () => {
  it("is served to anyone, as the 65-byte point pushManager.subscribe takes", async () => {
    const res = await worker("/v1/webpush/key");
    expect(res.status).toBe(200);
    const { publicKey } = (await res.json()) as { publicKey: string };
    expect(publicKey).toBe(env.VAPID_PUBLIC_KEY);
    const bytes = Uint8Array.from(atob(publicKey.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
    expect(bytes.byteLength).toBe(65);
    expect(bytes[0]).toBe(4);
  });
});

describe("CORS, for a page on another origin", () => {
  const preflight = (origin: string) =>
    worker("/v1/me/devices/phone/webpush", {
      method: "OPTIONS",
      headers: { Origin: origin, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "authorization,content-type" },
    });

  it("the client-token routes answer a preflight from ALLOWED_ORIGINS, and not from others", async () => {
    const ok = await preflight("https://app.example.com");
    expect(ok.status).toBe(204);
    expect(ok.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example.com");
    expect(ok.headers.get("Access-Control-Allow-Methods")).toContain("PUT");
    expect(ok.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("authorization");
    expect((await preflight("https://evil.example")).headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("a registration from an allowed page carries Access-Control-Allow-Origin; the key is readable from anywhere", async () => {
    const user = uniqueUser("wp-cors");
    const res = await worker("/v1/me/devices/phone/webpush", {
      method: "PUT",
      headers: { Origin: "https://app.example.com", Authorization: `Bearer ${await tokenFor(user)}`, "Content-Type": "application/json" },
      body: JSON.stringify(subscriber().subscription),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example.com");
    const key = await worker("/v1/webpush/key", { headers: { Origin: "https://anywhere.example" } });
    expect(key.headers.get("Access-Control-Allow-Origin")).toBe("*");
  });
});

describe("registering a device's subscription", () => {
  it("with the client token stores it for the token's user; a second one replaces it; DELETE removes it", async () => {
    const user = uniqueUser("wp-me");
    const first = subscriber();
    const put = await asClient(user, "phone", "PUT", first.subscription);
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ userId: user, device: "phone", stored: true });
    expect(await stored(user)).toEqual([{ device: "phone", ...first.subscription.keys, endpoint: first.subscription.endpoint }]);

    const second = subscriber();
    expect((await asClient(user, "phone", "PUT", second.subscription)).status).toBe(200);
    expect((await stored(user)).map((r) => r.endpoint)).toEqual([second.subscription.endpoint]);

    const del = await asClient(user, "phone", "DELETE");
    expect(await del.json()).toEqual({ userId: user, device: "phone", removed: true });
    expect(await stored(user)).toEqual([]);
    expect(await (await asClient(user, "phone", "DELETE")).json()).toMatchObject({ removed: false });
  });

  it("with the API key stores it for the named user, and DELETE removes it", async () => {
    const user = uniqueUser("wp-srv");
    const sub = subscriber();
    const put = await asServer(user, "laptop", "PUT", sub.subscription);
    expect(put.status).toBe(200);
    expect((await stored(user)).map((r) => r.device)).toEqual(["laptop"]);
    expect(await (await asServer(user, "laptop", "DELETE")).json()).toMatchObject({ removed: true });
    expect(await stored(user)).toEqual([]);
  });

  it("a client token does not open the server route, nor the API key the client route", async () => {
    const user = uniqueUser("wp-cross");
    const sub = subscriber();
    const withToken = await worker(`/v1/users/${user}/devices/phone/webpush`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${await tokenFor(user)}`, "Content-Type": "application/json" },
      body: JSON.stringify(sub.subscription),
    });
    expect(withToken.status).toBe(401);
    const withKey = await asClient(user, "phone", "PUT", sub.subscription, env.API_KEY);
    expect(withKey.status).toBe(401);
    const withNothing = await worker(`/v1/me/devices/phone/webpush`, { method: "PUT", body: JSON.stringify(sub.subscription) });
    expect(withNothing.status).toBe(401);
    expect(await stored(user)).toEqual([]);
  });

  const good = subscriber().subscription;
  /** The same point with its last y byte changed: 0x04 and 64 bytes, but not on P-256. */
  const offCurve = (p256dh: string): string => {
    const bytes = Uint8Array.from(atob(p256dh.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
    bytes[64] = bytes[64]! ^ 1;
    return btoa(String.fromCharCode(...bytes))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
  };
  const p256dhOf33Bytes = btoa(String.fromCharCode(...new Uint8Array(33).fill(2))).replace(/=+$/, "");
  const cases: Array<[string, unknown, string]> = [
    ["an http endpoint (dev mode only)", { ...good, endpoint: "http://push.example.test/x" }, "endpoint"],
    ["an endpoint that is not a URL", { ...good, endpoint: "not a url" }, "endpoint"],
    ["an endpoint with credentials", { ...good, endpoint: "https://u:p@push.example.test/x" }, "endpoint"],
    ["a missing endpoint", { keys: good.keys }, "endpoint"],
    ["missing keys", { endpoint: good.endpoint }, "keys"],
    ["keys without auth", { ...good, keys: { p256dh: good.keys.p256dh } }, "keys.auth"],
    ["a p256dh that is a compressed point", { ...good, keys: { ...good.keys, p256dh: p256dhOf33Bytes } }, "keys.p256dh"],
    ["a p256dh that is not base64url", { ...good, keys: { ...good.keys, p256dh: "!!" } }, "keys.p256dh"],
    ["an auth of 15 bytes", { ...good, keys: { ...good.keys, auth: "AAAAAAAAAAAAAAAAAAAA" } }, "keys.auth"],
    ["an expirationTime that is not a number", { ...good, expirationTime: "soon" }, "expirationTime"],
    ["a body that is not an object", [good], "body"],
    ["a p256dh of the right shape that is not on the curve", { ...good, keys: { ...good.keys, p256dh: offCurve(good.keys.p256dh) } }, "keys.p256dh"],
    ...[
      "https://127.0.0.1/x",
      "https://0x7f000001/x",
      "https://10.1.2.3/x",
      "https://169.254.169.254/x",
      "https://192.168.0.1/x",
      "https://localhost/x",
      "https://[::1]/x",
      "https://[fe80::1]/x",
      "https://[::ffff:127.0.0.1]/x",
    ].map((endpoint): [string, unknown, string] => [`an endpoint on a private host (${endpoint})`, { ...good, endpoint }, "endpoint"]),
  ];
  for (const [what, body, field] of cases) {
    it(`refuses ${what}: 400 naming ${field}, on both routes`, async () => {
      const user = uniqueUser("wp-bad");
      for (const res of [await asClient(user, "phone", "PUT", body), await asServer(user, "phone", "PUT", body)]) {
        expect(res.status).toBe(400);
        expect(((await res.json()) as { error: { field?: string } }).error.field).toBe(field);
      }
      expect(await stored(user)).toEqual([]);
    });
  }

  it("accepts a push service on a public address, IPv4 or IPv6", async () => {
    const user = uniqueUser("wp-public");
    for (const endpoint of ["https://203.0.113.7/x", "https://[2001:db8::1]/x", "https://172.32.0.1/x"]) {
      expect((await asClient(user, "phone", "PUT", { ...good, endpoint })).status).toBe(200);
    }
    expect((await stored(user)).map((r) => r.endpoint)).toEqual(["https://172.32.0.1/x"]);
  });

  it("keeps at most 100 devices' subscriptions per user: the 101st device is a 409, a replacement is not", async () => {
    const user = uniqueUser("wp-cap");
    const sub = subscriber().subscription; // the same keys may serve every device here: only the count matters
    for (let i = 0; i < 100; i++) expect((await asServer(user, `d${i}`, "PUT", sub)).status).toBe(200);
    const over = await asServer(user, "d100", "PUT", sub);
    expect(over.status).toBe(409);
    expect(await over.json()).toMatchObject({ error: { code: "too_many_subscriptions", field: "device" } });
    expect((await asServer(user, "d7", "PUT", subscriber().subscription)).status).toBe(200);
    expect((await stored(user)).length).toBe(100);
  });

  it("refuses a bad device name and a bad userId, naming them", async () => {
    const sub = subscriber().subscription;
    const badDevice = await asServer(uniqueUser("wp"), "no%20spaces", "PUT", sub);
    expect(badDevice.status).toBe(400);
    expect(((await badDevice.json()) as { error: { field: string } }).error.field).toBe("device");
    const badUser = await asServer("bad%20user", "phone", "PUT", sub);
    expect(((await badUser.json()) as { error: { field: string } }).error.field).toBe("userId");
  });

  it("any body is a 200 or a 400 naming a field, never a 5xx (fast-check)", async () => {
    const value = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.boolean(), fc.array(fc.string(), { maxLength: 2 }), fc.object({ maxDepth: 1 }));
    const body = fc.oneof(
      fc.anything({ maxDepth: 2 }).filter((v) => v !== undefined), // (undefined would send no body at all: 415)
      fc.record({ endpoint: fc.oneof(value, fc.webUrl(), fc.constant(good.endpoint)), keys: fc.oneof(value, fc.constant(good.keys)) }, { requiredKeys: [] }),
      fc.record(
        {
          endpoint: fc.constant(good.endpoint),
          keys: fc.record(
            { p256dh: fc.oneof(value, fc.constant(good.keys.p256dh), fc.constant(offCurve(good.keys.p256dh))), auth: fc.oneof(value, fc.base64String()) },
            { requiredKeys: [] },
          ),
          expirationTime: value,
        },
        { requiredKeys: [] },
      ),
    );
    const user = uniqueUser("wp-fc");
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const res = await asServer(user, "phone", "PUT", b);
        if (res.status === 200) return;
        expect(res.status).toBe(400);
        expect(((await res.json()) as { error: { field?: string } }).error.field).toMatch(/^(body|endpoint|keys|keys\.p256dh|keys\.auth|expirationTime)$/);
      }),
      { numRuns: 150 },
    );
  });
});
