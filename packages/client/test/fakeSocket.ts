/**
 * A scripted WebSocket for the SDK's unit tests: the test plays the server,
 * opening, sending frames and closing on cue, and reads what the client sent.
 */
import type { SocketInit, WebSocketLike } from "../src/socket.ts";

type Handler = ((event: unknown) => void) | null;

export class FakeSocket implements WebSocketLike {
  static instances: FakeSocket[] = [];

  static reset(): void {
    FakeSocket.instances = [];
  }

  static last(): FakeSocket {
    const socket = FakeSocket.instances.at(-1);
    if (socket === undefined) throw new Error("no socket was created");
    return socket;
  }

  readonly url: URL;
  readonly init: SocketInit;
  readyState = 0;
  onopen: ((event: never) => void) | null = null;
  onmessage: ((event: never) => void) | null = null;
  onclose: ((event: never) => void) | null = null;
  onerror: ((event: never) => void) | null = null;
  readonly sent: string[] = [];
  closedByClient: { code: number | undefined; reason: string | undefined } | undefined;

  constructor(url: string, init: SocketInit) {
    this.url = new URL(url);
    this.init = init;
    FakeSocket.instances.push(this);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error(`send in readyState ${this.readyState}`);
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    this.closedByClient = { code, reason };
    this.readyState = 2;
  }

  // ---- the server's side ----

  #fire(handler: ((event: never) => void) | null, event: unknown): void {
    (handler as Handler)?.(event);
  }

  open(): this {
    this.readyState = 1;
    this.#fire(this.onopen, { type: "open" });
    return this;
  }

  receive(data: unknown): this {
    this.#fire(this.onmessage, { type: "message", data });
    return this;
  }

  frame(frame: Record<string, unknown>): this {
    return this.receive(JSON.stringify(frame));
  }

  welcome(overrides: Partial<{ sessionId: string; userId: string; device: string; head: number; recovered: boolean; heartbeat: number }> = {}): this {
    return this.frame({
      type: "welcome",
      sessionId: `s-${FakeSocket.instances.indexOf(this)}`,
      userId: "alice",
      device: this.url.searchParams.get("device") ?? "server-picked",
      head: 0,
      recovered: true,
      ...overrides,
    });
  }

  /** open + welcome: what a successful connect looks like to the client. */
  accept(overrides: Parameters<FakeSocket["welcome"]>[0] = {}): this {
    return this.open().welcome(overrides);
  }

  message(seq: number | null, data: unknown = { n: seq }, id = `m-${seq ?? "live"}`): this {
    return this.frame({ type: "message", id, seq, data, sentAt: 1_700_000_000_000 });
  }

  serverClose(code: number, reason = ""): this {
    this.readyState = 3;
    this.#fire(this.onclose, { type: "close", code, reason, wasClean: code !== 1006 });
    return this;
  }

  /** What a failed handshake (401, 429, network down) looks like in a browser. */
  fail(): this {
    this.readyState = 3;
    this.#fire(this.onerror, { type: "error" });
    this.#fire(this.onclose, { type: "close", code: 1006, reason: "", wasClean: false });
    return this;
  }

  /** Parsed JSON frames the client sent (pings excluded). */
  jsonSent(): unknown[] {
    return this.sent.filter((s) => s !== "ping").map((s): unknown => JSON.parse(s));
  }

  get since(): string | null {
    return this.url.searchParams.get("since");
  }

  get bearer(): string | undefined {
    return this.init.protocols.find((p) => p.startsWith("bearer."))?.slice("bearer.".length);
  }
}

export const createFakeSocket = (url: string, init: SocketInit): FakeSocket => new FakeSocket(url, init);

/** A deterministic PRNG (mulberry32) so jitter tests are reproducible without mocking Math.random. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
