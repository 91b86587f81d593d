/** The load generator's sessions: connect a group of users × sessions (checked by their welcome), and close a group. */
import { performance } from "node:perf_hooks";
import WebSocket from "ws";
import { clientToken } from "../../scripts/lib/tokens.ts";
import { cpuSeconds } from "./proc.ts";
import type { CloseResult, ConnectArgs, ConnectResult, Target } from "./messages.ts";
import { groups, onFrame, type Sock, type UserEntry } from "./loadState.ts";

/** Loopback source addresses, round-robin, so many sockets never run out of ephemeral ports. */
const SOURCE_ADDRESSES = Array.from({ length: 16 }, (_, i) => `127.0.0.${i + 2}`);
let sourceNext = 0;

function connectOne(target: Target, user: UserEntry, pos: number): Promise<Sock> {
  const base = target.base.replace(/^http/, "ws");
  let url: string;
  const headers: Record<string, string> = {};
  if (target.kind === "product") {
    url = `${base}/v1/connect?device=d${pos}`;
    headers.Authorization = `Bearer ${clientToken(target.jwtSecret ?? "", user.id)}`;
  } else {
    url = `${base}/v1/connect?user=${encodeURIComponent(user.id)}`;
  }
  const localAddress = SOURCE_ADDRESSES[sourceNext++ % SOURCE_ADDRESSES.length];
  const ws = new WebSocket(url, { headers, perMessageDeflate: false, handshakeTimeout: 30_000, localAddress });
  const sock: Sock = { ws, user, pos, open: false };
  return new Promise((resolve, reject) => {
    let settled = false;
    const ready = () => {
      if (settled) return;
      settled = true;
      sock.open = true;
      resolve(sock);
    };
    ws.on("message", (data: WebSocket.RawData) => {
      const text = data.toString();
      if (!settled) {
        // The product greets every session first; anything else is a failure.
        if (text.startsWith('{"type":"welcome"')) ready();
        else {
          settled = true;
          ws.terminate();
          reject(new Error(`first frame was not welcome: ${text.slice(0, 80)}`));
        }
        return;
      }
      onFrame(sock, text);
    });
    ws.on("open", () => {
      if (target.kind === "baseline") ready();
    });
    ws.on("error", (err: Error) => {
      if (!settled) {
        settled = true;
        reject(err);
      }
    });
    ws.on("close", () => {
      if (sock.open) {
        sock.open = false;
        unexpectedCloses++;
      }
      if (!settled) {
        settled = true;
        reject(new Error("closed before ready"));
      }
    });
  });
}

export let unexpectedCloses = 0;

export async function connect(a: ConnectArgs): Promise<ConnectResult> {
  let group = groups.get(a.group);
  if (group === undefined) {
    group = { target: a.target, users: [] };
    groups.set(a.group, group);
  }
  const jobs: Array<{ user: UserEntry; pos: number }> = [];
  for (let i = a.firstUser; i < a.firstUser + a.users; i++) {
    const user: UserEntry = { id: `${a.userPrefix}${i}`, socks: [] };
    group.users.push(user);
    for (let pos = 0; pos < a.sessionsPerUser; pos++) jobs.push({ user, pos });
  }
  const errors: string[] = [];
  let opened = 0;
  let failed = 0;
  const cpu0 = cpuSeconds(a.target.pid);
  const load0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      if (job === undefined) break;
      try {
        const sock = await connectOne(a.target, job.user, job.pos);
        job.user.socks[job.pos] = sock;
        opened++;
      } catch (err) {
        failed++;
        if (errors.length < 5) errors.push(String((err as Error).message ?? err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(a.concurrency, jobs.length) }, worker));
  const wallMs = performance.now() - t0;
  const serverCpuS = cpuSeconds(a.target.pid) - cpu0;
  const load = process.cpuUsage(load0);
  // A failed slot leaves a hole: compact so positions stay dense.
  for (const user of group.users) {
    user.socks = user.socks.filter((s): s is Sock => s !== undefined);
    user.socks.forEach((s, i) => (s.pos = i));
  }
  return { opened, failed, errors, wallMs, serverCpuS, loadCpuS: (load.user + load.system) / 1e6 };
}

export async function close(name: string): Promise<CloseResult> {
  const group = groups.get(name);
  groups.delete(name);
  if (group === undefined) return { closed: 0, wallMs: 0 };
  const t0 = performance.now();
  const waits: Array<Promise<void>> = [];
  for (const user of group.users) {
    for (const sock of user.socks) {
      sock.open = false; // expected from here on
      waits.push(
        new Promise<void>((resolve) => {
          if (sock.ws.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => {
            sock.ws.terminate();
            resolve();
          }, 10_000);
          sock.ws.once("close", () => {
            clearTimeout(timer);
            resolve();
          });
          try {
            sock.ws.close(1000, "bench done");
          } catch {
            sock.ws.terminate();
          }
        }),
      );
    }
  }
  await Promise.all(waits);
  return { closed: waits.length, wallMs: performance.now() - t0 };
}
