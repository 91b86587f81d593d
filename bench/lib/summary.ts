/**
 * The bench's verdict: paired medians of each figure (Switchboard ÷ baseline,
 * round by round) against its target, delivery losses, and the JSON written
 * to bench/results/.
 */
import { execFileSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { WORKERD } from "../../tools/lib/workerd.ts";
import { COMPATIBILITY_DATE } from "../../tools/lib/wranglerConfig.ts";
import type { IdleResult } from "./idle.ts";
import { KINDS, type Kind, type PushSummary } from "./measure.ts";
import type { ConnectResult } from "./messages.ts";
import type { BenchOptions, Sizes } from "./options.ts";
import { fmt, median, table } from "./stats.ts";

type Series = { product: PushSummary[]; baseline: PushSummary[] };

export interface RawResults {
  connect: Record<string, ConnectResult & { perS: number; cpuPerConnectMs: number }>;
  scaleSmall: Series;
  live: Series;
  stored: Series;
  /** Stored pushes to the baseline that INSERTs each one as a SQLite row (STORE=1), paired by round with stored.product. */
  storedRow: PushSummary[];
  latency: Series;
  fanout: Series;
  memory: Record<string, unknown>;
}

export interface RunFacts {
  raw: RawResults;
  sizes: Sizes;
  problems: string[];
  notes: string[];
  /** performance.now() at the start. */
  started: number;
  startedAt: string;
  loadStart: number[];
  limits: Record<string, { soft: number; hard: number } | undefined>;
  opts: BenchOptions;
  commit: string | undefined;
}

export function summarizeRun(f: RunFacts) {
  const { raw, sizes, problems, notes, started, startedAt, loadStart, limits, opts, commit } = f;
  type Row = { metric: string; unit: string; product: number; baseline: number; ratio: number; target?: string; met?: boolean; note?: string };
  const rows: Row[] = [];
  const ratioMedian = (p: number[], b: number[]) => median(p.map((x, i) => x / (b[i] ?? Number.NaN)));
  const pick = (list: PushSummary[], f: (s: PushSummary) => number) => list.map(f);
  const addPaired = (
    metric: string,
    unit: string,
    src: { product: PushSummary[]; baseline: PushSummary[] },
    f: (s: PushSummary) => number,
    target?: { op: "<=" | ">="; limit: number },
  ) => {
    const p = pick(src.product, f);
    const b = pick(src.baseline, f);
    const ratio = ratioMedian(p, b);
    const row: Row = { metric, unit, product: median(p), baseline: median(b), ratio };
    if (target !== undefined) {
      row.target = `${target.op === "<=" ? "≤" : "≥"} ${target.limit}×`;
      row.met = target.op === "<=" ? ratio <= target.limit : ratio >= target.limit;
    }
    rows.push(row);
  };
  addPaired(`live push: server CPU per push (${sizes.usersLarge} users × ${sizes.sessionsPerUser})`, "µs", raw.live, (s) => s.cpuPerPushUs, {
    op: "<=",
    limit: 1.25,
  });
  addPaired("live push: throughput at saturation", "pushes/s", raw.live, (s) => s.pushesPerS, { op: ">=", limit: 0.8 });
  addPaired("live push: deliveries", "deliveries/s", raw.live, (s) => s.deliveriesPerS);
  addPaired("stored push: server CPU per push", "µs", raw.stored, (s) => s.cpuPerPushUs, { op: "<=", limit: 2 });
  addPaired("stored push: throughput at saturation", "pushes/s", raw.stored, (s) => s.pushesPerS);
  addPaired("stored push: deliveries", "deliveries/s", raw.stored, (s) => s.deliveriesPerS);
  // The durable write is the price of a stored push: the same push against a baseline that pays it (one row).
  const storingBaseline = { product: raw.stored.product, baseline: raw.storedRow };
  addPaired("stored push vs a baseline storing one row: server CPU per push", "µs", storingBaseline, (s) => s.cpuPerPushUs);
  addPaired("stored push vs a baseline storing one row: throughput", "pushes/s", storingBaseline, (s) => s.pushesPerS);
  addPaired(`latency p50 @ ${sizes.latencyRate} pushes/s (live)`, "ms", raw.latency, (s) => s.latency.p50, { op: "<=", limit: 1.5 });
  addPaired(`latency p99 @ ${sizes.latencyRate} pushes/s (live)`, "ms", raw.latency, (s) => s.latency.p99);
  addPaired(`fan-out 1 user × ${sizes.fanoutSessions} sessions: deliveries`, "deliveries/s", raw.fanout, (s) => s.deliveriesPerS, { op: ">=", limit: 0.8 });
  addPaired("fan-out: server CPU per delivery", "µs", raw.fanout, (s) => s.cpuPerDeliveryUs);
  // 10× users: each server against itself, paired by round.
  const growth = (kind: Kind) => median(raw.live[kind].map((s, i) => s.cpuPerPushUs / (raw.scaleSmall[kind][i]?.cpuPerPushUs ?? Number.NaN)));
  const gp = growth("product");
  const gb = growth("baseline");
  rows.push({
    metric: `CPU per live push, ${sizes.usersLarge} users ÷ ${sizes.usersSmall} users (10×)`,
    unit: "×",
    product: gp,
    baseline: gb,
    ratio: gp / gb,
    target: "flat (≤ 1.15×, or ≤ baseline's growth × 1.1)",
    met: gp <= 1.15 || gp <= gb * 1.1,
  });
  const mem = raw.memory as Partial<Record<Kind, IdleResult>>;
  if (mem.product !== undefined && mem.baseline !== undefined) {
    const mp = mem.product;
    const mb = mem.baseline;
    rows.push({
      metric: `idle memory per hibernated session (${mp.sessions} sessions)`,
      unit: "KB",
      product: mp.idleKBPerSession,
      baseline: mb.idleKBPerSession,
      ratio: mp.idleKBPerSession / mb.idleKBPerSession,
      target: "≤ 1.2×",
      met: mp.idleKBPerSession / mb.idleKBPerSession <= 1.2,
    });
    rows.push({
      metric: "memory per session right after connect (objects awake)",
      unit: "KB",
      product: mp.awakeKBPerSession,
      baseline: mb.awakeKBPerSession,
      ratio: mp.awakeKBPerSession / mb.awakeKBPerSession,
    });
    rows.push({
      metric: "connect rate (new users, 2 sessions each)",
      unit: "sessions/s",
      product: mp.connect.perS,
      baseline: mb.connect.perS,
      ratio: mp.connect.perS / mb.connect.perS,
    });
    rows.push({
      metric: "server CPU per connect",
      unit: "ms",
      product: mp.connect.cpuPerConnectMs,
      baseline: mb.connect.cpuPerConnectMs,
      ratio: mp.connect.cpuPerConnectMs / mb.connect.cpuPerConnectMs,
    });
    rows.push({
      metric: "fds per idle session (workerd)",
      unit: "fds",
      product: mp.fdsPerSessionIdle,
      baseline: mb.fdsPerSessionIdle,
      ratio: mp.fdsPerSessionIdle / mb.fdsPerSessionIdle,
    });
    rows.push({
      metric: "server CPU per push to a hibernated user (wakes it)",
      unit: "µs",
      product: mp.wake.cpuPerPushUs,
      baseline: mb.wake.cpuPerPushUs,
      ratio: mp.wake.cpuPerPushUs / mb.wake.cpuPerPushUs,
    });
  }

  const all = [
    ...raw.scaleSmall.product,
    ...raw.scaleSmall.baseline,
    ...raw.live.product,
    ...raw.live.baseline,
    ...raw.stored.product,
    ...raw.stored.baseline,
    ...raw.storedRow,
    ...raw.latency.product,
    ...raw.latency.baseline,
    ...raw.fanout.product,
    ...raw.fanout.baseline,
    ...KINDS.flatMap((k) => (mem[k] === undefined ? [] : [mem[k].wake])),
  ];
  const losses = {
    pushes: all.reduce((n, s) => n + s.pushes, 0),
    deliveries: all.reduce((n, s) => n + s.deliveries, 0),
    expected: all.reduce((n, s) => n + s.expected, 0),
    lost: all.reduce((n, s) => n + s.lost, 0),
    duplicates: all.reduce((n, s) => n + s.duplicates, 0),
    corrupt: all.reduce((n, s) => n + s.corrupt, 0),
    errors: all.reduce((n, s) => n + s.errors, 0),
    deliveredMismatch: all.reduce((n, s) => n + Math.abs(s.deliveredMismatch), 0),
  };
  if (losses.lost > 0) problems.push(`${losses.lost} deliveries lost`);
  if (losses.duplicates > 0) problems.push(`${losses.duplicates} duplicate deliveries`);
  if (losses.corrupt > 0) problems.push(`${losses.corrupt} corrupt frames`);
  const loadBound = [...raw.live.baseline, ...raw.live.product].filter((s) => s.loadUtil > 0.9).length;
  if (loadBound > 0)
    notes.push(
      `${loadBound} live throughput windows had the load generator above 90% of a core: throughput there may be the load generator's limit, CPU/push is not affected`,
    );

  const header = ["metric", "unit", "Switchboard", "baseline", "ratio", "target", "met"];
  const text = table(
    header,
    rows.map((r) => [
      r.metric,
      r.unit,
      fmt(r.product),
      fmt(r.baseline),
      Number.isFinite(r.ratio) ? `${r.ratio.toFixed(3)}×` : "–",
      r.target ?? "",
      r.met === undefined ? "" : r.met ? "yes" : "NO",
    ]),
  );
  const durationS = (performance.now() - started) / 1000;
  return {
    version: 1,
    startedAt,
    durationS,
    smoke: opts.smoke,
    environment: {
      node: process.version,
      workerd: execFileSync(WORKERD, ["--version"], { encoding: "utf8" }).trim(),
      compatibilityDate: COMPATIBILITY_DATE,
      commit,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      loadavgStart: loadStart,
      loadavgEnd: loadavg(),
      openFileLimits: limits,
      storage: "on-disk SQLite (workerd localDisk), temp dir",
    },
    sizes,
    summary: rows,
    losses,
    problems,
    notes,
    raw,
    table: text,
  };
}
