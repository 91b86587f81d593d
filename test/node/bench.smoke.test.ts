/**
 * The benchmark at a tiny size, so its machinery can't rot: builds the
 * Worker, runs it and the baseline on standalone workerd, drives both from
 * the separate load-generator process, and writes the JSON. Asserts that
 * every phase produced figures and that every delivery arrived exactly once;
 * never asserts speed.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runScript } from "../../scripts/lib/service.ts";

const out = join(tmpdir(), `switchboard-bench-smoke-test-${process.pid}-${Date.now()}.json`);

interface Row {
  metric: string;
  unit: string;
  product: number;
  baseline: number;
  ratio: number;
}

const runBench = () => runScript("bench/run.ts", ["--smoke", "--out", out], 110_000);

afterAll(() => rmSync(out, { force: true }));

describe("bench --smoke", () => {
  it("measures both servers in every phase and loses nothing", async () => {
    const { code, output } = await runBench();
    expect(code, output.slice(-3000)).toBe(0);
    expect(existsSync(out)).toBe(true);
    const result = JSON.parse(readFileSync(out, "utf8")) as {
      smoke: boolean;
      summary: Row[];
      losses: {
        pushes: number;
        deliveries: number;
        expected: number;
        lost: number;
        duplicates: number;
        corrupt: number;
        errors: number;
        deliveredMismatch: number;
      };
      problems: string[];
      sizes: { idleSessions: number; rounds: number };
      raw: {
        live: { product: unknown[]; baseline: unknown[] };
        stored: { product: unknown[]; baseline: unknown[] };
        storedRow: Array<{ pushes: number; lost: number }>;
        latency: { product: Array<{ latency: { n: number } }>; baseline: Array<{ latency: { n: number } }> };
        fanout: { product: unknown[]; baseline: unknown[] };
        memory: Record<"product" | "baseline", { sessions: number; connect: { failed: number } }>;
      };
    };
    expect(result.smoke).toBe(true);
    expect(result.problems).toEqual([]);

    // Every delivery checked: all arrived, once, intact; every push answered 200.
    expect(result.losses.pushes).toBeGreaterThan(0);
    expect(result.losses.deliveries).toBeGreaterThan(0);
    expect(result.losses.deliveries).toBe(result.losses.expected);
    expect(result.losses.lost).toBe(0);
    expect(result.losses.duplicates).toBe(0);
    expect(result.losses.corrupt).toBe(0);
    expect(result.losses.errors).toBe(0);
    expect(result.losses.deliveredMismatch).toBe(0);

    // Every phase ran for both servers, once per round.
    for (const phase of ["live", "stored", "latency", "fanout"] as const) {
      expect(result.raw[phase].product).toHaveLength(result.sizes.rounds);
      expect(result.raw[phase].baseline).toHaveLength(result.sizes.rounds);
    }
    // ...and the stored rounds for the baseline that stores each push as one row.
    expect(result.raw.storedRow).toHaveLength(result.sizes.rounds);
    for (const s of result.raw.storedRow) expect(s.pushes).toBeGreaterThan(0);
    expect(result.summary.map((r) => r.metric)).toContain("stored push vs a baseline storing one row: server CPU per push");
    expect(result.raw.latency.product[0]?.latency.n).toBeGreaterThan(0);
    for (const kind of ["product", "baseline"] as const) {
      expect(result.raw.memory[kind].sessions).toBe(result.sizes.idleSessions);
      expect(result.raw.memory[kind].connect.failed).toBe(0);
    }

    // Every figure in the table is a number; rates are positive. (No timing
    // thresholds: a tiny window may even see 0 CPU ticks, at 10 ms each.)
    expect(result.summary.length).toBeGreaterThanOrEqual(10);
    for (const row of result.summary) {
      for (const value of [row.product, row.baseline]) {
        expect(Number.isFinite(value) && value >= 0, row.metric).toBe(true);
        if (row.unit.endsWith("/s")) expect(value, row.metric).toBeGreaterThan(0);
      }
    }
  });
});
