/**
 * The load generator: a separate Node process (so its CPU never counts as the
 * server's), driven by bench/run.ts over IPC. It holds the WebSocket sessions
 * (`ws`, no compression), pushes over a keep-alive pool (`undici` Pool), checks
 * every delivery (right id, right payload, once per session) and reads the
 * server's CPU time from /proc around each measured window.
 *
 * Sessions: lib/loadSessions.ts; pushes: lib/loadPush.ts; delivery checks: lib/loadState.ts.
 *
 * Started as: node bench/load.ts   (with an IPC channel; see startLoadGenerator in run.ts)
 */
import type { Command, Reply, Request } from "./lib/messages.ts";
import { groups } from "./lib/loadState.ts";
import { pools, push } from "./lib/loadPush.ts";
import { close, connect, unexpectedCloses } from "./lib/loadSessions.ts";

// ---- IPC ----

async function handle(c: Command): Promise<unknown> {
  switch (c.cmd) {
    case "connect":
      return connect(c.args);
    case "push":
      return push(c.args);
    case "close":
      return close(c.args.group);
    case "groups":
      return {
        unexpectedCloses,
        groups: [...groups].map(([name, g]) => ({ name, users: g.users.length, open: g.users.reduce((n, u) => n + u.socks.filter((s) => s.open).length, 0) })),
      };
    case "exit":
      setImmediate(() => {
        for (const pool of pools.values()) void pool.destroy();
        for (const g of groups.values()) for (const u of g.users) for (const s of u.socks) s.ws.terminate();
        process.exit(0);
      });
      return null;
  }
}

if (process.send !== undefined) {
  process.on("message", (msg: Request) => {
    handle(msg).then(
      (result) => process.send?.({ seq: msg.seq, ok: true, result } satisfies Reply),
      (err: unknown) => process.send?.({ seq: msg.seq, ok: false, error: String((err as Error)?.stack ?? err) } satisfies Reply),
    );
  });
  // The orchestrator went away: don't linger holding thousands of sockets.
  process.on("disconnect", () => process.exit(0));
}
