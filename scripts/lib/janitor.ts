/**
 * What the dev scripts (bench, fuzz, chaos, e2e) leave behind must go when
 * they exit, however they exit: workerd children are killed, temp dirs
 * removed. One registry per process, hooked on first use. And the ports they
 * listen on: free ones, from each suite's own range.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const children = new Set<ChildProcess>();
const temps = new Set<string>();
let hooked = false;

function cleanup(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  children.clear();
  // SB_KEEP_TEMP (or the bench's older BENCH_KEEP_TEMP) keeps them for a post-mortem.
  if (process.env.SB_KEEP_TEMP !== "1" && process.env.BENCH_KEEP_TEMP !== "1") {
    for (const dir of temps) rmSync(dir, { recursive: true, force: true });
  }
  temps.clear();
}

/** Kill tracked children and remove temp dirs on any way out of this process. */
export function hookCleanup(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", cleanup);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      cleanup();
      process.exit(130);
    });
  }
}

/** Kill this child when this process exits. */
export function track(child: ChildProcess): void {
  hookCleanup();
  children.add(child);
  child.once("exit", () => children.delete(child));
}

/** A fresh temp directory, removed when this process exits. */
export function tempDir(prefix: string): string {
  hookCleanup();
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  temps.add(dir);
  return dir;
}

/** Is `port` free on 127.0.0.1? */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

const claimed = new Set<number>();

/**
 * `count` free ports in [from, to], trying `preferred` first and wrapping
 * around, never one this process handed out before (a stopped server's port
 * may look free while its successor is still starting).
 */
export async function freePorts(count: number, from: number, to: number, preferred = from): Promise<number[]> {
  const ports: number[] = [];
  const span = to - from + 1;
  for (let i = 0; i < span && ports.length < count; i++) {
    const port = from + ((((preferred - from + i) % span) + span) % span);
    if (claimed.has(port)) continue;
    if (await portFree(port)) {
      claimed.add(port);
      ports.push(port);
    }
  }
  if (ports.length < count) throw new Error(`need ${count} free port(s) in ${from}-${to}, found ${ports.length}`);
  return ports;
}
