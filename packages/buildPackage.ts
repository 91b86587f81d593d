/**
 * The build both packages share: an ESM bundle at dist/index.js (esbuild) and
 * declarations beside it (tsc, from the workspace root's install).
 */
import { build, type BuildOptions } from "esbuild";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export function bundleOptions(dir: string): BuildOptions {
  return {
    absWorkingDir: dir,
    entryPoints: ["src/index.ts"],
    bundle: true,
    format: "esm",
    // Every evergreen browser, Node 20+, Bun, Deno and workerd: private fields and ?? stay native.
    target: ["es2022"],
    platform: "neutral",
    sourcemap: true,
    legalComments: "none",
    logLevel: "warning",
  };
}

export async function buildPackage(dir: string, extra: BuildOptions[] = []): Promise<void> {
  rmSync(join(dir, "dist"), { recursive: true, force: true });
  const common = bundleOptions(dir);
  await Promise.all([build({ ...common, outfile: "dist/index.js" }), ...extra.map((o) => build({ ...common, ...o }))]);
  const tsc = join(dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: dir, stdio: "inherit" });
  relativeJsSpecifiers(join(dir, "dist"));
}

/**
 * tsc keeps the sources' `./x.ts` specifiers in declarations; a consumer's
 * `node16` resolution wants the `./x.js` that sits beside `./x.d.ts`.
 */
function relativeJsSpecifiers(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(".d.ts")) continue;
    const file = join(dir, name);
    writeFileSync(file, readFileSync(file, "utf8").replace(/((?:from\s+|import\()"\.{1,2}\/[^"]+)\.ts"/g, '$1.js"'));
  }
}
