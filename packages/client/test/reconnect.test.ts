import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CLIENT_GIVE_UP_CODE, connect, type TokenRequest } from "../src/index.ts";
import { createFakeSocket, FakeSocket, seededRandom } from "./fakeSocket.ts";
import { settle, sockets, start } from "./harness.ts";

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.reset();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("reconnect with full-jitter backoff", () => {
  it("waits exactly the jittered delay, doubling the window up to the cap", async () => {
    const h = await start({ backoff: { baseMs: 1000, maxMs: 8000 }, random: () => 0.5 });
    const expected = [500, 1000, 2000, 4000, 4000, 4000];
    for (const [i, delay] of expected.entries()) {
      expect(sockets()).toHaveLength(i + 1);
      FakeSocket.last().serverClose(1011, "boom");
      expect(h.of("close").at(-1)).toMatchObject({ code: 1011, willReconnect: true, retryInMs: delay });
      expect(h.client.state).toBe("reconnecting");
      await vi.advanceTimersByTimeAsync(delay - 1);
      expect(sockets()).toHaveLength(i + 1);
      await vi.advanceTimersByTimeAsync(1);
      expect(sockets()).toHaveLength(i + 2);
    }
  });

  it("comes back after a server that went away (1001, a serve drain), resuming as the same device", async () => {
    const h = await start({ device: "laptop", backoff: { baseMs: 10, maxMs: 10 }, random: () => 0.5 });
    FakeSocket.last().accept({ head: 0 }).message(1).serverClose(1001, "server going away");
    expect(h.of("close").at(-1)).toMatchObject({ code: 1001, willReconnect: true, retryInMs: 5 });
    await vi.advanceTimersByTimeAsync(5);
    expect(sockets()).toHaveLength(2);
    expect(FakeSocket.last().since).toBe("1");
  });

  it("draws each delay uniformly from [0, window): jittered, never above the window", async () => {
    const random = seededRandom(7);
    const h = await start({ backoff: { baseMs: 100, maxMs: 3200 }, random });
    for (let i = 0; i < 60; i++) {
      FakeSocket.last().fail(); // a refused handshake, as a browser reports it
      const delay = h.of("close").at(-1)?.retryInMs ?? -1;
      await vi.advanceTimersByTimeAsync(delay);
    }
    const delays = h.of("close").map((c) => c.retryInMs ?? -1);
    for (const [attempt, delay] of delays.entries()) {
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(Math.min(3200, 100 * 2 ** attempt));
    }
    // Once the window is capped the delays are spread, not a fixed cap.
    const capped = delays.slice(10);
    expect(new Set(capped).size).toBeGreaterThan(40);
    expect(Math.min(...capped)).toBeLessThan(3200 * 0.2);
    expect(Math.max(...capped)).toBeGreaterThan(3200 * 0.8);
  });

  it("resets the window only after a connection that lasted resetAfterMs", async () => {
    const h = await start({ backoff: { baseMs: 1000, maxMs: 60_000, resetAfterMs: 10_000 }, random: () => 0.5 });
    for (const delay of [500, 1000, 2000]) {
      FakeSocket.last().serverClose(1011);
      expect(h.of("close").at(-1)?.retryInMs).toBe(delay);
      await vi.advanceTimersByTimeAsync(delay);
    }
    // Accepted, then closed right away: still backing off (no tight loop).
    FakeSocket.last().accept();
    await vi.advanceTimersByTimeAsync(9_999);
    FakeSocket.last().serverClose(1011);
    expect(h.of("close").at(-1)?.retryInMs).toBe(4000);
    await vi.advanceTimersByTimeAsync(4000);
    // Up for 10 s: the next drop starts over at the base window.
    FakeSocket.last().accept();
    await vi.advanceTimersByTimeAsync(10_000);
    FakeSocket.last().serverClose(1011);
    expect(h.of("close").at(-1)?.retryInMs).toBe(500);
  });

  it("gives up after maxAttempts", async () => {
    const h = await start({ backoff: { baseMs: 10, maxMs: 10, maxAttempts: 2 } });
    FakeSocket.last().fail();
    await vi.advanceTimersByTimeAsync(10);
    FakeSocket.last().fail();
    await vi.advanceTimersByTimeAsync(10);
    FakeSocket.last().fail();
    expect(h.of("close").map((c) => c.willReconnect)).toEqual([true, true, false]);
    expect(h.client.state).toBe("closed");
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(sockets()).toHaveLength(3);
  });

  it("reconnects after 1000, 1009, 1011, 4002 and 4029", async () => {
    const h = await start({ backoff: { baseMs: 100, maxMs: 100 } });
    for (const code of [1000, 1009, 1011, 4002, 4029]) {
      FakeSocket.last().accept().serverClose(code);
      expect(h.of("close").at(-1)).toMatchObject({ code, willReconnect: true });
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(sockets()).toHaveLength(6);
  });
});

describe("4001 (kicked)", () => {
  it("never reconnects", async () => {
    const h = await start();
    FakeSocket.last().accept().serverClose(4001, "closed by server");
    expect(h.of("close")).toEqual([{ code: 4001, reason: "closed by server", wasClean: true, willReconnect: false }]);
    expect(h.client.state).toBe("closed");
    await vi.advanceTimersByTimeAsync(24 * 3_600_000);
    expect(sockets()).toHaveLength(1);
  });
});

describe("1008 (token expired)", () => {
  it("with getToken: asks for a fresh token and reconnects with it", async () => {
    const tokens = ["t1", "t2"];
    const getToken = vi.fn(async () => tokens.shift() ?? "none");
    const h = await start({ getToken, backoff: { baseMs: 100, maxMs: 100 } });
    expect(getToken).toHaveBeenLastCalledWith({ reason: "connect" });
    expect(FakeSocket.last().bearer).toBe("t1");
    FakeSocket.last().accept().serverClose(1008, "token expired");
    expect(h.of("close").at(-1)).toMatchObject({ code: 1008, willReconnect: true });
    await vi.advanceTimersByTimeAsync(100);
    expect(getToken).toHaveBeenCalledTimes(2);
    expect(getToken).toHaveBeenLastCalledWith({ reason: "expired", rejected: "t1" });
    expect(sockets()).toHaveLength(2);
    expect(FakeSocket.last().bearer).toBe("t2");
  });

  it("with getToken: does not reconnect with the refused token; keeps asking with backoff", async () => {
    const answers = ["t1", "t1", "t1", "t2"];
    const getToken = vi.fn((_: TokenRequest) => answers.shift() ?? "none");
    const h = await start({ getToken, backoff: { baseMs: 100, maxMs: 400 }, random: () => 0.5 });
    FakeSocket.last().accept().serverClose(1008);
    await vi.advanceTimersByTimeAsync(50); // first retry: getToken → "t1" again
    expect(sockets()).toHaveLength(1);
    expect(h.of("error").at(-1)).toMatchObject({ kind: "token" });
    await vi.advanceTimersByTimeAsync(100); // second retry: still "t1"
    expect(sockets()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200); // third: "t2"
    expect(getToken).toHaveBeenCalledTimes(4);
    expect(getToken.mock.calls.slice(1).map((c) => c[0])).toEqual([
      { reason: "expired", rejected: "t1" },
      { reason: "expired", rejected: "t1" },
      { reason: "expired", rejected: "t1" },
    ]);
    expect(sockets()).toHaveLength(2);
    expect(FakeSocket.last().bearer).toBe("t2");
  });

  it("with a static token: stops", async () => {
    const h = await start({ token: "static" });
    FakeSocket.last().accept().serverClose(1008, "token expired");
    expect(h.of("close")).toEqual([{ code: 1008, reason: "token expired", wasClean: true, willReconnect: false }]);
    expect(h.client.state).toBe("closed");
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(sockets()).toHaveLength(1);
  });

  it("calls getToken before every attempt, not only after 1008", async () => {
    let n = 0;
    const getToken = vi.fn((_: TokenRequest) => `t${++n}`);
    await start({ getToken, backoff: { baseMs: 10, maxMs: 10 } });
    FakeSocket.last().fail();
    await vi.advanceTimersByTimeAsync(10);
    FakeSocket.last().accept().serverClose(1011);
    await vi.advanceTimersByTimeAsync(10);
    expect(sockets().map((s) => s.bearer)).toEqual(["t1", "t2", "t3"]);
    expect(getToken.mock.calls.map((c) => c[0]?.reason)).toEqual(["connect", "reconnect", "reconnect"]);
  });

  it("reports a getToken that throws synchronously on the first attempt", async () => {
    const h = await start({
      getToken: () => {
        throw new Error("no session");
      },
    });
    expect(h.of("error")[0]).toMatchObject({ kind: "token", cause: new Error("no session") });
  });

  it("close() right after connect() creates no socket", async () => {
    const createWebSocket = vi.fn(createFakeSocket);
    const client = connect({ url: "https://sb.test", token: "t", createWebSocket, environment: null });
    client.close();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(createWebSocket).not.toHaveBeenCalled();
    expect(client.state).toBe("closed");
  });

  it("retries with backoff when getToken throws", async () => {
    let fail = true;
    const getToken = vi.fn(async () => {
      if (fail) throw new Error("auth server down");
      return "t";
    });
    const h = await start({ getToken, backoff: { baseMs: 100, maxMs: 100 } });
    expect(sockets()).toHaveLength(0);
    expect(h.of("error")[0]).toMatchObject({ kind: "token", message: "getToken failed" });
    expect(h.of("close")[0]).toMatchObject({ willReconnect: true });
    fail = false;
    await vi.advanceTimersByTimeAsync(100);
    expect(sockets()).toHaveLength(1);
  });
});

describe("heartbeat", () => {
  it("pings every interval and keeps a connection that answers", async () => {
    const h = await start({ heartbeat: { intervalMs: 25_000, timeoutMs: 10_000 } });
    const ws = FakeSocket.last().accept();
    for (let i = 1; i <= 4; i++) {
      await vi.advanceTimersByTimeAsync(25_000);
      // The one sent on open, then one per interval.
      expect(ws.sent.filter((s) => s === "ping")).toHaveLength(1 + i);
      await vi.advanceTimersByTimeAsync(300);
      ws.receive("pong");
    }
    expect(h.client.state).toBe("open");
    expect(ws.closedByClient).toBeUndefined();
  });

  it("drops a connection whose pong does not come within the timeout, then reconnects", async () => {
    const h = await start({ heartbeat: { intervalMs: 25_000, timeoutMs: 10_000 }, backoff: { baseMs: 200, maxMs: 200 } });
    const ws = FakeSocket.last().accept();
    await vi.advanceTimersByTimeAsync(25_000);
    expect(ws.sent).toEqual(["ping", "ping"]);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(h.client.state).toBe("open");
    await vi.advanceTimersByTimeAsync(1);
    expect(ws.closedByClient).toEqual({ code: CLIENT_GIVE_UP_CODE, reason: "heartbeat timeout" });
    expect(h.of("close")).toEqual([{ code: 1006, reason: "heartbeat timeout", wasClean: false, willReconnect: true, retryInMs: 100 }]);
    // The abandoned socket's own close event, arriving late, changes nothing.
    ws.serverClose(1006);
    expect(h.of("close")).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(sockets()).toHaveLength(2);
  });

  it("counts any frame as a sign of life, not just pong", async () => {
    const h = await start({ heartbeat: { intervalMs: 1000, timeoutMs: 500 } });
    const ws = FakeSocket.last().accept();
    await vi.advanceTimersByTimeAsync(1000);
    ws.message(1);
    await vi.advanceTimersByTimeAsync(600);
    expect(h.client.state).toBe("open");
  });

  it("gives up on a connect that never gets its welcome", async () => {
    const h = await start({ connectTimeoutMs: 5000, backoff: { baseMs: 100, maxMs: 100 } });
    FakeSocket.last().open();
    await vi.advanceTimersByTimeAsync(5000);
    expect(h.of("close")[0]).toMatchObject({ code: 1006, reason: "connect timeout", willReconnect: true });
    await vi.advanceTimersByTimeAsync(100);
    expect(sockets()).toHaveLength(2);
  });

  it("can be disabled (the one ping on open still goes out)", async () => {
    await start({ heartbeat: false });
    const ws = FakeSocket.last().accept();
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(ws.sent).toEqual(["ping"]);
  });

  // A close the server starts on a hibernatable socket completes promptly only
  // once the client has sent a frame (workerd kj WebSocketPipe bug): without
  // this ping, a kick took ~10 s to reach a client that had only listened.
  it("sends `ping` as the very first frame when the socket opens, before any ack", async () => {
    const h = await start({ heartbeat: { intervalMs: 25_000, timeoutMs: 10_000 } });
    const ws = FakeSocket.last();
    ws.open();
    expect(ws.sent).toEqual(["ping"]);
    ws.welcome({ head: 3 });
    ws.message(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(ws.sent[0]).toBe("ping");
    expect(ws.sent.slice(1)).toEqual(['{"type":"ack","seq":1}']);
    // It does not arm the pong deadline: no answer to it is needed.
    await vi.advanceTimersByTimeAsync(20_000);
    expect(h.client.state).toBe("open");
  });
});

describe("close() and the environment", () => {
  it("close() stops everything and never reconnects", async () => {
    const h = await start();
    const ws = FakeSocket.last().accept();
    h.client.close();
    expect(ws.closedByClient).toEqual({ code: 1000, reason: "client closed" });
    expect(h.of("close")).toEqual([{ code: 1000, reason: "client closed", wasClean: true, willReconnect: false }]);
    ws.serverClose(1000);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(sockets()).toHaveLength(1);
    expect(h.of("close")).toHaveLength(1);
  });

  it("close() while getToken is pending creates no socket", async () => {
    let resolve: (t: string) => void = () => {};
    const h = await start({ getToken: () => new Promise<string>((r) => (resolve = r)) });
    h.client.close();
    resolve("late");
    await settle();
    expect(sockets()).toHaveLength(0);
  });

  it("close() from a close listener cancels the scheduled reconnect", async () => {
    const h = await start({ backoff: { baseMs: 100, maxMs: 100 } });
    h.client.on("close", (e) => {
      if (e.willReconnect) h.client.close();
    });
    FakeSocket.last().accept().serverClose(1011);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sockets()).toHaveLength(1);
    expect(h.client.state).toBe("closed");
  });

  it("close() from an error listener stops a retry that was about to be scheduled", async () => {
    const connectAttempts = vi.fn(() => Promise.reject(new Error("down")));
    const client = connect({ url: "https://sb.test", getToken: connectAttempts, createWebSocket: createFakeSocket, environment: null });
    const closes: boolean[] = [];
    client.on("error", () => client.close());
    client.on("close", (e) => closes.push(e.willReconnect));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(connectAttempts).toHaveBeenCalledTimes(1);
    expect(closes).toEqual([false]);
    expect(client.state).toBe("closed");
  });

  it("an `online` event skips the rest of the backoff", async () => {
    const listeners = new Map<string, () => void>();
    const environment = {
      addEventListener: (type: string, fn: () => void) => void listeners.set(type, fn),
      removeEventListener: (type: string) => void listeners.delete(type),
    };
    await start({ environment, backoff: { baseMs: 60_000, maxMs: 60_000 }, random: () => 0.9 });
    FakeSocket.last().fail();
    await vi.advanceTimersByTimeAsync(1000);
    expect(sockets()).toHaveLength(1);
    listeners.get("online")?.();
    await settle();
    expect(sockets()).toHaveLength(2);
    // ... and on an open connection it probes with a ping at once.
    const ws = FakeSocket.last().accept();
    expect(ws.sent).toEqual(["ping"]);
    listeners.get("online")?.();
    expect(ws.sent).toEqual(["ping", "ping"]);
  });
});
