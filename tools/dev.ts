/**
 * npm run dev — build the SDK into public/, then `wrangler dev` with the
 * development secrets of .dev.vars (`npm run dev -- --port 8799`; `--help`
 * lists the options; any other wrangler option goes after a second `--`).
 *
 * A wrapper, not `build && wrangler dev` in package.json, for two reasons:
 * - Offline quiet: wrangler's metrics are off in wrangler.toml (send_metrics);
 *   its update check runs with the banner, so the banner is off
 *   (WRANGLER_HIDE_BANNER; wrangler 4 has no separate switch), and miniflare's
 *   fetch of the `Request.cf` object from workers.cloudflare.com, which prints
 *   a getaddrinfo ENOTFOUND stack trace offline, is off
 *   (CLOUDFLARE_CF_FETCH_ENABLED=false: request.cf is a placeholder; the
 *   Worker does not read it).
 * - Stopping: `kill -TERM` of npm (or of this process) stops the whole tree,
 *   wrangler's workerd included (see tools/lib/processTree.ts for why that
 *   needs doing by hand).
 */
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { stopTree, watchParent } from "./lib/processTree.ts";
import { QUIET_WRANGLER_ENV, ROOT, WRANGLER_JS } from "./lib/workerd.ts";
import { type CliSpec, parseCommandLine } from "./lib/cli.ts";

const DEV_CLI = {
  command: "npm run dev --",
  summary:
    "Build the client SDK into public/, then `wrangler dev` with the development secrets of .dev.vars (DEV_MODE=1: /dev/token, /dev/push, the demo page at /).",
  options: {
    port: { type: "string", value: "N", int: { min: 0 }, help: "port to listen on (default 8787)" },
    ip: { type: "string", value: "ADDR", help: "address to listen on (default localhost)" },
    "inspector-port": { type: "string", value: "N", int: { min: 0 }, help: "DevTools inspector port" },
    "persist-to": { type: "string", value: "DIR", help: "where local Durable Object state is kept (default .wrangler/state)" },
    "show-interactive-dev-session": { type: "string", value: "true|false", help: "wrangler's keyboard shortcuts" },
    "log-level": { type: "string", value: "LEVEL", help: "wrangler's log level (debug, info, log, warn, error, none)" },
  },
  rest: "wrangler dev's other options, passed on as given (npx wrangler dev --help lists them)",
} satisfies CliSpec;
// Checked before the build, so --help and a typo answer at once. Valid options go to wrangler as given.
parseCommandLine(DEV_CLI);
const wranglerArgs = process.argv.slice(2).filter((a, i, all) => a !== "--" || all.indexOf("--") !== i);

/** What wrangler gets to stop on its own before the rest is SIGKILLed. */
const STOP_GRACE_MS = 3000;

const build = spawnSync(process.execPath, [join(ROOT, "packages/client/build.ts")], { cwd: ROOT, stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);

const child = spawn(process.execPath, [WRANGLER_JS, "dev", ...wranglerArgs], {
  cwd: ROOT,
  stdio: "inherit",
  env: { ...process.env, ...QUIET_WRANGLER_ENV },
});

let stopping = false;
async function stop(reason: string, code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    const killed = await stopTree(child.pid, STOP_GRACE_MS);
    if (killed.length > 0) console.error(`switchboard dev: ${reason}; SIGKILLed ${killed.length} process(es) still running after ${STOP_GRACE_MS} ms`);
  }
  process.exit(code);
}

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, () => void stop(sig, 0));
// Only under npm, whose `sh -c` dies on SIGTERM without passing it on.
if (process.env.npm_lifecycle_event !== undefined) watchParent(() => void stop("parent exited", 0));
// Whoever read our output may be gone with the parent: a write then fails with
// EPIPE, which must not crash us before the children are stopped.
for (const out of [process.stdout, process.stderr]) out.on("error", () => {});
child.once("exit", (code, sig) => {
  // wrangler is gone; anything it left behind goes too.
  void stop(`wrangler exited (${sig ?? `code ${String(code)}`})`, code ?? (sig === null ? 0 : 1));
});
