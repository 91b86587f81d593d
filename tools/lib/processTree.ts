/**
 * Stopping a whole process tree, for the `npm run dev` / `npm run serve`
 * wrappers. Why they need it:
 *
 * - npm forwards SIGTERM to its child, which is `sh -c "<script>"`; dash does
 *   not pass it on (nor exec the script), so the script itself never hears of
 *   it, and everything under sh is reparented to PID 1, still serving.
 *   `watchParent` notices that (the parent pid changes) and stops anyway.
 * - wrangler runs as two node processes over workerd and esbuild; workerd
 *   drains sockets on SIGTERM and does not exit while a client holds a
 *   hibernatable socket (observed: >10 s). So: SIGTERM the tree, wait a short
 *   grace, SIGKILL whatever is left. The tree is listed *before* the first
 *   signal, because once a parent exits its children's ppid is 1 and the link
 *   is gone.
 */
import { spawnSync } from "node:child_process";

/** Every descendant pid of `root` (not root itself), parents before children. */
export function descendants(root: number): number[] {
  if (process.platform === "win32") return [];
  const ps = spawnSync("ps", ["-A", "-o", "pid=,ppid="], { encoding: "utf8" });
  if (ps.status !== 0) return [];
  const children = new Map<number, number[]>();
  for (const line of ps.stdout.split("\n")) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    if (pid === undefined || ppid === undefined || !Number.isInteger(pid) || !Number.isInteger(ppid)) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const next = queue.shift() as number;
    for (const child of children.get(next) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    // ESRCH: gone. EPERM: the pid now belongs to someone else; ours is gone.
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * SIGTERM `root` and its descendants, wait up to `graceMs` for them all to go,
 * then SIGKILL what is left. Resolves with the pids that needed SIGKILL.
 */
export async function stopTree(root: number, graceMs: number): Promise<number[]> {
  const tree = [root, ...descendants(root)];
  for (const pid of tree) signal(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && tree.some(alive)) await new Promise((r) => setTimeout(r, 50));
  const left = tree.filter(alive);
  for (const pid of left) signal(pid, "SIGKILL");
  return left;
}

/**
 * Call `onOrphaned` once if this process's parent goes away (its ppid
 * changes: reparented to init or a subreaper). Polls; the timer does not keep
 * the process alive.
 */
export function watchParent(onOrphaned: () => void, everyMs = 250): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onOrphaned();
    }
  }, everyMs);
  timer.unref();
}
