/**
 * The servers under test: Switchboard (built by wrangler, as `npm run serve`
 * does), the baseline Worker (bench/baseline/worker.js, no build step), and
 * profiling variants (a scratch copy of src/ with one piece stubbed, bundled
 * by esbuild). Each runs on standalone workerd with on-disk Durable Object
 * storage in a temp dir, on a port in 9100-9199; every child is killed and
 * every temp dir removed when this process exits, however it exits.
 */
import type { ChildProcess } from "node:child_process";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { buildWorker, KNOBS, openFileLimits, ROOT, startWorkerd, writeConfig } from "../../tools/lib/workerd.ts";
import { freePorts, hookCleanup, tempDir, track } from "../../scripts/lib/janitor.ts";
import { COMPATIBILITY_DATE } from "../../tools/lib/wranglerConfig.ts";

export { hookCleanup, tempDir, track };
import { cpuSeconds, openFds, rssBytes } from "./proc.ts";

export const PORT_MIN = 9100;
export const PORT_MAX = 9199;
export const BASELINE_SCRIPT = join(ROOT, "bench/baseline/worker.js");

/** A free port in 9100-9199 not handed out before by this process. */
export async function pickPort(): Promise<number> {
  const [port] = await freePorts(1, PORT_MIN, PORT_MAX);
  return port as number;
}

/** Switchboard, bundled by wrangler exactly as `npm run serve` bundles it. */
export function buildProduct(): string {
  // wrangler is a Node script: Node 22 (ours) must come first on PATH, whoever started us.
  const nodeDir = dirname(process.execPath);
  if (!(process.env.PATH ?? "").startsWith(`${nodeDir}:`)) process.env.PATH = `${nodeDir}:${process.env.PATH ?? ""}`;
  return buildWorker(join(tempDir("bench-build"), "worker"));
}

/**
 * Bundle `entry` (a scratch copy of src/index.ts) with esbuild, with the
 * options wrangler uses for a module Worker. Profiling compares variants only
 * with a control built the same way.
 */
export async function bundleWithEsbuild(entry: string, outfile: string): Promise<string> {
  const esbuild = await import("esbuild");
  await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    external: ["cloudflare:*", "node:*"],
    keepNames: true,
    logLevel: "error",
    absWorkingDir: ROOT,
    nodePaths: [join(ROOT, "node_modules")],
  });
  return outfile;
}

/** A scratch copy of src/ for a variant; `edit` rewrites files in it. */
export function scratchSource(name: string): string {
  const dir = join(tempDir(`bench-src-${name}`), "src");
  cpSync(join(ROOT, "src"), dir, { recursive: true });
  return dir;
}

/** Replace `from` with `to` in a scratch file; throws if `from` is not there (src moved on). */
export function editFile(path: string, from: string, to: string): void {
  const text = readFileSync(path, "utf8");
  if (!text.includes(from)) throw new Error(`variant anchor not found in ${path}: ${from.slice(0, 80)}`);
  writeFileSync(path, text.replace(from, to));
}

export interface ServerOptions {
  name: string;
  kind: "product" | "baseline";
  script: string;
  /** Secrets and knobs (product), passed in the child's environment. */
  knobs?: Record<string, string>;
  /** Text bindings (baseline knobs). */
  text?: Record<string, string>;
  /** Open-file limit to ask for. */
  nofile: number;
  echo?: boolean;
}

export class Server {
  readonly tail: string[] = [];
  readonly name: string;
  readonly kind: "product" | "baseline";
  readonly port: number;
  readonly child: ChildProcess;
  readonly dataDir: string;
  constructor(name: string, kind: "product" | "baseline", port: number, child: ChildProcess, dataDir: string) {
    this.name = name;
    this.kind = kind;
    this.port = port;
    this.child = child;
    this.dataDir = dataDir;
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get pid(): number {
    const pid = this.child.pid;
    if (pid === undefined) throw new Error(`${this.name}: no pid`);
    return pid;
  }
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
  cpu(): number {
    return cpuSeconds(this.pid);
  }
  rss(): number {
    return rssBytes(this.pid);
  }
  fds(): number {
    return openFds(this.pid);
  }
  limits(): { soft: number; hard: number } | undefined {
    return openFileLimits(this.pid);
  }

  /** SIGTERM, then SIGKILL after `graceMs` (workerd drains open WebSockets for ~5 s before it exits). */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    const gone = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await gone;
    clearTimeout(timer);
  }
}

export async function startServer(o: ServerOptions): Promise<Server> {
  hookCleanup();
  const port = await pickPort();
  const root = tempDir(`bench-${o.name}`);
  const dataDir = join(root, "do");
  const product = o.kind === "product";
  const configPath = writeConfig({
    script: o.script,
    address: `127.0.0.1:${port}`,
    dataDir,
    classes: product ? ["UserHub", "StatsShard"] : ["Hub"],
    namespaces: product ? { UserHub: "USER_HUB", StatsShard: "STATS_SHARD" } : { Hub: "HUB" },
    text: o.text,
    fromEnvironment: product ? KNOBS : [],
    compatibilityDate: COMPATIBILITY_DATE,
    configDir: join(root, "config"),
  });
  // A clean environment: the knobs given and nothing from the developer's shell.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...o.knobs };
  const child = await startWorkerd(configPath, `127.0.0.1:${port}`, env, "pipe", { nofile: o.nofile });
  track(child);
  const server = new Server(o.name, o.kind, port, child, dataDir);
  const onData = (chunk: Buffer) => {
    const text = chunk.toString("utf8");
    if (o.echo === true) process.stderr.write(`[${o.name}] ${text}`);
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      server.tail.push(line);
      if (server.tail.length > 200) server.tail.shift();
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  return server;
}
