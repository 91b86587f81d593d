/** The dev routes check their query strings like the API does (dev-mode project: DEV_MODE=1). */
import { describe, expect, it } from "vitest";
import { worker } from "./helpers";

describe("dev routes: unknown query parameters", () => {
  it("are a 400 naming them on /dev/token, /dev/presence and /dev/push", async () => {
    const cases: Array<[string, string, RequestInit]> = [
      ["/dev/token?user=alice&tll=60", "tll", {}],
      ["/dev/presence?user=alice&verbose=1", "verbose", {}],
      ["/dev/push?user=alice&ttl=0", "ttl", { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"data":1}' }],
    ];
    for (const [path, field, init] of cases) {
      const res = await worker(path, init);
      expect(res.status, path).toBe(400);
      expect(await res.json(), path).toMatchObject({ error: { code: "bad_request", field } });
    }
    expect((await worker("/dev/token?user=alice&ttl=60")).status).toBe(200);
  });
});

describe("dev routes: a repeated parameter or a wrong method", () => {
  it("a second user is a 400 naming it, not a push to the first (the proxy drops `user` before passing on)", async () => {
    const json = { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"data":1}' };
    for (const [path, init] of [
      ["/dev/push?user=alice&user=bob", json],
      ["/dev/presence?user=alice&user=bob", {}],
      ["/dev/token?user=alice&user=bob", {}],
    ] as const) {
      const res = await worker(path, init);
      expect(res.status, path).toBe(400);
      expect(await res.json(), path).toMatchObject({ error: { code: "bad_request", field: "user" } });
    }
  });

  it("GET on /dev/push is a 405 with Allow: POST", async () => {
    const res = await worker("/dev/push?user=alice");
    expect(res.status).toBe(405);
    expect(res.headers.get("Allow")).toBe("POST");
  });
});
