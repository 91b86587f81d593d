/**
 * node bench/pusher.ts [--pushes N] [--rounds R] [--pings N] — what a Pusher push and a Pusher
 * heartbeat cost next to native ones, on standalone workerd (on-disk storage).
 *
 * Pushes: one user with one subscribed socket of each dialect; N pushes per
 * kind per round, sequential (latency) then 16 in flight (throughput), kinds
 * interleaved per round: native live-only (ttl 0), native stored, Pusher
 * (POST /apps/{id}/events to #server-to-user-{id}, signed as the SDKs sign).
 * workerd's CPU (utime+stime from /proc) per push is reported beside the wall
 * time. Every socket must have received every push (checked at the end).
 *
 * Heartbeats: N pings per mode, measured as workerd CPU per ping:
 *   native "ping" (runtime auto-response), Pusher ping on a Pusher-only user
 *   (auto-response), Pusher ping on a user that also has a native socket (the
 *   handler answers it: the object runs). Whether the handler ran shows in the
 *   frame budget: 60 pings in a burst close the socket (4100) only if it did.
 */
import { createHash, createHmac } from "node:crypto";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import WebSocket from "ws";
import { Service } from "../scripts/lib/service.ts";
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

const hmac = (text: string) => createHmac("sha256", SECRET).update(text).digest("hex");

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

async function until(f: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!f()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function pusherSocket(service: Service, user: string, signin: boolean): Promise<Socket> {
  const s = await Socket.open(`${service.wsBase}/pusher/users/${user}/app/${KEY}?protocol=7&client=js&version=8.6.0`);
  const established = JSON.parse(s.text[0] ?? "{}") as { data: string };
  const socketId = (JSON.parse(established.data) as { socket_id: string }).socket_id;
  if (signin) {
    const userData = JSON.stringify({ id: user });
    s.ws.send(JSON.stringify({ event: "pusher:signin", data: { auth: `${KEY}:${hmac(`${socketId}::user::${userData}`)}`, user_data: userData } }));
    s.ws.send(JSON.stringify({ event: "pusher:subscribe", data: { channel: `#server-to-user-${user}`, auth: "" } }));
    await s.waitFrames(3, "signin + subscription");
  }
  return s;
}

async function nativeSocket(service: Service, user: string): Promise<Socket> {
  return Socket.open(`${service.wsBase}/v1/connect`, { Authorization: `Bearer ${await hs256(claimsFor(user, 3600), JWT_SECRET)}` });
}

function signedUrl(service: Service, path: string, body: string): string {
  const params = `auth_key=${KEY}&auth_timestamp=${Math.floor(Date.now() / 1000)}&auth_version=1.0&body_md5=${createHash("md5").update(body).digest("hex")}`;
  return `${service.base}${path}?${params}&auth_signature=${hmac(`POST\n${path}\n${params}`)}`;
}

type Kind = "native-live" | "native-stored" | "pusher";
function pushOnce(service: Service, kind: Kind, user: string, n: number): Promise<Response> {
  const data = { n, text: "x".repeat(64) };
  if (kind === "pusher") {
    const body = JSON.stringify({ name: "bench", data: JSON.stringify(data), channels: [`#server-to-user-${user}`] });
    return fetch(signedUrl(service, `/apps/${APP_ID}/events`, body), { method: "POST", headers: { "Content-Type": "application/json" }, body });
  }
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

/** Batches of 10 pings, each batch answered before the next; `paceMs` between batches keeps handled pings under the frame budget (20/s). */
async function pings(service: Service, s: Socket, ping: string, count: number, paceMs = 0): Promise<number> {
  const pid = service.pid ?? 0;
  const before = s.frames;
  const cpu0 = cpuMs(pid);
  for (let i = 0; i < count; i += 10) {
    for (let j = 0; j < 10; j++) s.ws.send(ping);
    await s.waitFrames(before + i + 10, "pongs");
    if (paceMs > 0) await new Promise((r) => setTimeout(r, paceMs));
  }
  return ((cpuMs(pid) - cpu0) * 1000) / count;
}

async function main(): Promise<void> {
  const service = await Service.start({
    port: 9280,
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

    // Heartbeats.
    const u1 = `hb-native-${Date.now().toString(36)}`;
    const n1 = await nativeSocket(service, u1);
    const nativeCpu = await pings(service, n1, "ping", PINGS);
    const u2 = `hb-pusher-${Date.now().toString(36)}`;
    const p2 = await pusherSocket(service, u2, true);
    const pusherOnlyCpu = await pings(service, p2, PUSHER_PING, PINGS);
    const u3 = `hb-mixed-${Date.now().toString(36)}`;
    const p3 = await pusherSocket(service, u3, true);
    const n3 = await nativeSocket(service, u3);
    const paced = Math.min(PINGS, 200);
    const mixedCpu = await pings(service, p3, PUSHER_PING, paced, 600);
    // The same pacing on the auto-answered path, so idle time is priced alike.
    const pusherOnlyPacedCpu = await pings(service, p2, PUSHER_PING, paced, 600);
    // Budget probe: a burst of 60 frames (budget: 20/s, burst 40) closes the socket only if the handler saw them.
    const burst = async (s: Socket, ping: string) => {
      for (let i = 0; i < 60; i++) s.ws.send(ping);
      await until(() => s.closed !== undefined || s.last.includes("pong"), "burst answers");
      await new Promise((r) => setTimeout(r, 500));
      return s.closed;
    };
    const pusherOnlyClosed = await burst(await pusherSocket(service, `hb-burst-p-${Date.now().toString(36)}`, true), PUSHER_PING);
    const u4 = `hb-burst-m-${Date.now().toString(36)}`;
    const p4 = await pusherSocket(service, u4, true);
    const n4 = await nativeSocket(service, u4);
    const mixedClosed = await burst(p4, PUSHER_PING);
    n4.ws.close();
    console.log(`heartbeats: ${PINGS} pings each (workerd CPU per ping)`);
    console.log(`  native "ping" (auto-response)                     ${nativeCpu.toFixed(1)} us`);
    console.log(`  pusher:ping, Pusher-only user (auto-response)     ${pusherOnlyCpu.toFixed(1)} us; 60-ping burst closed: ${pusherOnlyClosed ?? "no"}`);
    console.log(`  paced (${paced} pings, 10 per 0.6 s):`);
    console.log(`  pusher:ping, Pusher-only user (auto-response)     ${pusherOnlyPacedCpu.toFixed(1)} us`);
    console.log(`  pusher:ping, user also has a native socket        ${mixedCpu.toFixed(1)} us; 60-ping burst closed: ${mixedClosed ?? "no"}`);
    for (const s of [n1, p2, p3, n3]) s.ws.close();
  } finally {
    await service.stop();
  }
}

await main();
