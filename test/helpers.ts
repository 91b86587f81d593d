/** Shared test plumbing: tokens, the Worker's own fetch, and a frame-collecting socket. */
import { env, exports } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { SignJWT } from "jose";
import { expect } from "vitest";
import { shardIndex, shardName } from "../src/stats/shardKey";
import { eventually as poll } from "../scripts/lib/time.ts";

/** The one wait loop (scripts/lib/time.ts), bounded to fail inside vitest's 5 s per test, naming `what`. */
export const eventually = <T>(what: string, f: () => T | undefined | false | Promise<T | undefined | false>, ms = 4_000): Promise<T> => poll(what, f, ms, 20);

/** Wait until `read()` deep-equals `expected`; if it never does, fail with vitest's diff of the last read. */
export async function eventuallyEqual<T>(what: string, read: () => Promise<T>, expected: T): Promise<void> {
  await eventually(what, async () => JSON.stringify(await read()) === JSON.stringify(expected)).catch(() => undefined);
  expect(await read(), what).toEqual(expected);
}

export const BASE = "https://switchboard.test";
export const API_KEY = env.API_KEY;

let counter = 0;
/** A userId no other test uses, so every test's storage is its own. */
export function uniqueUser(prefix = "u"): string {
  counter++;
  return `${prefix}-${Date.now().toString(36)}-${counter}-${crypto.randomUUID().slice(0, 8)}`;
}

export async function tokenFor(
  sub: string | undefined,
  opts: { expiresIn?: number; nbf?: number; iat?: number; secret?: string; claims?: Record<string, unknown> } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT({ ...opts.claims }).setProtectedHeader({ alg: "HS256" }).setExpirationTime(now + (opts.expiresIn ?? 3600));
  if (sub !== undefined) jwt = jwt.setSubject(sub);
  if (opts.nbf !== undefined) jwt = jwt.setNotBefore(opts.nbf);
  if (opts.iat !== undefined) jwt = jwt.setIssuedAt(opts.iat);
  return jwt.sign(new TextEncoder().encode(opts.secret ?? env.JWT_SECRET));
}

export function worker(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(`${BASE}${path}`, init));
}

export function api(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has("Authorization")) headers.set("Authorization", `Bearer ${API_KEY}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("Content-Type", "application/json");
    body = JSON.stringify(init.json);
  }
  return worker(`/v1${path}`, { ...init, headers, body });
}

export async function push(userId: string, body: Record<string, unknown>): Promise<PushAnswer> {
  const res = await api(`/users/${encodeURIComponent(userId)}/messages`, { method: "POST", json: body });
  if (res.status !== 200) throw new Error(`push answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as PushAnswer;
}

/** The push route's answer: the wire type the Worker and @switchboard/server share. */
export type { PushResult as PushAnswer } from "@switchboard/protocol";
import type { PushResult as PushAnswer } from "@switchboard/protocol";

import { SocketRecorder } from "./socketRecorder";

export type Frame = { type: string; [key: string]: unknown };

/** A client socket that records every frame and close, with awaitable helpers. */
export class TestClient extends SocketRecorder<Frame> {
  constructor(
    ws: WebSocket,
    readonly response: Response,
  ) {
    super(ws, 5000);
  }

  protected parse(text: string): Frame | undefined {
    return text === "pong" ? undefined : (JSON.parse(text) as Frame);
  }

  get welcome(): Frame {
    const first = this.frames[0];
    if (first?.type !== "welcome") throw new Error("first frame is not welcome");
    return first;
  }

  messages(): Frame[] {
    return this.frames.filter((f) => f.type === "message");
  }

  async nextMessages(n: number): Promise<Frame[]> {
    await this.until(() => this.messages().length >= n, `${n} messages`);
    return this.messages();
  }

  send(data: string | ArrayBuffer): void {
    this.ws.send(data);
  }

  /**
   * A barrier: once it returns, every frame the server sent before it has arrived. A socket's
   * frames are ordered and the runtime answers the heartbeat after what the object already sent,
   * so a check that nothing more arrived needs no guessed wait.
   */
  async settled(): Promise<void> {
    const pongs = () => this.raw.filter((r) => r === "pong").length;
    const before = pongs();
    this.send("ping");
    await this.until(() => pongs() > before, "the heartbeat answer (the barrier)");
  }
}

export interface ConnectOptions {
  device?: string;
  since?: number | string;
  token?: string;
  via?: "header" | "protocol" | "query";
  origin?: string;
}

/** Open a session through the Worker's fetch (a real upgrade, not a shortcut into the object). */
export async function connectRaw(userId: string, opts: ConnectOptions = {}): Promise<Response> {
  const token = opts.token ?? (await tokenFor(userId));
  const params = new URLSearchParams();
  if (opts.device !== undefined) params.set("device", opts.device);
  if (opts.since !== undefined) params.set("since", String(opts.since));
  const headers = new Headers({ Upgrade: "websocket" });
  const via = opts.via ?? "header";
  if (via === "header") headers.set("Authorization", `Bearer ${token}`);
  if (via === "protocol") headers.set("Sec-WebSocket-Protocol", `switchboard.v1, bearer.${token}`);
  if (via === "query") params.set("token", token);
  if (opts.origin !== undefined) headers.set("Origin", opts.origin);
  return worker(`/v1/connect?${params}`, { headers });
}

/** The barrier of `TestClient.settled` on every client. */
export async function settled(...clients: TestClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.settled()));
}

export async function connect(userId: string, opts: ConnectOptions = {}): Promise<TestClient> {
  const response = await connectRaw(userId, opts);
  if (response.status !== 101 || response.webSocket === null) {
    throw new Error(`connect answered ${response.status}: ${await response.text()}`);
  }
  const client = new TestClient(response.webSocket, response);
  await client.until(() => client.frames.length > 0, "welcome");
  return client;
}

export function hubOf(userId: string) {
  return env.USER_HUB.getByName(userId);
}

/**
 * Wait until the user's stats shard counts `sessions` for it: a connect's
 * report reaches the shard after the welcome, and the shard group-commits it.
 */
export async function untilCounted(userId: string, sessions = 1): Promise<void> {
  const shard = env.STATS_SHARD.getByName(shardName(shardIndex(userId, Number(env.STATS_SHARDS))));
  await eventually(`the stats shard to count ${sessions} sessions for ${userId}`, async () => {
    const row = await runInDurableObject(
      shard,
      (_i, state) => state.storage.sql.exec<{ sessions: number }>("SELECT sessions FROM users WHERE user_id = ?", userId).toArray()[0],
    );
    return row?.sessions === sessions;
  });
}
