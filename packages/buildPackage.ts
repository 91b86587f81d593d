/**
 * The build both packages share: an ESM bundle at dist/index.js (esbuild) and
 * declarations beside it (tsc, from the workspace root's install).
 *
 * Both import @switchboard/protocol, a private workspace package that is never
 * published: esbuild bundles its code into index.js, and its declarations go
 * to dist/protocol/ with the package's `@switchboard/protocol` specifiers
 * rewritten to that folder, so a user installs one package with no dependency.
 */
import { build, type BuildOptions } from "esbuild";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

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
  // Built aside, then synced into dist/ file by file: several builds run at
  // once in the test suite (`npm run dev`'s, `npm pack`'s prepack), and one
  // that emptied dist/ under another could make that one pack half a package.
  const staging = mkdtempSync(join(dir, ".dist-"));
  try {
    const common = bundleOptions(dir);
    const [, ...extras] = await Promise.all([
      build({ ...common, outfile: join(staging, "index.js") }),
      ...extra.map((o) => build({ ...common, ...o, write: false })),
    ]);
    for (const file of extras.flatMap((r) => r.outputFiles ?? [])) writeIfChanged(file.path, file.contents);
    const tsc = join(dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");
    execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json", "--outDir", staging], { cwd: dir, stdio: "inherit" });
    const protocolTypes = join(staging, PROTOCOL_DIR);
    execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json", "--outDir", protocolTypes], { cwd: PROTOCOL_ROOT, stdio: "inherit" });
    relativeJsSpecifiers(staging);
    relativeJsSpecifiers(protocolTypes);
    bundledProtocolSpecifiers(staging, protocolTypes);
    syncDir(staging, join(dir, "dist"));
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

const PROTOCOL_ROOT = fileURLToPath(new URL("protocol/", import.meta.url));
/** Where the protocol's declarations go inside a package's dist/. */
const PROTOCOL_DIR = "protocol";

/** Makes `to` hold exactly the files of `from` (one level of folders), touching only those that differ. */
function syncDir(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  const names = new Set(readdirSync(from));
  for (const name of names) {
    if (statSync(join(from, name)).isDirectory()) syncDir(join(from, name), join(to, name));
    else writeIfChanged(join(to, name), readFileSync(join(from, name)));
  }
  for (const name of readdirSync(to)) if (!names.has(name)) rmSync(join(to, name), { recursive: true, force: true });
}

/**
 * Only when the bytes differ, and by rename, so a reader never sees half a
 * file. The client's public/sdk.js is watched by a running `wrangler dev`:
 * rewriting it with the same bytes made it reload and drop every WebSocket,
 * which is what a second build (another `npm run dev`, `npm pack`) did to
 * the Quick start's dev server.
 */
function writeIfChanged(path: string, contents: Uint8Array): void {
  if (existsSync(path) && Buffer.compare(readFileSync(path), contents) === 0) return;
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, contents);
  renameSync(temp, path);
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

/** The package's own declarations point at the protocol's copy in dist/protocol/, not at the unpublished package. */
function bundledProtocolSpecifiers(dir: string, protocolTypes: string): void {
  const target = `./${relative(dir, join(protocolTypes, "index.js"))}`;
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(".d.ts")) continue;
    const file = join(dir, name);
    const text = readFileSync(file, "utf8").replace(/((?:from\s+|import\()")@switchboard\/protocol"/g, `$1${target}"`);
    // A specifier this missed would leave users a type import of a package that is not published.
    if (text.includes("@switchboard/protocol")) throw new Error(`${name}: an @switchboard/protocol reference the build could not rewrite`);
    writeFileSync(file, text);
  }
}
