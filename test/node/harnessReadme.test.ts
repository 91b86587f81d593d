/** scripts/lib/README.md is the harness's index: it names every file in scripts/lib, and no file that is gone. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/lib/workerd.ts";

const LIB = join(ROOT, "scripts/lib");

describe("scripts/lib/README.md", () => {
  it("lists every file in scripts/lib, once each, and nothing else", () => {
    const files = readdirSync(LIB, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".ts"))
      .sort();
    const listed = [...readFileSync(join(LIB, "README.md"), "utf8").matchAll(/^\| `([^`]+\.ts)` \|/gm)].map((m) => m[1]).sort();
    expect(listed).toEqual(files);
  });
});
