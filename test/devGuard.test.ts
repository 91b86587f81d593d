import { describe, expect, it } from "vitest";
import { worker } from "./helpers";

describe("/dev in a deployment (DEV_MODE off)", () => {
  it("every /dev path is the same 404, whatever the method or query: nothing tells a prober a route is there", async () => {
    for (const path of ["/dev/api", "/dev/api?x=1", "/dev/token?user=a&ttl=0", "/dev/presence?user=a&user=b", "/dev/push?user=bad%20user", "/dev/nope"]) {
      for (const method of ["GET", "POST", "DELETE"]) {
        const res = await worker(path, { method });
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(res.headers.get("Allow"), `${method} ${path}`).toBeNull();
        expect(await res.json(), `${method} ${path}`).toEqual({ error: { code: "not_found", message: "no such endpoint" } });
      }
    }
  });
});
