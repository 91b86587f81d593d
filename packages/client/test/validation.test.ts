/**
 * connect(), close() and on()/once()/off() refuse a misspelt option, a wrong
 * type or a value out of range with invalid_argument naming it, and nothing
 * happens: no socket is made (the factory records every call), no listener
 * is added, an open socket stays open.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { connect, INVALID_ARGUMENT, SwitchboardError, type ConnectOptions } from "../src/index.ts";
import { createFakeSocket, FakeSocket } from "./fakeSocket.ts";
import { start } from "./harness.ts";

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.reset();
});
afterEach(() => {
  vi.useRealTimers();
});

const base = { url: "https://sb.example.com", token: "jwt", createWebSocket: createFakeSocket, environment: null };

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe("connect()", () => {
  const storage = { getItem: () => null, setItem: () => undefined };
  /** [options, the field the error must name] */
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ ...base, devcie: "phone" }, "devcie"],
    [{ ...base, device: 7 }, "device"],
    [{ ...base, device: "bad device!" }, "device"],
    [{ ...base, since: "3" }, "since"],
    [{ ...base, since: 1.5 }, "since"],
    [{ ...base, auth: "cookie" }, "auth"],
    [{ ...base, token: "" }, "token"],
    [{ ...base, token: 42 }, "token"],
    [{ ...base, token: undefined }, "token"],
    [{ ...base, getToken: () => "x" }, "token"],
    [{ url: base.url, getToken: "x" }, "getToken"],
    [{ ...base, createWebSocket: "ws" }, "createWebSocket"],
    [{ ...base, heartbeat: true }, "heartbeat"],
    [{ ...base, heartbeat: { interval: 1000 } }, "heartbeat.interval"],
    [{ ...base, heartbeat: { intervalMs: 0 } }, "heartbeat.intervalMs"],
    [{ ...base, heartbeat: { timeoutMs: "10s" } }, "heartbeat.timeoutMs"],
    [{ ...base, backoff: { base: 100 } }, "backoff.base"],
    [{ ...base, backoff: { baseMs: 0 } }, "backoff.baseMs"],
    [{ ...base, backoff: { baseMs: 1000, maxMs: 10 } }, "backoff.maxMs"],
    [{ ...base, backoff: { maxAttempts: 2.5 } }, "backoff.maxAttempts"],
    [{ ...base, backoff: [] }, "backoff"],
    [{ ...base, ackDelayMs: -1 }, "ackDelayMs"],
    [{ ...base, connectTimeoutMs: Number.NaN }, "connectTimeoutMs"],
    [{ ...base, storage: {} }, "storage.getItem"],
    [{ ...base, storage: "localStorage" }, "storage"],
    [{ ...base, storage, storagePrefix: "" }, "storagePrefix"],
    [{ ...base, random: 0.5 }, "random"],
    [{ ...base, environment: {} }, "environment.addEventListener"],
    [{ ...base, url: 8787 }, "url"],
    [{ ...base, url: "not a url" }, "url"],
    [{ ...base, url: "ftp://sb.example.com" }, "url"],
    [{ token: "jwt" }, "url"],
  ];

  it.each(cases)("%o is invalid_argument naming %s, and opens no socket", async (options, field) => {
    const err = thrown(() => connect(options as unknown as ConnectOptions));
    expect(err).toBeInstanceOf(SwitchboardError);
    expect(err).toMatchObject({ kind: "argument", code: INVALID_ARGUMENT, field });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.instances).toEqual([]);
  });

  it("no options, or options that are not an object, are refused too", () => {
    const loose = connect as (...args: unknown[]) => unknown;
    expect(thrown(() => loose())).toMatchObject({ code: INVALID_ARGUMENT, field: "options" });
    expect(thrown(() => loose("wss://sb.example.com"))).toMatchObject({ code: INVALID_ARGUMENT, field: "options" });
  });

  it("an option given as undefined is absent, heartbeat false and environment null are allowed, and every option together connects", async () => {
    const client = connect({
      ...base,
      device: "phone",
      since: 0,
      auth: "query",
      heartbeat: false,
      backoff: { baseMs: 100, maxMs: 1000, resetAfterMs: 0, maxAttempts: Number.POSITIVE_INFINITY },
      ackDelayMs: 0,
      connectTimeoutMs: 1000,
      storage: { getItem: () => null, setItem: () => undefined },
      storagePrefix: "p",
      random: () => 0.5,
      getToken: undefined,
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeSocket.instances).toHaveLength(1);
    client.close();
  });
});

describe("close(reason)", () => {
  it("refuses a reason that is not a string or is over 123 bytes, and the socket stays open", async () => {
    const { client } = await start();
    const ws = FakeSocket.last();
    ws.open();
    const loose = client as unknown as { close(reason: unknown): void };
    expect(thrown(() => loose.close(1000))).toMatchObject({ code: INVALID_ARGUMENT, field: "reason" });
    expect(thrown(() => client.close("é".repeat(62)))).toMatchObject({ code: INVALID_ARGUMENT, field: "reason" });
    expect(ws.closedByClient).toBeUndefined();
    expect(client.state).not.toBe("closed");
    client.close("x".repeat(123));
    expect(ws.closedByClient).toEqual({ code: 1000, reason: "x".repeat(123) });
  });
});

describe("on(), once(), off()", () => {
  it("refuse an unknown event or a listener that is not a function, and add nothing", async () => {
    const { client } = await start();
    const loose = client as unknown as Record<"on" | "once" | "off", (type: unknown, listener: unknown) => unknown>;
    for (const method of ["on", "once", "off"] as const) {
      expect(
        thrown(() => loose[method]("mesage", () => undefined)),
        method,
      ).toMatchObject({ code: INVALID_ARGUMENT, field: "type" });
      expect(
        thrown(() => loose[method]("message", "handler")),
        method,
      ).toMatchObject({ code: INVALID_ARGUMENT, field: "listener" });
    }
    expect(client.listenerCount("message")).toBe(1); // the harness's own
    client.close();
  });
});
