/**
 * npm run chaos — Switchboard on standalone workerd with on-disk storage, under
 * connection churn and process kills, with a loss / duplicate / order checker.
 *
 *   npm run chaos                          # 16 users × 3 devices, 75 s, 3 SIGKILLs, seed 20261123
 *   npm run chaos -- --seed 7 --seconds 40 --kills 2 --users 8 --devices 2
 *   npm run chaos -- --mass 4000           # also: mass disconnect of N idle sessions (see docs/guarantees.md)
 *   npm run chaos -- --slow                # also: a stalled reader while pushing (server RSS)
 *   npm run chaos -- --inject-loss 3       # checker self-test: the client swallows 3 frames; must exit 1
 *
 * Prints lost / duplicated / reordered; exits 1 on any loss, reorder or
 * integrity failure (and on a failed --mass / --slow check).
 */
import { chaosFailures, printChaos, runChaos } from "./lib/chaosRun.ts";
import { seedFrom } from "./lib/rng.ts";

const argv = process.argv.slice(2);
const num = (flag: string, fallback: number): number => {
  const i = argv.indexOf(flag);
  const n = i >= 0 ? Number(argv[i + 1]) : Number.NaN;
  return Number.isFinite(n) ? n : fallback;
};
const log = (line: string) => console.log(line);

const report = await runChaos({
  seed: seedFrom(argv, 20261123),
  users: num("--users", 16),
  devicesPerUser: num("--devices", 3),
  seconds: num("--seconds", 75),
  kills: Math.max(2, num("--kills", 3)),
  pushRate: num("--rate", 40),
  port: 9210,
  log,
  injectLoss: num("--inject-loss", 0),
});
printChaos(report, log);
let failed = chaosFailures(report).length > 0;
process.exitCode = failed ? 1 : 0;
