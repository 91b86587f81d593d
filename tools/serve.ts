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
 * or its parent going away (npm's shell, killed), stop workerd (every socket
 * closed 1001 first, within SWITCHBOARD_DRAIN_MS; then SIGTERM, SIGKILL 1 s
 * later) and exit 0, never restart. `--no-supervise` (for an outer
 * supervisor such as systemd's Restart=) exits with workerd.
 *
 * Other environment:
 *   SWITCHBOARD_NOFILE=N   workerd's open-file limit (within the hard limit unless privileged);
 *                          the session cap is derived from it (tools/lib/serveConfig.ts)
 *   MAX_CONNECTIONS=N      the session cap itself (0 = none); refused above what the limit allows
 *   SWITCHBOARD_EGRESS=public|private   may webhooks reach private/loopback addresses (tools/lib/egress.ts)
 *   SWITCHBOARD_DRAIN_MS=N how long a stop may spend closing sockets 1001 (default 10000); then
 *                          SIGTERM, and SIGKILL 1 s later
 *   SWITCHBOARD_DIST=dir   where the bundle and config.capnp go (default dist/)
 */
import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { request } from "node:http";
import { join, resolve } from "node:path";
import { Supervisor, type ExitRecord, type Supervised } from "./lib/supervisor.ts";
import { buildWorker, KNOBS, openFileLimits, ROOT, startWorkerd, writeConfig } from "./lib/workerd.ts";
import { COMPATIBILITY_DATE } from "./lib/wranglerConfig.ts";
import { watchParent } from "./lib/processTree.ts";
import { configRefusal, FD_RESERVE, FDS_PER_SESSION, serveSettings, sessionCap } from "./lib/serveConfig.ts";
import { webhookEgress } from "./lib/egress.ts";
import { parseCommandLine } from "./lib/cli.ts";
import { SERVE_CLI } from "./lib/serveCli.ts";

const supervise = parseCommandLine(SERVE_CLI).values["no-supervise"] !== true;

const address = process.env.SWITCHBOARD_ADDRESS ?? "127.0.0.1:8788";
const dataDir = process.env.SWITCHBOARD_DATA ?? join(ROOT, ".serve-data");
const distDir = resolve(process.env.SWITCHBOARD_DIST ?? join(ROOT, "dist"));

const missing: string[] = [];
if (!process.env.JWT_SECRET && !process.env.JWT_PUBLIC_KEYS) missing.push("JWT_SECRET (or JWT_PUBLIC_KEYS)");
if (!process.env.API_KEY) missing.push("API_KEY");
if (missing.length > 0) {
  console.error(`switchboard serve: refusing to start; set ${missing.join(" and ")} in the environment.`);
  process.exit(1);
}
const refusal = configRefusal(process.env);
const settingsResult = serveSettings(process.env);
const egressCheck = settingsResult.ok ? await webhookEgress(process.env.WEBHOOK_URL, settingsResult.settings.egress) : {};
const problem = refusal ?? (settingsResult.ok ? egressCheck.refuse : settingsResult.problem);
if (problem !== undefined || !settingsResult.ok) {
  console.error(`switchboard serve: refusing to start: ${problem ?? "bad settings"}.`);
  process.exit(1);
}
const settings = settingsResult.settings;
if (egressCheck.warn !== undefined) console.error(`switchboard serve: warning: ${egressCheck.warn}`);
const nofile = settings.nofileAsked;
/** What workerd sees: the environment, with the session cap serve derived (src/http/overload.ts). */
const workerdEnv: NodeJS.ProcessEnv = { ...process.env, MAX_CONNECTIONS: String(settings.maxConnections) };

/**
 * How long closing every socket 1001 may take on a stop (SWITCHBOARD_DRAIN_MS):
 * each user's object with sockets is woken and closes them (bench/drain.ts).
 * Sockets not closed by then drop with workerd's SIGKILL; a client reconnects
 * and resumes with ?since= either way.
 */
const STOP_GRACE_MS = settings.drainMs;
/** After the drain and SIGTERM, how long workerd may take to exit before SIGKILL. */
const AFTER_DRAIN_MS = 1000;

/** POST /drain on the admin socket; resolves with what it did, never rejects. */
function drainSockets(timeoutMs: number): Promise<string> {
  return new Promise((done) => {
    const req = request({ socketPath: adminSocket, path: "/drain", method: "POST", timeout: timeoutMs }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => {
        const m = /"objects":(\d+),"closed":(\d+)/.exec(body);
        done(m === null ? `drain answered ${res.statusCode ?? "?"}` : `closed ${m[2]} WebSocket(s) of ${m[1]} user(s) with 1001`);
      });
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (err) => done(`drain failed (${err.message})`));
    req.end();
  });
}

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
    // A crashed workerd leaves its Unix socket file behind; binding it again would fail.
    rmSync(adminSocket, { force: true });
    await startWorkerd(this.config, address, workerdEnv, "pipe", { nofile, onSpawn: (child) => this.#adopt(child), ownProcessGroup: true });
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
    const started = Date.now();
    // Close every socket 1001 first: workerd itself would hold them until it is killed, and
    // clients would learn of it only from their heartbeat. Bounded by SWITCHBOARD_DRAIN_MS.
    const drained = await drainSockets(STOP_GRACE_MS);
    console.log(`switchboard: ${drained} in ${Date.now() - started} ms`);
    if (this.running) child.kill("SIGTERM");
    // workerd then waits ~10 s for its objects to go idle before it exits (measured, bench/drain.ts);
    // everything it stores is already committed to SQLite, so a short grace, then SIGKILL.
    const timer = setTimeout(() => {
      console.log(`switchboard: workerd still running ${AFTER_DRAIN_MS} ms after SIGTERM; SIGKILL (its storage is committed)`);
      child.kill("SIGKILL");
    }, AFTER_DRAIN_MS);
    await gone;
    clearTimeout(timer);
  }
}

const script = buildWorker(join(distDir, "worker"));
/** The admin entrypoint's socket (src/http/admin.ts): reachable by this user on this box only. */
const adminSocket = join(distDir, "serve", "admin.sock");
rmSync(adminSocket, { force: true });
const config = writeConfig({
  script,
  address,
  dataDir,
  classes: ["UserHub", "StatsShard"],
  namespaces: { UserHub: "USER_HUB", StatsShard: "STATS_SHARD" },
  fromEnvironment: KNOBS,
  compatibilityDate: COMPATIBILITY_DATE,
  configDir: join(distDir, "serve"),
  egress: settings.egress,
  adminSocket,
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
// passing it on (tools/lib/processTree.ts): notice being orphaned instead.
// Only under npm (which sets npm_lifecycle_event): `nohup node tools/serve.ts &`
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
console.log(
  `switchboard: egress ${settings.egress}: webhooks may reach ${settings.egress === "private" ? "public, private and loopback" : "public"} addresses (SWITCHBOARD_EGRESS); client-supplied URLs public only`,
);
const soft = limits?.soft ?? settings.nofile;
if (settings.maxConnections > 0) {
  console.log(
    `switchboard: session cap ${settings.maxConnections} (from ${settings.capSource}; workerd open-file limit ${String(soft)}, ${FDS_PER_SESSION} per session + ${FD_RESERVE}): upgrades beyond it get 503 with Retry-After`,
  );
} else {
  console.log(`switchboard: no session cap (MAX_CONNECTIONS=0): workerd aborts if sockets exhaust its open-file limit ${String(soft)}`);
}
if (limits !== undefined && settings.nofile !== undefined && limits.soft < settings.nofile && settings.maxConnections > sessionCap(limits.soft)) {
  // The shell could not raise the limit as planned (a container's own ceiling): a cap above what workerd
  // can hold would let it reach EMFILE, the one thing the cap is for. Stop rather than serve overcommitted.
  console.error(
    `switchboard serve: refusing to run: workerd got open-file limit ${limits.soft}, not the ${settings.nofile} the session cap ${settings.maxConnections} was derived from; set SWITCHBOARD_NOFILE=${limits.soft} (or lower)`,
  );
  await shutdown("open-file limit below plan", 1);
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
