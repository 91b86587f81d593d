/**
 * Offline quiet: wrangler's metrics are off by configuration, and with the
 * environment our scripts give it (QUIET_WRANGLER_ENV: `npm run dev`, the
 * serve/bench/fuzz bundle step) `wrangler deploy --dry-run` prints no network
 * error, update notice or banner. (`npm run dev`'s own output is checked the
 * same way by quickstart.test.ts, which runs it.)
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { QUIET_WRANGLER_ENV } from "../../scripts/lib/workerd.ts";
import { NOISE, ROOT, userEnv } from "./npmScript.ts";

describe("wrangler is quiet offline", () => {
  it("wrangler.toml turns metrics off", () => {
    expect(readFileSync(join(ROOT, "wrangler.toml"), "utf8")).toMatch(/^send_metrics = false$/m);
  });

  it("wrangler deploy --dry-run prints only the build", () => {
    const out = mkdtempSync(join(tmpdir(), "sb-quiet-"));
    try {
      const r = spawnSync(join(ROOT, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", out], {
        cwd: ROOT,
        env: { ...userEnv(), PATH: `${join(ROOT, "node_modules/.bin")}:${userEnv().PATH ?? ""}`, ...QUIET_WRANGLER_ENV },
        encoding: "utf8",
        timeout: 90_000,
      });
      const printed = `${r.stdout}${r.stderr}`;
      expect(r.status, printed).toBe(0);
      expect(printed).toContain("--dry-run: exiting now.");
      expect(printed).not.toMatch(NOISE);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
