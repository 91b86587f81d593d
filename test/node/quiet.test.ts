/**
 * Offline quiet: wrangler's metrics are off by configuration, and with the
 * environment our scripts give it (QUIET_WRANGLER_ENV: `npm run dev`, the
 * serve/bench/fuzz bundle step) `wrangler deploy --dry-run` prints no network
 * error, update notice, banner or telemetry notice, whatever other wrangler
 * runs left in the machine's global config. (`npm run dev`'s own output is
 * checked the same way by quickstart.test.ts, which runs it.)
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { QUIET_WRANGLER_ENV, ROOT } from "../../tools/lib/workerd.ts";
import { NOISE, userEnv } from "../../scripts/lib/service.ts";

describe("wrangler is quiet offline", () => {
  it("wrangler.toml turns metrics off", () => {
    expect(readFileSync(join(ROOT, "wrangler.toml"), "utf8")).toMatch(/^send_metrics = false$/m);
  });

  /** `wrangler deploy --dry-run` with `env` over a fresh shell's; what it printed. */
  function dryRun(env: NodeJS.ProcessEnv): string {
    const out = mkdtempSync(join(tmpdir(), "sb-quiet-"));
    try {
      const r = spawnSync(join(ROOT, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", out], {
        cwd: ROOT,
        env: { ...userEnv(), PATH: `${join(ROOT, "node_modules/.bin")}:${userEnv().PATH ?? ""}`, ...env },
        encoding: "utf8",
        timeout: 90_000,
      });
      const printed = `${r.stdout}${r.stderr}`;
      expect(r.status, printed).toBe(0);
      expect(printed).toContain("--dry-run: exiting now.");
      return printed;
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }

  it("wrangler deploy --dry-run prints only the build", () => {
    expect(dryRun(QUIET_WRANGLER_ENV)).not.toMatch(NOISE);
  });

  it("prints no telemetry notice on a machine where another wrangler use granted metrics", () => {
    // What any other wrangler run on the machine leaves in the user's global config
    // (a fresh HOME here, so the real one is not touched).
    const home = mkdtempSync(join(tmpdir(), "sb-quiet-home-"));
    const grant = () => {
      mkdirSync(join(home, ".config/.wrangler"), { recursive: true });
      writeFileSync(
        join(home, ".config/.wrangler/metrics.json"),
        JSON.stringify({ deviceId: "other", permission: { enabled: true, date: new Date().toISOString() } }),
      );
    };
    try {
      grant();
      // The premise: wrangler prints it with metrics off by env and wrangler.toml alike...
      const { XDG_CONFIG_HOME: _own, ...withoutOwnConfig } = QUIET_WRANGLER_ENV;
      expect(dryRun({ ...withoutOwnConfig, HOME: home })).toMatch(/telemetry/);
      grant();
      // ...and not with the project's own config directory.
      expect(dryRun({ ...QUIET_WRANGLER_ENV, HOME: home })).not.toMatch(NOISE);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
