/**
 * npm run bench -- --overload [--cap C] — a reconnect storm at 1.5× the session cap.
 *
 * `npm run serve` (tools/serve.ts, supervised) is started with
 * SWITCHBOARD_NOFILE = 5 C + 1000, so it derives a cap of C sessions
 * (tools/lib/serveConfig.ts). Then 1.5 C clients of the SDK, one user each,
 * connect at once from `since: 0`, while stored pushes go to every user
 * (retried with the same id until answered) and /healthz is probed every
 * 100 ms:
 *
 * 1. the burst: C get in, the rest are refused 503 and back off;
 * 2. the reconnect storm: every open socket is cut at once (a network blip,
 *    `terminate()` on the client side), and all 1.5 C come back together;
 * 3. the drain: 0.5 C of the open clients leave for good, and the ones still
 *    waiting get the freed slots.
 *
 * Reported: workerd's pid (the same at the end = never restarted) and its peak
 * file descriptors against its limit, the most sessions open at once, refused
 * attempts, /healthz answers and failures, and for every client that ends
 * open whether it holds its user's whole log exactly once and in order
 * (lost / duplicated / reordered); for those that left, duplicates and order.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";
import { connect, type SwitchboardClient } from "../packages/client/src/index.ts";
import { startService } from "../scripts/lib/service.ts";
import { eventually, sleep } from "../scripts/lib/time.ts";
import { clientToken } from "../scripts/lib/tokens.ts";
import { ROOT } from "../tools/lib/workerd.ts";
import { FD_RESERVE, FDS_PER_SESSION } from "../tools/lib/serveConfig.ts";
import { intOption } from "./lib/options.ts";
import { table } from "./lib/stats.ts";
import { storedPushes, type StoredPushes } from "./lib/storedPushes.ts";

export interface OverloadResult {
  cap: number;
  clients: number;
  nofile: number;
  workerdPidStart: number;
  workerdPidEnd: number;
  workerdRestarts: number;
  peakFds: number;
  /** Most sessions open at once, as the clients saw them. */
  peakOpen: number;
  /** Upgrades refused (or failed) and retried by the SDK. */
  refusedAttempts: number;
  /** /healthz probes (10 s timeout) answered 200 / not; their slowest and 99th percentile; probes over 1 s. */
  healthOk: number;
  healthFailed: number;
  healthMaxMs: number;
  healthP99Ms: number;
  healthOver1s: number;
  burstFullMs: number;
  stormFullMs: number;
  drainAllMs: number;
  pushes: number;
  endedOpen: number;
  lost: number;
  duplicated: number;
  reordered: number;
  leftDuplicated: number;
  leftReordered: number;
  /** Lines of serve's output naming EMFILE / "Too many open files". */
  emfileLines: number;
}

interface Client {
  user: string;
  sdk: SwitchboardClient;
  sockets: WebSocket[];
  open: boolean;
  seqs: number[];
  left: boolean;
  openedAt: number;
}

/** ms until `f` holds (through `eventually`). */
async function waitFor(what: string, f: () => boolean, ms: number): Promise<number> {
  const t0 = Date.now();
  await eventually(`overload: ${what}`, f, ms, 50);
  return Date.now() - t0;
}

export async function overload(argv: string[]): Promise<OverloadResult> {
  const cap = intOption(argv, "--cap", 400);
  const clients = Math.round(cap * 1.5);
  const nofile = cap * FDS_PER_SESSION + FD_RESERVE;
  const secret = `overload-jwt-${randomBytes(24).toString("hex")}`;
  const apiKey = `overload-api-${randomBytes(12).toString("hex")}`;
  const log = (m: string) => process.stderr.write(`overload: ${m}\n`);
  const serve = await startService({ kind: "serve", direct: true, env: { JWT_SECRET: secret, API_KEY: apiKey, SWITCHBOARD_NOFILE: String(nofile) } });
  const base = serve.base;
  const out = () => serve.output();
  const all: Client[] = [];
  let stop = false;
  let pushing: StoredPushes | undefined;
  try {
    await serve.waitForOutput(/supervised/);
    const workerdPidStart = Number((await serve.waitForOutput(/workerd pid (\d+)/))[1]);
    // A restart by serve's supervisor prints "workerd back after … (pid N)".
    const pidNow = () => Number([...out().matchAll(/workerd back after \d+ ms \(pid (\d+)\)/g)].at(-1)?.[1] ?? workerdPidStart);
    log(`serve on ${base}, workerd pid ${workerdPidStart}, open-file limit ${nofile}: ${out().match(/session cap .*/)?.[0] ?? "no cap line"}`);

    // Background: /healthz every 100 ms, workerd's fds, stored pushes round-robin.
    let healthOk = 0;
    let healthFailed = 0;
    const healthMs: number[] = [];
    let peakFds = 0;
    const prober = (async () => {
      while (!stop) {
        const t = Date.now();
        try {
          const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(10_000) });
          await res.body?.cancel();
          if (res.ok) healthOk++;
          else healthFailed++;
        } catch {
          healthFailed++;
        }
        healthMs.push(Date.now() - t);
        try {
          peakFds = Math.max(peakFds, readdirSync(`/proc/${workerdPidStart}/fd`).length);
        } catch {
          // workerd gone: the pid check reports it
        }
        await sleep(100);
      }
    })();
    pushing = storedPushes(base, apiKey, clients, (i) => `ov-${i}`, 5);
    const answered = pushing.answered;

    let peakOpen = 0;
    let refusedAttempts = 0;
    const openCount = () => all.reduce((n, c) => n + (c.open ? 1 : 0), 0);
    for (let i = 0; i < clients; i++) {
      const user = `ov-${i}`;
      const sockets: WebSocket[] = [];
      const sdk = connect({
        url: base,
        device: "d0",
        since: 0,
        getToken: () => clientToken(secret, user, 3600),
        heartbeat: { intervalMs: 25_000, timeoutMs: 10_000 },
        createWebSocket: (url, init) => {
          const ws = new WebSocket(url, init.protocols, { headers: init.headers, perMessageDeflate: false });
          sockets.push(ws);
          if (sockets.length > 4) sockets.shift();
          return ws;
        },
      });
      const c: Client = { user, sdk, sockets, open: false, seqs: [], left: false, openedAt: 0 };
      sdk.on("open", () => {
        c.open = true;
        c.openedAt = Date.now();
        peakOpen = Math.max(peakOpen, openCount());
      });
      sdk.on("close", () => {
        if (c.open) c.open = false;
        else refusedAttempts++;
      });
      sdk.on("message", (m) => {
        if (m.seq !== null) c.seqs.push(m.seq);
      });
      sdk.on("error", () => undefined);
      all.push(c);
    }
    const burstFullMs = await waitFor(`the cap (${cap}) to fill`, () => openCount() >= cap, 120_000);
    log(`burst: ${clients} clients, ${openCount()} open after ${burstFullMs} ms, ${refusedAttempts} refused attempts so far`);
    await sleep(3000);

    log("storm: cutting every open socket at once");
    for (const c of all) for (const ws of c.sockets) if (ws.readyState === WebSocket.OPEN) ws.terminate();
    const tStorm = Date.now();
    const stormFullMs = await waitFor(`the cap to fill again`, () => all.filter((c) => c.open && c.openedAt > tStorm).length >= cap, 180_000);
    log(`storm: ${openCount()} open again ${stormFullMs} ms after the cut, ${refusedAttempts} refused attempts so far`);
    await sleep(3000);

    // The drain: the excess's worth of open clients leave; the waiting ones take their slots.
    const leaving = all.filter((c) => c.open).slice(0, clients - cap);
    for (const c of leaving) {
      c.left = true;
      c.sdk.close();
    }
    const staying = all.filter((c) => !c.left);
    const drainAllMs = await waitFor("every remaining client to be open", () => staying.every((c) => c.open), 180_000);
    log(`drain: ${leaving.length} left, all ${staying.length} others open ${drainAllMs} ms later (${Date.now() - tStorm} ms after the cut)`);

    await pushing.stop();
    stop = true;
    // Every answered push reaches every remaining client (delivered live or replayed), or the check below says what is missing.
    await waitFor("the last deliveries", () => staying.every((c) => (c.seqs.at(-1) ?? 0) >= (answered.get(c.user)?.at(-1) ?? 0)), 30_000).catch(() => 0);
    await prober;

    let lost = 0;
    let duplicated = 0;
    let reordered = 0;
    let leftDuplicated = 0;
    let leftReordered = 0;
    for (const c of all) {
      const got = new Set(c.seqs);
      const dups = c.seqs.length - got.size;
      let order = 0;
      for (let i = 1; i < c.seqs.length; i++) if ((c.seqs[i] ?? 0) <= (c.seqs[i - 1] ?? 0)) order++;
      if (c.left) {
        leftDuplicated += dups;
        leftReordered += order;
        continue;
      }
      duplicated += dups;
      reordered += order;
      for (const seq of answered.get(c.user) ?? []) if (!got.has(seq)) lost++;
    }
    const workerdPidEnd = pidNow();
    return {
      cap,
      clients,
      nofile,
      workerdPidStart,
      workerdPidEnd,
      workerdRestarts: out().match(/workerd back after/g)?.length ?? 0,
      peakFds,
      peakOpen,
      refusedAttempts,
      healthOk,
      healthFailed,
      healthMaxMs: Math.max(0, ...healthMs),
      healthP99Ms: [...healthMs].sort((a, b) => a - b)[Math.floor(healthMs.length * 0.99)] ?? 0,
      healthOver1s: healthMs.filter((ms) => ms > 1000).length,
      burstFullMs,
      stormFullMs,
      drainAllMs,
      pushes: pushing.count(),
      endedOpen: staying.filter((c) => c.open).length,
      lost,
      duplicated,
      reordered,
      leftDuplicated,
      leftReordered,
      emfileLines: out().match(/EMFILE|Too many open files/g)?.length ?? 0,
    };
  } finally {
    stop = true;
    for (const c of all) c.sdk.close();
    pushing?.stop().catch(() => undefined);
    await serve.stop();
  }
}

export function printOverload(r: OverloadResult): void {
  process.stdout.write(
    `overload: npm run serve with SWITCHBOARD_NOFILE=${r.nofile} (cap ${r.cap}), ${r.clients} SDK clients (1.5× the cap)\n` +
      table(
        ["figure", "value"],
        [
          ["workerd pid at start / at end; restarts", `${r.workerdPidStart} / ${r.workerdPidEnd}; ${r.workerdRestarts}`],
          ["workerd peak open files (limit); EMFILE lines in its output", `${r.peakFds} (${r.nofile}); ${r.emfileLines}`],
          ["most sessions open at once (cap)", `${r.peakOpen} (${r.cap})`],
          ["upgrades refused and retried by the SDK", String(r.refusedAttempts)],
          [
            "/healthz every 100 ms (10 s timeout): ok / failed; p99, slowest; over 1 s",
            `${r.healthOk} / ${r.healthFailed}; ${r.healthP99Ms} ms, ${r.healthMaxMs} ms; ${r.healthOver1s}`,
          ],
          ["burst: cap filled after", `${(r.burstFullMs / 1000).toFixed(1)} s`],
          ["storm (every socket cut): cap filled again after", `${(r.stormFullMs / 1000).toFixed(1)} s`],
          ["drain (0.5× cap leave): every waiting client in after", `${(r.drainAllMs / 1000).toFixed(1)} s`],
          ["stored pushes answered", String(r.pushes)],
          ["clients open at the end", String(r.endedOpen)],
          ["lost / duplicated / reordered (clients open at the end, whole log from seq 1)", `${r.lost} / ${r.duplicated} / ${r.reordered}`],
          ["duplicated / reordered (clients that left)", `${r.leftDuplicated} / ${r.leftReordered}`],
        ],
      ) +
      "\n",
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await overload(process.argv.slice(2));
  printOverload(r);
  const dir = join(ROOT, "bench/results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `overload-${r.cap}.json`), `${JSON.stringify({ at: new Date().toISOString(), ...r }, null, 2)}\n`);
  const ok =
    r.lost + r.duplicated + r.reordered + r.leftDuplicated + r.leftReordered === 0 && r.workerdRestarts === 0 && r.healthFailed === 0 && r.emfileLines === 0;
  process.exit(ok ? 0 : 1);
}
