/**
 * Every close of a WebSocket in src/ goes through src/hub/sockets.ts (tryClose,
 * which never throws and never sends a code RFC 6455 §7.4.1 reserves), or
 * through a dialect's close, which itself ends in tryClose
 * (test/socketHygiene.test.ts checks each dialect's on a real socket pair).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = join(import.meta.dirname, "../../src");
const SOCKETS = "hub/sockets.ts";

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** `x.close(` calls whose receiver is not a dialect (`dialect.close(`, `….of(session).close(`). */
function directCloses(source: string): string[] {
  return [...source.matchAll(/([\w$.()]+)\.close\(/g)].map((m) => m[1] ?? "").filter((receiver) => !/(^|\.)dialect$|\.of\(session\)$/.test(receiver));
}

describe("WebSocket closes", () => {
  it("no file but src/hub/sockets.ts closes a socket itself", () => {
    const offending = sources(SRC)
      .filter((file) => relative(SRC, file) !== SOCKETS)
      .flatMap((file) => directCloses(readFileSync(file, "utf8")).map((receiver) => `${relative(SRC, file)}: ${receiver}.close(`));
    expect(offending).toEqual([]);
  });

  it("the scan finds a direct close, and lets a dialect's through", () => {
    expect(directCloses(`server.close(4009, "x"); dialect.close(ws, s, 1000, "r"); this.dialects.of(session).close(ws, s, 1001, "r");`)).toEqual(["server"]);
  });
});
