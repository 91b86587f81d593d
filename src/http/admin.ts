/**
 * The operator's side door on standalone workerd: a second entrypoint that
 * `npm run serve` binds to a Unix socket next to its config (workerd.ts
 * writeConfig `adminSocket`), never to the public listener, so it needs no key
 * and is not part of the HTTP API (nor of openapi.json).
 *
 *   POST /drain   close every WebSocket this process holds with 1001 "going away"
 *                 → {"objects": n, "closed": n}
 *
 * serve calls it on SIGTERM before it stops workerd: workerd does not close
 * hibernatable WebSockets itself (it waits for them, then is SIGKILLed), and a
 * client whose TCP connection just vanishes learns it only from its heartbeat.
 * The objects to ask are the socket census's (src/util/socketCensus.ts): the
 * process's own, no listing of storage needed.
 */
import { mapLimit } from "../util/mapLimit";
import { socketHolders } from "../util/socketCensus";

/** Objects told to close at once; each close is local work, the limit only bounds memory. */
const DRAIN_CONCURRENCY = 64;

async function drain(env: Env): Promise<Response> {
  const holders = socketHolders();
  const closed = await mapLimit(holders, DRAIN_CONCURRENCY, async (key) => {
    try {
      return (await env.USER_HUB.get(env.USER_HUB.idFromString(key)).goingAway()).closed;
    } catch (err) {
      console.error("switchboard: drain of one object failed", key, err);
      return 0;
    }
  });
  return Response.json({ objects: holders.length, closed: closed.reduce((a, b) => a + b, 0) });
}

export const admin = {
  async fetch(request: Request, env: Env): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path === "/drain" && request.method === "POST") return drain(env);
    return Response.json({ error: { code: "not_found", message: "no such admin endpoint" } }, { status: 404 });
  },
} satisfies ExportedHandler<Env>;
