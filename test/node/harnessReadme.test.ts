/**
 * scripts/lib/README.md and tools/README.md are the indexes of the harness and
 * of the operator tools: each names every file in its folder, and no file that is gone.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../tools/lib/workerd.ts";

describe.each(["scripts/lib", "tools"])("%s/README.md", (folder) => {
  it("lists every file in the folder, once each, and nothing else", () => {
    const dir = join(ROOT, folder);
    const files = readdirSync(dir, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".ts"))
      .sort();
    const listed = [...readFileSync(join(dir, "README.md"), "utf8").matchAll(/^\| `([^`]+\.ts)` \|/gm)].map((m) => m[1]).sort();
    expect(listed).toEqual(files);
  });
});
