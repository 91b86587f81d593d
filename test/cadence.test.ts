/**
 * One knob, HEARTBEAT_INTERVAL, sets what every dialect advertises and when
 * the hub calls a session stale (src/hub/cadence.ts). Over real sockets, with
 * the SDK's frames counted: test/node/heartbeatAndRefresh.test.ts.
 */
import { env } from "cloudflare:workers";
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config";
import { cadenceOf } from "../src/hub/cadence";
import { api, connect, hubOf, uniqueUser } from "./helpers";
import { pusherConnect } from "./pusherHelpers";
import { stompSession } from "./stompHelpers";

const config = (() => {
  const parsed = parseConfig(env as unknown as Record<string, unknown>);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.config;
})();
const cadence = cadenceOf(config);

/** Make the `device`'s session look silent for `ms` (its attachment is the truth once the object is evicted). */
async function silence(user: string, device: string, ms: number): Promise<void> {
  await runInDurableObject(hubOf(user), (_instance, state) => {
    for (const ws of state.getWebSockets(`d:${device}`)) {
      const a = ws.deserializeAttachment() as Record<string, number>;
      ws.serializeAttachment({ ...a, connectedAt: Date.now() - ms, lastFrameAt: Date.now() - ms });
    }
  });
  await evictDurableObject(hubOf(user));
}

describe("the heartbeat cadence, from HEARTBEAT_INTERVAL", () => {
  it("the native welcome, Pusher's activity_timeout and STOMP's heart-beat advertise the same cadence", async () => {
    expect(cadence.silenceS).toBe(Number(env.HEARTBEAT_INTERVAL));
    const user = uniqueUser();
    const c = await connect(user);
    const p = await pusherConnect(user);
    expect(c.welcome.heartbeat).toBe(cadence.silenceS);
    expect(p.frames[0]?.data).toMatchObject({ activity_timeout: cadence.silenceS });
    const s = await stompSession(user);
    expect(s.of("CONNECTED")[0]?.headers["heart-beat"]).toBe(`${cadence.silenceMs},${cadence.silenceMs}`);
    c.close();
    p.close();
    s.close();
  });

  it("STALE_AFTER follows it: a session silent one interval and a half is kept, one silent past two is closed 4002", async () => {
    expect(cadence.staleAfterMs).toBe(2 * cadence.silenceMs);
    const user = uniqueUser();
    const late = await connect(user, { device: "late" });
    const gone = await connect(user, { device: "gone" });
    await silence(user, "late", 1.5 * cadence.silenceMs);
    await silence(user, "gone", 2 * cadence.silenceMs + 1000);
    const presence = (await (await api(`/users/${user}/presence`)).json()) as { sessions: { device: string }[] };
    expect(presence.sessions.map((s) => s.device)).toEqual(["late"]);
    expect((await gone.waitClosed()).code).toBe(4002);
    expect(late.closed).toBeUndefined();
    late.close();
  });
});
