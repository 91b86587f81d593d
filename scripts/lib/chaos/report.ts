/** The chaos run's report, its verdict and its printout. */

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

export interface PushRecord {
  user: string;
  id: string;
  /** Seq from a 200 answer (first or retry). */
  seq: number | undefined;
  duplicateAnswer: boolean;
  failedOnce: boolean;
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
