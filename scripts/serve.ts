/**
 * npm run serve — Switchboard on standalone workerd, the production-like way to
 * run it on one box: no dev tooling, Durable Objects on local disk.
 *
 *   JWT_SECRET=… API_KEY=… npm run serve
 *   SWITCHBOARD_ADDRESS=0.0.0.0:8080 SWITCHBOARD_DATA=/var/lib/switchboard npm run serve
 *
 * Secrets and knobs come from the environment (see README "Limits and knobs");
 * it refuses to start without JWT_SECRET (or JWT_PUBLIC_KEYS) and API_KEY.
 */
import { join } from "node:path";
import { buildWorker, KNOBS, ROOT, startWorkerd, writeConfig } from "./lib/workerd.ts";
import { COMPATIBILITY_DATE } from "./lib/wranglerConfig.ts";

const address = process.env.SWITCHBOARD_ADDRESS ?? "127.0.0.1:8788";
const dataDir = process.env.SWITCHBOARD_DATA ?? join(ROOT, ".serve-data");

const missing: string[] = [];
if (!process.env.JWT_SECRET && !process.env.JWT_PUBLIC_KEYS) missing.push("JWT_SECRET (or JWT_PUBLIC_KEYS)");
if (!process.env.API_KEY) missing.push("API_KEY");
if (missing.length > 0) {
  console.error(`switchboard serve: refusing to start; set ${missing.join(" and ")} in the environment.`);
  process.exit(1);
}

const script = buildWorker();
const config = writeConfig({
  script,
  address,
  dataDir,
  classes: ["UserHub", "StatsShard"],
  namespaces: { UserHub: "USER_HUB", StatsShard: "STATS_SHARD" },
  fromEnvironment: KNOBS,
  compatibilityDate: COMPATIBILITY_DATE,
  configDir: join(ROOT, "dist/serve"),
});
const child = await startWorkerd(config, address);
console.log(`switchboard: listening on http://${address} (data in ${dataDir})`);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
