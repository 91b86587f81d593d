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
import { type CliSpec, parseCommandLine, usageError } from "../tools/lib/cli.ts";
import { SEED_OPTION, seedFrom } from "./lib/random.ts";

const FUZZ_CLI = {
  command: "npm run fuzz --",
  summary:
    "The abuse suite: ≥ 10,000 generated bad inputs against standalone workerd, each answer checked against the contract (docs/guarantees.md). Exits 1 on any violation.",
  options: {
    seed: SEED_OPTION,
    scale: { type: "string", value: "X", number: { min: 0 }, help: "multiply the number of inputs (default 1, or SB_FUZZ_SCALE)" },
    only: { type: "string", value: "LANE[,LANE…]", help: "run only these lanes" },
    path: { type: "string", value: "P", help: "replay one shrunk input (with --seed and one --only lane, as printed on a failure)" },
    "inject-oracle": { type: "boolean", help: "checker self-test with a wrong oracle: must exit 1 with a shrunk input" },
  },
} satisfies CliSpec;
const argv = process.argv.slice(2);
const { values } = parseCommandLine(FUZZ_CLI, argv);
const scale = Number(values.scale ?? process.env.SB_FUZZ_SCALE ?? 1);
const only = values.only;
const log = (line: string) => console.log(line);
if (values.path !== undefined && (only === undefined || only.includes(","))) {
  usageError(FUZZ_CLI, "--path replays one lane's input: give that lane with --only (the printed replay command does)");
}

const report = await runFuzz({
  seed: seedFrom(argv, 20261123),
  scale: Number.isFinite(scale) && scale > 0 ? scale : 1,
  log,
  ...(only === undefined ? {} : { only: only.split(",") }),
  ...(values.path === undefined ? {} : { path: values.path }),
  injectOracle: values["inject-oracle"] === true,
});
printReport(report, log);
process.exit(failures(report).length === 0 ? 0 : 1);
