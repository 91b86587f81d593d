/** Plumbing for the Pusher dialect's in-runtime tests: a raw Pusher socket, auth strings, signed API calls. */
import { env } from "cloudflare:workers";
import { channelAuth, md5Hex, userAuth } from "../src/pusher/auth";
import { hmacHex } from "../src/util/hmac";
import { worker } from "./helpers";
import { SocketRecorder } from "./socketRecorder";

// Set in vitest.config.ts (TEST_BINDINGS); not in the generated Env type, which follows wrangler.toml.
const vars = env as unknown as Record<string, string>;
export const APP_ID = vars.PUSHER_APP_ID ?? "";
export const KEY = vars.PUSHER_KEY ?? "";
export const SECRET = vars.PUSHER_SECRET ?? "";

export interface PusherFrame {
  event: string;
  channel?: string;
  data: unknown;
}

/** A Pusher socket that records every frame (data parsed when it is JSON text, as pusher-js does) and its close. */
export class PusherClient extends SocketRecorder<PusherFrame> {
  constructor(ws: WebSocket) {
    super(ws, 3000);
  }

  protected parse(text: string): PusherFrame {
    const frame = JSON.parse(text) as PusherFrame;
    if (typeof frame.data === "string") {
      try {
        frame.data = JSON.parse(frame.data) as unknown;
      } catch {
        // data that is not JSON stays a string (pusher-js does the same)
      }
    }
    return frame;
  }

  get socketId(): string {
    const first = this.frames[0];
    if (first?.event !== "pusher:connection_established") throw new Error("first frame is not connection_established");
    return (first.data as { socket_id: string }).socket_id;
  }

  readonly #taken = new Map<string, number>();

  /** The first frame of `event` (on `channel`) not yet returned by next(): arrived already, or the next to arrive. */
  async next(event: string, channel?: string): Promise<PusherFrame> {
    const key = `${event}\n${channel ?? "*"}`;
    const n = this.#taken.get(key) ?? 0;
    this.#taken.set(key, n + 1);
    const match = (f: PusherFrame) => f.event === event && (channel === undefined || f.channel === channel);
    await this.until(() => this.frames.filter(match).length > n, event);
    return this.frames.filter(match)[n] as PusherFrame;
  }

  /** Frames of `event` so far. */
  all(event: string): PusherFrame[] {
    return this.frames.filter((f) => f.event === event);
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  async signin(userId: string, extra: Record<string, unknown> = {}): Promise<PusherFrame> {
    const userData = JSON.stringify({ id: userId, ...extra });
    const waiting = this.next("pusher:signin_success");
    this.send({ event: "pusher:signin", data: { auth: await userAuth(KEY, SECRET, this.socketId, userData), user_data: userData } });
    return waiting;
  }

  /** signin, then `#server-to-user-{id}` as pusher-js does. */
  async signinAndSubscribe(userId: string): Promise<void> {
    await this.signin(userId);
    const channel = `#server-to-user-${userId}`;
    const ok = this.next("pusher_internal:subscription_succeeded", channel);
    this.send({ event: "pusher:subscribe", data: { channel, auth: "" } });
    await ok;
  }

  async subscribePrivate(channel: string, auth?: string): Promise<PusherFrame> {
    const answers = () =>
      this.frames.filter((f) => f.channel === channel && (f.event === "pusher_internal:subscription_succeeded" || f.event === "pusher:subscription_error"));
    const before = answers().length;
    this.send({ event: "pusher:subscribe", data: { channel, auth: auth ?? (await channelAuth(KEY, SECRET, this.socketId, channel)) } });
    await this.until(() => answers().length > before, `answer to subscribing ${channel}`);
    return answers()[before] as PusherFrame;
  }
}

export function pusherPath(userId: string, key = KEY, query = "protocol=7&client=js&version=8.6.0&flash=false"): string {
  return `/pusher/users/${encodeURIComponent(userId)}/app/${key}?${query}`;
}

export function upgradeRaw(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return worker(path, { headers: { Upgrade: "websocket", ...headers } });
}

/** Dial as pusher-js does and wait for the first frame (or the close). */
export async function pusherConnect(userId: string, key = KEY, query?: string): Promise<PusherClient> {
  const res = await upgradeRaw(pusherPath(userId, key, query));
  if (res.status !== 101 || res.webSocket === null) throw new Error(`upgrade answered ${res.status}: ${await res.text()}`);
  const client = new PusherClient(res.webSocket);
  await client.until(() => client.frames.length > 0 || client.closed !== undefined, "first frame");
  return client;
}

/** A request signed as pusher-http-node signs it (lib/requests.js), with overrides to break it. */
export async function signedApi(
  method: string,
  path: string,
  body: unknown,
  o: { secret?: string; key?: string; timestamp?: number; bodyMd5?: string; version?: string; tamperBody?: string } = {},
): Promise<Response> {
  const text = body === undefined ? "" : JSON.stringify(body);
  const params: Record<string, string> = {
    auth_key: o.key ?? KEY,
    auth_timestamp: String(o.timestamp ?? Math.floor(Date.now() / 1000)),
    auth_version: o.version ?? "1.0",
  };
  if (text !== "") params.body_md5 = o.bodyMd5 ?? (await md5Hex(text));
  const query = Object.keys(params)
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join("&");
  const signature = await hmacHex(o.secret ?? SECRET, `${method}\n${path}\n${query}`);
  return worker(`${path}?${query}&auth_signature=${signature}`, {
    method,
    headers: { "Content-Type": "application/json" },
    body: o.tamperBody ?? (text === "" ? undefined : text),
  });
}

export function trigger(body: Record<string, unknown>, o: Parameters<typeof signedApi>[3] = {}): Promise<Response> {
  return signedApi("POST", `/apps/${APP_ID}/events`, body, o);
}
