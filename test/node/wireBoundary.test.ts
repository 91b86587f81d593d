/**
 * The wire is one package (docs/architecture.md): the Worker, both SDKs, the
 * harness and the tests import `@switchboard/protocol` by name. No relative
 * path crosses between the Worker (src/) and the packages (packages/) in either
 * direction, and nobody reaches into packages/protocol by path.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const SCANNED = ["src", "packages", "test", "scripts", "bench", "e2e", "tools"];

function importsOf(source: string): string[] {
  return [...source.matchAll(/\bfrom\s+["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)|^\s*import\s+["']([^"']+)["']/gm)].map(
    (m) => m[1] ?? m[2] ?? m[3] ?? "",
  );
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === "node_modules" || entry.name === "dist" || entry.name.startsWith(".")) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|js|mjs)$/.test(entry.name) ? [path] : [];
  });
}

/** The top folder of a repository path, and for packages/ the package's folder: "src", "packages/client", "test". */
function area(path: string): string {
  const parts = relative(ROOT, path).split(sep);
  return parts[0] === "packages" ? `packages/${parts[1] ?? ""}` : (parts[0] ?? "");
}

/** Why an import of `spec` from `file` breaks the rule, or undefined when it keeps it. */
function violation(file: string, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const from = area(file);
  const to = area(resolve(dirname(file), spec));
  if (from === to) return undefined;
  if (from === "src" && to.startsWith("packages/")) return "the Worker imports a package by path";
  if (from.startsWith("packages/") && to === "src") return "a package imports the Worker by path";
  if (to === "packages/protocol") return "the protocol by path, not as @switchboard/protocol";
  return undefined;
}

function offending(): string[] {
  const found: string[] = [];
  for (const top of SCANNED) {
    for (const file of sourceFiles(join(ROOT, top))) {
      for (const spec of importsOf(readFileSync(file, "utf8"))) {
        const why = violation(file, spec);
        if (why !== undefined) found.push(`${relative(ROOT, file)}: ${spec} (${why})`);
      }
    }
  }
  return found;
}

describe("the wire's import boundary", () => {
  it("src/ and packages/ never import each other by relative path, and the protocol is imported by name", () => {
    expect(offending()).toEqual([]);
  });

  it("the scan finds each kind of crossing when there is one", () => {
    expect(importsOf(`import type { A } from "../x";\nexport { b } from "./y.ts";\nconst c = await import("../z");\nimport "./side";`)).toEqual([
      "../x",
      "./y.ts",
      "../z",
      "./side",
    ]);
    expect(violation(join(ROOT, "src/hub/rpc.ts"), "../../packages/server/src/wire.ts")).toBe("the Worker imports a package by path");
    expect(violation(join(ROOT, "packages/client/test/transport.test.ts"), "../../../src/protocol.ts")).toBe("a package imports the Worker by path");
    expect(violation(join(ROOT, "test/helpers.ts"), "../packages/protocol/src/http.ts")).toBe("the protocol by path, not as @switchboard/protocol");
    expect(violation(join(ROOT, "packages/client/src/client.ts"), "./cursor.ts")).toBeUndefined();
    expect(violation(join(ROOT, "src/hub/rpc.ts"), "@switchboard/protocol")).toBeUndefined();
  });
});
