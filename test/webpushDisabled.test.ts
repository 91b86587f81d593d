/** The "worker" project has no VAPID keys: Web Push is off, and says so (never a 5xx). */
import { describe, expect, it } from "vitest";
import { api, push, tokenFor, uniqueUser, worker } from "./helpers";

const code = async (res: Response) => ((await res.json()) as { error: { code: string; field?: string } }).error;

describe("Web Push without VAPID config", () => {
  it("its routes answer 404 webpush_disabled", async () => {
    const user = uniqueUser("wp-off");
    const sub = { endpoint: "https://push.example.test/x", keys: { p256dh: "x", auth: "y" } };
    const answers = [
      await worker("/v1/webpush/key"),
      await worker("/v1/me/devices/phone/webpush", {
        method: "PUT",
        headers: { Authorization: `Bearer ${await tokenFor(user)}`, "Content-Type": "application/json" },
        body: JSON.stringify(sub),
      }),
      await api(`/users/${user}/devices/phone/webpush`, { method: "PUT", json: sub }),
      await api(`/users/${user}/devices/phone/webpush`, { method: "DELETE" }),
    ];
    for (const res of answers) {
      expect(res.status).toBe(404);
      expect((await code(res)).code).toBe("webpush_disabled");
    }
  });

  it("a push asking for webpush is refused 400 webpush_disabled naming webpush; one without it is untouched", async () => {
    const user = uniqueUser("wp-off");
    const res = await api(`/users/${user}/messages`, { method: "POST", json: { data: 1, ttl: 60, webpush: true } });
    expect(res.status).toBe(400);
    expect(await code(res)).toMatchObject({ code: "webpush_disabled", field: "webpush" });
    expect((await push(user, { data: 1, ttl: 60 })).webpush).toBeUndefined();
  });
});
