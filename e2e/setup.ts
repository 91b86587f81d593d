/**
 * vitest's global setup for the browser test (vitest.e2e.config.ts): Debian's
 * chromium must be there (this test never downloads a browser), the client SDK
 * is built into public/, and one `wrangler dev` serves every e2e file; its last
 * lines are printed when a test failed.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { startService } from "../scripts/lib/service.ts";
import { ROOT } from "../tools/lib/workerd.ts";
import { CHROMIUM } from "./browser.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** The `wrangler dev` every e2e file runs against. */
    base: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`e2e: ${CHROMIUM} is missing. Install Debian's chromium (apt-get install chromium); this test never downloads a browser.`);
  }
  const build = spawnSync(process.execPath, ["packages/client/build.ts"], { cwd: ROOT, stdio: "inherit" });
  if (build.status !== 0) throw new Error(`e2e: packages/client/build.ts exited with ${String(build.status)}`);
  const dev = await startService({ kind: "wrangler" });
  project.provide("base", dev.base);
  return async () => {
    if (project.vitest.state.getCountOfFailedTests() > 0) process.stderr.write(`\n--- wrangler dev, last lines ---\n${dev.tail.slice(-40).join("\n")}\n`);
    await dev.stop();
  };
}
