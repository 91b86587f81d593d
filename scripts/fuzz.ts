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
 *   npm run fuzz                      # seed 20261123
 *   npm run fuzz -- --seed 42         # or SB_SEED=42; --seed random
 *   npm run fuzz -- --scale 0.2       # fewer inputs
 *
 * Exits 1 on any violation. Details: docs/guarantees.md.
 */
import { failures, printReport, runFuzz } from "./lib/fuzzRun.ts";
import { seedFrom } from "./lib/rng.ts";

const argv = process.argv.slice(2);
const scaleIdx = argv.indexOf("--scale");
const scale = scaleIdx >= 0 ? Number(argv[scaleIdx + 1]) : Number(process.env.SB_FUZZ_SCALE ?? 1);
const seed = seedFrom(argv, 20261123);
const log = (line: string) => console.log(line);

const report = await runFuzz({ seed, scale: Number.isFinite(scale) && scale > 0 ? scale : 1, ports: [9201, 9202], log });
printReport(report, log);
process.exit(failures(report).length === 0 ? 0 : 1);
