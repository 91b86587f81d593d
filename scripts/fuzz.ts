/**
 * npm run fuzz — the abuse suite against Switchboard on standalone workerd.
 *
 * Sends ≥ 10,000 generated bad (and some good) inputs — push bodies, paths and
 * userIds, query strings, Authorization variants, batch bodies, connect
 * requests (token, Origin, subprotocols), odd headers, WebSocket frames (text,
 * binary, oversize, fragmented, floods) and protocol-level frame abuse — and
 * checks each answer against the contract: no 5xx, no crash, every refusal a
 * documented 4xx with the `{error:{code,message,field?}}` body or a documented
 * close code / error frame. Then the JWT table end to end, mid-session token
 * expiry, the limits table, and that the service still delivers afterwards.
 *
 * Inputs come from fast-check arbitraries (scripts/lib/fuzz/): each lane is a
 * property that stops at its first violation, shrinks it to the smallest
 * failing input and prints the one command that replays it.
 *
 *   npm run fuzz                                   # seed 20261123
 *   npm run fuzz -- --seed 42                      # or SB_SEED=42; --seed random
 *   npm run fuzz -- --scale 0.2                    # fewer inputs
 *   npm run fuzz -- --seed S --only LANE --path P  # replay a printed failure
 *   npm run fuzz -- --inject-oracle --only push-body  # checker self-test (a wrong oracle): must exit 1 with a shrunk input
 *
 * Exits 1 on any violation. Details: docs/guarantees.md.
 */
import { failures, printReport, runFuzz } from "./lib/fuzz/run.ts";
import { seedFrom } from "./lib/random.ts";

const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const scale = Number(arg("--scale") ?? process.env.SB_FUZZ_SCALE ?? 1);
const only = arg("--only");
const log = (line: string) => console.log(line);
if (arg("--path") !== undefined && (only === undefined || only.includes(","))) {
  console.error("fuzz: --path replays one lane's input: give that lane with --only (the printed replay command does)");
  process.exit(2);
}

const report = await runFuzz({
  seed: seedFrom(argv, 20261123),
  scale: Number.isFinite(scale) && scale > 0 ? scale : 1,
  ports: [9201, 9202],
  log,
  ...(only === undefined ? {} : { only: only.split(",") }),
  ...(arg("--path") === undefined ? {} : { path: arg("--path") }),
  injectOracle: argv.includes("--inject-oracle"),
});
printReport(report, log);
process.exit(failures(report).length === 0 ? 0 : 1);
