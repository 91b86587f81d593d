/**
 * `kill -TERM` of `npm run serve` (npm's process, or `node tools/serve.ts`
 * itself) and of `npm run dev` stops the whole tree, even while a client holds
 * a hibernatable WebSocket (workerd then ignores SIGTERM for >10 s): no node,
 * workerd or esbuild is left behind, reparented to PID 1, still serving.
 */
import { SignJWT } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { alive, descendants } from "../../tools/lib/processTree.ts";
import { startService } from "../../scripts/lib/service.ts";
import { eventually } from "../../scripts/lib/time.ts";

const SECRETS = { JWT_SECRET: "stop-tree-jwt-secret-0123456789abcdef", API_KEY: "stop-tree-api-key-0123456789" };
/** Generous: 250 ms to notice, 3 s grace, then SIGKILL. */
const GONE_WITHIN_MS = 15_000;
const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function token(): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("stop-tree")
    .setExpirationTime(now + 600)
    .sign(new TextEncoder().encode(SECRETS.JWT_SECRET));
}

/** A client holding a hibernatable socket (sends `ping` after open: see the runtime note in DEVELOPERS.md). */
async function holdSocket(base: string, tok: string): Promise<WebSocket> {
  const ws = new WebSocket(`${base.replace("http", "ws")}/v1/connect?device=holder`, ["switchboard.v1", `bearer.${tok}`]);
  await new Promise<void>((resolve, reject) => {
    ws.onmessage = (e) => {
      if (typeof e.data === "string" && e.data.includes('"welcome"')) resolve();
    };
    ws.onerror = () => reject(new Error("socket failed"));
    ws.onopen = () => ws.send("ping");
  });
  cleanups.push(() => ws.close());
  return ws;
}

/** The pids still alive once all have exited or GONE_WITHIN_MS passed (the caller's assertion lists them). */
async function allGone(pids: number[]): Promise<number[]> {
  await eventually("the processes to exit", () => !pids.some(alive), GONE_WITHIN_MS).catch(() => undefined);
  return pids.filter(alive);
}

describe("SIGTERM stops the whole tree", () => {
  it("npm run serve: SIGTERM to npm, with a client connected", async () => {
    const run = await startService({ kind: "serve", env: SECRETS });
    cleanups.push(() => run.stop());
    await holdSocket(run.base, await token());
    const tree = descendants(run.pid as number);
    expect(tree.length, run.output()).toBeGreaterThanOrEqual(2); // sh/node, workerd
    process.kill(run.pid as number, "SIGTERM");
    expect(await allGone([run.pid as number, ...tree]), run.output()).toEqual([]);
    await expect(fetch(`${run.base}/healthz`)).rejects.toThrow("fetch failed");
  });

  it("node tools/serve.ts: SIGTERM to it, with a client connected", async () => {
    const run = await startService({ kind: "serve", direct: true, env: SECRETS });
    cleanups.push(() => run.stop());
    await run.waitForOutput(/listening on/);
    await holdSocket(run.base, await token());
    const tree = descendants(run.pid as number);
    expect(tree.length).toBeGreaterThanOrEqual(1);
    process.kill(run.pid as number, "SIGTERM");
    expect(await run.exited).toBe(0);
    expect(await allGone(tree), run.output()).toEqual([]);
  });

  it("npm run dev: SIGTERM to npm, with a client connected", async () => {
    const run = await startService({ kind: "dev" });
    cleanups.push(() => run.stop());
    const minted = (await (await fetch(`${run.base}/dev/token?user=stop-tree`)).json()) as { token: string };
    await holdSocket(run.base, minted.token);
    const tree = descendants(run.pid as number);
    expect(tree.length, run.output()).toBeGreaterThanOrEqual(3); // sh, node (dev.ts), wrangler's node(s), workerd
    process.kill(run.pid as number, "SIGTERM");
    expect(await allGone([run.pid as number, ...tree]), run.output()).toEqual([]);
  });
});
