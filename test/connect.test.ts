import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { connect, connectRaw, eventually, tokenFor, uniqueUser, worker } from "./helpers";

async function refusal(res: Response): Promise<{ status: number; code: string; field?: string }> {
  expect(res.webSocket).toBeNull();
  const body = (await res.json()) as { error: { code: string; field?: string } };
  return { status: res.status, code: body.error.code, ...(body.error.field ? { field: body.error.field } : {}) };
}

describe("connect: how a token may travel", () => {
  it("accepts Authorization: Bearer and sends welcome first", async () => {
    const user = uniqueUser();
    const c = await connect(user, { device: "laptop", via: "header" });
    expect(c.frames[0]).toMatchObject({ type: "welcome", userId: user, device: "laptop", head: 0, recovered: true });
    expect(typeof c.welcome.sessionId).toBe("string");
    expect(c.response.headers.get("Sec-WebSocket-Protocol")).toBeNull();
    c.close();
  });

  it("accepts the bearer subprotocol and answers switchboard.v1", async () => {
    const user = uniqueUser();
    const c = await connect(user, { device: "browser", via: "protocol" });
    expect(c.response.headers.get("Sec-WebSocket-Protocol")).toBe("switchboard.v1");
    expect(c.welcome.userId).toBe(user);
    c.close();
  });

  it("accepts ?token= as a last resort", async () => {
    const user = uniqueUser();
    const c = await connect(user, { via: "query" });
    expect(c.welcome.userId).toBe(user);
    c.close();
  });

  it("assigns a device when none is given", async () => {
    const c = await connect(uniqueUser());
    expect(c.welcome.device).toMatch(/^[A-Za-z0-9._:@-]{1,64}$/);
    c.close();
  });

  it("gives every session its own id", async () => {
    const user = uniqueUser();
    const a = await connect(user, { device: "d" });
    const b = await connect(user, { device: "d" });
    expect(a.welcome.sessionId).not.toBe(b.welcome.sessionId);
    a.close();
    b.close();
  });
});

describe("connect: refusals before the upgrade", () => {
  it("426 without an upgrade", async () => {
    const res = await worker("/v1/connect", { headers: { Authorization: `Bearer ${await tokenFor("x")}` } });
    expect(res.status).toBe(426);
    expect(res.headers.get("Upgrade")).toBe("websocket");
  });

  it("401 without a token", async () => {
    const res = await worker("/v1/connect", { headers: { Upgrade: "websocket" } });
    expect(await refusal(res)).toMatchObject({ status: 401, code: "unauthorized" });
  });

  it("401 for a token signed with another secret", async () => {
    const user = uniqueUser();
    const res = await connectRaw(user, { token: await tokenFor(user, { secret: "not-the-secret" }) });
    expect((await refusal(res)).status).toBe(401);
  });

  it("401 for alg: none", async () => {
    const user = uniqueUser();
    const b64 = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    const unsigned = `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: user, exp: Math.floor(Date.now() / 1000) + 600 })}.`;
    expect((await refusal(await connectRaw(user, { token: unsigned }))).status).toBe(401);
  });

  it("401 for an expired token, a future nbf, a missing sub, a garbage token", async () => {
    const user = uniqueUser();
    const now = Math.floor(Date.now() / 1000);
    const tokens = [
      await tokenFor(user, { expiresIn: -1 }),
      await tokenFor(user, { nbf: now + 120 }),
      await tokenFor(undefined),
      await new SignJWT({ sub: user }).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode("test-jwt-secret-0123456789abcdef")),
      "not.a.jwt",
    ];
    for (const token of tokens) {
      expect((await refusal(await connectRaw(user, { token }))).status, token).toBe(401);
    }
  });

  it("403 for an Origin that is neither ours nor allowed; allowed and own origins pass", async () => {
    const user = uniqueUser();
    expect(await refusal(await connectRaw(user, { origin: "https://evil.example.com" }))).toMatchObject({
      status: 403,
      code: "origin_not_allowed",
    });
    for (const origin of ["https://app.example.com", "https://switchboard.test"]) {
      const res = await connectRaw(user, { origin });
      expect(res.status, origin).toBe(101);
      res.webSocket?.accept();
      res.webSocket?.close();
    }
    // Exact match of scheme, host and port.
    expect((await refusal(await connectRaw(user, { origin: "http://app.example.com" }))).status).toBe(403);
    expect((await refusal(await connectRaw(user, { origin: "https://app.example.com:8443" }))).status).toBe(403);
  });

  it("400 naming device or since when malformed", async () => {
    const user = uniqueUser();
    expect(await refusal(await connectRaw(user, { device: "bad device!" }))).toMatchObject({ status: 400, field: "device" });
    expect(await refusal(await connectRaw(user, { device: "x".repeat(65) }))).toMatchObject({ status: 400, field: "device" });
    for (const since of ["-1", "1.5", "abc", "9007199254740992", "", "1e3"]) {
      expect(await refusal(await connectRaw(user, { since })), since).toMatchObject({ status: 400, field: "since" });
    }
  });

  it("400 when subprotocols are offered without switchboard.v1", async () => {
    const user = uniqueUser();
    const token = await tokenFor(user);
    const res = await worker("/v1/connect", {
      headers: { Upgrade: "websocket", "Sec-WebSocket-Protocol": `bearer.${token}` },
    });
    expect(await refusal(res)).toMatchObject({ status: 400, field: "Sec-WebSocket-Protocol" });
  });

  it("429 once the user has MAX_SESSIONS_PER_USER sessions, and room again after one closes", async () => {
    const user = uniqueUser();
    const clients = [];
    for (let i = 0; i < 8; i++) clients.push(await connect(user, { device: `d${i}` }));
    expect(await refusal(await connectRaw(user))).toMatchObject({ status: 429, code: "too_many_sessions" });
    clients[0]?.close();
    await clients[0]?.waitClosed();
    // The close reaches the object after the client sees it: a connect may still be refused meanwhile.
    const res = await eventually("a connect admitted after the close", async () => {
      const r = await connectRaw(user);
      return r.status === 429 ? undefined : r;
    });
    expect(res.status).toBe(101);
    res.webSocket?.accept();
    res.webSocket?.close();
    for (const c of clients) c.close();
  });
});
