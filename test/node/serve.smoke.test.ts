/**
 * `npm run serve` (tools/serve.ts): refuses to start without secrets; under
 * supervision, a SIGKILLed workerd is restarted on the same data dir (a stored
 * message is still there) and serves again; SIGTERM stops it cleanly, with no
 * restart and exit code 0.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { eventually } from "../../scripts/lib/time.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const PORT = 9260;
const API_KEY = "serve-smoke-api-key-0123456789";
const temp = mkdtempSync(join(tmpdir(), "sb-serve-smoke-"));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  rmSync(temp, { recursive: true, force: true });
});

function serve(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const base: NodeJS.ProcessEnv = { PATH: `${join(ROOT, "node_modules/.bin")}:${process.env.PATH ?? ""}`, HOME: process.env.HOME };
  const child = spawn(process.execPath, [join(ROOT, "tools/serve.ts")], { cwd: ROOT, env: { ...base, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  return { child, output: () => out, exited };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${PORT}${path}`, { ...init, headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" } });
}

describe("npm run serve (smoke)", () => {
  it("refuses to start without secrets", async () => {
    const s = serve({ SWITCHBOARD_ADDRESS: `127.0.0.1:${PORT}`, SWITCHBOARD_DIST: join(temp, "dist") });
    expect(await s.exited).toBe(1);
    expect(s.output()).toContain("refusing to start");
  });

  it("restarts a SIGKILLed workerd on the same data dir, and stops cleanly on SIGTERM", async () => {
    const s = serve({
      JWT_SECRET: "serve-smoke-jwt-secret-0123456789abcdef",
      API_KEY,
      SWITCHBOARD_ADDRESS: `127.0.0.1:${PORT}`,
      SWITCHBOARD_DATA: join(temp, "data"),
      SWITCHBOARD_DIST: join(temp, "dist"),
    });
    const first = await eventually("listening", () => /listening on .* workerd pid (\d+)/.exec(s.output())?.[1]);
    const pid1 = Number(first);
    const push = await api("/v1/users/serve-smoke/messages", { method: "POST", body: JSON.stringify({ data: { n: 1 }, id: "before-crash" }) });
    expect(push.status).toBe(200);

    process.kill(pid1, "SIGKILL");
    const back = await eventually("restart", () => /workerd back after \d+ ms \(pid (\d+)\)/.exec(s.output())?.[1]);
    const pid2 = Number(back);
    expect(pid2).not.toBe(pid1);
    const health = await api("/healthz");
    expect(health.status).toBe(200);
    const log = (await (await api("/v1/users/serve-smoke/messages?since=0")).json()) as { head: number; messages: Array<{ id: string }> };
    expect(log.head).toBe(1);
    expect(log.messages.map((m) => m.id)).toEqual(["before-crash"]);

    s.child.kill("SIGTERM");
    expect(await s.exited).toBe(0);
    expect(alive(pid2)).toBe(false);
    expect(s.output().match(/workerd back after/g)?.length).toBe(1);
    expect(s.output()).toContain("SIGTERM; stopping workerd");
  });
});
