/**
 * Web Push against standalone workerd (the runtime `npm run serve` runs),
 * with the fake push service on loopback. DEV_MODE=1 lets a page register an
 * http:// endpoint, and in dev mode the user's object sends with the global
 * fetch(). workerd's default egress ("public" only) refuses loopback, so here
 * every attempt fails at connect: what this checks is that such a failure is
 * a logged network error that is retried with backoff — never a 5xx to the
 * caller, never a lost row. Delivery to a loopback push service under
 * workerd needs the egress knob of `npm run serve` (SWITCHBOARD_EGRESS=private).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakePushService } from "../../scripts/lib/fakePushService.ts";
import { type Service, startService } from "../../scripts/lib/service.ts";
import { clientToken } from "../../scripts/lib/tokens.ts";
import { eventually } from "../../scripts/lib/time.ts";

const VAPID = {
  VAPID_PUBLIC_KEY: "BFP_lcDlEhPOR8eOnFLkCYrN2uJ-BSaIJzVB0yOuWd0HLhgoSzwjTzZUkM-7e6JefoczrCElCt20MBnH0nCIelo",
  VAPID_PRIVATE_KEY: "d-qkPQd-jhtipHpSiimuGlhhDVpQhhuBeoKZOuytyU0",
  VAPID_SUBJECT: "mailto:ops@switchboard.test",
};
const JWT_SECRET = "webpush-workerd-secret-0123456789abcdef";
const API_KEY = "webpush-workerd-api-key";

let service: Service | undefined;
let push: FakePushService | undefined;

beforeAll(async () => {
  push = await FakePushService.start(VAPID.VAPID_PUBLIC_KEY);
  service = await startService({ kind: "workerd", knobs: { JWT_SECRET, API_KEY, DEV_MODE: "1", ...VAPID } });
});

afterAll(async () => {
  await service?.stop();
  await push?.close();
});

describe("Web Push under standalone workerd", () => {
  it("registers on both routes; a push queues one notification per offline device; a refused connect is logged and retried", async () => {
    if (service === undefined || push === undefined) throw new Error("not started");
    const userId = `wp-workerd-${Date.now().toString(36)}`;
    const phone = push.subscribe([201]);
    const put = await fetch(`${service.base}/v1/users/${userId}/devices/phone/webpush`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" },
      body: JSON.stringify(phone),
    });
    expect(put.status, `${await put.clone().text()} ${service.tail.slice(-40).join("\n")}`).toBe(200);
    // The client route refuses the API key, and takes the client token.
    const token = clientToken(JWT_SECRET, userId, 600);
    const mine = await fetch(`${service.base}/v1/me/devices/tablet/webpush`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(push.subscribe([410])),
    });
    expect(mine.status).toBe(200);

    const res = await fetch(`${service.base}/v1/users/${userId}/messages`, {
      method: "POST",
      headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" },
      body: JSON.stringify({ data: "hello", ttl: 120, webpush: true }),
    });
    const answer = (await res.json()) as { id: string; seq: number; webpush: number };
    expect(answer.webpush).toBe(2);
    // Both attempts are made (in the alarm, after the answer), refused by the egress filter, logged and rescheduled.
    const attempts = () => service?.tail.filter((l) => l.includes('"webpush":"retrying"') && l.includes(answer.id)) ?? [];
    await eventually("both attempts retried", () => attempts().length >= 2, 20_000);
    expect(service.tail.some((l) => l.includes(`connecting to 127.0.0.1:${new URL(push?.origin ?? "").port} is not allowed`))).toBe(true);
    expect(service.tail.filter((l) => l.includes('"webpush":"network error"') && l.includes(answer.id)).length).toBeGreaterThanOrEqual(2);
    expect(push.received).toEqual([]);
  });
});
