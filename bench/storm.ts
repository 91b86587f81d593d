/**
 * npm run bench -- --storm [--users U] [--devices K] — a reconnect storm.
 *
 * U users × K devices connect through the client SDK (Node 22's WebSocket) to
 * Switchboard on standalone workerd. Then every socket is dropped at once —
 * workerd is killed and started again on the same data dir, which is what a
 * deploy does to every WebSocket on Cloudflare — and every SDK reconnects on
 * its own full-jitter backoff, resuming from the last seq it saw. Stored
 * pushes keep going in all the while (retried with the same id until
 * answered). Reported: time until 99 % and 100 % of sessions are back, the
 * peak connect rate, presence-report failures the Worker logged, how long
 * /v1/stats takes to be right again, and whether any answered push was lost,
 * duplicated or reordered on any device.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { connect, type SwitchboardClient } from "../packages/client/src/index.ts";
import { startService } from "../scripts/lib/service.ts";
import { eventually, sleep } from "../scripts/lib/time.ts";
import { claimsFor, hs256 } from "../scripts/lib/tokens.ts";
import { ROOT } from "../tools/lib/workerd.ts";
import { intOption } from "./lib/options.ts";
import { table } from "./lib/stats.ts";
import { storedPushes } from "./lib/storedPushes.ts";

export interface StormResult {
  users: number;
  devices: number;
  sessions: number;
  /** ms from the kill until the first session was back (workerd serving again). */
  firstBackMs: number;
  /** ms from the kill to 99 % / 100 % of sessions open again. */
  back99Ms: number;
  back100Ms: number;
  /** Most sessions welcomed in any one second of the storm. */
  peakConnectsPerS: number;
  /** ms from the kill until /v1/stats counted every session and user again. */
  statsRightMs: number;
  /** Log lines of failed presence reports and audits (retried by the objects). */
  reportFailures: number;
  /** Connect attempts refused or failed during the storm (the SDK retries them). */
  failedAttempts: number;
  pushes: number;
  lost: number;
  duplicated: number;
  reordered: number;
}

interface Device {
  user: string;
  client: SwitchboardClient;
  open: boolean;
  seqs: number[];
  opens: number[];
}

export async function storm(argv: string[]): Promise<StormResult> {
  const users = intOption(argv, "--users", 1000);
  const devices = intOption(argv, "--devices", 2);
  const sessions = users * devices;
  const secret = `storm-jwt-${randomBytes(24).toString("hex")}`;
  const apiKey = `storm-api-${randomBytes(12).toString("hex")}`;
  // workerd holds ~2 fds per socket and 3 per awake object (docs/operations.md, fd sizing).
  const nofile = Math.max(4096, sessions * 5 + 1000);
  const svc = await startService({ kind: "workerd", knobs: { JWT_SECRET: secret, API_KEY: apiKey, DEV_MODE: "0" }, nofile });
  const log = (m: string) => process.stderr.write(`storm: ${m}\n`);
  const all: Device[] = [];
  let failedAttempts = 0;
  try {
    log(`${users} users × ${devices} devices = ${sessions} sessions on workerd pid ${svc.pid} (open-file limit ${nofile})`);
    for (let u = 0; u < users; u++) {
      for (let d = 0; d < devices; d++) {
        const user = `storm-${u}`;
        const client = connect({
          url: svc.base,
          device: `dev-${d}`,
          getToken: () => hs256(claimsFor(user, 3600), secret),
          heartbeat: { intervalMs: 25_000, timeoutMs: 10_000 },
        });
        const device: Device = { user, client, open: false, seqs: [], opens: [] };
        client.on("open", () => {
          device.open = true;
          device.opens.push(performance.now());
        });
        client.on("close", () => {
          if (device.open) device.open = false;
          else failedAttempts++;
        });
        client.on("message", (m) => {
          if (m.seq !== null) device.seqs.push(m.seq);
        });
        client.on("error", () => undefined);
        all.push(device);
      }
      // The first connects are paced (the storm is what comes after the drop):
      // a batch of 400 sessions at a time, each waited for.
      if (all.length % 400 === 0 || u === users - 1) {
        await eventually("a batch of sessions to open", () => !all.some((d) => !d.open) || !svc.running, 30_000, 20).catch(() => undefined);
      }
    }
    const openCount = () => all.reduce((n, d) => n + (d.open ? 1 : 0), 0);
    const t0Connect = performance.now();
    await eventually("every session open", () => openCount() >= sessions || !svc.running, 120_000, 50).catch(() => undefined);
    if (!svc.running) throw new Error(`workerd exited during the first connects:\n${svc.tail.slice(-15).join("\n")}`);
    if (openCount() < sessions) throw new Error(`only ${openCount()} of ${sessions} sessions connected`);
    log(`all ${sessions} connected in ${((performance.now() - t0Connect) / 1000).toFixed(1)} s`);
    failedAttempts = 0;

    // Stored pushes, retried with the same id until answered, all through the storm.
    const pushing = storedPushes(svc.base, apiKey, users, (i) => `storm-${i}`);
    const answered = pushing.answered;
    await sleep(1000); // a second of pushes before the kill (a measurement window, not a wait)

    log("killing workerd with every session open, and starting it again");
    const tKill = performance.now();
    await svc.crash();
    await svc.restart();
    log(
      `workerd restarted ${((performance.now() - tKill) / 1000).toFixed(2)} s after the kill (its first /healthz answer; under the storm it queues behind the reconnects)`,
    );

    let back99 = Number.NaN;
    let back100 = Number.NaN;
    // Not all back within 180 s: back100Ms stays NaN in the result.
    await eventually(
      "every session back",
      () => {
        if (!svc.running) throw new Error(`workerd exited during the storm (file descriptors? see docs/operations.md):\n${svc.tail.slice(-15).join("\n")}`);
        const back = all.filter((d) => d.open && (d.opens.at(-1) ?? 0) > tKill).length;
        if (Number.isNaN(back99) && back >= Math.ceil(sessions * 0.99)) back99 = performance.now() - tKill;
        if (back === sessions) back100 = performance.now() - tKill;
        return back === sessions;
      },
      180_000 - (performance.now() - tKill),
      20,
    ).catch((err: unknown) => {
      if (!svc.running) throw err;
    });
    let statsRight = Number.NaN;
    await eventually(
      "/v1/stats to count every session",
      async () => {
        try {
          const res = await fetch(`${svc.base}/v1/stats`, { headers: { Authorization: `Bearer ${apiKey}` } });
          const s = (await res.json()) as { onlineUsers: number; sessions: number };
          if (s.sessions === sessions && s.onlineUsers === users) statsRight = performance.now() - tKill;
        } catch {
          // not up yet
        }
        return !Number.isNaN(statsRight);
      },
      240_000 - (performance.now() - tKill),
      100,
    ).catch(() => undefined);
    await sleep(1000); // a second more of pushes once everyone is back
    await pushing.stop();
    const pushes = pushing.count();
    // The last deliveries: every device has every seq answered for its user (else counted lost below).
    const delivered = (d: Device) => (answered.get(d.user) ?? []).every((seq) => d.seqs.includes(seq));
    await eventually("the last deliveries", () => all.every(delivered), 30_000, 50).catch(() => undefined);

    const buckets = new Map<number, number>();
    for (const d of all)
      for (const at of d.opens) if (at > tKill) buckets.set(Math.floor((at - tKill) / 1000), (buckets.get(Math.floor((at - tKill) / 1000)) ?? 0) + 1);
    let lost = 0;
    let duplicated = 0;
    let reordered = 0;
    for (const d of all) {
      const want = answered.get(d.user) ?? [];
      const got = new Set(d.seqs);
      duplicated += d.seqs.length - got.size;
      for (const seq of want) if (!got.has(seq)) lost++;
      for (let i = 1; i < d.seqs.length; i++) if ((d.seqs[i] ?? 0) <= (d.seqs[i - 1] ?? 0)) reordered++;
    }
    const reportFailures = svc.tail.filter((l) => /presence report failed|stats audit .* failed/.test(l)).length;
    return {
      users,
      devices,
      sessions,
      firstBackMs: Math.min(...all.flatMap((d) => d.opens.filter((at) => at > tKill))) - tKill,
      back99Ms: back99,
      back100Ms: back100,
      peakConnectsPerS: Math.max(0, ...buckets.values()),
      statsRightMs: statsRight,
      reportFailures,
      failedAttempts,
      pushes,
      lost,
      duplicated,
      reordered,
    };
  } finally {
    for (const d of all) d.client.close();
    await svc.kill("SIGKILL").catch(() => undefined);
  }
}

export function printStorm(r: StormResult): void {
  const s = (ms: number) => (Number.isNaN(ms) ? "never" : `${(ms / 1000).toFixed(1)} s`);
  process.stdout.write(
    `reconnect storm: ${r.users} users × ${r.devices} devices = ${r.sessions} sessions, workerd killed and restarted\n` +
      table(
        ["figure", "value"],
        [
          ["first session back (workerd serving again)", s(r.firstBackMs)],
          ["99 % of sessions back (from the kill; from the first one back)", `${s(r.back99Ms)}; ${s(r.back99Ms - r.firstBackMs)}`],
          ["100 % of sessions back (from the kill; from the first one back)", `${s(r.back100Ms)}; ${s(r.back100Ms - r.firstBackMs)}`],
          ["peak connect rate", `${r.peakConnectsPerS} sessions/s`],
          ["/v1/stats right again (from the kill)", s(r.statsRightMs)],
          ["presence reports failed (retried)", String(r.reportFailures)],
          ["connect attempts failed (retried by the SDK)", String(r.failedAttempts)],
          ["stored pushes answered during the run", String(r.pushes)],
          ["lost / duplicated / reordered", `${r.lost} / ${r.duplicated} / ${r.reordered}`],
        ],
      ) +
      "\n",
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await storm(process.argv.slice(2));
  printStorm(r);
  const dir = join(ROOT, "bench/results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `storm-${r.sessions}.json`), `${JSON.stringify({ at: new Date().toISOString(), ...r }, null, 2)}\n`);
  process.exit(r.lost + r.duplicated + r.reordered === 0 && !Number.isNaN(r.back100Ms) ? 0 : 1);
}
