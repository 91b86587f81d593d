/**
 * The protocol's HTTP error table (HTTP_ERRORS, which the server SDK's retry
 * decision reads) lists every code the Worker answers, with its status: a code
 * or status added in src/ without it fails here.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { HTTP_ERRORS } from "@switchboard/protocol";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** `jsonError(400, "bad_request"` → [400, "bad_request"]; `errorBody("x"` and `code: "x"` → [undefined, "x"] (status elsewhere). */
export function answeredCodes(source: string): Array<[number | undefined, string]> {
  const found: Array<[number | undefined, string]> = [];
  for (const m of source.matchAll(/\bjsonError\(\s*(\d{3}),\s*"([a-z_]+)"/g)) found.push([Number(m[1]), m[2] as string]);
  for (const m of source.matchAll(/\berrorBody\(\s*"([a-z_]+)"|\berror: \{ code: "([a-z_]+)"/g)) found.push([undefined, (m[1] ?? m[2]) as string]);
  return found;
}

describe("the HTTP error table", () => {
  it("has every code the Worker answers, with the status it answers it with", () => {
    const table = HTTP_ERRORS as Record<string, { statuses: readonly number[] } | undefined>;
    const missing: string[] = [];
    let seen = 0;
    for (const file of sourceFiles(join(ROOT, "src"))) {
      for (const [status, code] of answeredCodes(readFileSync(file, "utf8"))) {
        seen++;
        const entry = table[code];
        if (entry === undefined || (status !== undefined && !entry.statuses.includes(status)))
          missing.push(`${relative(ROOT, file)}: ${status ?? "?"} ${code}`);
      }
    }
    expect(seen).toBeGreaterThan(0);
    expect(missing).toEqual([]);
  });

  it("the scan reads each way the Worker writes a refusal", () => {
    const source = `jsonError(413, "payload_too_large", "…"); c.json(errorBody("over_capacity", m), 503); ({ error: { code: "upgrade_required", message } });`;
    expect(answeredCodes(source)).toEqual([
      [413, "payload_too_large"],
      [undefined, "over_capacity"],
      [undefined, "upgrade_required"],
    ]);
  });
});
