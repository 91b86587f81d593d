/**
 * Run a bundled Worker on standalone workerd (the open-source Workers runtime,
 * from npm): no wrangler, no inspector, Durable Objects on local disk. Used by
 * `npm run serve`, the benchmark and the chaos suite.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const WORKERD = join(ROOT, "node_modules/.bin/workerd");
/**
 * wrangler's entry script, run with this process's Node (the pinned 22 under
 * npm): through node_modules/.bin its `#!/usr/bin/env node` would pick the
 * first `node` on PATH, which may be older than wrangler accepts.
 */
export const WRANGLER_JS = join(ROOT, "node_modules/wrangler/bin/wrangler.js");

/** Every knob the Worker reads (src/config.ts); each is passed through from the environment. */
export const KNOBS = [
  "JWT_SECRET",
  "JWT_PUBLIC_KEYS",
  "JWT_AUDIENCE",
  "JWT_ISSUER",
  "API_KEY",
  "DEV_MODE",
  "ALLOWED_ORIGINS",
  "MAX_SESSIONS_PER_USER",
  "MAX_MESSAGE_BYTES",
  "DEFAULT_TTL",
  "MAX_STORED_PER_USER",
  "HEARTBEAT_INTERVAL",
  "STALE_AFTER",
  "REAP_INTERVAL",
  "STATS_AUDIT_INTERVAL",
  "STATS_SHARDS",
  "MAX_FRAMES_PER_SECOND",
  "MAX_SESSION_BACKLOG",
  "WEBHOOK_URL",
  "WEBHOOK_SECRET",
  "WEBHOOK_OFFLINE_GRACE",
  // The session cap (src/http/overload.ts); `npm run serve` derives it from the open-file limit.
  "MAX_CONNECTIONS",
  // GET /metrics and the event log lines (src/metrics/).
  "METRICS_TOKEN",
  "EVENT_LOG",
  // The Pusher dialect (src/pusher/config.ts): unset = its routes answer 404.
  "PUSHER_APP_ID",
  "PUSHER_KEY",
  "PUSHER_SECRET",
  "PUSHER_USER_CHANNELS",
  // Web Push (src/webpush/config.ts): unset = its routes answer webpush_disabled.
  "VAPID_PUBLIC_KEY",
  "VAPID_PRIVATE_KEY",
  "VAPID_SUBJECT",
] as const;

/**
 * Environment that keeps wrangler off the network for anything but the
 * service, so an offline laptop or CI sees no getaddrinfo stack traces:
 * metrics off (also `send_metrics = false` in wrangler.toml), the banner off
 * (wrangler 4 runs its npm update check with the banner and has no other
 * switch for it), and miniflare's fetch of the `Request.cf` object from
 * workers.cloudflare.com off (request.cf is then a placeholder; the Worker
 * does not read it). Used by `npm run dev` (tools/dev.ts) and buildWorker.
 *
 * And a global config directory of the project's own (XDG_CONFIG_HOME, under
 * the gitignored .wrangler/): wrangler 4.156's `dev` and `deploy` print "Cloudflare
 * collects anonymous telemetry…" once per wrangler version whenever the
 * machine-wide ~/.config/.wrangler/metrics.json says permission enabled, even
 * with metrics off by env and wrangler.toml (printMetricsBanner in
 * wrangler-dist/cli.js reads only that file). Any other wrangler use on the
 * machine (another checkout, `npx wrangler whoami`) writes that permission,
 * so which of our runs printed the notice depended on what ran first: the
 * Quick start test's one failure on a busy machine. Our runs need no login
 * (dev is local, the build is a dry run); `npm run deploy` keeps the user's
 * config. (A legacy ~/.wrangler directory, if present, still wins over XDG.)
 */
export const QUIET_WRANGLER_ENV = {
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_HIDE_BANNER: "true",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  XDG_CONFIG_HOME: join(ROOT, ".wrangler", "config"),
} as const;

/**
 * Bundle the Worker with wrangler (no deploy) into `outdir`/index.js. `root` is
 * the project to build (default this one; the benchmark builds patched
 * scratch copies, which have wrangler.toml, src/ and a node_modules link).
 */
export function buildWorker(outdir = join(ROOT, "dist/worker"), root = ROOT): string {
  const result = spawnSync(process.execPath, [WRANGLER_JS, "deploy", "--dry-run", "--outdir", outdir], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, ...QUIET_WRANGLER_ENV },
  });
  if (result.status !== 0) throw new Error(`wrangler build failed:\n${result.stdout}\n${result.stderr}`);
  return join(outdir, "index.js");
}

export interface WorkerdOptions {
  /** The bundled module (ESM). */
  script: string;
  /** host:port to listen on. */
  address: string;
  /** Directory for Durable Object storage; undefined = in memory. */
  dataDir: string | undefined;
  /** Durable Object classes with SQLite storage. */
  classes: string[];
  /** name → binding name of each class's namespace. */
  namespaces: Record<string, string>;
  /** Text bindings given literally (values end up in the config file). */
  text?: Record<string, string>;
  /** Bindings read from the environment by workerd itself (secrets stay out of files). */
  fromEnvironment?: readonly string[];
  compatibilityDate: string;
  /** Where to write config.capnp. */
  configDir: string;
  /**
   * Where the Worker's global fetch() may connect (tools/lib/egress.ts): "public" only, or
   * "private" (and loopback) too. Either way a `PUBLIC_EGRESS` service binding reaches public
   * addresses only, for URLs a client supplies. Undefined: workerd's implicit "internet" (public).
   */
  egress?: "public" | "private";
  /** A Unix socket path for the Worker's `admin` entrypoint (src/http/admin.ts); none when undefined. */
  adminSocket?: string;
}

const q = (s: string) => JSON.stringify(s); // capnp text strings share JSON's escaping

export function writeConfig(o: WorkerdOptions): string {
  mkdirSync(o.configDir, { recursive: true });
  if (o.dataDir !== undefined) mkdirSync(o.dataDir, { recursive: true });
  const bindings = [
    ...Object.entries(o.text ?? {}).map(([name, value]) => `(name = ${q(name)}, text = ${q(value)})`),
    ...(o.fromEnvironment ?? []).map((name) => `(name = ${q(name)}, fromEnvironment = ${q(name)})`),
    ...Object.entries(o.namespaces).map(([cls, name]) => `(name = ${q(name)}, durableObjectNamespace = ${q(cls)})`),
  ];
  const namespaces = o.classes.map((cls) => `(className = ${q(cls)}, uniqueKey = ${q(`switchboard-${cls}`)}, enableSql = true)`);
  const storage = o.dataDir === undefined ? "(inMemory = void)" : '(localDisk = "do-storage")';
  const services = [`(name = "main", worker = .mainWorker)`];
  if (o.egress !== undefined) {
    // Explicit definitions replace workerd's implicit "internet" (which trusts the browser CAs too).
    const tls = "tlsOptions = (trustBrowserCas = true)";
    services.push(`(name = "internet", network = (allow = ${o.egress === "private" ? '["public", "private"]' : '["public"]'}, ${tls}))`);
    services.push(`(name = "public-internet", network = (allow = ["public"], ${tls}))`);
    bindings.push(`(name = "PUBLIC_EGRESS", service = "public-internet")`);
  }
  if (o.dataDir !== undefined) services.push(`(name = "do-storage", disk = (path = ${q(resolve(o.dataDir))}, writable = true))`);
  const sockets = [`(name = "http", address = ${q(o.address)}, http = (), service = "main")`];
  if (o.adminSocket !== undefined) {
    sockets.push(`(name = "admin", address = ${q(`unix:${resolve(o.adminSocket)}`)}, http = (), service = (name = "main", entrypoint = "admin"))`);
  }
  // `embed` paths are resolved relative to the config file.
  const config = `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [${services.join(", ")}],
  sockets = [${sockets.join(", ")}],
);

const mainWorker :Workerd.Worker = (
  modules = [(name = "index.js", esModule = embed ${q(relative(o.configDir, resolve(o.script)))})],
  compatibilityDate = ${q(o.compatibilityDate)},
  bindings = [${bindings.join(",\n    ")}],
  durableObjectNamespaces = [${namespaces.join(", ")}],
  durableObjectStorage = ${storage},
);
`;
  const path = join(o.configDir, "config.capnp");
  writeFileSync(path, config);
  return path;
}

/**
 * argv that runs `command` with its open-file limit raised to `nofile` (soft
 * and hard) when the caller may (root, or within the hard limit), else with
 * the soft limit raised to the hard one. The shell execs the command, so the
 * child's pid is the command's. Used by the benchmark, whose idle-session run
 * needs ~2 fds per socket in workerd.
 */
export function withOpenFileLimit(nofile: number, command: string, args: readonly string[]): [string, string[]] {
  const n = Math.floor(nofile);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`bad open-file limit: ${nofile}`);
  const script = `ulimit -n ${n} 2>/dev/null || ulimit -n "$(ulimit -H -n)"; exec "$0" "$@"`;
  return ["/bin/sh", ["-c", script, command, ...args]];
}

/** The open-file limits (soft, hard) of a running process, from /proc; undefined if unreadable. */
export function openFileLimits(pid: number | "self"): { soft: number; hard: number } | undefined {
  try {
    const line = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, "utf8"));
    if (line?.[1] === undefined || line[2] === undefined) return undefined;
    const value = (s: string) => (s === "unlimited" ? Number.POSITIVE_INFINITY : Number(s));
    return { soft: value(line[1]), hard: value(line[2]) };
  } catch {
    return undefined;
  }
}

export interface StartOptions {
  /** Raise the child's open-file limit to this (see withOpenFileLimit). */
  nofile?: number;
  /** Called with the child as soon as it is spawned (before it answers): to attach output or exit listeners early. */
  onSpawn?: (child: ChildProcess) => void;
  /**
   * Its own process group, so a terminal's Ctrl+C (SIGINT to the foreground group) reaches only
   * the parent, which stops it in order (`npm run serve` drains sockets first; workerd signalled
   * directly stops listening, its admin socket included).
   */
  ownProcessGroup?: boolean;
}

/** Start workerd on a config; resolves once it answers HTTP on `address`. */
export async function startWorkerd(
  configPath: string,
  address: string,
  env: NodeJS.ProcessEnv = process.env,
  stdio: "inherit" | "pipe" | "ignore" = "inherit",
  options: StartOptions = {},
): Promise<ChildProcess> {
  const argv = ["serve", configPath, "--experimental"];
  const [command, args] = options.nofile === undefined ? [WORKERD, argv] : withOpenFileLimit(options.nofile, WORKERD, argv);
  const child = spawn(command, args, { env, stdio, detached: options.ownProcessGroup ?? false });
  options.onSpawn?.(child);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`workerd exited with ${child.exitCode ?? child.signalCode}`);
    try {
      const res = await fetch(`http://${address}/healthz`);
      await res.body?.cancel();
      return child;
    } catch {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error("workerd did not start within 30 s");
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
