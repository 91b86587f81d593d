/**
 * Web Push from the outside, against a real `npm run dev` with zero config
 * (the development VAPID keys of .dev.vars): a page's registration with its
 * client token, a push over HTTP, and the notification arriving at a push
 * service on loopback (scripts/lib/fakePushService.ts: VAPID verified, body
 * decrypted with http_ece) — for the offline device only.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_API_KEY } from "../../src/config.ts";
import { DEV_VAPID_PUBLIC_KEY, DEV_VAPID_SUBJECT } from "../../src/webpush/config.ts";
import { FakePushService } from "../../scripts/lib/fakePushService.ts";
import { isOpen, openSession } from "../../scripts/lib/wsSession.ts";
import { type Service, startService } from "../../scripts/lib/service.ts";
import { enableWebPush, type PushManagerLike } from "../../packages/client/src/webpush.ts";
import { eventually } from "../../scripts/lib/time.ts";

let dev: Service | undefined;
let push: FakePushService | undefined;

beforeAll(async () => {
  push = await FakePushService.start(DEV_VAPID_PUBLIC_KEY);
  dev = await startService({ kind: "dev" });
});

afterAll(async () => {
  await dev?.stop();
  await push?.close();
});

describe("Web Push under npm run dev", () => {
  it("a registered offline device gets the push as an encrypted, VAPID-signed notification; a live one gets it on its socket", async () => {
    if (dev === undefined || push === undefined) throw new Error("not started");
    const key = (await (await fetch(`${dev.base}/v1/webpush/key`)).json()) as { publicKey: string };
    expect(key.publicKey).toBe(DEV_VAPID_PUBLIC_KEY);

    const userId = `wp-dev-${Date.now().toString(36)}`;
    const { token } = (await (await fetch(`${dev.base}/dev/token?user=${userId}`)).json()) as { token: string };
    const phone = push.subscribe([201]);
    const laptop = push.subscribe([201]);
    // The phone registers as a page would with the client SDK's helper; the push manager is the
    // browser's part (it would mint the subscription), played by the fake push service.
    const asked: Uint8Array[] = [];
    const pushManager: PushManagerLike = {
      getSubscription: async () => null,
      subscribe: async ({ applicationServerKey }) => {
        asked.push(applicationServerKey);
        return { toJSON: () => phone, unsubscribe: async () => true };
      },
    };
    await enableWebPush({ url: dev.base, token, device: "phone", pushManager });
    expect(Buffer.from(asked[0] ?? []).toString("base64url")).toBe(DEV_VAPID_PUBLIC_KEY);
    const res = await fetch(`${dev.base}/v1/me/devices/laptop/webpush`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(laptop),
    });
    expect(res.status, await res.clone().text()).toBe(200);

    const session = await openSession(`${dev.base.replace("http", "ws")}/v1/connect?device=laptop`, { headers: { Authorization: `Bearer ${token}` } });
    if (!isOpen(session)) throw new Error(`connect failed: ${JSON.stringify(session)}`);
    session.ws.send("ping"); // the local runtime wants a client frame after open (see the brief)
    await session.until(() => session.welcome !== undefined);

    const pushed = await fetch(`${dev.base}/v1/users/${userId}/messages`, {
      method: "POST",
      headers: { Authorization: `Bearer ${DEV_API_KEY}`, "Content-Type": "application/json" },
      body: JSON.stringify({ data: { text: "your order shipped" }, ttl: 300, webpush: { urgency: "high", topic: "order" } }),
    });
    const answer = (await pushed.json()) as { id: string; seq: number; delivered: number; webpush: number };
    expect(answer).toMatchObject({ delivered: 1, webpush: 1 });

    await eventually("the phone's notification", () => push?.to(phone).length === 1, 30_000);
    const [got] = push.to(phone);
    expect(JSON.parse(got?.text ?? "null")).toEqual({ id: answer.id, seq: answer.seq, data: { text: "your order shipped" } });
    expect(got?.headers).toMatchObject({ "content-encoding": "aes128gcm", urgency: "high", topic: "order" });
    expect(Number(got?.headers.ttl)).toBeGreaterThan(0);
    expect(Number(got?.headers.ttl)).toBeLessThanOrEqual(300);
    expect(got?.claims).toMatchObject({ aud: push.origin, sub: DEV_VAPID_SUBJECT });
    expect(push.problems).toEqual([]);
    await session.until(() => session.seqs.includes(answer.seq));
    expect(push.to(laptop)).toEqual([]);
    session.close();
  });
});
