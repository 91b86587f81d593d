/**
 * Which code a measurement is of: the commit, whether src/ differed from it,
 * and a hash of src/ as it was. The billing probe records it; the cost model
 * compares it with src/ now, so a bill is never silently priced from units
 * measured on other code. The hash decides (it also covers uncommitted
 * edits); the commit is for people.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { ROOT } from "../../tools/lib/workerd.ts";

export interface Provenance {
  commit: string;
  /** src/ had uncommitted changes when measured (the hash still says exactly what ran). */
  dirty: boolean;
  /** Anything in the tree besides bench/results/ had uncommitted changes. */
  treeDirty: boolean;
  /** sha256 of every file under src/, path and content, in path order. */
  srcHash: string;
}

function git(args: string[]): string | undefined {
  try {
    return execFileSync("git", args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

export function srcHash(): string {
  const hash = createHash("sha256");
  for (const file of filesUnder(join(ROOT, "src")).sort()) {
    hash.update(relative(ROOT, file));
    hash.update("\0");
    hash.update(readFileSync(file));
    hash.update("\0");
  }
  return hash.digest("hex");
}

export function provenance(): Provenance {
  return {
    commit: git(["rev-parse", "HEAD"]) ?? "unknown",
    dirty: (git(["status", "--porcelain", "--", "src"]) ?? "") !== "",
    treeDirty: (git(["status", "--porcelain", "--", ".", ":(exclude)bench/results"]) ?? "") !== "",
    srcHash: srcHash(),
  };
}

/** Commits that touched src/ since `commit` (empty when unknown or none). */
export function srcCommitsSince(commit: string): string[] {
  const log = git(["log", "--format=%h %s", `${commit}..HEAD`, "--", "src"]);
  return log === undefined || log === "" ? [] : log.split("\n");
}
