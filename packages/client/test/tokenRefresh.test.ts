import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { TokenRequest } from "../src/index.ts";
import { FakeSocket } from "./fakeSocket.ts";
import { settle, sockets, start } from "./harness.ts";

const NOW = Date.UTC(2026, 11, 2, 6, 0, 0);
const HOUR = 3_600_000;

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(NOW);
  FakeSocket.reset();
});
afterEach(() => {
  vi.useRealTimers();
});

/** An unsigned JWT (the SDK reads claims without verifying). */
function jwt(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims)}.sig`;
}
const tokenUntil = (expMs: number, sub = "alice") => jwt({ sub, exp: Math.floor(expMs / 1000) });

/** getToken answering from a list (the last one repeats), recording each request. */
function tokens(...list: (string | Error)[]) {
  const requests: TokenRequest[] = [];
  const getToken = (request: TokenRequest): Promise<string> => {
    requests.push(request);
    const next = list.length > 1 ? list.shift() : list[0];
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next ?? "");
  };
  return { requests, getToken };
}

const authFrames = (ws: FakeSocket) => ws.jsonSent().filter((f) => (f as { type?: unknown }).type === "auth");

describe("the SDK refreshes its token on the open session, ahead of exp", () => {
  it("sends an auth frame with getToken's fresh token at 75–90 % of the time left, and no new socket", async () => {
    const first = tokenUntil(NOW + HOUR);
    const second = tokenUntil(NOW + 2 * HOUR);
    const t = tokens(first, second);
    // random 0.5 → 82.5 % of the hour.
    await start({ getToken: t.getToken, heartbeat: false });
    const ws = FakeSocket.last().accept();
    await vi.advanceTimersByTimeAsync(0.825 * HOUR - 1);
    expect(t.requests.map((r) => r.reason)).toEqual(["connect"]);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.requests.map((r) => r.reason)).toEqual(["connect", "refresh"]);
    expect(authFrames(ws)).toEqual([{ type: "auth", token: second }]);
    ws.frame({ type: "refreshed", expiresAt: NOW + 2 * HOUR });
    expect(sockets()).toHaveLength(1);
  });

  it("plans the next refresh from the new exp, so a session can outlive many tokens", async () => {
    const t = tokens(tokenUntil(NOW + HOUR), tokenUntil(NOW + 2 * HOUR), tokenUntil(NOW + 3 * HOUR), tokenUntil(NOW + 4 * HOUR));
    const h = await start({ getToken: t.getToken, heartbeat: false, random: () => 0 });
    const ws = FakeSocket.last().accept();
    for (let i = 1; i <= 3; i++) {
      // random 0 → 75 % of what is left.
      const left = NOW + i * HOUR - Date.now();
      await vi.advanceTimersByTimeAsync(0.75 * left);
      expect(authFrames(ws)).toHaveLength(i);
      ws.frame({ type: "refreshed", expiresAt: NOW + (i + 1) * HOUR });
    }
    expect(sockets()).toHaveLength(1);
    expect(h.of("close")).toEqual([]);
  });

  it("jitter: different random() draws refresh at different times within the window", async () => {
    const at: number[] = [];
    for (const r of [0, 0.5, 0.999]) {
      FakeSocket.reset();
      vi.setSystemTime(NOW);
      const t = tokens(tokenUntil(NOW + HOUR), tokenUntil(NOW + 2 * HOUR));
      const h = await start({ getToken: t.getToken, heartbeat: false, random: () => r });
      const ws = FakeSocket.last().accept();
      while (authFrames(ws).length === 0) await vi.advanceTimersByTimeAsync(60_000);
      at.push(Date.now() - NOW);
      h.client.close();
    }
    expect(new Set(at).size).toBe(3);
    for (const ms of at) {
      expect(ms).toBeGreaterThanOrEqual(0.75 * HOUR);
      expect(ms).toBeLessThanOrEqual(0.9 * HOUR + 60_000);
    }
  });

  it("a failing getToken is reported and retried halfway to exp; the session stays open", async () => {
    const t = tokens(tokenUntil(NOW + HOUR), new Error("auth server down"), tokenUntil(NOW + 2 * HOUR));
    const h = await start({ getToken: t.getToken, heartbeat: false, random: () => 0 });
    const ws = FakeSocket.last().accept();
    await vi.advanceTimersByTimeAsync(0.75 * HOUR);
    expect(h.of("error").map((e) => `${e.kind}: ${e.message}`)).toEqual(["token: getToken failed (refresh); retrying before the token expires"]);
    expect(authFrames(ws)).toEqual([]);
    // Retry at half of the 15 minutes left.
    await vi.advanceTimersByTimeAsync(0.125 * HOUR - 1);
    expect(t.requests).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.requests).toHaveLength(3);
    expect(authFrames(ws)).toHaveLength(1);
    expect(h.client.state).toBe("open");
  });

  it("a getToken that hands back the same token is asked again later, and nothing is sent", async () => {
    const same = tokenUntil(NOW + HOUR);
    const t = tokens(same);
    const h = await start({ getToken: t.getToken, heartbeat: false, random: () => 0 });
    const ws = FakeSocket.last().accept();
    await vi.advanceTimersByTimeAsync(0.75 * HOUR + 0.125 * HOUR);
    expect(t.requests.map((r) => r.reason)).toEqual(["connect", "refresh", "refresh"]);
    expect(authFrames(ws)).toEqual([]);
    expect(h.of("error")[0]?.message).toMatch(/no token expiring later/);
    // Refreshes stop once there is nothing left to save; exp's 1008 then reconnects with a fresh token.
    await vi.advanceTimersByTimeAsync(HOUR);
    const asked = t.requests.length;
    ws.serverClose(1008, "token expired");
    expect(h.of("close").at(-1)).toMatchObject({ code: 1008, willReconnect: true });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(t.requests.slice(asked).map((r) => r.reason)).toContain("expired");
  });

  it("4003 (refused) reconnects through getToken with the refused token named, never with it", async () => {
    // Same user, refused anyway (say, the server's keys rotated): the server's word decides.
    const refused = tokenUntil(NOW + 2 * HOUR);
    const t = tokens(tokenUntil(NOW + HOUR), refused, tokenUntil(NOW + 3 * HOUR));
    const h = await start({ getToken: t.getToken, heartbeat: false, backoff: { baseMs: 100, maxMs: 100 } });
    const ws = FakeSocket.last().accept();
    await vi.advanceTimersByTimeAsync(0.9 * HOUR);
    expect(authFrames(ws)).toEqual([{ type: "auth", token: refused }]);
    ws.serverClose(4003, "token refused");
    expect(h.of("close")).toEqual([{ code: 4003, reason: "token refused", wasClean: true, willReconnect: true, retryInMs: 50 }]);
    await vi.advanceTimersByTimeAsync(50);
    expect(t.requests.at(-1)).toEqual({ reason: "expired", rejected: refused });
    expect(sockets()).toHaveLength(2);
  });

  it("a refresh that returns another user's token reconnects as that user instead of sending it", async () => {
    const bob = tokenUntil(NOW + 2 * HOUR, "bob");
    const t = tokens(tokenUntil(NOW + HOUR, "alice"), bob);
    const h = await start({ getToken: t.getToken, heartbeat: false, backoff: { baseMs: 100, maxMs: 100 } });
    const ws = FakeSocket.last().accept();
    await vi.advanceTimersByTimeAsync(0.825 * HOUR);
    expect(authFrames(ws)).toEqual([]);
    expect(ws.closedByClient).toEqual({ code: 4000, reason: "getToken returned a token for another user" });
    expect(h.of("close")).toEqual([{ code: 1006, reason: "getToken returned a token for another user", wasClean: false, willReconnect: true, retryInMs: 50 }]);
    await vi.advanceTimersByTimeAsync(50);
    expect(t.requests.at(-1)).toEqual({ reason: "reconnect" });
    expect(FakeSocket.last().bearer).toBe(bob);
  });

  it("a server that predates the auth frame (unknown_type) is left to close at exp; no more refreshes", async () => {
    const t = tokens(tokenUntil(NOW + HOUR), tokenUntil(NOW + 2 * HOUR));
    await start({ getToken: t.getToken, heartbeat: false, random: () => 0 });
    const ws = FakeSocket.last().accept();
    await vi.advanceTimersByTimeAsync(0.75 * HOUR);
    expect(authFrames(ws)).toHaveLength(1);
    ws.frame({ type: "error", code: "unknown_type", message: "unknown frame type: auth" });
    await vi.advanceTimersByTimeAsync(0.25 * HOUR - 1);
    expect(authFrames(ws)).toHaveLength(1);
    expect(t.requests).toHaveLength(2);
  });

  it("a fixed token, or a token without exp, is never refreshed", async () => {
    await start({ token: tokenUntil(NOW + HOUR), heartbeat: false });
    const fixed = FakeSocket.last().accept();
    const t = tokens(jwt({ sub: "alice" }));
    await start({ getToken: t.getToken, heartbeat: false });
    const noExp = FakeSocket.last().accept();
    await vi.advanceTimersByTimeAsync(2 * HOUR);
    expect(authFrames(fixed)).toEqual([]);
    expect(authFrames(noExp)).toEqual([]);
    expect(t.requests.map((r) => r.reason)).toEqual(["connect"]);
  });

  it("a token too long for one client frame (4096 bytes) is not sent; the error says why", async () => {
    const huge = jwt({ sub: "alice", exp: Math.floor((NOW + 2 * HOUR) / 1000), pad: "x".repeat(4000) });
    const t = tokens(tokenUntil(NOW + HOUR), huge);
    const h = await start({ getToken: t.getToken, heartbeat: false });
    const ws = FakeSocket.last().accept();
    await vi.advanceTimersByTimeAsync(0.9 * HOUR);
    expect(authFrames(ws)).toEqual([]);
    expect(h.of("error").at(-1)?.message).toMatch(/too long to refresh in-band/);
  });

  it("a month-long token is refreshed at the right time despite setTimeout's 24.8-day limit", async () => {
    const month = 30 * 24 * HOUR;
    const t = tokens(tokenUntil(NOW + month), tokenUntil(NOW + 2 * month));
    await start({ getToken: t.getToken, heartbeat: false, random: () => 0 });
    const ws = FakeSocket.last().accept();
    await vi.advanceTimersByTimeAsync(HOUR);
    expect(t.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(0.75 * month - HOUR - 1000);
    expect(authFrames(ws)).toEqual([]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(authFrames(ws)).toHaveLength(1);
  });

  it("a reconnect while a refresh is pending drops the late getToken answer", async () => {
    let resolve: (t: string) => void = () => {};
    const requests: TokenRequest[] = [];
    const getToken = (r: TokenRequest) => {
      requests.push(r);
      if (r.reason === "refresh") return new Promise<string>((res) => (resolve = res));
      return Promise.resolve(tokenUntil(NOW + HOUR));
    };
    await start({ getToken, heartbeat: false, backoff: { baseMs: 100, maxMs: 100 } });
    const ws = FakeSocket.last().accept();
    await vi.advanceTimersByTimeAsync(0.9 * HOUR);
    expect(requests.at(-1)?.reason).toBe("refresh");
    ws.serverClose(1011);
    resolve(tokenUntil(NOW + 2 * HOUR));
    await settle();
    expect(authFrames(ws)).toEqual([]);
  });
});
