/**
 * pusher-js over the session cap: with MAX_CONNECTIONS=1 and the one slot
 * taken, its upgrade is refused 503; pusher-js does not give up but retries on
 * its own, and connects once the slot is free. (The client SDK's retry on a
 * refused upgrade is the storm in docs/operations.md, "Overload".)
 */
import { afterAll, describe, expect, it } from "vitest";
import { type Service, startService } from "../../scripts/lib/service.ts";
import { eventually } from "../../scripts/lib/time.ts";
import { clientToken } from "../../scripts/lib/tokens.ts";
import { isOpen, openSession } from "../../scripts/lib/wsSession.ts";
import { APP_ID, API_KEY, client, JWT_SECRET, KEY, SECRET, uniqueUser, type PusherClient } from "./pusherHarness.ts";

let service: Service | undefined;
let pusher: PusherClient | undefined;
afterAll(async () => {
  pusher?.disconnect();
  await service?.stop();
});

describe("pusher-js against a full server", () => {
  it("retries a 503 refused upgrade on its own and connects when a slot frees", async () => {
    service = await startService({
      kind: "workerd",

      knobs: { JWT_SECRET, API_KEY, PUSHER_APP_ID: APP_ID, PUSHER_KEY: KEY, PUSHER_SECRET: SECRET, MAX_CONNECTIONS: "1" },
    });
    const svc = service;
    const holder = await openSession(`${svc.wsBase}/v1/connect?token=${clientToken(JWT_SECRET, "slot-holder")}`);
    if (!isOpen(holder)) throw new Error(`the one slot was refused: ${JSON.stringify(holder)}`);
    const refused = await openSession(`${svc.wsBase}/pusher/users/someone/app/${KEY}?protocol=7&client=js&version=8.6.0&flash=false`);
    expect(refused).toMatchObject({ kind: "refused", status: 503 });

    const states: string[] = [];
    pusher = client(svc, uniqueUser());
    pusher.connection.bind("state_change", (s: { current: string }) => states.push(s.current));
    // It tries and is refused (the raw probe above was the first over_capacity); connecting later proves it retried.
    const overCapacity = async () => {
      const text = await (await fetch(`${svc.base}/metrics`, { headers: { Authorization: `Bearer ${API_KEY}` } })).text();
      return Number(/^switchboard_refusals_total\{code="over_capacity"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    await eventually("pusher-js refused", async () => ((await overCapacity()) >= 2 ? true : undefined), 60_000);
    expect(pusher.connection.state).not.toBe("connected");
    holder.ws.close(1000);
    await eventually("pusher-js connected", () => (pusher?.connection.state === "connected" ? true : undefined), 90_000);
    expect(states).not.toContain("failed");
  });
});
