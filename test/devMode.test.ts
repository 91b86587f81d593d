/** Runs with DEV_MODE=1 (the "dev-mode" vitest project), as `wrangler dev` does. */
import { describe, expect, it } from "vitest";
import { connect, uniqueUser, worker } from "./helpers";

describe("development endpoints", () => {
  it("/dev/token mints a token that connects as that user", async () => {
    const user = uniqueUser();
    const res = await worker(`/dev/token?user=${user}&ttl=600`);
    expect(res.status).toBe(200);
    const { token, userId, expiresAt } = (await res.json()) as { token: string; userId: string; expiresAt: number };
    expect(userId).toBe(user);
    expect(expiresAt).toBeGreaterThan(Date.now() + 500_000);
    const c = await connect(user, { token, device: "demo" });
    expect(c.welcome.userId).toBe(user);

    const pushed = await worker(`/dev/push?user=${user}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ data: "hi", exceptDevice: "other" }),
    });
    expect(await pushed.json()).toMatchObject({ delivered: 1, stored: true });
    expect((await c.nextMessages(1))[0]?.data).toBe("hi");

    const presence = (await (await worker(`/dev/presence?user=${user}`)).json()) as { sessions: Array<{ device: string }> };
    expect(presence.sessions.map((s) => s.device)).toEqual(["demo"]);
    c.close();
  });

  it("the proxies apply the real validation", async () => {
    const res = await worker(`/dev/push?user=u1`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    expect(res.status).toBe(400);
    expect((await worker(`/dev/token?user=bad%20user`)).status).toBe(400);
    expect((await worker(`/dev/presence`)).status).toBe(400);
  });
});
