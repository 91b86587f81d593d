/** The fuzz run's report: what ran, what failed (with the replay command), and its printout. */
import type { JwtRow } from "../jwtTable.ts";
import type { LimitRow } from "../limits.ts";
import type { LaneResult } from "./property.ts";

export interface FuzzReport {
  seed: number;
  inputs: number;
  lanes: LaneResult[];
  jwt: JwtRow[];
  limits: LimitRow[];
  expiry: { pass: boolean; detail: string } | undefined;
  health: Array<{ name: string; pass: boolean; detail: string }>;
  workerd: Array<{ label: string; unexpectedExits: number; flagged: string[]; maxRss: number }>;
  seconds: number;
}

/** workerd log lines that are expected under abuse: protocol errors it reports for clients' bad frames. */
const EXPECTED_NOISE = /WebSocket protocol error|Unrecognized request method|invalid HTTP|disconnected|connection reset|broken pipe/i;

export function failures(report: FuzzReport): string[] {
  const out: string[] = [];
  for (const w of report.workerd) {
    for (const line of w.flagged) if (!EXPECTED_NOISE.test(line)) out.push(`[workerd ${w.label} log] ${line.slice(0, 300)}`);
  }
  for (const l of report.lanes) {
    const f = l.failure;
    if (f !== undefined)
      out.push(`[${l.name}] ${f.violation}\n    input (shrunk ${f.shrinks}×, first failed at run ${f.at}): ${f.counterexample}\n    replay: ${f.replay}`);
  }
  for (const j of report.jwt) if (!j.pass) out.push(`[jwt] ${j.name}: expected ${j.expect}, got ${j.got}`);
  for (const l of report.limits) if (!l.pass) out.push(`[limits] ${l.name}: ${l.detail}`);
  if (report.expiry !== undefined && !report.expiry.pass) out.push(`[expiry] ${report.expiry.detail}`);
  for (const h of report.health) if (!h.pass) out.push(`[health] ${h.name}: ${h.detail}`);
  for (const w of report.workerd) if (w.unexpectedExits > 0) out.push(`[workerd ${w.label}] exited unexpectedly ${w.unexpectedExits} time(s)`);
  return out;
}

export function printReport(report: FuzzReport, log: (line: string) => void): void {
  log("");
  log(`fuzz summary (seed ${report.seed}, ${report.seconds.toFixed(1)} s): ${report.inputs} inputs`);
  log(`  ${"lane".padEnd(14)} ${"runs".padStart(6)} ${"inputs".padStart(7)} ${"failed".padStart(6)} ${"runtime".padStart(8)}  outcomes`);
  for (const l of report.lanes) {
    const outcomes = [...l.statuses.entries()]
      .sort((x, y) => y[1] - x[1])
      .map(([k, v]) => `${k}×${v}`)
      .join(" ");
    log(
      `  ${l.name.padEnd(14)} ${String(l.runs).padStart(6)} ${String(l.inputs).padStart(7)} ${(l.failure === undefined ? "no" : "YES").padStart(6)} ${String(l.runtimeRefusals).padStart(8)}  ${outcomes}`,
    );
  }
  if (report.jwt.length > 0) log(`  JWT table: ${report.jwt.filter((j) => j.pass).length}/${report.jwt.length} rows as expected`);
  if (report.limits.length > 0) log(`  limits: ${report.limits.filter((l) => l.pass).length}/${report.limits.length} rows as expected`);
  for (const l of report.limits) log(`    ${l.pass ? "ok  " : "FAIL"} ${l.name} [${l.knob}] — ${l.detail}`);
  if (report.expiry !== undefined) log(`  mid-session expiry: ${report.expiry.pass ? "ok" : "FAIL"} — ${report.expiry.detail}`);
  for (const h of report.health) log(`  ${h.pass ? "ok  " : "FAIL"} ${h.name} — ${h.detail}`);
  for (const w of report.workerd) {
    log(`  workerd ${w.label}: unexpected exits ${w.unexpectedExits}, peak RSS ${(w.maxRss / 2 ** 20).toFixed(0)} MiB, flagged log lines ${w.flagged.length}`);
    const kinds = new Map<string, number>();
    for (const line of w.flagged) {
      const key = line
        .replace(/^.*?(error|warning|info):\s*/i, "")
        .replace(/[0-9a-f]{8,}|\d+/g, "#")
        .slice(0, 160);
      kinds.set(key, (kinds.get(key) ?? 0) + 1);
    }
    for (const [kind, count] of kinds) log(`      ${count}× ${kind}`);
  }
  const f = failures(report);
  log(f.length === 0 ? "fuzz: no violations" : `fuzz: ${f.length} violation(s):`);
  for (const line of f.slice(0, 60)) log(`  ${line}`);
}
