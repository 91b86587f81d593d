/**
 * npm run serve — Switchboard on standalone workerd, the production-like way to
 * run it on one box: no dev tooling, Durable Objects on local disk.
 *
 *   JWT_SECRET=… API_KEY=… npm run serve
 *   SWITCHBOARD_ADDRESS=0.0.0.0:8080 SWITCHBOARD_DATA=/var/lib/switchboard npm run serve
 *   JWT_SECRET=… API_KEY=… npm run serve -- --no-supervise   # exit when workerd exits
 *
 * Secrets and knobs come from the environment (see README "Limits and knobs");
 * it refuses to start without JWT_SECRET (or JWT_PUBLIC_KEYS) and API_KEY, with
 * the development values from .dev.vars, and with anything the Worker's own
 * config check would refuse (a JWT_SECRET under 32 bytes, an API_KEY under 16
 * characters, a malformed knob): better no listener than one that answers
 * every request 500 `misconfigured`.
 *
 * Supervised by default: when workerd exits on its own (a crash; the abort
 * when it runs out of file descriptors, see docs/guarantees.md "Mass
 * disconnect"), it is started again on the same config and data dir after
 * 0.1 s, 1 s, then 5 s; clients reconnect and resume with ?since=. After more
 * than 5 exits within a minute it gives up and exits 1. SIGINT/SIGTERM/SIGHUP,
 * or its parent going away (npm's shell, killed), stop workerd (SIGKILL after
 * 3 s) and exit 0, never restart. `--no-supervise` (for an outer
 * supervisor such as systemd's Restart=) exits with workerd.
 *
 * Other environment:
 *   SWITCHBOARD_NOFILE=N   raise workerd's open-file limit to N (within the hard limit unless privileged)
 *   SWITCHBOARD_DIST=dir   where the bundle and config.capnp go (default dist/)
 */
import type { ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";
import { Supervisor, type ExitRecord, type Supervised } from "./lib/supervisor.ts";
import { buildWorker, KNOBS, openFileLimits, ROOT, startWorkerd, writeConfig } from "./lib/workerd.ts";
import { COMPATIBILITY_DATE } from "./lib/wranglerConfig.ts";
import { watchParent } from "./lib/processTree.ts";
import { configRefusal } from "./lib/serveConfig.ts";
import { parseCommandLine } from "./lib/cli.ts";
import { SERVE_CLI } from "./lib/serveCli.ts";

const supervise = parseCommandLine(SERVE_CLI).values["no-supervise"] !== true;

const address = process.env.SWITCHBOARD_ADDRESS ?? "127.0.0.1:8788";
const dataDir = process.env.SWITCHBOARD_DATA ?? join(ROOT, ".serve-data");
const distDir = resolve(process.env.SWITCHBOARD_DIST ?? join(ROOT, "dist"));
const nofileRaw = process.env.SWITCHBOARD_NOFILE;
const nofile = nofileRaw === undefined || nofileRaw === "" ? undefined : Number(nofileRaw);

const missing: string[] = [];
if (!process.env.JWT_SECRET && !process.env.JWT_PUBLIC_KEYS) missing.push("JWT_SECRET (or JWT_PUBLIC_KEYS)");
if (!process.env.API_KEY) missing.push("API_KEY");
if (missing.length > 0) {
  console.error(`switchboard serve: refusing to start; set ${missing.join(" and ")} in the environment.`);
  process.exit(1);
}
const refusal = configRefusal(process.env);
if (refusal !== undefined) {
  console.error(`switchboard serve: refusing to start: ${refusal}.`);
  process.exit(1);
}
if (nofile !== undefined && !(Number.isSafeInteger(nofile) && nofile > 0)) {
  console.error(`switchboard serve: SWITCHBOARD_NOFILE must be a positive integer, not ${JSON.stringify(nofileRaw)}`);
  process.exit(1);
}

/**
 * How long workerd may take to stop after SIGTERM before it is SIGKILLed. It
 * drains connections on SIGTERM and does not exit while a client holds a
 * hibernatable WebSocket (observed: >10 s), so the grace has to be short; a
 * client reconnects and resumes with ?since= either way.
 */
const STOP_GRACE_MS = 3000;

/** Exits a supervisor must not undo: someone stopped workerd on purpose. */
const STOP_SIGNALS: ReadonlyArray<NodeJS.Signals | null> = ["SIGINT", "SIGTERM", "SIGHUP"];
const stoppedOnPurpose = (exit: ExitRecord): boolean => exit.code === 0 || STOP_SIGNALS.includes(exit.signal);

/** The workerd process: started, restarted, stopped; its output passed through. */
class Workerd implements Supervised {
  readonly exitListeners: Array<(exit: ExitRecord) => void> = [];
  child: ChildProcess | undefined;
  #stopping = false;
  #tail: string[] = [];

  readonly config: string;

  constructor(config: string) {
    this.config = config;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.#stopping) throw new Error("stopping");
    await startWorkerd(this.config, address, process.env, "pipe", { nofile, onSpawn: (child) => this.#adopt(child) });
  }

  restart(): Promise<void> {
    return this.start();
  }

  #adopt(child: ChildProcess): void {
    this.child = child;
    const pass = (out: NodeJS.WriteStream) => (chunk: Buffer) => {
      out.write(chunk);
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim() !== "") this.#tail.push(line);
      if (this.#tail.length > 100) this.#tail.splice(0, this.#tail.length - 100);
    };
    child.stdout?.on("data", pass(process.stdout));
    child.stderr?.on("data", pass(process.stderr));
    child.once("exit", (code, signal) => {
      const record: ExitRecord = { code, signal, expected: this.#stopping, at: Date.now(), tail: this.#tail.slice(-20) };
      for (const listener of this.exitListeners) listener(record);
    });
  }

  /** Stop for good: no exit after this is unexpected. */
  async stop(): Promise<void> {
    this.#stopping = true;
    const child = this.child;
    if (child === undefined || !this.running) return;
    const gone = new Promise<void>((done) => child.once("exit", () => done()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => {
      console.error(`switchboard: workerd still running ${STOP_GRACE_MS} ms after SIGTERM (draining sockets); SIGKILL`);
      child.kill("SIGKILL");
    }, STOP_GRACE_MS);
    await gone;
    clearTimeout(timer);
  }
}

const script = buildWorker(join(distDir, "worker"));
const config = writeConfig({
  script,
  address,
  dataDir,
  classes: ["UserHub", "StatsShard"],
  namespaces: { UserHub: "USER_HUB", StatsShard: "STATS_SHARD" },
  fromEnvironment: KNOBS,
  compatibilityDate: COMPATIBILITY_DATE,
  configDir: join(distDir, "serve"),
});
const workerd = new Workerd(config);
let stopping = false;
let supervisor: Supervisor | undefined;

async function shutdown(reason: string, code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    supervisor?.stop();
    console.log(`switchboard: ${reason}; stopping workerd`);
    await workerd.stop();
    // A restart that was under way has now failed or finished; stop what it started.
    await supervisor?.settled();
    await workerd.stop();
  }
  process.exit(code);
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void shutdown(signal, 0));
// `kill -TERM` of `npm run serve` reaches npm's `sh -c`, which dies without
// passing it on (scripts/lib/processTree.ts): notice being orphaned instead.
// Only under npm (which sets npm_lifecycle_event): `nohup node scripts/serve.ts &`
// must outlive the shell that started it.
if (process.env.npm_lifecycle_event !== undefined) watchParent(() => void shutdown("parent process exited", 0));
// Whoever read our output may be gone with the parent: a write then fails with
// EPIPE, which must not crash us before the children are stopped.
for (const out of [process.stdout, process.stderr]) out.on("error", () => {});

try {
  await workerd.start();
} catch (err) {
  if (stopping) await new Promise(() => {}); // shutdown() exits
  console.error(`switchboard serve: workerd did not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}

const limits = workerd.pid === undefined ? undefined : openFileLimits(workerd.pid);
console.log(`switchboard: listening on http://${address} (data in ${dataDir}; workerd pid ${String(workerd.pid)})`);
if (limits !== undefined && Number.isFinite(limits.soft)) {
  // docs/guarantees.md, "Mass disconnect": up to 2 fds per session and 3 per awake user object.
  const cap = Math.max(0, Math.floor((limits.soft - 1000) / 5));
  console.log(`switchboard: workerd open-file limit ${limits.soft}: plan for at most ~${cap} sessions (one per user; SWITCHBOARD_NOFILE raises it)`);
}
console.log(
  supervise
    ? "switchboard: supervised: workerd is restarted if it exits on its own (more than 5 exits a minute: give up); --no-supervise to disable"
    : "switchboard: not supervised (--no-supervise): exits when workerd exits",
);

if (supervise) {
  supervisor = new Supervisor(workerd, {
    log: (line) => console.error(`switchboard:${line.replace(/^\s*supervisor:/, "")}`),
    maxPerMinute: 5,
    restartOn: (exit) => !stoppedOnPurpose(exit),
    onGiveUp: (n) => void shutdown(`gave up after ${n} exits within a minute`, 1),
  });
}

workerd.exitListeners.push((exit) => {
  if (exit.expected || stopping) return;
  if (supervisor !== undefined && !stoppedOnPurpose(exit)) return; // the supervisor restarts it
  const how = exit.signal ?? `code ${String(exit.code)}`;
  if (stoppedOnPurpose(exit)) void shutdown(`workerd stopped (${how})`, 0);
  else void shutdown(`workerd exited (${how})`, exit.code === null || exit.code === 0 ? 1 : exit.code);
});
