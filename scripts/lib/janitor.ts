/**
 * What the harness (tests, bench, fuzz, chaos, e2e) leaves behind must go when
 * it exits, however it exits: children are killed (a process group with its
 * leader), temp dirs removed. One registry per process, hooked on first use.
 * And the ports they listen on: free ones, claimed across processes.
 */
import type { ChildProcess } from "node:child_process";
import { linkSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alive, descendants } from "../../tools/lib/processTree.ts";

/** Tracked children; true = the leader of its own process group (killed as a tree). */
const children = new Map<ChildProcess, boolean>();
const temps = new Set<string>();
let hooked = false;
/**
 * Port claims shared by every process of the harness on this machine: vitest runs
 * test files in parallel processes, and a port free when one checks may be bound by
 * another a moment later. A claim is a file named after the port holding the
 * claimant's pid, created exclusively; a dead claimant's claim is taken over.
 */
const CLAIMS = join(tmpdir(), "switchboard-port-claims");
const claimFiles = new Set<string>();

function kill(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

function cleanup(): void {
  for (const [child, group] of children) {
    if (child.pid === undefined) continue;
    const running = child.exitCode === null && child.signalCode === null;
    if (group) {
      for (const pid of descendants(child.pid).reverse()) kill(pid);
      kill(-child.pid);
    }
    if (running) kill(child.pid);
  }
  children.clear();
  for (const file of claimFiles) rmSync(file, { force: true });
  claimFiles.clear();
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

/** Kill this child when this process exits; `group`: it leads its own process group, whose tree goes too. */
export function track(child: ChildProcess, group = false): void {
  hookCleanup();
  children.set(child, group);
  // A group's other members may outlive its leader: keep it until the end.
  if (!group) child.once("exit", () => children.delete(child));
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

/** The pid in a claim file; undefined when there is none. */
function claimant(file: string): number | undefined {
  try {
    return Number(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

function claim(port: number): boolean {
  mkdirSync(CLAIMS, { recursive: true });
  const file = join(CLAIMS, String(port));
  // Written first, then linked into place: a link appears whole or not at all, so a claim is
  // never seen empty (an exclusive create, then a write, was: and taken over as stale).
  const mine = join(CLAIMS, `.${process.pid}-${port}`);
  writeFileSync(mine, String(process.pid));
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(mine, file);
        claimFiles.add(file);
        return true;
      } catch {
        const owner = claimant(file);
        if (owner === undefined) continue; // released meanwhile: try again
        if (alive(owner)) return false;
        // Its claimant is gone. Move the stale claim aside (a rename is atomic: of several
        // processes doing this, one moves it), then check that what moved is that stale claim
        // and not one made meanwhile by another process (put back if so).
        const aside = join(CLAIMS, `.${process.pid}-${port}-stale`);
        try {
          renameSync(file, aside);
        } catch {
          continue; // someone else moved it first
        }
        const moved = claimant(aside);
        if (moved !== undefined && alive(moved)) {
          try {
            linkSync(aside, file);
          } catch {
            // a third process claimed it meanwhile; both it and the one moved aside will listen-check
          }
          rmSync(aside, { force: true });
          return false;
        }
        rmSync(aside, { force: true });
      }
    }
    return false;
  } finally {
    rmSync(mine, { force: true });
  }
}

/**
 * `count` free ports in [from, to], trying `preferred` first and wrapping
 * around, never one this process handed out before (a stopped server's port
 * may look free while its successor is still starting), nor one another
 * process of the harness claimed.
 */
export async function freePorts(count: number, from: number, to: number, preferred = from): Promise<number[]> {
  hookCleanup();
  const ports: number[] = [];
  const span = to - from + 1;
  for (let i = 0; i < span && ports.length < count; i++) {
    const port = from + ((((preferred - from + i) % span) + span) % span);
    if (claimed.has(port) || !claim(port)) continue;
    claimed.add(port);
    if (await portFree(port)) ports.push(port);
  }
  if (ports.length < count) throw new Error(`need ${count} free port(s) in ${from}-${to}, found ${ports.length}`);
  return ports;
}
