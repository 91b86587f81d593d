/**
 * A path the router serves, asked with another method, is a 405 whose Allow
 * lists the methods it is served with: for every path of the OpenAPI document
 * (which test/openapi.test.ts holds equal to the router's routes), so a route
 * added later is covered without a line here.
 */
import { describe, expect, it } from "vitest";
import { api, uniqueUser, worker } from "./helpers";

interface Doc {
  paths: Record<string, Record<string, { "x-dev-only"?: boolean }>>;
}

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

async function documentedPaths(): Promise<Array<{ path: string; methods: string[]; devOnly: boolean }>> {
  const doc = (await (await worker("/openapi.json")).json()) as Doc;
  return Object.entries(doc.paths).map(([path, ops]) => ({
    path,
    methods: Object.keys(ops).map((m) => m.toUpperCase()),
    devOnly: Object.values(ops).some((op) => op["x-dev-only"] === true),
  }));
}

function expectedAllow(methods: string[]): string {
  const all = new Set(methods);
  if (all.has("GET")) all.add("HEAD");
  return [...all].sort().join(", ");
}

describe("a known path with a wrong method", () => {
  it("is a 405 with Allow and the JSON error body, on every path the document lists", async () => {
    const user = uniqueUser("m");
    let checked = 0;
    for (const { path, methods, devOnly } of await documentedPaths()) {
      if (devOnly) continue; // DEV_MODE is off here: every /dev path is a 404 (below)
      const concrete = path.replace("{userId}", user);
      for (const method of METHODS.filter((m) => !methods.includes(m))) {
        const res = concrete.startsWith("/v1/") ? await api(concrete.slice(3), { method }) : await worker(concrete, { method });
        const where = `${method} ${path}`;
        expect(res.status, where).toBe(405);
        expect(res.headers.get("Allow"), where).toBe(expectedAllow(methods));
        expect(await res.json(), where).toEqual({
          error: { code: "method_not_allowed", message: expect.stringContaining(`${method} is not allowed`) },
        });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(30);
  });

  it("PUT on a user's messages and POST on /v1/stats, as the issue found them", async () => {
    const user = uniqueUser("m2");
    const put = await api(`/users/${user}/messages`, { method: "PUT", json: { data: 1 } });
    expect(put.status).toBe(405);
    expect(put.headers.get("Allow")).toBe("GET, HEAD, POST");
    const post = await api("/stats", { method: "POST", json: {} });
    expect(post.status).toBe(405);
    expect(post.headers.get("Allow")).toBe("GET, HEAD");
    // HEAD is answered by the GET route, so a POST-only path refuses it too.
    const head = await api("/broadcast", { method: "HEAD" });
    expect(head.status).toBe(405);
    expect(head.headers.get("Allow")).toBe("POST");
    // Nothing was pushed by the PUT.
    expect(await (await api(`/users/${user}/messages`)).json()).toMatchObject({ head: 0 });
  });

  it("still needs the API key under /v1, and an unknown path stays a 404", async () => {
    const noKey = await worker("/v1/stats", { method: "POST" });
    expect(noKey.status).toBe(401);
    expect(noKey.headers.get("Allow")).toBeNull();
    for (const path of ["/v1/nope", "/v1/users/u/nope", "/nope", "/v1/stats/"]) {
      const res = path.startsWith("/v1/") ? await api(path.slice(3), { method: "PUT" }) : await worker(path, { method: "PUT" });
      expect(res.status, path).toBe(404);
      expect(res.headers.get("Allow"), path).toBeNull();
    }
  });

  it("on a path served without the API key (connects, Web Push's key and client routes) needs no key to say so", async () => {
    const cases = [
      ["/v1/connect", "POST", "GET, HEAD"],
      ["/v1/stomp", "PUT", "GET, HEAD"],
      ["/v1/webpush/key", "POST", "GET, HEAD"],
      ["/v1/me/devices/phone/webpush", "POST", "DELETE, PUT"],
      ["/v1/me/devices/phone/webpush", "GET", "DELETE, PUT"],
    ] as const;
    for (const [path, method, allow] of cases) {
      const res = await worker(path, { method });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get("Allow"), `${method} ${path}`).toBe(allow);
    }
  });

  it("a dev path stays a 404 in a deployment (DEV_MODE off), whatever the method", async () => {
    for (const [path, method] of [
      ["/dev/push?user=a", "GET"],
      ["/dev/token?user=a", "POST"],
      ["/dev/presence?user=a", "DELETE"],
    ] as const) {
      const res = await worker(path, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.headers.get("Allow")).toBeNull();
    }
  });
});
