/**
 * `wrangler dev` for the browser test: on free ports of 8800-8849 (this
 * project's range for it), with its own throwaway state directory, and
 * killed as a whole process group (wrangler spawns workerd) however the test ends.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "../scripts/lib/janitor.ts";

export interface DevServer {
  baseUrl: string;
  /** The last lines wrangler printed, for failure reports. */
  logTail(): string;
  stop(): Promise<void>;
}

/** `vars` override wrangler.toml's [vars] for this run (`--var NAME:VALUE`), e.g. a short HEARTBEAT_INTERVAL. */
export async function startWrangler(root: string, timeoutMs: number, vars: Record<string, string> = {}): Promise<DevServer> {
  // wrangler's inspector defaults to 9229, inside the range other tools on
  // this machine use, so it gets a port of ours too.
  const [port, inspectorPort] = await freePorts(2, 8800, 8849);
  if (port === undefined || inspectorPort === undefined) throw new Error("e2e: no free ports");
  const stateDir = await mkdtemp(join(tmpdir(), "switchboard-e2e-state-"));
  const lines: string[] = [];
  const child: ChildProcess = spawn(
    join(root, "node_modules/.bin/wrangler"),
    [
      "dev",
      "--port",
      String(port),
      "--ip",
      "127.0.0.1",
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      stateDir,
      "--show-interactive-dev-session=false",
      ...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
    ],
    {
      cwd: root,
      // Its own process group, so stop() reaches workerd too.
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0" },
    },
  );
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) if (line.trim() !== "") lines.push(line);
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", (code) => {
      exited = code;
      resolve();
    }),
  );

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (exited === undefined && child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // Already gone.
      }
      const killed = await Promise.race([exit.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
      if (!killed) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // Already gone.
        }
        await exit;
      }
    }
    await rm(stateDir, { recursive: true, force: true });
  };

  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited !== undefined) {
      await stop();
      throw new Error(`wrangler dev exited with code ${exited} before it was ready:\n${lines.slice(-30).join("\n")}`);
    }
    try {
      const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev was not ready within ${timeoutMs / 1000} s:\n${lines.slice(-30).join("\n")}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { baseUrl, logTail: () => lines.slice(-40).join("\n"), stop };
}
