/**
 * The bench modes no other test runs, each at a tiny size so its machinery
 * can't rot unseen: a reconnect storm, the connect bench, SIGTERM drain of
 * `npm run serve`, one profiling variant against the control, the billing
 * probe (written to a temp file, not over bench/results/), and the Pusher bench. Asserts each ran to the end and lost nothing where it counts
 * deliveries; never asserts speed.
 */
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runScript } from "../../scripts/lib/service.ts";

const profileOut = join(tmpdir(), `switchboard-profile-smoke-${process.pid}-${Date.now()}.json`);
const probeOut = join(tmpdir(), `switchboard-probe-smoke-${process.pid}-${Date.now()}.json`);
afterAll(() => {
  rmSync(profileOut, { force: true });
  rmSync(probeOut, { force: true });
});

const run = (script: string, args: string[]) => runScript(script, args, 170_000);

describe("bench modes at a tiny size", { timeout: 180_000 }, () => {
  it("--storm: every session back after the kill, nothing lost, duplicated or reordered", async () => {
    const { code, output } = await run("bench/run.ts", ["--storm", "--users", "10", "--devices", "2"]);
    expect(code, output.slice(-3000)).toBe(0);
    expect(output).toMatch(/lost \/ duplicated \/ reordered\s*\|\s*0 \/ 0 \/ 0\s*\|/);
  });

  it("--connect: first connects and reconnects measured on both servers", async () => {
    const { code, output } = await run("bench/run.ts", ["--connect", "--rounds", "1", "--users", "10"]);
    expect(code, output.slice(-3000)).toBe(0);
    expect(output).toMatch(/\| first connect: server CPU per connect \(ms\)\s*\| [\d.]+\s*\| [\d.]+\s*\|/);
    expect(output).toMatch(/\| reconnect: connect rate \(sessions\/s\)\s*\| [\d.]+\s*\| [\d.]+\s*\|/);
  });

  it("--drain: npm run serve closes every session 1001 on SIGTERM and exits", async () => {
    const { code, output } = await run("bench/run.ts", ["--drain", "--sessions", "10"]);
    expect(code, output.slice(-3000)).toBe(0);
    expect(output).toMatch(/serve exited 0 after/);
    expect(output).toMatch(/close codes \{"1001":10\}/);
  });

  it("--profile: a variant built from src/ with its edit applied, measured beside the control", async () => {
    const { code, output } = await run("bench/run.ts", [
      "--profile",
      "--only",
      "baseline,stub-presence",
      "--rounds",
      "1",
      "--users",
      "10",
      "--window",
      "300",
      "--out",
      profileOut,
    ]);
    expect(code, output.slice(-3000)).toBe(0);
    const result = JSON.parse(readFileSync(profileOut, "utf8")) as { rows: Array<{ name: string; liveUs: number }> };
    expect(result.rows.map((r) => r.name).sort()).toEqual(["baseline", "control", "stub-presence"]);
    for (const r of result.rows) expect(Number.isFinite(r.liveUs), `${r.name}: ${r.liveUs}`).toBe(true);
  });

  it("--billing-probe: every handler metered, into the file asked for", async () => {
    const { code, output } = await run("bench/run.ts", ["--billing-probe", "--out", probeOut]);
    expect(code, output.slice(-3000)).toBe(0);
    const result = JSON.parse(readFileSync(probeOut, "utf8")) as { units: Record<string, unknown> };
    for (const handler of ["wake", "firstConnect", "reconnect", "close", "storedPush", "livePush", "ack"]) {
      expect((result.units[handler] as { invocations: number }).invocations, handler).toBeGreaterThan(0);
    }
  });

  it("bench/pusher.ts: Pusher and native pushes all received, the heartbeat modes measured", async () => {
    const { code, output } = await run("bench/pusher.ts", ["--pushes", "10", "--rounds", "1", "--pings", "60"]);
    expect(code, output.slice(-3000)).toBe(0);
    expect(output).toMatch(/both sockets received all \d+/);
    expect(output).toMatch(/60-ping burst closed: 4100 \(the handler ran\)/);
  });
});
