/**
 * Start an npm script the way a user does (`npm run <script> -- …`), as its own
 * process group so a failing test can still remove everything it started, and
 * wait until it answers /healthz. Used by the tests of `npm run dev` and
 * `npm run serve` from the outside.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { portFree } from "../../scripts/lib/janitor.ts";
import { descendants } from "../../tools/lib/processTree.ts";
import { eventually } from "../../scripts/lib/time.ts";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** What an offline run of wrangler must not print: network failures, the update check's notice, the banner it rides on. */
export const NOISE = /ENOTFOUND|getaddrinfo|EAI_AGAIN|update available|Unable to fetch|⛅️|telemetry/i;

export interface NpmRun {
  child: ChildProcess;
  /** npm's pid. */
  pid: number;
  base: string;
  port: number;
  output(): string;
  exited: Promise<number | null>;
  /** Kill npm's whole process group (whatever the test left running); remove temp dirs. */
  cleanup: () => void;
}

/** `count` free ports on 127.0.0.1 from `from` up. */
export async function freePorts(count: number, from: number, to: number): Promise<number[]> {
  const ports: number[] = [];
  for (let p = from; p <= to && ports.length < count; p++) if (await portFree(p)) ports.push(p);
  if (ports.length < count) throw new Error(`need ${count} free ports in ${from}-${to}`);
  return ports;
}

/** The environment a fresh shell has: PATH with the system Node first (as a user's would), HOME, no project secrets. */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const path = (process.env.PATH ?? "")
    .split(":")
    .filter((p) => !p.includes("node_modules"))
    .join(":");
  return { PATH: path, HOME: process.env.HOME, TERM: "dumb", NO_COLOR: "1", ...extra };
}

export async function startNpm(script: "dev" | "serve", o: { env?: Record<string, string>; portRange: [number, number]; timeoutMs?: number }): Promise<NpmRun> {
  const [port, inspector] = await freePorts(2, o.portRange[0], o.portRange[1]);
  const temp = mkdtempSync(join(tmpdir(), `sb-npm-${script}-`));
  const args =
    script === "dev"
      ? [
          "run",
          "dev",
          "--",
          "--port",
          String(port),
          "--ip",
          "127.0.0.1",
          "--inspector-port",
          String(inspector),
          "--persist-to",
          join(temp, "state"),
          "--show-interactive-dev-session=false",
        ]
      : ["run", "serve"];
  const env = userEnv({
    ...(script === "serve" ? { SWITCHBOARD_ADDRESS: `127.0.0.1:${port}`, SWITCHBOARD_DATA: join(temp, "data"), SWITCHBOARD_DIST: join(temp, "dist") } : {}),
    ...o.env,
  });
  const child = spawn("npm", args, { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  const pid = child.pid as number;
  const cleanup = () => {
    // `npm run serve` runs workerd in a process group of its own (so Ctrl+C reaches only serve):
    // kill the tree by parentage first, then the group.
    for (const descendant of descendants(pid).reverse()) {
      try {
        process.kill(descendant, "SIGKILL");
      } catch {
        // already gone
      }
    }
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // group already gone
    }
    rmSync(temp, { recursive: true, force: true });
  };
  const base = `http://127.0.0.1:${port}`;
  const answering = async (): Promise<"up" | "exited" | undefined> => {
    if (child.exitCode !== null) return "exited";
    try {
      const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      return res.ok ? "up" : undefined;
    } catch {
      return undefined; // not yet
    }
  };
  const state = await eventually(`npm run ${script} to answer`, answering, o.timeoutMs ?? 90_000, 250).catch(() => "timeout" as const);
  if (state !== "up") {
    cleanup();
    throw new Error(
      state === "exited"
        ? `npm run ${script} exited (${child.exitCode}) before answering:\n${out.slice(-3000)}`
        : `npm run ${script} did not answer within the deadline:\n${out.slice(-3000)}`,
    );
  }
  return { child, pid, base, port: port as number, output: () => out, exited, cleanup };
}

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
