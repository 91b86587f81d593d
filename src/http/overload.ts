/**
 * The session cap: with MAX_CONNECTIONS set (`npm run serve` derives it from
 * workerd's open-file limit, tools/lib/serveConfig.ts), a WebSocket upgrade
 * while the process already holds that many sockets is refused 503 with
 * Retry-After, before the token is checked or any object is touched — the
 * cheapest answer there is, which is what a reconnect storm needs. The
 * alternative is workerd's: accept() fails with EMFILE and the process aborts,
 * taking every session with it (docs/guarantees.md, "Mass disconnect").
 *
 * Every dialect's upgrade passes here (it keys on the Upgrade header, not a
 * path). A refused client backs off on its own: the browser WebSocket API
 * reports a failed handshake as an error and a close 1006; the client SDK
 * retries those with full-jitter backoff and pusher-js on its own schedule
 * (test/node/pusherOverload.test.ts); Retry-After is for clients that can read it.
 */
import type { MiddlewareHandler } from "hono";
import { openSocketTotal } from "../util/socketCensus";
import type { AppEnv } from "./env";
import { errorBody } from "./errors";

/** Retry-After is drawn from this range (s), so refused clients that honour it do not come back together. */
const RETRY_AFTER_MIN_S = 1;
const RETRY_AFTER_MAX_S = 5;

/**
 * Upgrades admitted and not yet answered. The census counts a socket only once
 * its object has accepted it, so a burst of upgrades would all pass a check of
 * the census alone (found: 60 sessions under a cap of 40, bench/overload.ts);
 * each holds a slot from here until its answer. By then the object has
 * reported the socket it accepted (synchronously, before its 101), so the
 * slot passes from this count to the census without a gap.
 */
let pending = 0;

export const sessionCap: MiddlewareHandler<AppEnv> = async (c, next) => {
  const cap = c.var.config.maxConnections;
  if (cap === 0 || c.req.header("Upgrade")?.toLowerCase() !== "websocket") return next();
  if (openSocketTotal() + pending >= cap) {
    const retryAfter = RETRY_AFTER_MIN_S + Math.floor(Math.random() * (RETRY_AFTER_MAX_S - RETRY_AFTER_MIN_S + 1));
    return c.json(errorBody("over_capacity", `the server holds its maximum of ${cap} connections (MAX_CONNECTIONS); retry later`), 503, {
      "Retry-After": String(retryAfter),
    });
  }
  pending++;
  try {
    await next();
  } finally {
    pending--;
  }
};
