/**
 * Builds of the Worker for profiling variants: a scratch copy of src/ with one
 * piece stubbed (`scratchSource`, `editFile`), bundled by esbuild with the
 * options wrangler uses. The servers themselves start through
 * scripts/lib/service.ts (`startService`).
 */
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../scripts/lib/janitor.ts";
import { ROOT } from "../../tools/lib/workerd.ts";

/**
 * Bundle `entry` (a scratch copy of src/index.ts) with esbuild, with the
 * options wrangler uses for a module Worker. Profiling compares variants only
 * with a control built the same way.
 */
export async function bundleWithEsbuild(entry: string, outfile: string): Promise<string> {
  const esbuild = await import("esbuild");
  await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    external: ["cloudflare:*", "node:*"],
    keepNames: true,
    logLevel: "error",
    absWorkingDir: ROOT,
    nodePaths: [join(ROOT, "node_modules")],
  });
  return outfile;
}

/** A scratch copy of src/ for a variant; `edit` rewrites files in it. */
export function scratchSource(name: string): string {
  const dir = join(tempDir(`bench-src-${name}`), "src");
  cpSync(join(ROOT, "src"), dir, { recursive: true });
  return dir;
}

/** Replace `from` with `to` in a scratch file; throws if `from` is not there (src moved on). */
export function editFile(path: string, from: string, to: string): void {
  const text = readFileSync(path, "utf8");
  if (!text.includes(from)) throw new Error(`variant anchor not found in ${path}: ${from.slice(0, 80)}`);
  writeFileSync(path, text.replace(from, to));
}
