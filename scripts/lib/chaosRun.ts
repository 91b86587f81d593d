/**
 * The chaos suite (npm run chaos, and its smoke run in npm test).
 *
 * Switchboard on standalone workerd with on-disk Durable Object storage. Many
 * users × devices connect, drop (clean close, or abrupt: the TCP socket is
 * destroyed without a close frame) and resume with `?since=<last seq seen>`,
 * deduplicating by seq exactly as the SDK does, while stored pushes go in. The
 * workerd process is SIGKILLed and restarted on the same data dir mid-run (at
 * least twice). Then every device catches up, and a checker asserts for every
 * device that every seq the push API answered (HTTP 200) was received exactly
 * once after dedupe, in order.
 *
 * A push whose HTTP call failed (workerd was killed under it) was never
 * answered: it may or may not be stored. Pushers retry a failed push once with
 * the same `id` (as a real pusher would), which either stores it or answers the
 * original seq with `duplicate: true`; one still unanswered at the end is
 * accepted if received and never required — but every seq must still be unique
 * and in order, and every seq the log holds must map to one id.
 */
import WebSocket from "ws";
import { Api } from "./api.ts";
import { rng, sleep, type Rng } from "./rng.ts";
import { Service } from "./service.ts";
import { claimsFor, hs256 } from "./tokens.ts";

export interface ChaosOptions {
  seed: number;
  users: number;
  devicesPerUser: number;
  /** Seconds of chaos (pushes + drops), before the catch-up phase. */
  seconds: number;
  /** SIGKILL + restart cycles during the chaos phase (≥ 2). */
  kills: number;
  /** Target stored pushes per second, all users together. */
  pushRate: number;
  port: number;
  log: (line: string) => void;
  /** Self-test of the checker: the client silently drops this many arriving frames (must be reported as lost). */
  injectLoss?: number;
}

export interface DeviceReport {
  user: string;
  device: string;
  sessions: number;
  cleanDrops: number;
  abruptDrops: number;
  killedDrops: number;
  received: number;
  lost: number[];
  duplicated: number;
  reordered: number;
  notRecovered: Array<{ since: number; head: number }>;
  mismatched: string[];
}

export interface ChaosReport {
  seed: number;
  seconds: number;
  pushes: { attempted: number; answered: number; duplicateAnswers: number; failedOnce: number; retriedAnswered: number; unanswered: number };
  unansweredReceived: number;
  storedUnansweredNotReceived: number;
  restarts: number;
  unexpectedExits: number;
  devices: DeviceReport[];
  lost: number;
  duplicated: number;
  reordered: number;
  notRecovered: number;
  integrity: string[];
  flagged: string[];
}

const SECRET = "chaos-jwt-secret-0123456789abcdef";
const API_KEY = "chaos-api-key-0123456789abcdef";

interface Arrival {
  seq: number;
  id: string;
}

class Device {
  readonly user: string;
  readonly name: string;
  readonly token: string;
  ws: WebSocket | undefined;
  connecting = false;
  welcomed = false;
  /** The highest seq delivered to the "app" (SDK dedupe point). */
  lastSeq = 0;
  /** Seqs the app got, in order (after dedupe). */
  readonly delivered: Arrival[] = [];
  readonly seen = new Set<number>();
  duplicated = 0;
  reordered = 0;
  readonly notRecovered: Array<{ since: number; head: number }> = [];
  sessions = 0;
  cleanDrops = 0;
  abruptDrops = 0;
  killedDrops = 0;
  lastAckSent = 0;
  /** Checker self-test: frames to swallow as if the network lost them. */
  swallow = 0;
  #closeCause: "clean" | "abrupt" | undefined;

  constructor(user: string, name: string, token: string) {
    this.user = user;
    this.name = name;
    this.token = token;
  }

  get open(): boolean {
    return this.ws !== undefined && this.ws.readyState === WebSocket.OPEN && this.welcomed;
  }

  connect(wsBase: string): Promise<boolean> {
    if (this.connecting || this.ws !== undefined) return Promise.resolve(false);
    this.connecting = true;
    const since = this.lastSeq;
    return new Promise((resolve) => {
      const ws = new WebSocket(`${wsBase}/v1/connect?device=${this.name}&since=${since}`, {
        headers: { Authorization: `Bearer ${this.token}` },
        perMessageDeflate: false,
        handshakeTimeout: 5000,
      });
      let settled = false;
      const settle = (ok: boolean) => {
        if (settled) return;
        settled = true;
        this.connecting = false;
        resolve(ok);
      };
      ws.on("message", (data: WebSocket.RawData, isBinary: boolean) => {
        if (isBinary) return;
        const text = data.toString();
        if (text === "pong") return;
        let frame: { type?: unknown; seq?: unknown; id?: unknown; head?: unknown; recovered?: unknown };
        try {
          frame = JSON.parse(text) as typeof frame;
        } catch {
          return;
        }
        if (frame.type === "welcome") {
          this.welcomed = true;
          this.sessions++;
          if (frame.recovered === false) this.notRecovered.push({ since, head: Number(frame.head) });
          settle(true);
          return;
        }
        if (frame.type === "message" && typeof frame.seq === "number") this.arrive(frame.seq, String(frame.id));
      });
      ws.on("open", () => {
        this.ws = ws;
      });
      ws.on("close", () => {
        if (this.ws === ws) {
          if (this.#closeCause === "clean") this.cleanDrops++;
          else if (this.#closeCause === "abrupt") this.abruptDrops++;
          else this.killedDrops++;
        }
        this.#closeCause = undefined;
        if (this.ws === ws) this.ws = undefined;
        this.welcomed = false;
        settle(false);
      });
      ws.on("error", () => {
        settle(false);
      });
      ws.on("unexpected-response", (_req, res) => {
        res.resume();
        ws.terminate();
        settle(false);
      });
    });
  }

  /** The SDK's rule: a seq at or below the last one delivered is a duplicate and is dropped. */
  arrive(seq: number, id: string): void {
    if (this.swallow > 0 && seq > 3) {
      this.swallow--;
      return;
    }
    if (this.seen.has(seq)) {
      this.duplicated++;
      return;
    }
    this.seen.add(seq);
    if (seq <= this.lastSeq) {
      // Never seen, but older than what the app already has: the SDK drops it — a loss.
      this.reordered++;
      return;
    }
    this.lastSeq = seq;
    this.delivered.push({ seq, id });
  }

  drop(kind: "clean" | "abrupt"): void {
    const ws = this.ws;
    if (ws === undefined) return;
    this.#closeCause = kind;
    if (kind === "clean") ws.close(1000, "bye");
    else ws.terminate();
  }

  heartbeat(): void {
    if (this.open) this.ws?.send("ping");
  }

  ack(): void {
    if (this.open && this.lastSeq > this.lastAckSent) {
      this.ws?.send(JSON.stringify({ type: "ack", seq: this.lastSeq }));
      this.lastAckSent = this.lastSeq;
    }
  }
}

interface PushRecord {
  user: string;
  id: string;
  /** Seq from a 200 answer (first or retry). */
  seq: number | undefined;
  duplicateAnswer: boolean;
  failedOnce: boolean;
}

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const r: Rng = rng(o.seed);
  const svc = await Service.start({
    port: o.port,
    knobs: { JWT_SECRET: SECRET, API_KEY, STALE_AFTER: "10", REAP_INTERVAL: "60", STATS_SHARDS: "4" },
  });
  const api = new Api(svc.base, API_KEY);
  const users = Array.from({ length: o.users }, (_, i) => `chaos-${o.seed}-${i}`);
  const devices: Device[] = [];
  for (const user of users) {
    const token = await hs256(claimsFor(user, 3600), SECRET);
    for (let d = 0; d < o.devicesPerUser; d++) devices.push(new Device(user, `dev${d}`, token));
  }
  for (let i = 0; i < (o.injectLoss ?? 0); i++) {
    const d = devices[i % devices.length];
    if (d !== undefined) d.swallow++;
  }
  const pushes: PushRecord[] = [];
  const report: ChaosReport = {
    seed: o.seed,
    seconds: 0,
    pushes: { attempted: 0, answered: 0, duplicateAnswers: 0, failedOnce: 0, retriedAnswered: 0, unanswered: 0 },
    unansweredReceived: 0,
    storedUnansweredNotReceived: 0,
    restarts: 0,
    unexpectedExits: 0,
    devices: [],
    lost: 0,
    duplicated: 0,
    reordered: 0,
    notRecovered: 0,
    integrity: [],
    flagged: [],
  };
  let stop = false;
  let down = false;
  const tasks: Array<Promise<void>> = [];
  const timers: NodeJS.Timeout[] = [];
  try {
    // ---- devices: connect, drop, resume
    for (const d of devices) {
      tasks.push(
        (async () => {
          const dr = rng(o.seed * 31 + devices.indexOf(d));
          await sleep(dr.int(0, 500));
          while (!stop) {
            if (d.ws === undefined && !d.connecting) {
              const ok = await d.connect(svc.wsBase);
              if (!ok) {
                await sleep(dr.int(50, down ? 400 : 200));
                continue;
              }
            }
            // Stay connected a while, then maybe drop.
            await sleep(dr.int(200, 2500));
            if (stop) break;
            const roll = dr();
            if (roll < 0.35) d.drop("clean");
            else if (roll < 0.7) d.drop("abrupt");
            // Offline for a moment before resuming.
            if (d.ws === undefined || roll < 0.7) await sleep(dr.int(0, 1200));
          }
        })(),
      );
    }
    timers.push(
      setInterval(() => {
        for (const d of devices) d.heartbeat();
      }, 3000),
      setInterval(() => {
        for (const d of devices) d.ack();
      }, 700),
    );

    // ---- pushers
    let counter = 0;
    const retries: PushRecord[] = [];
    const pushOnce = async (rec: PushRecord) => {
      const res = await api.push(rec.user, { data: { id: rec.id, at: Date.now() }, id: rec.id });
      if (res.ok && res.body.seq !== null) {
        if (rec.seq !== undefined && rec.seq !== res.body.seq) {
          report.integrity.push(`${rec.id}: answered seq ${rec.seq}, then ${res.body.seq} on retry`);
        }
        rec.seq = res.body.seq;
        if (res.body.duplicate) rec.duplicateAnswer = true;
        return true;
      }
      return false;
    };
    const pushers = 6;
    const interval = (1000 * pushers) / o.pushRate;
    for (let p = 0; p < pushers; p++) {
      tasks.push(
        (async () => {
          const pr = rng(o.seed * 97 + p);
          while (!stop) {
            const retry = retries.length > 0 && !down && pr.chance(0.5) ? retries.shift() : undefined;
            if (retry !== undefined) {
              if (await pushOnce(retry)) report.pushes.retriedAnswered++;
              continue;
            }
            const user = pr.pick(users);
            const rec: PushRecord = { user, id: `c${o.seed}-${++counter}`, seq: undefined, duplicateAnswer: false, failedOnce: false };
            pushes.push(rec);
            report.pushes.attempted++;
            const ok = await pushOnce(rec);
            if (!ok) {
              rec.failedOnce = true;
              report.pushes.failedOnce++;
              // Retry later with the same id, once.
              if (pr.chance(0.7)) retries.push(rec);
            }
            await sleep(pr.int(0, Math.max(1, Math.round(interval * 2))));
          }
        })(),
      );
    }

    // ---- the killer
    const killAt = Array.from({ length: o.kills }, (_, i) => ((i + 1) * o.seconds * 1000) / (o.kills + 1) + r.int(-500, 500));
    const t0 = Date.now();
    for (const at of killAt) {
      await sleep(Math.max(0, at - (Date.now() - t0)));
      o.log(`  chaos: SIGKILL workerd (pid ${String(svc.pid)}) at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      down = true;
      await svc.kill("SIGKILL");
      await sleep(r.int(200, 1500));
      await svc.restart();
      down = false;
      report.restarts++;
      o.log(`  chaos: workerd restarted on the same data dir (pid ${String(svc.pid)})`);
    }
    await sleep(Math.max(0, o.seconds * 1000 - (Date.now() - t0)));
    stop = true;
    await Promise.all(tasks);
    // Last retries for pushes that never got an answer.
    for (const rec of retries.splice(0)) if (await pushOnce(rec)) report.pushes.retriedAnswered++;

    // ---- catch-up: every device resumes and must reach its user's head
    o.log("  chaos: catch-up");
    const logs = new Map<string, { head: number; messages: Array<{ id: string; seq: number }> }>();
    for (const user of users) {
      const page = await api.messages(user, 0, 1000);
      if (!page.ok) report.integrity.push(`GET messages for ${user}: ${page.status} ${page.error}`);
      else logs.set(user, page.body);
    }
    const deadline = Date.now() + 30_000;
    for (const d of devices) {
      const head = logs.get(d.user)?.head ?? 0;
      while (d.lastSeq < head && Date.now() < deadline) {
        if (d.ws === undefined && !d.connecting) await d.connect(svc.wsBase);
        await sleep(50);
      }
    }
    for (const d of devices) d.drop("clean");

    // ---- the checker
    const byUser = new Map<string, PushRecord[]>();
    for (const p of pushes) {
      const list = byUser.get(p.user) ?? [];
      list.push(p);
      byUser.set(p.user, list);
    }
    for (const p of pushes) {
      if (p.seq !== undefined) report.pushes.answered++;
      else report.pushes.unanswered++;
      if (p.duplicateAnswer) report.pushes.duplicateAnswers++;
    }
    for (const user of users) {
      const log = logs.get(user);
      const logById = new Map<string, number>();
      const logBySeq = new Map<number, string>();
      if (log !== undefined) {
        let expect = 1;
        for (const m of log.messages) {
          if (m.seq !== expect) report.integrity.push(`${user}: log seq ${m.seq} where ${expect} was next (gap or disorder)`);
          expect = m.seq + 1;
          if (logById.has(m.id)) report.integrity.push(`${user}: id ${m.id} stored twice (seq ${logById.get(m.id)} and ${m.seq})`);
          logById.set(m.id, m.seq);
          logBySeq.set(m.seq, m.id);
        }
        if (log.messages.length > 0 && expect - 1 !== log.head) report.integrity.push(`${user}: head ${log.head} but last stored seq ${expect - 1}`);
      }
      const answered = new Map<number, string>();
      for (const p of byUser.get(user) ?? []) {
        if (p.seq === undefined) continue;
        if (answered.has(p.seq) && answered.get(p.seq) !== p.id) report.integrity.push(`${user}: seq ${p.seq} answered for ${answered.get(p.seq)} and ${p.id}`);
        answered.set(p.seq, p.id);
        if (log !== undefined && logBySeq.get(p.seq) !== p.id) {
          report.integrity.push(`${user}: ${p.id} was answered seq ${p.seq}, the log has ${String(logBySeq.get(p.seq))} there`);
        }
      }
      const unansweredIds = new Set((byUser.get(user) ?? []).filter((p) => p.seq === undefined).map((p) => p.id));
      for (const d of devices.filter((x) => x.user === user)) {
        const got = new Map(d.delivered.map((a) => [a.seq, a.id]));
        const lost: number[] = [];
        for (const [seq, id] of answered) {
          if (!got.has(seq)) lost.push(seq);
          else if (got.get(seq) !== id) report.integrity.push(`${user}/${d.name}: seq ${seq} arrived as ${String(got.get(seq))}, answered as ${id}`);
        }
        // Stored but unanswered: accepted if received, never required (only counted).
        for (const [seq, id] of logBySeq) {
          if (unansweredIds.has(id)) {
            if (got.has(seq)) report.unansweredReceived++;
            else report.storedUnansweredNotReceived++;
          }
        }
        for (const a of d.delivered) {
          const logId = logBySeq.get(a.seq);
          if (log !== undefined && logId !== a.id) report.integrity.push(`${user}/${d.name}: received seq ${a.seq} as ${a.id}, the log has ${String(logId)}`);
        }
        const mismatched: string[] = [];
        for (const nr of d.notRecovered) {
          // Resuming beyond head means the server forgot a message it had delivered.
          if (nr.since > nr.head) mismatched.push(`resumed at ${nr.since} beyond head ${nr.head}: delivered messages were lost`);
        }
        report.devices.push({
          user,
          device: d.name,
          sessions: d.sessions,
          cleanDrops: d.cleanDrops,
          abruptDrops: d.abruptDrops,
          killedDrops: d.killedDrops,
          received: d.delivered.length,
          lost,
          duplicated: d.duplicated,
          reordered: d.reordered,
          notRecovered: d.notRecovered,
          mismatched,
        });
        report.lost += lost.length;
        report.duplicated += d.duplicated;
        report.reordered += d.reordered;
        report.notRecovered += d.notRecovered.length;
        for (const m of mismatched) report.integrity.push(`${user}/${d.name}: ${m}`);
      }
    }
  } finally {
    stop = true;
    for (const t of timers) clearInterval(t);
    for (const d of devices) d.ws?.terminate();
    report.unexpectedExits = svc.unexpectedExits().length;
    report.flagged = svc.flagged.slice(0, 50);
    await svc.stop();
  }
  report.seconds = (Date.now() - started) / 1000;
  return report;
}

export function chaosFailures(rep: ChaosReport): string[] {
  const out: string[] = [];
  if (rep.lost > 0) out.push(`${rep.lost} answered seq(s) lost`);
  if (rep.reordered > 0) out.push(`${rep.reordered} seq(s) arrived out of order (the SDK drops them: loss)`);
  for (const i of rep.integrity.slice(0, 30)) out.push(`integrity: ${i}`);
  if (rep.restarts < 2) out.push(`only ${rep.restarts} restart(s)`);
  if (rep.unexpectedExits > 0) out.push(`workerd exited unexpectedly ${rep.unexpectedExits} time(s)`);
  if (rep.pushes.answered === 0) out.push("no push was answered");
  return out;
}

export function printChaos(rep: ChaosReport, log: (line: string) => void): void {
  const sum = (f: (d: DeviceReport) => number) => rep.devices.reduce((n, d) => n + f(d), 0);
  log("");
  log(`chaos summary (seed ${rep.seed}, ${rep.seconds.toFixed(1)} s): ${rep.devices.length} devices, ${rep.restarts} SIGKILL+restart`);
  log(
    `  pushes: ${rep.pushes.attempted} attempted, ${rep.pushes.answered} answered (${rep.pushes.duplicateAnswers} as duplicate on retry), ` +
      `${rep.pushes.failedOnce} failed once, ${rep.pushes.retriedAnswered} answered on retry, ${rep.pushes.unanswered} never answered`,
  );
  log(`  never-answered pushes found stored: received ${rep.unansweredReceived}, not received ${rep.storedUnansweredNotReceived} (device×message)`);
  log(
    `  sessions: ${sum((d) => d.sessions)} (drops: ${sum((d) => d.cleanDrops)} clean, ${sum((d) => d.abruptDrops)} abrupt, ${sum((d) => d.killedDrops)} by SIGKILL)`,
  );
  log(`  received after dedupe: ${sum((d) => d.received)} (device×message)`);
  log(`  lost ${rep.lost} / duplicated ${rep.duplicated} / reordered ${rep.reordered}   (duplicated = redelivered, dropped by seq dedupe)`);
  log(`  recovered:false welcomes: ${rep.notRecovered}`);
  for (const d of rep.devices.filter((x) => x.lost.length > 0 || x.reordered > 0).slice(0, 10)) {
    log(`    ${d.user}/${d.device}: lost ${JSON.stringify(d.lost.slice(0, 20))} reordered ${d.reordered}`);
  }
  const kinds = new Map<string, number>();
  for (const line of rep.flagged) {
    const key = line.replace(/[0-9a-f]{8,}|\d+/g, "#").slice(0, 160);
    kinds.set(key, (kinds.get(key) ?? 0) + 1);
  }
  for (const [k, n] of kinds) log(`  workerd log: ${n}× ${k}`);
  const f = chaosFailures(rep);
  log(f.length === 0 ? "chaos: zero lost, integrity holds" : `chaos: FAILED (${f.length}):`);
  for (const line of f) log(`  ${line}`);
}
