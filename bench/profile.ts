/**
 * npm run bench -- --profile [--rounds N] [--users N] [--only a,b,c] [--out FILE]
 *
 * What each piece of the hot path costs: variants of the Worker, each built
 * from a scratch copy of src/ with ONE piece stubbed out or amplified, run side by side on
 * standalone workerd and measured in interleaved rounds — server CPU per live push, per stored push, and per
 * connect. A piece's cost is control − variant. src/ itself is never touched.
 * A variant whose anchor text is gone from src/ stops the run before anything
 * is built (bench/variants.ts, `staleEdits`), as does one that fails to build.
 *
 * The baseline Worker runs too, also with the Worker→object hop as `fetch`
 * instead of RPC and with one SQLite INSERT per push: the runtime's own cost
 * of those two things.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ROOT } from "../tools/lib/workerd.ts";
import { LoadGenerator } from "./lib/driver.ts";
import { machineBusy, type PushSummary, summarize, targetOf } from "./lib/measure.ts";
import { hookCleanup, tempDir } from "../scripts/lib/janitor.ts";
import { BASELINE_SCRIPT, builtWorker, type Service, startService } from "../scripts/lib/service.ts";
import { bundleWithEsbuild, editFile, scratchSource } from "./lib/bundle.ts";
import { fmt, median, table } from "./lib/stats.ts";
import { AMP, staleEdits, VARIANTS, type Variant } from "./variants.ts";

interface Contestant {
  name: string;
  what: string;
  kind: "product" | "baseline";
  server: Service;
  live: PushSummary[];
  stored: PushSummary[];
  connectMs: number[];
  nextUser: number;
}

const T0 = Date.now();
function log(msg: string): void {
  process.stderr.write(`profile [${((Date.now() - T0) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
}

export async function profile(argv: string[]): Promise<void> {
  const o = { rounds: 4, users: 200, only: undefined as string[] | undefined, out: join(ROOT, "bench/results/profile.json"), windowMs: 1500, connectBatch: 30 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--rounds") o.rounds = Number(argv[++i]);
    else if (a === "--users") o.users = Number(argv[++i]);
    else if (a === "--only") o.only = (argv[++i] ?? "").split(",");
    else if (a === "--out") o.out = resolve(argv[++i] ?? "");
    else if (a === "--window") o.windowMs = Number(argv[++i]);
    else throw new Error(`profile: unknown option ${a}`);
  }
  hookCleanup();
  const secrets = { apiKey: `bench-api-${randomBytes(12).toString("hex")}`, jwtSecret: `bench-jwt-${randomBytes(24).toString("hex")}` };
  const knobs = { JWT_SECRET: secrets.jwtSecret, API_KEY: secrets.apiKey, DEV_MODE: "0" };
  const variants = VARIANTS.filter((v) => o.only === undefined || v.name === "control" || o.only.includes(v.name));
  const stale = staleEdits(variants);
  if (stale.length > 0) throw new Error(`profile: variants whose anchor text is gone from src/ (fix them in bench/variants.ts):\n  ${stale.join("\n  ")}`);

  // Build every product variant (esbuild, same options for all) from its own scratch copy of src/.
  const built: Array<{ v: Variant; script: string }> = [];
  for (const v of variants) {
    if (v.kind === "baseline") {
      built.push({ v, script: BASELINE_SCRIPT });
      continue;
    }
    if (v.wrangler === true) {
      built.push({ v, script: builtWorker() });
      continue;
    }
    const src = scratchSource(v.name);
    for (const e of v.edits ?? []) editFile(join(src, e.file), e.from, e.to);
    for (const [file, text] of Object.entries(v.files ?? {})) writeFileSync(join(src, file), text);
    const script = await bundleWithEsbuild(join(src, "index.ts"), join(tempDir(`bench-bundle-${v.name}`), "index.js"));
    built.push({ v, script });
  }

  const lg = LoadGenerator.start(65_536);
  const contestants: Contestant[] = [];
  try {
    for (const { v, script } of built) {
      const server =
        v.kind === "baseline"
          ? await startService({ kind: "baseline", label: v.name, text: v.text, nofile: 65_536 })
          : await startService({ kind: "workerd", label: v.name, script, knobs, text: v.text, nofile: 65_536 });
      contestants.push({ name: v.name, what: v.what, kind: v.kind, server, live: [], stored: [], connectMs: [], nextUser: 0 });
    }
    log(`${contestants.length} servers up; connecting ${o.users} users × 2 to each`);
    const connectBatch = async (c: Contestant, users: number) => {
      const r = await lg.connect({
        target: targetOf(c.server, secrets),
        group: c.name,
        userPrefix: "p-",
        firstUser: c.nextUser,
        users,
        sessionsPerUser: 2,
        concurrency: 32,
      });
      c.nextUser += users;
      if (r.failed > 0) throw new Error(`${c.name}: ${r.failed} connects failed: ${r.errors.join("; ")}`);
      return r;
    };
    for (const c of contestants) await connectBatch(c, o.users);

    const push = (c: Contestant, ttl: number | undefined, durationMs: number, maxPushes?: number) =>
      lg.push({
        target: targetOf(c.server, secrets),
        group: c.name,
        toUser: o.users,
        ttl,
        mode: "closed",
        concurrency: 32,
        durationMs,
        maxPushes,
        payloadBytes: 64,
        connections: 32,
      });

    for (let r = 0; r < o.rounds; r++) {
      const order = contestants.slice(r % contestants.length).concat(contestants.slice(0, r % contestants.length));
      if (r % 2 === 1) order.reverse();
      for (const c of order) {
        // Connect cost: a fresh batch of new users (JWT, object creation, first writes).
        const cr = await connectBatch(c, o.connectBatch);
        c.connectMs.push((cr.serverCpuS / cr.opened) * 1000);
        // Wake every object (they hibernate ~10 s after their last event), warm up, measure.
        await push(c, 0, 120_000, o.users);
        await push(c, 0, 300);
        let busy = machineBusy();
        const live = await push(c, 0, o.windowMs);
        c.live.push(summarize(live, busy()));
        await push(c, undefined, 300);
        busy = machineBusy();
        const stored = await push(c, undefined, o.windowMs);
        c.stored.push(summarize(stored, busy()));
        for (const s of [live, stored]) {
          if (s.errors > 0 || s.lost > 0 || s.duplicates > 0)
            throw new Error(`${c.name}: ${s.errors} errors, ${s.lost} lost, ${s.duplicates} duplicates (${s.errorSamples.join("; ")})`);
        }
        log(
          `round ${r + 1} ${c.name}: live ${fmt(c.live.at(-1)?.cpuPerPushUs ?? Number.NaN)} µs, stored ${fmt(c.stored.at(-1)?.cpuPerPushUs ?? Number.NaN)} µs, connect ${fmt(c.connectMs.at(-1) ?? Number.NaN)} ms`,
        );
      }
    }
  } finally {
    await lg.exit();
    for (const c of contestants) await c.server.stop();
  }

  const control = contestants.find((c) => c.name === "control");
  const baseline = contestants.find((c) => c.name === "baseline");
  const med = (c: Contestant | undefined, f: (c: Contestant) => number[]) => (c === undefined ? Number.NaN : median(f(c)));
  const liveOf = (c: Contestant) => c.live.map((s) => s.cpuPerPushUs);
  const storedOf = (c: Contestant) => c.stored.map((s) => s.cpuPerPushUs);
  const rows = contestants.map((c) => {
    const live = med(c, liveOf);
    const stored = med(c, storedOf);
    const connect = med(c, (x) => x.connectMs);
    return {
      name: c.name,
      what: c.what,
      liveUs: live,
      liveVsControlUs: live - med(control, liveOf),
      liveVsBaseline: live / med(baseline, liveOf),
      storedUs: stored,
      storedVsControlUs: stored - med(control, storedOf),
      storedVsBaseline: stored / med(baseline, liveOf),
      connectMs: connect,
      connectVsControlMs: connect - med(control, (x) => x.connectMs),
      otherCoresMedian: median(c.live.concat(c.stored).map((s) => s.otherCores)),
      /** amp- variants: the piece's own cost, (variant − control) / AMP: µs per push (live), or ms per connect (amp-jwt). */
      perPiece: !c.name.startsWith("amp-")
        ? undefined
        : c.name === "amp-jwt"
          ? (connect - med(control, (x) => x.connectMs)) / AMP
          : (live - med(control, liveOf)) / AMP,
    };
  });
  const text = table(
    ["variant", "live µs/push", "Δ vs control", "÷ baseline", "stored µs/push", "Δ vs control", "÷ baseline", "connect ms", "Δ vs control", `amp: one piece`],
    rows.map((r) => [
      r.name,
      fmt(r.liveUs),
      fmt(r.liveVsControlUs),
      `${fmt(r.liveVsBaseline)}×`,
      fmt(r.storedUs),
      fmt(r.storedVsControlUs),
      `${fmt(r.storedVsBaseline)}×`,
      fmt(r.connectMs),
      fmt(r.connectVsControlMs),
      r.perPiece === undefined ? "" : r.name === "amp-jwt" ? `${fmt(r.perPiece * 1000)} µs/connect` : `${fmt(r.perPiece)} µs/push`,
    ]),
  );
  const result = {
    version: 1,
    at: new Date().toISOString(),
    options: o,
    rows,
    raw: contestants.map((c) => ({ name: c.name, live: c.live, stored: c.stored, connectMs: c.connectMs })),
    table: text,
  };
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(
    `\nServer CPU per push and per connect, medians of ${o.rounds} interleaved rounds (${o.users} users × 2 sessions; "÷ baseline" = ÷ baseline's live push)\n`,
  );
  console.log(text);
  console.log("");
  for (const r of rows) console.log(`${r.name.padEnd(24)} ${r.what}`);
  console.log(`\nresults in ${o.out}`);
}
