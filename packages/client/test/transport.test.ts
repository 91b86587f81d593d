import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { connect, type ConnectOptions } from "../src/index.ts";
import { createFakeSocket, FakeSocket } from "./fakeSocket.ts";
import { start } from "./harness.ts";

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.reset();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("frames off the contract are errors, never crashes", () => {
  it.each([
    ["not JSON", "{"],
    ["an array", "[]"],
    ["unknown type", '{"type":"surprise"}'],
    ["welcome without head", '{"type":"welcome","sessionId":"s","userId":"u","device":"d","recovered":true}'],
    ["message with seq 0", '{"type":"message","id":"m","seq":0,"sentAt":1,"data":1}'],
    ["message with a string seq", '{"type":"message","id":"m","seq":"3","sentAt":1,"data":1}'],
    ["message without data", '{"type":"message","id":"m","seq":3,"sentAt":1}'],
  ])("%s", async (_, text) => {
    const h = await start();
    const ws = FakeSocket.last().accept();
    ws.receive(text);
    ws.message(1);
    expect(h.of("error").map((e) => e.kind)).toEqual(["protocol"]);
    expect(h.of("message").map((m) => m.seq)).toEqual([1]);
  });

  it("binary frames", async () => {
    const h = await start();
    FakeSocket.last().accept().receive(new ArrayBuffer(3));
    expect(h.of("error")[0]).toMatchObject({ kind: "protocol" });
  });

  it("server error frames become `frame` errors with the server's code", async () => {
    const h = await start();
    FakeSocket.last().accept().frame({ type: "error", code: "bad_ack", message: "ack.seq is beyond head (3)" });
    expect(h.of("error")[0]).toMatchObject({ kind: "frame", code: "bad_ack", message: "ack.seq is beyond head (3)" });
    expect(h.client.state).toBe("open");
  });

  it("a message before welcome is not delivered", async () => {
    const h = await start();
    FakeSocket.last().open().message(1);
    expect(h.of("message")).toEqual([]);
  });
});

describe("connect URL and token transport", () => {
  const base: ConnectOptions = { url: "https://sb.example.com", token: "jwt", device: "phone", createWebSocket: createFakeSocket, environment: null };

  it("protocol auth (browser default): switchboard.v1 + bearer.<jwt>, no header", async () => {
    const client = connect({ ...base, auth: "protocol" });
    await vi.advanceTimersByTimeAsync(0);
    const ws = FakeSocket.last();
    expect(ws.url.toString()).toBe("wss://sb.example.com/v1/connect?device=phone");
    expect(ws.init).toEqual({ protocols: ["switchboard.v1", "bearer.jwt"], headers: {} });
    client.close();
  });

  it("header auth (the default in Node): Authorization header, subprotocol switchboard.v1 only", async () => {
    const client = connect({ ...base, url: "http://127.0.0.1:8787/" });
    await vi.advanceTimersByTimeAsync(0);
    const ws = FakeSocket.last();
    expect(ws.url.toString()).toBe("ws://127.0.0.1:8787/v1/connect?device=phone");
    expect(ws.init).toEqual({ protocols: ["switchboard.v1"], headers: { Authorization: "Bearer jwt" } });
    client.close();
  });

  it("query auth, and a full connect URL kept as is", async () => {
    const client = connect({ ...base, url: "wss://edge.example.com/switchboard/v1/connect", auth: "query", since: 9 });
    await vi.advanceTimersByTimeAsync(0);
    const ws = FakeSocket.last();
    expect(ws.url.pathname).toBe("/switchboard/v1/connect");
    expect(Object.fromEntries(ws.url.searchParams)).toEqual({ device: "phone", since: "9", token: "jwt" });
    expect(ws.init.protocols).toEqual(["switchboard.v1"]);
    client.close();
  });

  it("refuses options that could never connect", () => {
    expect(() => connect({ ...base, device: "bad device!" })).toThrow(expect.objectContaining({ code: "invalid_argument", field: "device" }));
    expect(() => connect({ ...base, since: -1 })).toThrow(expect.objectContaining({ code: "invalid_argument", field: "since" }));
    expect(() => connect({ ...base, token: undefined })).toThrow(/exactly one/);
    expect(() => connect({ ...base, getToken: () => "x" })).toThrow(/exactly one/);
  });

  it("a WebSocket constructor that throws ends the client with a config error", async () => {
    const client = connect({
      ...base,
      createWebSocket: () => {
        throw new SyntaxError("bad URL");
      },
    });
    const errors: string[] = [];
    client.on("error", (e) => errors.push(`${e.kind}: ${e.message}`));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(errors).toEqual(["config: bad URL"]);
    expect(client.state).toBe("closed");
  });
});
