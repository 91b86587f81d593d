import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FALLBACK_SILENCE_MS } from "../src/heartbeat.ts";
import { FakeSocket } from "./fakeSocket.ts";
import { sockets, start } from "./harness.ts";

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.reset();
});
afterEach(() => {
  vi.useRealTimers();
});

const pings = (ws: FakeSocket): number => ws.sent.filter((s) => s === "ping").length;

/** Answer every ping the way the runtime does, after `rttMs`. */
function autoPong(ws: FakeSocket, rttMs = 40): void {
  const send = ws.send.bind(ws);
  ws.send = (data: string) => {
    send(data);
    if (data === "ping") setTimeout(() => ws.readyState === 1 && ws.receive("pong"), rttMs);
  };
}

describe("the heartbeat follows the server's advertised cadence (welcome.heartbeat)", () => {
  it("an idle session sends one text frame per advertised interval, counted over ten intervals", async () => {
    await start();
    const ws = FakeSocket.last();
    autoPong(ws);
    ws.accept({ heartbeat: 90 });
    const afterWelcome = ws.sent.length; // the ping on open
    await vi.advanceTimersByTimeAsync(10 * 90_000 + 10 * 40);
    const sent = ws.sent.slice(afterWelcome);
    expect(sent.every((s) => s === "ping")).toBe(true);
    // One per interval (each silence starts at the previous pong, 40 ms after its ping).
    expect(sent).toHaveLength(10);
    expect(afterWelcome).toBe(1);
  });

  it("pings only after the whole advertised silence, not the old 25 s", async () => {
    await start();
    const ws = FakeSocket.last().accept({ heartbeat: 90 });
    await vi.advanceTimersByTimeAsync(89_999);
    expect(pings(ws)).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(pings(ws)).toBe(2);
  });

  it("any frame received restarts the silence: a session that keeps receiving never pings", async () => {
    await start();
    const ws = FakeSocket.last().accept({ heartbeat: 90 });
    for (let i = 0; i < 10; i++) {
      await vi.advanceTimersByTimeAsync(80_000);
      ws.frame({ type: "error", code: "bad_ack", message: "any frame will do" });
    }
    expect(pings(ws)).toBe(1);
  });

  it("a frame the client sends restarts the silence too (an ack after a message)", async () => {
    await start({ ackDelayMs: 1000 });
    const ws = FakeSocket.last().accept({ heartbeat: 90 });
    await vi.advanceTimersByTimeAsync(50_000);
    ws.message(1); // received at 50 s, acked at 51 s
    await vi.advanceTimersByTimeAsync(1000 + 89_999);
    expect(pings(ws)).toBe(1);
    expect(ws.jsonSent()).toEqual([{ type: "ack", seq: 1 }]);
    await vi.advanceTimersByTimeAsync(1);
    expect(pings(ws)).toBe(2);
  });

  it("a server that does not advertise gets the fallback cadence (25 s)", async () => {
    await start();
    const ws = FakeSocket.last().accept();
    await vi.advanceTimersByTimeAsync(FALLBACK_SILENCE_MS - 1);
    expect(pings(ws)).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(pings(ws)).toBe(2);
  });

  it("heartbeat.intervalMs is a ceiling on the advertised cadence, never an extension", async () => {
    await start({ heartbeat: { intervalMs: 30_000 } });
    const short = FakeSocket.last().accept({ heartbeat: 90 });
    await vi.advanceTimersByTimeAsync(30_000);
    expect(pings(short)).toBe(2);
    FakeSocket.reset();
    await start({ heartbeat: { intervalMs: 300_000 } });
    const long = FakeSocket.last().accept({ heartbeat: 90 });
    await vi.advanceTimersByTimeAsync(90_000);
    expect(pings(long)).toBe(2);
  });

  it("after a ping the next silence starts from its answer: no second ping while the first is unanswered", async () => {
    const h = await start({ heartbeat: { timeoutMs: 200_000 }, backoff: { baseMs: 100, maxMs: 100 } });
    const ws = FakeSocket.last().accept({ heartbeat: 90 });
    await vi.advanceTimersByTimeAsync(90_000 + 180_000);
    expect(pings(ws)).toBe(2);
    ws.receive("pong");
    await vi.advanceTimersByTimeAsync(90_000);
    expect(pings(ws)).toBe(3);
    expect(h.client.state).toBe("open");
  });

  it("an unanswered ping drops the connection after timeoutMs (default 10 s) and reconnects", async () => {
    const h = await start({ backoff: { baseMs: 200, maxMs: 200 } });
    FakeSocket.last().accept({ heartbeat: 90 });
    await vi.advanceTimersByTimeAsync(90_000 + 9_999);
    expect(h.client.state).toBe("open");
    await vi.advanceTimersByTimeAsync(1);
    expect(h.of("close")).toEqual([{ code: 1006, reason: "heartbeat timeout", wasClean: false, willReconnect: true, retryInMs: 100 }]);
    await vi.advanceTimersByTimeAsync(100);
    expect(sockets()).toHaveLength(2);
  });

  it("a welcome with a malformed heartbeat is off contract", async () => {
    const h = await start();
    FakeSocket.last().accept({ heartbeat: 0 });
    expect(h.of("error").map((e) => e.kind)).toEqual(["protocol"]);
    expect(h.client.state).toBe("connecting");
  });
});
