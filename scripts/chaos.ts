/**
 * npm run chaos — Switchboard on standalone workerd with on-disk storage, under
 * connection churn and process kills, with a loss / duplicate / order checker.
 *
 *   npm run chaos                          # 16 users × 3 devices, 75 s, 3 SIGKILLs, seed 20261123
 *   npm run chaos -- --seed 7 --seconds 40 --kills 2 --users 8 --devices 2
 *   npm run chaos -- --mass 8000 --per-user 1 --idle 20
 *                                          # the mass disconnect with N sessions (default 2000, 4 per user; 0 skips)
 *   npm run chaos -- --mass 1500 --per-user 1 --nofile 5000
 *                                          # the same, with workerd's fd limit lowered (reproduces exhaustion faster)
 *   npm run chaos -- --crash-users 0       # skip the counts-after-a-crash section (default 120 users × 3 devices)
 *   npm run chaos -- --slow 0              # skip the slow-consumer section (default: 600 pushes of 32 KiB at 60/s)
 *   npm run chaos -- --inject-loss 3       # checker self-test: the client swallows 3 frames; must exit 1
 *
 * Alongside the main run, on its own supervised workerd: counts after a crash
 * (SIGKILL with sessions open; /v1/stats must reach the live count within
 * REAP_INTERVAL + 20 s; see scripts/lib/crashCounts.ts).
 *
 * Prints lost / duplicated / reordered; exits 1 on any loss, reorder or
 * integrity failure (and on a failed crash-counts / --mass / --slow check).
 */
import { runMass, runSlow } from "./lib/chaosExtras.ts";
import { chaosFailures, printChaos, runChaos } from "./lib/chaosRun.ts";
import { printCrashCounts, runCrashCounts } from "./lib/crashCounts.ts";
import { type CliSpec, parseCommandLine } from "../tools/lib/cli.ts";
import { SEED_OPTION, seedFrom } from "./lib/random.ts";

const CHAOS_CLI = {
  command: "npm run chaos --",
  summary:
    "Standalone workerd with on-disk storage under connection churn and SIGKILLs, with a loss / duplicate / order checker; then counts after a crash, a mass disconnect and a slow consumer. Exits 1 on any loss, reorder or failed check.",
  options: {
    seed: SEED_OPTION,
    users: { type: "string", value: "N", int: { min: 1 }, help: "users in the main run (default 16)" },
    devices: { type: "string", value: "N", int: { min: 1 }, help: "devices per user (default 3)" },
    seconds: { type: "string", value: "S", number: { min: 1 }, help: "length of the main run (default 75)" },
    kills: { type: "string", value: "N", int: { min: 2 }, help: "SIGKILLs of workerd (default 3, at least 2)" },
    rate: { type: "string", value: "N", number: { min: 1 }, help: "pushes per second (default 40)" },
    "inject-loss": { type: "string", value: "N", int: { min: 0 }, help: "checker self-test: the client swallows N frames; must exit 1" },
    "crash-users": { type: "string", value: "N", int: { min: 0 }, help: "users × 3 devices for counts after a crash (default 120; 0 skips)" },
    mass: { type: "string", value: "N", int: { min: 0 }, help: "sessions in the mass disconnect (default 2000; 0 skips)" },
    "per-user": { type: "string", value: "N", int: { min: 1 }, help: "sessions per user in the mass disconnect (default 4)" },
    idle: { type: "string", value: "S", number: { min: 0 }, help: "seconds idle before the mass disconnect (default 0)" },
    nofile: { type: "string", value: "N", int: { min: 0 }, help: "lower workerd's fd limit for the mass disconnect (0: leave it)" },
    slow: { type: "string", value: "N", int: { min: 0 }, help: "pushes of 32 KiB at 60/s to a stalled reader (default 600; 0 skips)" },
  },
} satisfies CliSpec;
const argv = process.argv.slice(2);
const { values } = parseCommandLine(CHAOS_CLI, argv);
const num = (flag: keyof typeof values, fallback: number): number => {
  const raw = values[flag];
  return typeof raw === "string" ? Number(raw) : fallback;
};
const log = (line: string) => console.log(line);

const started = Date.now();
// Counts after a crash run on their own workerd alongside the main run: they mostly wait
// for REAP_INTERVAL (60 s, the config's minimum), so they cost no wall time there.
const crashUsers = num("crash-users", 120);
const crashLines: string[] = [];
const crash =
  crashUsers > 0
    ? runCrashCounts({ users: crashUsers, devicesPerUser: 3, log: (l) => crashLines.push(l) }).catch((err: unknown) =>
        err instanceof Error ? err : new Error(String(err)),
      )
    : undefined;

const report = await runChaos({
  seed: seedFrom(argv, 20261123),
  users: num("users", 16),
  devicesPerUser: num("devices", 3),
  seconds: num("seconds", 75),
  kills: Math.max(2, num("kills", 3)),
  pushRate: num("rate", 40),
  log,
  injectLoss: num("inject-loss", 0),
});
printChaos(report, log);
let failed = chaosFailures(report).length > 0;

if (crash !== undefined) {
  log("");
  log(
    `crash counts: ${crashUsers} users × 3 devices online, workerd SIGKILLed (a crash) under supervision; /v1/stats must reach the live count within REAP_INTERVAL + 20 s`,
  );
  const result = await crash;
  for (const line of crashLines) log(line);
  if (result instanceof Error) {
    log(`crash counts: FAILED — ${result.stack ?? result.message}`);
    failed = true;
  } else {
    printCrashCounts(result, log);
    failed ||= !result.pass;
  }
}

const massSessions = num("mass", 2000);
if (massSessions > 0) {
  log("");
  log(`mass disconnect: ${massSessions} sessions dropped at once, under supervision`);
  const nofile = num("nofile", 0);
  const mass = await runMass({
    sessions: massSessions,
    perUser: num("per-user", 4),
    idleSeconds: num("idle", 0),
    log,
    nofile: nofile > 0 ? nofile : undefined,
  });
  log(`mass disconnect: ${mass.pass ? "ok" : "FAILED"} — ${mass.detail}`);
  failed ||= !mass.pass;
}
const slowPushes = num("slow", 600);
if (slowPushes > 0) {
  log("");
  log(`slow consumer: ${slowPushes} pushes of 32 KiB at 60/s to a user with one stalled reader`);
  const slow = await runSlow({ pushes: slowPushes, rate: 60, log });
  log(`slow consumer: ${slow.pass ? "ok" : "FAILED"} — ${slow.detail}`);
  failed ||= !slow.pass;
}
log("");
log(`chaos: ${failed ? "FAILED" : "all sections passed"} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exitCode = failed ? 1 : 0;
