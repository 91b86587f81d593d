/**
 * node bench/pusher.ts [--pushes N] [--rounds R] [--pings N] — what a Pusher push and a Pusher
 * heartbeat cost next to native ones, on standalone workerd (on-disk storage).
 *
 * Pushes: one user with one subscribed socket of each dialect; N pushes per
 * kind per round, sequential (latency) then 16 in flight (throughput), kinds
 * interleaved per round: native live-only (ttl 0), native stored, Pusher
 * (POST /apps/{id}/events to #server-to-user-{id}, sent and signed by the `pusher` SDK's
 * sendToUser over a keep-alive agent, as native pushes go over fetch's).
 * workerd's CPU (utime+stime from /proc) per push is reported beside the wall
 * time. Every socket must have received every push (checked at the end).
 *
 * Heartbeats: N pings per mode, measured as workerd CPU per ping:
 *   native "ping" (runtime auto-response), Pusher ping on a Pusher-only user
 *   (auto-response), Pusher ping on a user that also has a native socket (the
 *   handler answers it: the object runs). Whether the handler ran shows in the
 *   frame budget: 60 pings in a burst close the socket (4100) only if it did.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { Agent } from "node:http";
import { performance } from "node:perf_hooks";
import PusherServer from "pusher";
import WebSocket from "ws";
import { type Service, startService } from "../scripts/lib/service.ts";
import { eventually } from "../scripts/lib/time.ts";
import { claimsFor, hs256 } from "../scripts/lib/tokens.ts";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const PUSHES = arg("pushes", 300);
const ROUNDS = arg("rounds", 3);
const PINGS = arg("pings", 2000);
const CONCURRENCY = 16;

const APP_ID = "bench-app";
const KEY = "bench-key";
const SECRET = "bench-secret-0123456789";
const API_KEY = "bench-api-key-0123456789";
const JWT_SECRET = "bench-jwt-secret-0123456789abcdef";
const PUSHER_PING = '{"event":"pusher:ping","data":{}}';

const TICK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICK;
}

/** The push API's answer, from fetch (native) or from the SDK (node-fetch): what the bench reads of it. */
interface Answer {
  status: number;
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

const sdks = new Map<Service, PusherServer>();
/** The `pusher` SDK pointed at this service: it signs the HTTP API calls and the user sign-in. */
function sdk(service: Service): PusherServer {
  let s = sdks.get(service);
  if (s === undefined) {
    s = new PusherServer({
      appId: APP_ID,
      key: KEY,
      secret: SECRET,
      host: "127.0.0.1",
      port: String(service.port),
      useTLS: false,
      agent: new Agent({ keepAlive: true }),
    });
    sdks.set(service, s);
  }
  return s;
}

class Socket {
  frames = 0;
  /** Pushes received (either dialect's message frames). */
  pushes = 0;
  text: string[] = [];
  closed: number | undefined;
  readonly ws: WebSocket;
  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on("message", (m) => {
      this.frames++;
      const t = m.toString();
      // Read proofs, as the real clients give them: pusher-js answers a server ping; the native SDK acks.
      if (t === '{"event":"pusher:ping","data":{}}') ws.send('{"event":"pusher:pong","data":{}}');
      if (t.startsWith('{"type":"message"') || t.startsWith('{"event":"bench"') || t.startsWith('{"event":"switchboard:message"')) {
        this.pushes++;
        if (this.pushes % 100 === 0 && t.startsWith('{"type"')) ws.send('{"type":"ack","seq":0}');
      }
      if (this.text.length < 8) this.text.push(t);
      this.last = t;
    });
    ws.on("close", (code) => (this.closed = code));
  }
  last = "";
  static async open(url: string, headers: Record<string, string> = {}): Promise<Socket> {
    const s = new Socket(new WebSocket(url, { headers }));
    await until(() => s.frames > 0 || s.closed !== undefined, "first frame");
    return s;
  }
  async waitFrames(n: number, what: string): Promise<void> {
    await until(() => this.frames >= n, what, 60_000);
  }
}

/** `eventually` at the resolution a round-trip measurement needs. */
async function until(f: () => boolean, what: string, ms = 10_000): Promise<void> {
  await eventually(what, f, ms, 5);
}

async function pusherSocket(service: Service, user: string, signin: boolean): Promise<Socket> {
  const s = await Socket.open(`${service.wsBase}/pusher/users/${user}/app/${KEY}?protocol=7&client=js&version=8.6.0`);
  const established = JSON.parse(s.text[0] ?? "{}") as { data: string };
  const socketId = (JSON.parse(established.data) as { socket_id: string }).socket_id;
  if (signin) {
    s.ws.send(JSON.stringify({ event: "pusher:signin", data: sdk(service).authenticateUser(socketId, { id: user }) }));
    s.ws.send(JSON.stringify({ event: "pusher:subscribe", data: { channel: `#server-to-user-${user}`, auth: "" } }));
    await s.waitFrames(3, "signin + subscription");
  }
  return s;
}

async function nativeSocket(service: Service, user: string): Promise<Socket> {
  return Socket.open(`${service.wsBase}/v1/connect`, { Authorization: `Bearer ${await hs256(claimsFor(user, 3600), JWT_SECRET)}` });
}

type Kind = "native-live" | "native-stored" | "pusher";
function pushOnce(service: Service, kind: Kind, user: string, n: number): Promise<Answer> {
  const data = { n, text: "x".repeat(64) };
  // sendToUser: the SDK's trigger() refuses '#' channels; it throws on an answer other than 2xx.
  if (kind === "pusher") return sdk(service).sendToUser(user, "bench", data);
  return fetch(`${service.base}/v1/users/${user}/messages`, {
    method: "POST",
    headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify({ data, ttl: kind === "native-live" ? 0 : 3600 }),
  });
}

interface Sample {
  seqUsPerPush: number;
  seqCpuUsPerPush: number;
  concPushesPerS: number;
  concCpuUsPerPush: number;
}

async function measure(service: Service, kind: Kind, user: string): Promise<Sample> {
  const pid = service.pid ?? 0;
  let n = 0;
  let cpu0 = cpuMs(pid);
  let t0 = performance.now();
  for (let i = 0; i < PUSHES; i++) {
    const res = await pushOnce(service, kind, user, n++);
    if (res.status !== 200) throw new Error(`${kind} push answered ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
  }
  const seqWall = performance.now() - t0;
  const seqCpu = cpuMs(pid) - cpu0;
  cpu0 = cpuMs(pid);
  t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < PUSHES) {
        next++;
        const res = await pushOnce(service, kind, user, n++);
        if (res.status !== 200) throw new Error(`${kind} push answered ${res.status}`);
        await res.arrayBuffer();
      }
    }),
  );
  const concWall = performance.now() - t0;
  const concCpu = cpuMs(pid) - cpu0;
  return {
    seqUsPerPush: (seqWall * 1000) / PUSHES,
    seqCpuUsPerPush: (seqCpu * 1000) / PUSHES,
    concPushesPerS: (PUSHES * 1000) / concWall,
    concCpuUsPerPush: (concCpu * 1000) / PUSHES,
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

const ROUND_MS = 67;
/** One ping per socket per round, every answer awaited, rounds at least ROUND_MS apart; workerd CPU (us) for `total` pings. */
async function pingRounds(service: Service, sockets: Socket[], ping: string, total: number): Promise<number> {
  const pid = service.pid ?? 0;
  const cpu0 = cpuMs(pid);
  const base = sockets.map((s) => s.frames);
  for (let round = 1; round * sockets.length <= total; round++) {
    const t0 = performance.now();
    for (const s of sockets) s.ws.send(ping);
    await until(() => sockets.every((s, i) => s.frames >= (base[i] as number) + round || s.closed !== undefined), "pongs");
    if (sockets.some((s) => s.closed !== undefined)) throw new Error(`a socket closed during pings: ${sockets.find((s) => s.closed)?.closed}`);
    const wait = ROUND_MS - (performance.now() - t0);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  return (cpuMs(pid) - cpu0) * 1000;
}

async function main(): Promise<void> {
  const service = await startService({
    kind: "workerd",
    knobs: { JWT_SECRET, API_KEY, PUSHER_APP_ID: APP_ID, PUSHER_KEY: KEY, PUSHER_SECRET: SECRET, MAX_FRAMES_PER_SECOND: "20" },
  });
  try {
    const user = `bench-${Date.now().toString(36)}`;
    const p = await pusherSocket(service, user, true);
    const nat = await nativeSocket(service, user);
    const kinds: Kind[] = ["native-live", "native-stored", "pusher"];
    const samples: Record<Kind, Sample[]> = { "native-live": [], "native-stored": [], pusher: [] };
    // Warm up every path once.
    for (const kind of kinds) for (let i = 0; i < 30; i++) await (await pushOnce(service, kind, user, -1)).arrayBuffer();
    for (let r = 0; r < ROUNDS; r++) for (const kind of kinds) samples[kind].push(await measure(service, kind, user));
    const total = 30 * 3 + ROUNDS * kinds.length * PUSHES * 2;
    await until(() => p.pushes >= total, "every push at the Pusher socket", 60_000);
    await until(() => nat.pushes >= total, "every push at the native socket", 60_000);
    console.log(`pushes: ${PUSHES} per kind per round, ${ROUNDS} rounds (medians); both sockets received all ${total}`);
    for (const kind of kinds) {
      const m = (f: (s: Sample) => number) => median(samples[kind].map(f)).toFixed(0);
      console.log(
        `  ${kind.padEnd(14)} sequential ${m((s) => s.seqUsPerPush)} us/push (workerd CPU ${m((s) => s.seqCpuUsPerPush)} us)` +
          ` | ${CONCURRENCY} in flight ${m((s) => s.concPushesPerS)} pushes/s (workerd CPU ${m((s) => s.concCpuUsPerPush)} us/push)`,
      );
    }
    nat.ws.close();
    p.ws.close();

    // Heartbeats: 10 users per mode, one ping per socket per round, rounds paced to 15 pings/s per socket
    // (under MAX_FRAMES_PER_SECOND, which the handled mode is subject to); the same span idle is subtracted.
    const mode = async (make: () => Promise<Socket>, ping: string) => {
      const sockets = await Promise.all(Array.from({ length: 10 }, make));
      const cpu = await pingRounds(service, sockets, ping, PINGS);
      return { sockets, cpu };
    };
    const stamp = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const native = await mode(async () => nativeSocket(service, `hb-n-${stamp()}`), "ping");
    const pusherOnly = await mode(async () => pusherSocket(service, `hb-p-${stamp()}`, true), PUSHER_PING);
    const extra: Socket[] = [];
    const mixed = await mode(async () => {
      const u = `hb-m-${stamp()}`;
      const s = await pusherSocket(service, u, true);
      extra.push(await nativeSocket(service, u));
      return s;
    }, PUSHER_PING);
    const idleMs = (PINGS / 10) * ROUND_MS;
    const pid = service.pid ?? 0;
    const idle0 = cpuMs(pid);
    await new Promise((r) => setTimeout(r, idleMs));
    const idleCpuUs = (cpuMs(pid) - idle0) * 1000;
    const perPing = (cpuUs: number) => ((cpuUs - idleCpuUs) / PINGS).toFixed(1);
    // Budget probe: a burst of 60 frames (budget: 20/s, burst 40) closes the socket only if the handler saw them.
    const burst = async (s: Socket, ping: string) => {
      for (let i = 0; i < 60; i++) s.ws.send(ping);
      await until(() => s.closed !== undefined || s.last.includes("pong"), "burst answers");
      await new Promise((r) => setTimeout(r, 500));
      return s.closed;
    };
    const pusherOnlyClosed = await burst(pusherOnly.sockets[0] as Socket, PUSHER_PING);
    const mixedClosed = await burst(mixed.sockets[0] as Socket, PUSHER_PING);
    console.log(
      `heartbeats: ${PINGS} pings per mode over 10 users (15/s per socket), workerd CPU per ping beyond idle (idle: ${(idleCpuUs / 1000).toFixed(0)} ms over ${(idleMs / 1000).toFixed(1)} s)`,
    );
    console.log(`  native "ping" (auto-response)                     ${perPing(native.cpu)} us`);
    console.log(`  pusher:ping, Pusher-only users (auto-response)    ${perPing(pusherOnly.cpu)} us; 60-ping burst closed: ${pusherOnlyClosed ?? "no"}`);
    console.log(`  pusher:ping, users with a native socket too       ${perPing(mixed.cpu)} us; 60-ping burst closed: ${mixedClosed ?? "no"} (the handler ran)`);
    for (const s of [...native.sockets, ...pusherOnly.sockets, ...mixed.sockets, ...extra]) s.ws.close();
  } finally {
    await service.stop();
  }
}

await main();
