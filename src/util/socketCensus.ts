/**
 * How many WebSockets this process holds, for the session cap
 * (src/http/overload.ts). Each user's object reports its own count of open
 * sockets whenever that changes (connect, close, sweep, kick); the total is a
 * sum kept up to date on each report, so the Worker reads it on an upgrade for
 * free: no hop, nothing on the push path.
 *
 * It is module state, so it is per isolate. On standalone workerd the Worker
 * and all its Durable Objects run in one isolate, which makes it the
 * process's count: exactly what the open-file limit is about. (Checked, not
 * assumed: test/node/serveOverload.test.ts refuses at the cap only because the
 * Worker reads what the objects reported.) The module
 * outlives a hibernated object (the isolate stays; the object's sockets stay
 * counted, as they still hold their descriptors), and a workerd restart
 * starts it at zero along with the sockets. On Cloudflare an isolate sees a
 * fraction of the objects, so MAX_CONNECTIONS is left unset there.
 *
 * Reports are absolute counts (by dialect, for GET /metrics), so a lost or
 * repeated report is corrected by the object's next one.
 */
/** Object id → its open sockets by dialect (only non-zero entries). */
const counts = new Map<string, Readonly<Record<string, number>>>();
let total = 0;

function sum(byDialect: Readonly<Record<string, number>>): number {
  let n = 0;
  for (const v of Object.values(byDialect)) n += v;
  return n;
}

/** Object `key` (its id) now holds these open sockets, by dialect. */
export function reportSockets(key: string, byDialect: Readonly<Record<string, number>>): void {
  const before = counts.get(key);
  const open = sum(byDialect);
  total += open - (before === undefined ? 0 : sum(before));
  if (open === 0) counts.delete(key);
  else counts.set(key, byDialect);
}

/** Sockets held by this isolate's objects, as last reported. */
export function openSocketTotal(): number {
  return total;
}

/** Objects holding at least one socket. */
export function objectsWithSockets(): number {
  return counts.size;
}

/** Per dialect: open sockets, and users (objects) with at least one. For GET /metrics; O(objects). */
export function socketsByDialect(): Map<string, { sockets: number; users: number }> {
  const out = new Map<string, { sockets: number; users: number }>();
  for (const byDialect of counts.values()) {
    for (const [dialect, n] of Object.entries(byDialect)) {
      if (n === 0) continue;
      const entry = out.get(dialect) ?? { sockets: 0, users: 0 };
      entry.sockets += n;
      entry.users += 1;
      out.set(dialect, entry);
    }
  }
  return out;
}

/** The ids of the objects holding sockets (to tell each to close them: src/http/admin.ts). */
export function socketHolders(): string[] {
  return [...counts.keys()];
}
