/**
 * `npm run serve` (tools/serve.ts) as the benches run it: its own temp data
 * and dist dirs, the environment given and nothing of the caller's secrets,
 * its output kept, killed when this process exits. Resolves once serve has
 * printed its start-up lines (workerd answering).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { tempDir, track } from "../../scripts/lib/janitor.ts";
import { eventually } from "../../scripts/lib/time.ts";
import { ROOT } from "../../tools/lib/workerd.ts";

export interface RunningServe {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  /** workerd's pid as serve printed it at start. */
  workerdPid: number;
}

export async function startServe(port: number, env: Record<string, string>): Promise<RunningServe> {
  const temp = tempDir("sb-serve");
  const child = spawn(process.execPath, [join(ROOT, "tools/serve.ts")], {
    cwd: ROOT,
    env: {
      PATH: `${join(ROOT, "node_modules/.bin")}:${process.env.PATH ?? ""}`,
      HOME: process.env.HOME,
      SWITCHBOARD_ADDRESS: `127.0.0.1:${port}`,
      SWITCHBOARD_DATA: join(temp, "data"),
      SWITCHBOARD_DIST: join(temp, "dist"),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  track(child);
  let out = "";
  child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  await eventually("serve to start", () => (out.includes("supervised") || child.exitCode !== null ? true : undefined), 120_000, 50);
  const workerdPid = Number(/workerd pid (\d+)/.exec(out)?.[1]);
  if (!Number.isInteger(workerdPid)) throw new Error(`serve did not start:\n${out.slice(-2000)}`);
  return { child, output: () => out, exited, workerdPid };
}
