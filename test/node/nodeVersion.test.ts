/**
 * The Node version the README names is one `npm ci` installs without an
 * EBADENGINE warning: the root's `engines` asks for exactly it, and every
 * package npm installed here (those in node_modules: the lockfile also lists
 * other platforms' optional binaries) accepts it. And the README's word on
 * Node 20 holds: some package refuses it, so `npm ci` warns there.
 * (Checked by hand too: `npm ci` on Node 20.20.2 printed 25 EBADENGINE lines
 * for five packages, on the pinned Node 22.23.3 none.)
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../tools/lib/workerd.ts";

// semver is npm's own range logic; here as a dependency of the toolchain (wrangler, vitest).
const semver = createRequire(join(ROOT, "package.json"))("semver") as { satisfies(version: string, range: string): boolean };

interface LockEntry {
  engines?: { node?: string };
}
const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, LockEntry> };
const root = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { engines: { node: string } };
const readme = readFileSync(join(ROOT, "README.md"), "utf8");

/** Installed packages whose engines.node refuses `version`. */
function refusing(version: string): string[] {
  return Object.entries(lock.packages)
    .filter(([path, e]) => path !== "" && existsSync(join(ROOT, path)) && typeof e.engines?.node === "string" && !semver.satisfies(version, e.engines.node))
    .map(([path, e]) => `${path} (${e.engines?.node ?? ""})`);
}

describe("the README's Node version", () => {
  const named = /Needs Node (\d+\.\d+) or later/.exec(readme)?.[1];

  it("is one npm ci installs without an engine warning", () => {
    expect(named).toBeDefined();
    expect(root.engines.node).toBe(`>=${named}`);
    expect(refusing(`${named}.0`)).toEqual([]);
  });

  it("says Node 20 warns, which it does", () => {
    expect(refusing("20.20.2").length).toBeGreaterThan(0);
    expect(readme).toMatch(/Node 20\s+works too, but `npm ci` warns \(EBADENGINE/);
  });
});
