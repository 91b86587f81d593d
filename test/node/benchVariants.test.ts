/**
 * bench/variants.ts: the profile's variants are exact-text edits of src/, so
 * they rot silently when src/ moves on. Every anchor must still be in src/,
 * a gone one is named, and every variant still bundles.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bundleWithEsbuild, editFile } from "../../bench/lib/bundle.ts";
import { staleEdits, VARIANTS } from "../../bench/variants.ts";
import { ROOT } from "../../tools/lib/workerd.ts";

const scratch = mkdtempSync(join(tmpdir(), "bench-variants-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("the profile's variants", () => {
  it("find every anchor they edit in src/", () => {
    expect(staleEdits()).toEqual([]);
  });

  it("name the variant, the file and the anchor when src/ has moved on", () => {
    const gone = { name: "gone", kind: "product" as const, what: "", edits: [{ file: "http/api.ts", from: "text src/ never had", to: "" }] };
    const missing = { name: "missing", kind: "product" as const, what: "", edits: [{ file: "http/nowhere.ts", from: "x", to: "" }] };
    expect(staleEdits([gone, missing])).toEqual(['gone: src/http/api.ts: "text src/ never had"', "missing: src/http/nowhere.ts is gone"]);
  });

  it("see an anchor that an earlier edit of the same variant wrote", () => {
    const chained = {
      name: "chained",
      kind: "product" as const,
      what: "",
      edits: [
        { file: "index.ts", from: "export", to: "/* first */ export" },
        { file: "index.ts", from: "/* first */", to: "/* second */" },
      ],
    };
    expect(staleEdits([chained])).toEqual([]);
  });

  it("each bundle with esbuild once edited", async () => {
    for (const v of VARIANTS.filter((v) => v.kind === "product" && v.wrangler !== true)) {
      const src = join(scratch, v.name, "src");
      cpSync(join(ROOT, "src"), src, { recursive: true });
      for (const e of v.edits ?? []) editFile(join(src, e.file), e.from, e.to);
      for (const [file, text] of Object.entries(v.files ?? {})) writeFileSync(join(src, file), text);
      await expect(bundleWithEsbuild(join(src, "index.ts"), join(scratch, v.name, "index.js")), v.name).resolves.toContain("index.js");
    }
  });
});
