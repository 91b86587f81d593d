/**
 * Switchboard on standalone workerd for the abuse and chaos suites: a temp
 * build, a temp config and data dir per run, secrets and knobs passed in the
 * child's environment only, the child's output kept for inspection, and every
 * child killed when this process exits (normally, on a signal, or on a throw).
 *
 * Uses buildWorker / writeConfig / startWorkerd from ./workerd.ts unchanged.
 */
import type { ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { freePorts, hookCleanup, tempDir, track } from "./janitor.ts";
import type { ExitRecord } from "../../tools/lib/supervisor.ts";
import { buildWorker, KNOBS, ROOT, startWorkerd, writeConfig } from "../../tools/lib/workerd.ts";
import { COMPATIBILITY_DATE } from "../../tools/lib/wranglerConfig.ts";

/** Ports this suite may use (others use 8800-8899 and 9100-9199). */
export const PORT_MIN = 9200;
export const PORT_MAX = 9299;

/** The first free port from `preferred` upward, within 9200-9299. */
export async function pickPort(preferred: number): Promise<number> {
  const [port] = await freePorts(1, PORT_MIN, PORT_MAX, preferred);
  return port as number;
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

export interface ServiceOptions {
  /** Preferred port (9200-9299); the next free one is used if taken. */
  port: number;
  /** Secrets and knobs for the Worker (names from KNOBS). */
  knobs: Partial<Record<(typeof KNOBS)[number], string>>;
  /** Durable Object storage on disk (default) or in memory. */
  storage?: "disk" | "memory";
  /** Reuse this data dir (e.g. a restart in another Service); default: a fresh temp dir. */
  dataDir?: string;
  /** Echo workerd's output to this process's stderr. */
  echo?: boolean;
  /** workerd's open-file limit (within the hard limit; e.g. lowered to reproduce fd exhaustion quickly). */
  nofile?: number;
}

export type { ExitRecord } from "../../tools/lib/supervisor.ts";

const TAIL_LINES = 400;

export class Service {
  readonly port: number;
  readonly address: string;
  readonly base: string;
  readonly wsBase: string;
  readonly dataDir: string | undefined;
  readonly configPath: string;
  readonly env: NodeJS.ProcessEnv;
  readonly echo: boolean;
  readonly nofile: number | undefined;
  child: ChildProcess | undefined;
  /** Every line workerd printed, most recent last (bounded). */
  readonly tail: string[] = [];
  /** Lines matching a pattern of interest (bounded); see `watch`. */
  readonly flagged: string[] = [];
  readonly exits: ExitRecord[] = [];
  /** Called on every exit of the workerd child (see tools/lib/supervisor.ts). */
  readonly exitListeners: Array<(exit: ExitRecord) => void> = [];
  starts = 0;
  #expectExit = false;

  private constructor(port: number, dataDir: string | undefined, configPath: string, env: NodeJS.ProcessEnv, echo: boolean, nofile: number | undefined) {
    this.nofile = nofile;
    this.port = port;
    this.address = `127.0.0.1:${port}`;
    this.base = `http://${this.address}`;
    this.wsBase = `ws://${this.address}`;
    this.dataDir = dataDir;
    this.configPath = configPath;
    this.env = env;
    this.echo = echo;
  }

  static async start(o: ServiceOptions): Promise<Service> {
    hookCleanup();
    const script = builtWorker();
    const port = await pickPort(o.port);
    const dataDir = o.storage === "memory" ? undefined : (o.dataDir ?? join(tempDir("sb-data"), "do"));
    const configDir = tempDir("sb-config");
    const configPath = writeConfig({
      script,
      address: `127.0.0.1:${port}`,
      dataDir,
      classes: ["UserHub", "StatsShard"],
      namespaces: { UserHub: "USER_HUB", StatsShard: "STATS_SHARD" },
      fromEnvironment: KNOBS,
      compatibilityDate: COMPATIBILITY_DATE,
      configDir,
    });
    // A clean environment: only what workerd needs plus the knobs given, so a
    // developer's shell (JWT_SECRET=… from `npm run serve`) can't leak in.
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
    for (const [name, value] of Object.entries(o.knobs)) if (value !== undefined) env[name] = value;
    const service = new Service(port, dataDir, configPath, env, o.echo ?? false, o.nofile);
    await service.launch();
    return service;
  }

  private async launch(): Promise<void> {
    const child = await startWorkerd(this.configPath, this.address, this.env, "pipe", this.nofile === undefined ? {} : { nofile: this.nofile });
    track(child);
    this.child = child;
    this.starts++;
    this.#expectExit = false;
    const onData = (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      if (this.echo) process.stderr.write(text);
      for (const line of text.split("\n")) {
        if (line.trim() === "") continue;
        this.tail.push(line);
        if (this.tail.length > TAIL_LINES) this.tail.shift();
        if (FLAG.test(line) && this.flagged.length < 2000) this.flagged.push(line);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code, signal) => {
      const record: ExitRecord = { code, signal, expected: this.#expectExit, at: Date.now(), tail: this.tail.slice(-60) };
      this.exits.push(record);
      for (const listener of this.exitListeners) listener(record);
    });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Is the workerd process running? */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Exits we did not cause (crashes, aborts). */
  unexpectedExits(): ExitRecord[] {
    return this.exits.filter((e) => !e.expected);
  }

  /** Send a signal and wait until the process is gone. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return;
    this.#expectExit = true;
    const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    await gone;
  }

  /**
   * SIGKILL it without marking the exit expected: to a supervisor this is a
   * crash like any other (the process vanished with its sessions open).
   */
  async crash(): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return;
    const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGKILL");
    await gone;
  }

  /** Start workerd again on the same config and data dir (after a kill or a crash). */
  async restart(): Promise<void> {
    if (this.running) await this.kill("SIGKILL");
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.kill("SIGTERM");
  }

  /** Resident memory of the workerd process, bytes (Linux /proc). */
  rss(): number | undefined {
    const pid = this.pid;
    if (pid === undefined || !this.running) return undefined;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      return m?.[1] === undefined ? undefined : Number(m[1]) * 1024;
    } catch {
      return undefined;
    }
  }

  /** Open file descriptors of the workerd process. */
  fds(): number | undefined {
    const pid = this.pid;
    if (pid === undefined || !this.running) return undefined;
    try {
      return readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      return undefined;
    }
  }
}

/** workerd output lines worth a look: app errors, runtime aborts, uncaught exceptions. */
const FLAG = /unhandled error|uncaught|internal error|Promise callback destroyed|fatal|abort|segmentation|kj\/|exception/i;
