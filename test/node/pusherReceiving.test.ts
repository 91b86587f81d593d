/**
 * pusher-js pings only after `activity_timeout` without receiving anything, so
 * a socket that is sent an event more often than that never pings on its own.
 * The server must not take it for a vanished client: it asks for a
 * `pusher:pong` instead (src/pusher/dialect.ts). Real pusher-js against
 * standalone workerd, with a 5 s cadence and STALE_AFTER 10 s.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { type Service, startService } from "../../scripts/lib/service.ts";
import { eventually } from "../../scripts/lib/time.ts";
import { client, nativePush, PUSHER_KNOBS, signedIn, uniqueUser } from "./pusherHarness.ts";

const HEARTBEAT_S = 5;
const STALE_S = 10;

let service: Service;
beforeAll(async () => {
  service = await startService({ kind: "workerd", knobs: { ...PUSHER_KNOBS, HEARTBEAT_INTERVAL: String(HEARTBEAT_S), STALE_AFTER: String(STALE_S) } });
});
afterAll(async () => {
  await service?.stop();
});

describe("a pusher-js socket that keeps receiving", () => {
  it("stays connected past STALE_AFTER: the server's pusher:ping gets pusher-js's pong", { timeout: 90_000 }, async () => {
    const user = uniqueUser();
    const p = client(service, user);
    onTestFinished(() => p.disconnect());
    await signedIn(p);
    const states: string[] = [];
    p.connection.bind("state_change", (s: { current: string }) => states.push(s.current));
    const socketId = p.connection.socket_id;
    const got: unknown[] = [];
    p.user.bind("switchboard:message", (data: unknown) => got.push(data));
    // One event every 2 s for 3 × STALE_AFTER: pusher-js's own timer (5 s) never runs out.
    const count = (3 * STALE_S) / 2;
    for (let n = 1; n <= count; n++) {
      expect((await nativePush(service, user, { n })).status).toBe(200);
      await eventually(`event ${n}`, () => got.length === n);
      await new Promise((resolve) => setTimeout(resolve, 2000)); // the traffic pattern under test, not a wait for a result
    }
    expect(got.map((m) => (m as { data: unknown }).data)).toEqual(Array.from({ length: count }, (_, i) => ({ n: i + 1 })));
    expect(p.connection.socket_id).toBe(socketId);
    expect(states).toEqual([]); // never left "connected"
  });
});
