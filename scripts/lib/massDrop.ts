/**
 * Mass disconnect: N idle sessions over many users, then all of them dropped
 * at once (a network blip: TCP torn down without close frames, or a clean
 * close storm). The service must keep running, and presence and the
 * deployment-wide counts must come back to the truth.
 */
import WebSocket from "ws";
import type { Api } from "./api.ts";
import { eventually, sleep } from "./time.ts";
import type { Service } from "./service.ts";

export interface MassOptions {
  sessions: number;
  /** Sessions per user (≤ MAX_SESSIONS_PER_USER). */
  perUser: number;
  /** How the blip drops them. */
  how: "terminate" | "close";
  /** Open this many connects at once. */
  concurrency: number;
  token: (user: string) => Promise<string>;
  log: (line: string) => void;
  /** Seconds to wait for counts to settle after the drop. */
  settleSeconds: number;
  /** Seconds to stay idle (no client frames: objects may hibernate) before the drop. */
  idleSeconds?: number;
  userPrefix: string;
}

export interface MassResult {
  opened: number;
  openFailures: number;
  openSeconds: number;
  statsBefore: { onlineUsers: number; sessions: number } | string;
  workerdFdsBefore: number | undefined;
  workerdRssBefore: number | undefined;
  /** workerd survived the drop. */
  survived: boolean;
  exitAfterDrop: { code: number | null; signal: string | null; tail: string[] } | undefined;
  statsAfter: { onlineUsers: number; sessions: number } | string;
  settleSeconds: number;
  peakFds: number;
  presenceLeft: number;
  presenceChecked: number;
  pass: boolean;
  detail: string;
}

export async function massDisconnect(svc: Service, api: Api, o: MassOptions): Promise<MassResult> {
  const users = Math.ceil(o.sessions / o.perUser);
  const names = Array.from({ length: users }, (_, i) => `${o.userPrefix}-${i}`);
  const tokens = new Map<string, string>();
  for (const u of names) tokens.set(u, await o.token(u));
  const sockets: WebSocket[] = [];
  let failures = 0;
  // Heartbeats from the first open until the drop, as the SDK sends them (the runtime answers
  // them without waking the objects, so idle objects still hibernate).
  const beat = setInterval(() => {
    for (const ws of sockets) if (ws.readyState === WebSocket.OPEN) ws.send("ping");
  }, 20_000);
  const t0 = Date.now();
  let next = 0;
  const openOne = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const user = names[Math.floor(i / o.perUser)] ?? "x";
      const ws = new WebSocket(`${svc.wsBase}/v1/connect?device=m${i % o.perUser}`, {
        headers: { Authorization: `Bearer ${tokens.get(user) ?? ""}` },
        perMessageDeflate: false,
        handshakeTimeout: 30_000,
      });
      let done = false;
      const finish = (ok: boolean) => {
        if (done) return;
        done = true;
        if (ok) sockets.push(ws);
        else failures++;
        resolve();
      };
      ws.once("message", () => finish(true));
      ws.once("error", () => finish(false));
      ws.once("close", () => finish(false));
      ws.once("unexpected-response", (_req, res) => {
        res.resume();
        finish(false);
      });
    });
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (next < o.sessions) await openOne(next++);
    }),
  );
  const openSeconds = (Date.now() - t0) / 1000;
  o.log(`  mass: ${sockets.length} sessions open over ${users} users in ${openSeconds.toFixed(1)} s (${failures} failed)`);
  let statsBefore = "not read" as MassResult["statsBefore"];
  await eventually(
    "/v1/stats to count every session",
    async () => {
      const s = await api.stats();
      statsBefore = s.ok ? s.body : `${s.status} ${s.error}`;
      return s.ok && s.body.sessions >= sockets.length;
    },
    10_000,
    250,
  ).catch(() => undefined);
  const fdsBefore = svc.fds();
  const rssBefore = svc.rss();
  o.log(`  mass: stats before ${JSON.stringify(statsBefore)}; workerd fds ${String(fdsBefore)}, RSS ${((rssBefore ?? 0) / 2 ** 20).toFixed(0)} MiB`);
  if ((o.idleSeconds ?? 0) > 0) {
    o.log(`  mass: idle for ${String(o.idleSeconds)} s (objects may hibernate)`);
    const until = Date.now() + (o.idleSeconds ?? 0) * 1000;
    while (Date.now() < until) {
      await sleep(2000);
      o.log(`    workerd fds ${String(svc.fds())}, RSS ${((svc.rss() ?? 0) / 2 ** 20).toFixed(0)} MiB`);
    }
  }

  // The blip.
  clearInterval(beat);
  const stillOpen = sockets.filter((ws) => ws.readyState === WebSocket.OPEN).length;
  if (stillOpen < sockets.length) o.log(`  mass: only ${stillOpen} of ${sockets.length} still open before the drop`);
  const exitsBefore = svc.exits.length;
  o.log(`  mass: dropping all ${sockets.length} at once (${o.how})`);
  for (const ws of sockets) {
    if (o.how === "terminate") ws.terminate();
    else ws.close(1000, "blip");
  }
  const t1 = Date.now();
  let peakFds = 0;
  const fdTimer = setInterval(() => {
    peakFds = Math.max(peakFds, svc.fds() ?? 0);
  }, 50);
  let statsAfter = "not read" as MassResult["statsAfter"];
  let survived = true as boolean;
  await eventually(
    "/v1/stats back to 0, or workerd gone",
    async () => {
      if (!svc.running) {
        survived = false;
        return true;
      }
      const s = await api.stats();
      statsAfter = s.ok ? s.body : `${s.status} ${s.error}`;
      return s.ok && s.body.sessions === 0 && s.body.onlineUsers === 0;
    },
    o.settleSeconds * 1000,
    500,
  ).catch(() => undefined);
  const settleSeconds = (Date.now() - t1) / 1000;
  clearInterval(fdTimer);
  o.log(`  mass: peak workerd fds during the drop: ${peakFds}`);
  await sleep(300);
  if (!svc.running) survived = false;
  const exit = svc.exits.length > exitsBefore ? svc.exits[svc.exits.length - 1] : undefined;
  let presenceLeft = 0;
  let presenceChecked = 0;
  if (survived) {
    for (const u of names.filter((_, i) => i % Math.max(1, Math.floor(users / 50)) === 0)) {
      const p = await api.presence(u);
      presenceChecked++;
      if (!p.ok || p.body.sessions.length > 0) presenceLeft++;
    }
  }
  const zero = typeof statsAfter !== "string" && statsAfter.sessions === 0 && statsAfter.onlineUsers === 0;
  const pass = survived && zero && presenceLeft === 0;
  const detail = survived
    ? `stats after ${settleSeconds.toFixed(1)} s: ${JSON.stringify(statsAfter)}; presence of ${presenceChecked} sampled users: ${presenceLeft} still online`
    : `workerd DIED after the drop (${exit?.signal ?? `code ${String(exit?.code)}`}): ${exit?.tail.slice(-3).join(" | ") ?? ""}`;
  o.log(`  mass: after the drop${pass ? "" : " (not settled)"} — ${detail}`);
  return {
    opened: sockets.length,
    openFailures: failures,
    openSeconds,
    statsBefore,
    workerdFdsBefore: fdsBefore,
    workerdRssBefore: rssBefore,
    survived,
    exitAfterDrop: exit === undefined ? undefined : { code: exit.code, signal: exit.signal, tail: exit.tail },
    statsAfter,
    settleSeconds,
    peakFds,
    presenceLeft,
    presenceChecked,
    pass,
    detail,
  };
}
