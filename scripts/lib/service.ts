/**
 * The one way the harness starts a service (tests, benches, fuzz, chaos, e2e):
 * `startService({ kind, … })` picks a port (claimed across processes, so test
 * files running side by side never share one), starts the process, waits until
 * it answers (the one `eventually`), keeps its output for failure messages, and
 * `stop()` takes down the whole process tree.
 *
 * Kinds:
 * - "workerd": the built Worker (or `script`) on standalone workerd, secrets and
 *   knobs in the child's environment only, a temp config and data dir; it can be
 *   killed, crashed and restarted on the same data dir (chaos, the supervisor).
 * - "baseline": bench/baseline/worker.js on standalone workerd (`text` knobs).
 * - "wrangler": `wrangler dev` (`vars` override wrangler.toml's [vars]).
 * - "dev" / "serve": `npm run dev` / `npm run serve` as a user runs them, from a
 *   fresh shell's environment; "serve" with `direct` runs `node tools/serve.ts`.
 *
 * Starting workerd itself (buildWorker, writeConfig, the open-file limit) is the
 * operator tools' (tools/lib/workerd.ts); this builds on it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { freePorts, tempDir, track } from "./janitor.ts";
import { eventually } from "./time.ts";
import type { ExitRecord } from "../../tools/lib/supervisor.ts";
import { stopTree } from "../../tools/lib/processTree.ts";
import { buildWorker, KNOBS, openFileLimits, QUIET_WRANGLER_ENV, ROOT, WORKERD, withOpenFileLimit, WRANGLER_JS, writeConfig } from "../../tools/lib/workerd.ts";
import { COMPATIBILITY_DATE } from "../../tools/lib/wranglerConfig.ts";

export type { ExitRecord } from "../../tools/lib/supervisor.ts";

/**
 * Every port the harness listens on comes from here. Claims are files under the
 * temp dir (see janitor.ts), so concurrently running test files and suites each
 * get their own even though each process only knows its own.
 */
export const PORT_MIN = 9100;
export const PORT_MAX = 9499;

/** `count` free ports of the harness's range, the first from `preferred` upward when given. */
export async function pickPorts(count: number, preferred?: number): Promise<number[]> {
  const start = preferred ?? PORT_MIN + Math.floor(Math.random() * (PORT_MAX - PORT_MIN + 1));
  return freePorts(count, PORT_MIN, PORT_MAX, start);
}

/** One free port of the harness's range. */
export async function pickPort(preferred?: number): Promise<number> {
  const [port] = await pickPorts(1, preferred);
  return port as number;
}

export const BASELINE_SCRIPT = join(ROOT, "bench/baseline/worker.js");

/** What an offline run of wrangler must not print: network failures, the update check's notice, the banner it rides on. */
export const NOISE = /ENOTFOUND|getaddrinfo|EAI_AGAIN|update available|Unable to fetch|⛅️|telemetry/i;

/** The environment a fresh shell has: PATH with the system Node first (as a user's would), HOME, no project secrets. */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const path = (process.env.PATH ?? "")
    .split(":")
    .filter((p) => !p.includes("node_modules"))
    .join(":");
  return { PATH: path, HOME: process.env.HOME, TERM: "dumb", NO_COLOR: "1", ...extra };
}

let built: string | undefined;
/**
 * Bundle the Worker once per process, into a temp dir (never the shared dist/).
 * SB_SRC_ROOT=<dir> builds another checkout instead (with wrangler.toml, src/
 * and node_modules): e.g. the commit before a fix, to see a check fail there.
 */
export function builtWorker(): string {
  // wrangler needs Node 22; the project's own node (node_modules/.bin) comes first on PATH.
  const bin = join(ROOT, "node_modules/.bin");
  if (!(process.env.PATH ?? "").split(":").includes(bin)) process.env.PATH = `${bin}:${process.env.PATH ?? ""}`;
  const root = process.env.SB_SRC_ROOT;
  built ??= buildWorker(join(tempDir("sb-build"), "worker"), root === undefined || root === "" ? ROOT : root);
  return built;
}

export type Knobs = Partial<Record<(typeof KNOBS)[number], string>>;

interface Common {
  /** Preferred port (the next free one of the harness's range is used if taken). */
  port?: number;
  /** How long it may take to answer (default: 30 s for workerd, 120 s for wrangler and npm). */
  timeoutMs?: number;
  /** Echo its output to this process's stderr, each line prefixed with the label. */
  echo?: boolean;
  /** A name for messages (default: the kind). */
  label?: string;
}

export interface WorkerdSpec extends Common {
  kind: "workerd";
  /** Secrets and knobs for the Worker (names from KNOBS), in the child's environment. */
  knobs?: Knobs;
  /** A bundle other than the built Worker (a bench variant, a probe). */
  script?: string;
  /** Text bindings given literally. */
  text?: Record<string, string>;
  /** Durable Object classes → binding names (default: the Worker's UserHub and StatsShard). */
  objects?: Record<string, string>;
  /** Durable Object storage on disk (default) or in memory. */
  storage?: "disk" | "memory";
  /** Reuse this data dir (e.g. a restart in another service); default: a fresh temp dir. */
  dataDir?: string;
  /** workerd's open-file limit (within the hard limit). */
  nofile?: number;
  /** Where the Worker's fetch() may connect (tools/lib/egress.ts). */
  egress?: "public" | "private";
}

export interface BaselineSpec extends Common {
  kind: "baseline";
  /** The baseline's knobs (text bindings: STORE, CONNECT_WRITE). */
  text?: Record<string, string>;
  nofile?: number;
}

export interface WranglerSpec extends Common {
  kind: "wrangler";
  /** Override wrangler.toml's [vars] (`--var NAME:VALUE`), e.g. a short HEARTBEAT_INTERVAL. */
  vars?: Record<string, string>;
}

export interface NpmSpec extends Common {
  kind: "dev" | "serve";
  /** Added to the fresh shell's environment (secrets, SWITCHBOARD_* settings). */
  env?: Record<string, string>;
  /** "serve" only: `node tools/serve.ts` itself rather than through npm. */
  direct?: boolean;
}

export type ServiceSpec = WorkerdSpec | BaselineSpec | WranglerSpec | NpmSpec;

/** The process exited before it answered; `code` and `output` say how. */
export class ServiceExited extends Error {
  readonly code: number | null;
  readonly output: string;
  constructor(label: string, code: number | null, output: string) {
    super(`${label} exited (${String(code)}) before answering:\n${output.slice(-3000)}`);
    this.code = code;
    this.output = output;
  }
}

interface Launch {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Its own process group (wrangler and npm spawn trees), stopped as a whole. */
  group: boolean;
  /** Any HTTP answer means up (a probe Worker has no /healthz), else /healthz must answer 2xx. */
  anyAnswer: boolean;
}

const TAIL_LINES = 400;
const OUTPUT_CHARS = 2_000_000;
/** workerd output lines worth a look: app errors, runtime aborts, uncaught exceptions. */
const FLAG = /unhandled error|uncaught|internal error|Promise callback destroyed|fatal|abort|segmentation|kj\/|exception/i;

export class Service {
  readonly kind: ServiceSpec["kind"];
  readonly label: string;
  readonly port: number;
  readonly address: string;
  readonly base: string;
  readonly wsBase: string;
  /** Durable Object storage of a workerd kind on disk (undefined otherwise). */
  readonly dataDir: string | undefined;
  child: ChildProcess | undefined;
  /** Every line it printed, most recent last (bounded). */
  readonly tail: string[] = [];
  /** Lines matching a pattern of interest (bounded). */
  readonly flagged: string[] = [];
  readonly exits: ExitRecord[] = [];
  /** Called on every exit of the process (see tools/lib/supervisor.ts). */
  readonly exitListeners: Array<(exit: ExitRecord) => void> = [];
  starts = 0;
  #out = "";
  #exited: Promise<number | null> = Promise.resolve(null);
  #expectExit = false;
  readonly #launch: Launch;
  readonly #echo: boolean;
  readonly #timeoutMs: number;

  constructor(kind: ServiceSpec["kind"], label: string, port: number, dataDir: string | undefined, launch: Launch, echo: boolean, timeoutMs: number) {
    this.kind = kind;
    this.label = label;
    this.port = port;
    this.address = `127.0.0.1:${port}`;
    this.base = `http://${this.address}`;
    this.wsBase = `ws://${this.address}`;
    this.dataDir = dataDir;
    this.#launch = launch;
    this.#echo = echo;
    this.#timeoutMs = timeoutMs;
  }

  /** Everything it printed (stdout and stderr interleaved; bounded). */
  output(): string {
    return this.#out;
  }

  /** The current process's exit code, once it exits. */
  get exited(): Promise<number | null> {
    return this.#exited;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Is the process running? */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Exits we did not cause (crashes, aborts). */
  unexpectedExits(): ExitRecord[] {
    return this.exits.filter((e) => !e.expected);
  }

  /** Wait until its output matches `pattern` (e.g. a start-up line); the match. */
  waitForOutput(pattern: RegExp, ms = this.#timeoutMs): Promise<RegExpExecArray> {
    return eventually(`${this.label} to print ${String(pattern)}`, () => pattern.exec(this.#out) ?? undefined, ms, 50);
  }

  /** Spawn the process and wait until it answers; throws ServiceExited or a timeout (the process then stopped). */
  async launch(): Promise<void> {
    const l = this.#launch;
    const child = spawn(l.command, l.args, { cwd: ROOT, env: l.env, detached: l.group, stdio: ["ignore", "pipe", "pipe"] });
    track(child, l.group);
    this.child = child;
    this.starts++;
    this.#expectExit = false;
    const onData = (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      if (this.#echo) process.stderr.write(text.replace(/^(?=.)/gm, `[${this.label}] `));
      this.#out += text;
      if (this.#out.length > OUTPUT_CHARS) this.#out = this.#out.slice(-OUTPUT_CHARS / 2);
      for (const line of text.split("\n")) {
        if (line.trim() === "") continue;
        this.tail.push(line);
        if (this.tail.length > TAIL_LINES) this.tail.shift();
        if (FLAG.test(line) && this.flagged.length < 2000) this.flagged.push(line);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    // A spawn that fails (ENOENT, EACCES) emits "error" and no "exit".
    let spawnError: Error | undefined;
    child.once("error", (err) => (spawnError = err));
    this.#exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        const record: ExitRecord = { code, signal, expected: this.#expectExit, at: Date.now(), tail: this.tail.slice(-60) };
        this.exits.push(record);
        for (const listener of this.exitListeners) listener(record);
        resolve(code);
      }),
    );
    const answering = async (): Promise<"up" | "exited" | "unspawned" | undefined> => {
      if (spawnError !== undefined) return "unspawned";
      if (child.exitCode !== null || child.signalCode !== null) return "exited";
      try {
        const res = await fetch(`${this.base}/healthz`, { signal: AbortSignal.timeout(2000) });
        await res.body?.cancel();
        return l.anyAnswer || res.ok ? "up" : undefined;
      } catch {
        return undefined; // not listening yet
      }
    };
    const state = await eventually(`${this.label} to answer on ${this.base}`, answering, this.#timeoutMs, 100).catch((err: unknown) => err as Error);
    if (state === "up") return;
    if (state === "unspawned") throw new Error(`${this.label}: could not start ${l.command}: ${spawnError?.message ?? ""}`);
    if (state === "exited") {
      const code = await this.#exited;
      await this.stop(0);
      throw new ServiceExited(this.label, code, this.#out);
    }
    await this.stop(0);
    throw new Error(`${state.message}; it printed:\n${this.#out.slice(-3000)}`);
  }

  /** Send a signal to the process (not its tree) and wait until it is gone; the exit is expected. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return;
    this.#expectExit = true;
    child.kill(signal);
    await this.#exited;
  }

  /**
   * SIGKILL it without marking the exit expected: to a supervisor this is a
   * crash like any other (the process vanished with its sessions open).
   */
  async crash(): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return;
    child.kill("SIGKILL");
    await this.#exited;
  }

  /** Start it again on the same config and data dir (after a kill or a crash). */
  async restart(): Promise<void> {
    if (this.running) await this.kill("SIGKILL");
    await this.launch();
  }

  /**
   * Stop the whole tree: SIGTERM to the process and its descendants, SIGKILL to
   * what is left after `graceMs` (workerd drains open WebSockets for ~5 s; wrangler's
   * workerd may ignore SIGTERM while a client holds a hibernatable socket), then
   * its process group, for anything reparented meanwhile.
   */
  async stop(graceMs = 5000): Promise<void> {
    const child = this.child;
    if (child?.pid === undefined) return;
    this.#expectExit = true;
    if (this.running) await stopTree(child.pid, graceMs);
    if (this.#launch.group) killGroup(child.pid);
    await this.#exited;
  }

  /** Resident memory of the process, bytes (Linux /proc). */
  rss(): number | undefined {
    return this.#proc((pid) => {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      return m?.[1] === undefined ? undefined : Number(m[1]) * 1024;
    });
  }

  /** Open file descriptors of the process. */
  fds(): number | undefined {
    return this.#proc((pid) => readdirSync(`/proc/${pid}/fd`).length);
  }

  /** Its open-file limits (soft, hard). */
  limits(): { soft: number; hard: number } | undefined {
    return this.#proc((pid) => openFileLimits(pid));
  }

  #proc<T>(read: (pid: number) => T | undefined): T | undefined {
    const pid = this.pid;
    if (pid === undefined || !this.running) return undefined;
    try {
      return read(pid);
    } catch {
      return undefined;
    }
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // the group is already gone
  }
}

/** Start a service of any kind (see the top of this file) and wait until it answers. */
export async function startService(spec: ServiceSpec): Promise<Service> {
  const label = spec.label ?? spec.kind;
  const isWorkerd = spec.kind === "workerd" || spec.kind === "baseline";
  const timeoutMs = spec.timeoutMs ?? (isWorkerd ? 30_000 : 120_000);
  const [port, inspector] = await pickPorts(spec.kind === "wrangler" || spec.kind === "dev" ? 2 : 1, spec.port);
  const address = `127.0.0.1:${String(port)}`;
  let launch: Launch;
  let dataDir: string | undefined;
  if (spec.kind === "workerd" || spec.kind === "baseline") {
    const product = spec.kind === "workerd";
    const root = tempDir(`sb-${label}`);
    dataDir = product && spec.storage === "memory" ? undefined : product && spec.dataDir !== undefined ? spec.dataDir : join(root, "do");
    const configPath = writeConfig({
      script: spec.kind === "baseline" ? BASELINE_SCRIPT : (spec.script ?? builtWorker()),
      address,
      dataDir,
      classes: Object.keys(product ? (spec.objects ?? PRODUCT_OBJECTS) : BASELINE_OBJECTS),
      namespaces: product ? (spec.objects ?? PRODUCT_OBJECTS) : BASELINE_OBJECTS,
      text: spec.text,
      fromEnvironment: product ? KNOBS : [],
      compatibilityDate: COMPATIBILITY_DATE,
      configDir: join(root, "config"),
      ...(product && spec.egress !== undefined ? { egress: spec.egress } : {}),
    });
    // A clean environment: only what workerd needs plus the knobs given, so a
    // developer's shell (JWT_SECRET=… from `npm run serve`) can't leak in.
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
    if (product) for (const [name, value] of Object.entries(spec.knobs ?? {})) if (value !== undefined) env[name] = value;
    const argv = ["serve", configPath, "--experimental"];
    const [command, args] = spec.nofile === undefined ? [WORKERD, argv] : withOpenFileLimit(spec.nofile, WORKERD, argv);
    launch = { command, args, env, group: false, anyAnswer: true };
  } else {
    const temp = tempDir(`sb-${spec.kind}`);
    // wrangler's inspector defaults to 9229, inside the harness's range: it gets a port of ours.
    const devArgs = [
      "--port",
      String(port),
      "--ip",
      "127.0.0.1",
      "--inspector-port",
      String(inspector),
      "--persist-to",
      join(temp, "state"),
      "--show-interactive-dev-session=false",
    ];
    if (spec.kind === "wrangler") {
      const vars = Object.entries(spec.vars ?? {}).flatMap(([name, value]) => ["--var", `${name}:${value}`]);
      launch = {
        command: process.execPath,
        args: [WRANGLER_JS, "dev", ...devArgs, ...vars],
        env: { ...process.env, ...QUIET_WRANGLER_ENV, NO_COLOR: "1", FORCE_COLOR: "0" },
        group: true,
        anyAnswer: false,
      };
    } else if (spec.kind === "dev") {
      launch = { command: "npm", args: ["run", "dev", "--", ...devArgs], env: userEnv(spec.env), group: true, anyAnswer: false };
    } else {
      const settings = { SWITCHBOARD_ADDRESS: address, SWITCHBOARD_DATA: join(temp, "data"), SWITCHBOARD_DIST: join(temp, "dist"), ...spec.env };
      launch =
        spec.direct === true
          ? {
              // As `npm run` would set it up: the pinned Node first (wrangler, which builds the bundle, needs it).
              command: join(ROOT, "node_modules/.bin/node"),
              args: [join(ROOT, "tools/serve.ts")],
              env: userEnv({ PATH: `${join(ROOT, "node_modules/.bin")}:${userEnv().PATH ?? ""}`, ...settings }),
              group: true,
              anyAnswer: false,
            }
          : { command: "npm", args: ["run", "serve"], env: userEnv(settings), group: true, anyAnswer: false };
    }
  }
  const service = new Service(spec.kind, label, port as number, dataDir, launch, spec.echo ?? false, timeoutMs);
  await service.launch();
  return service;
}

const PRODUCT_OBJECTS = { UserHub: "USER_HUB", StatsShard: "STATS_SHARD" };
const BASELINE_OBJECTS = { Hub: "HUB" };

/** Run `node ROOT/script args…` to its end (SIGTERM after `timeoutMs`): its exit code and stdout + stderr. */
export function runScript(script: string, args: readonly string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, script), ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}
