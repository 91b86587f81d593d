/**
 * Closes the server starts complete at once, over real sockets, on both
 * runtimes (standalone workerd as `npm run serve` runs it, and `wrangler dev`),
 * with the `ws` package and Node's built-in WebSocket (Chromium: e2e/closeLatency.test.ts).
 *
 * Why this needs real sockets: on a hibernatable WebSocket whose client has
 * sent nothing yet, the runtime's pipe keeps pumping after the client's close
 * reply (kj `WebSocketPipe`, `BlockedReceive::tryPumpFrom` does not stop at a
 * Close) and the TCP connection is only dropped when the idle object is
 * evicted ~10 s later; the vitest plugin's in-runtime sockets have no such
 * pipe. Clients avoid it by sending one frame after opening (the SDK sends
 * `ping`; docs/protocol.md tells raw clients to), which these clients do.
 *
 * The bound below is not a speed target: the failure it catches is a hang of
 * ~10 s (the object's eviction), so it sits far from both.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WsWebSocket from "ws";
import { connect as sdkConnect } from "../../packages/client/src/index.ts";
import { type Service, startService } from "../../scripts/lib/service.ts";
import { claimsFor, hs256 } from "../../scripts/lib/tokens.ts";
import { ROOT } from "../../tools/lib/workerd.ts";

/** Far above a prompt close (tens of ms) and far below the ~10 s hang this guards against. */
const HANG_BOUND_MS = 4000;

interface Runtime {
  name: string;
  base: string;
  apiKey: string;
  token(user: string, ttlSeconds: number): Promise<string>;
}

/** Raw clients that follow the protocol's rule (one frame after open), and the SDK on each transport. */
type ClientKind = "ws" | "node" | "sdk+ws" | "sdk+node";
const KINDS: ClientKind[] = ["ws", "node", "sdk+ws", "sdk+node"];

interface Opened {
  closed: Promise<{ code: number; reason: string; at: number }>;
  send(text: string): void;
}

/** Open a client and wait for `welcome`; raw clients then send the one `ping` the protocol asks for. */
async function open(kind: ClientKind, rt: Runtime, user: string, ttlSeconds = 3600): Promise<Opened> {
  const token = await rt.token(user, ttlSeconds);
  if (kind === "sdk+ws" || kind === "sdk+node") return openSdk(kind, rt, token);
  const url = `${rt.base.replace(/^http/, "ws")}/v1/connect?device=d-${randomBytes(3).toString("hex")}`;
  let welcomed!: () => void;
  const welcome = new Promise<void>((r) => (welcomed = r));
  let closedResolve!: (v: { code: number; reason: string; at: number }) => void;
  const closed = new Promise<{ code: number; reason: string; at: number }>((r) => (closedResolve = r));
  let ponged!: () => void;
  const pong = new Promise<void>((r) => (ponged = r));
  const onFrame = (data: unknown) => {
    if (String(data).includes('"welcome"')) welcomed();
    if (String(data) === "pong") ponged();
  };
  let send: (text: string) => void;
  if (kind === "ws") {
    const ws = new WsWebSocket(url, ["switchboard.v1", `bearer.${token}`]);
    ws.on("message", (d) => onFrame(d));
    ws.on("close", (code, reason) => closedResolve({ code, reason: reason.toString(), at: Date.now() }));
    send = (t) => ws.send(t);
  } else {
    const ws = new WebSocket(url, ["switchboard.v1", `bearer.${token}`]);
    ws.onmessage = (e) => onFrame(e.data);
    ws.onclose = (e) => closedResolve({ code: e.code, reason: e.reason, at: Date.now() });
    send = (t) => ws.send(t);
  }
  await welcome;
  send("ping");
  // The pong comes back through the same pipe: once it has, the frame has passed it.
  await pong;
  return { closed, send: (t) => send(t) };
}

/** The SDK, with no help from the test: whatever it needs to send, it sends by itself. */
async function openSdk(kind: "sdk+ws" | "sdk+node", rt: Runtime, token: string): Promise<Opened> {
  const client = sdkConnect({
    url: rt.base,
    token,
    device: `d-${randomBytes(3).toString("hex")}`,
    ...(kind === "sdk+ws" ? { createWebSocket: (url, { protocols, headers }) => new WsWebSocket(url, protocols, { headers }) } : {}),
  });
  const closed = new Promise<{ code: number; reason: string; at: number }>((resolve) =>
    client.on("close", (e) => {
      if (!e.willReconnect || e.code !== 1006) resolve({ code: e.code, reason: e.reason, at: Date.now() });
    }),
  );
  await new Promise<void>((resolve) => client.once("open", () => resolve()));
  return {
    closed: closed.finally(() => client.close()),
    send: () => {
      throw new Error("the SDK sends its own frames");
    },
  };
}

function api(rt: Runtime, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${rt.base}${path}`, { ...init, headers: { Authorization: `Bearer ${rt.apiKey}`, "Content-Type": "application/json" } });
}

const runtimes: Runtime[] = [];
let svc: Service | undefined;
let dev: Service | undefined;

beforeAll(async () => {
  const secret = `close-jwt-${randomBytes(24).toString("hex")}`;
  const apiKey = `close-api-${randomBytes(12).toString("hex")}`;
  svc = await startService({ kind: "workerd", knobs: { JWT_SECRET: secret, API_KEY: apiKey, DEV_MODE: "0" } });
  runtimes.push({ name: "standalone workerd", base: svc.base, apiKey, token: (u, ttl) => hs256(claimsFor(u, ttl), secret) });
  dev = await startService({ kind: "wrangler" });
  const devVars = readFileSync(join(ROOT, ".dev.vars"), "utf8");
  const devKey = /^API_KEY=(.*)$/m.exec(devVars)?.[1]?.trim() ?? "";
  const devBase = dev.base;
  runtimes.push({
    name: "wrangler dev",
    base: devBase,
    apiKey: devKey,
    token: async (u, ttl) => {
      const res = await fetch(`${devBase}/dev/token?user=${u}&ttl=${ttl}`);
      return ((await res.json()) as { token: string }).token;
    },
  });
}, 180_000);

afterAll(async () => {
  await svc?.kill("SIGKILL");
  await dev?.stop();
});

describe.each(["standalone workerd", "wrangler dev"])("closes the server starts complete at once on %s", (name) => {
  const rt = () => runtimes.find((r) => r.name === name) as Runtime;

  it.each(KINDS)("a kick (4001) with the %s client", async (kind) => {
    const user = `close-kick-${kind.replace("+", "-")}-${randomBytes(3).toString("hex")}`;
    const a = await open(kind, rt(), user);
    const b = await open(kind, rt(), user);
    const t0 = Date.now();
    const res = await api(rt(), `/v1/users/${user}/sessions`, { method: "DELETE" });
    expect(await res.json()).toEqual({ closed: 2 });
    for (const c of [await a.closed, await b.closed]) {
      expect(c).toMatchObject({ code: 4001, reason: "closed by server" });
      expect(c.at - t0).toBeLessThan(HANG_BOUND_MS);
    }
  });

  it.each(KINDS)("a token expiry (1008, from the alarm) with the %s client", async (kind) => {
    const user = `close-exp-${kind.replace("+", "-")}-${randomBytes(3).toString("hex")}`;
    const t0 = Date.now();
    const a = await open(kind, rt(), user, 3);
    const c = await a.closed;
    expect(c).toMatchObject({ code: 1008, reason: "token expired" });
    // exp is 3 s after the mint, in whole seconds: due by t0 + 4 s.
    expect(c.at - t0).toBeLessThan(4000 + HANG_BOUND_MS);
  });

  it.each(["ws", "node"] as const)("a frame-triggered close (4029, too many frames) with the %s client", async (kind) => {
    const user = `close-flood-${kind.replace("+", "-")}-${randomBytes(3).toString("hex")}`;
    const a = await open(kind, rt(), user);
    const t0 = Date.now();
    for (let i = 0; i < 200; i++) a.send(JSON.stringify({ type: "ack", seq: 0 }));
    const c = await a.closed;
    expect(c.code).toBe(4029);
    expect(c.at - t0).toBeLessThan(HANG_BOUND_MS);
  });
});
