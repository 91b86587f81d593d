/**
 * The hub knows no dialect (docs/architecture.md, "Dialects"): nothing under
 * src/hub imports from a dialect's folder; dialects reach the hub only through
 * the composition root (src/userHub.ts).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const HUB = join(import.meta.dirname, "../../src/hub");
const DIALECT_FOLDERS = ["native", "pusher", "stomp"];

function importsOf(source: string): string[] {
  return [...source.matchAll(/\bfrom\s+["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1] ?? m[2] ?? "");
}

describe("the hub's dialect boundary", () => {
  it("no file under src/hub imports from a dialect folder", () => {
    const offending: string[] = [];
    for (const file of readdirSync(HUB).filter((f) => f.endsWith(".ts"))) {
      for (const spec of importsOf(readFileSync(join(HUB, file), "utf8"))) {
        if (DIALECT_FOLDERS.some((d) => spec.includes(`../${d}/`) || spec === `../${d}`)) offending.push(`${file}: ${spec}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it("the import scan finds a dialect import when there is one", () => {
    expect(importsOf(`import { x } from "../pusher/state";\nconst y = await import("../native/dialect");`)).toEqual(["../pusher/state", "../native/dialect"]);
  });
});
