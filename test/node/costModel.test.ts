/**
 * bench/cost-model.ts: what it bills follows the documented reading (every
 * text frame at 20:1, per-session things per session, the AWS comparison for
 * the same connections), its units come from the probe's file, and it says
 * when that file was measured on other code.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { anchors, bill, costModel, idleWorkload, provenanceNote, readProbe, usage } from "../../bench/cost-model.ts";
import { srcHash } from "../../bench/lib/provenance.ts";

const probe = readProbe();
const units = probe.units;

afterEach(() => {
  vi.restoreAllMocks();
});

describe("npm run cost", () => {
  it("bills every heartbeat as an incoming text frame, 1/20 of a request, and calls that the floor", () => {
    const w = { ...idleWorkload(), heartbeatS: 90 };
    const heartbeats = usage(w, units).find((u) => u.group === "heartbeats");
    const frames = 2e6 * ((30 * 86_400) / 90);
    expect(heartbeats?.doRequests).toBeCloseTo(frames / 20);
    expect(bill(w, units).floor).toBeCloseTo(((frames / 20 - 1e6) / 1e6) * 0.15, 6);
    expect(bill({ ...w, heartbeatS: 45 }, units).floor).toBeGreaterThan(1.99 * bill(w, units).floor);
  });

  it("counts refreshes and reconnects per session, not per user", () => {
    const w = { ...idleWorkload(), reconnectsPerDay: 1 };
    const two = usage(w, units);
    const four = usage({ ...w, sessionsPerUser: 4 }, units);
    for (const group of ["credentials", "reconnects"] as const) {
      const requests = (us: typeof two) => us.filter((u) => u.group === group).reduce((n, u) => n + (u.doRequests ?? 0), 0);
      expect(requests(two)).toBeGreaterThan(0);
      expect(requests(four)).toBeCloseTo(2 * requests(two));
    }
    // Audits are per user: doubling sessions leaves them alone.
    const audits = (us: typeof two) => us.find((u) => u.group === "audits")?.doRequests;
    expect(audits(four)).toBe(audits(two));
  });

  it("compares with AWS for the same number of connections", () => {
    expect(anchors(2e6)).toContain("$21,600");
    expect(anchors(1e6)).toContain("$10,800");
  });

  it("reads its units from the probe's file: other units, another bill", () => {
    const w = idleWorkload();
    const storage = (u: typeof units) => usage(w, u).find((x) => x.group === "storage")?.storageGb ?? 0;
    expect(storage({ ...units, bytesIdleUser: 2 * units.bytesIdleUser })).toBeGreaterThan(1.9 * storage(units));
  });

  it("names the commit its units are from, and warns when src/ is not what the probe measured", () => {
    const same = { ...probe, provenance: { ...probe.provenance, srcHash: srcHash() } };
    expect(provenanceNote(same).join("\n")).toContain(probe.provenance.commit.slice(0, 12));
    expect(provenanceNote(same).join("\n")).not.toContain("WARNING");
    const other = { ...probe, provenance: { ...probe.provenance, srcHash: "0".repeat(64) } };
    expect(provenanceNote(other).join("\n")).toContain("WARNING: src/ has changed since the probe ran");
  });

  it("refuses a probe file without units (an older probe's output)", () => {
    const dir = mkdtempSync(join(tmpdir(), "cost-model-"));
    const path = join(dir, "billing-probe.json");
    writeFileSync(path, JSON.stringify({ at: "2026-12-01T00:00:00Z", rows: [] }));
    expect(() => readProbe(path)).toThrow(/cost:measure/);
  });

  it("prints its assumptions and ends with the headline line", () => {
    const out: string[] = [];
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
      out.push(args.map(String).join(" "));
    });
    costModel([]);
    const text = out.join("\n").trimEnd();
    for (const what of ["sessions per user", "heartbeat cadence", "credential lifetime", "reconnects per session per day", "audit interval"]) {
      expect(text).toContain(what);
    }
    const last = text.split("\n").at(-1) ?? "";
    expect(last).toMatch(/^idle: \$[\d,]+(\.\d\d)? per 1M connected users per month, every text frame billed$/);
  });
});
