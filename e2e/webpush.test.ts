/**
 * The demo's service worker (public/sw.js, the client SDK's installWebPush)
 * in Chromium: a push message delivered through DevTools
 * (ServiceWorker.deliverPushMessage, the way a browser's push service hands
 * one over after decrypting it) becomes one notification tagged with the
 * message id (a repeat replaces, not stacks), and none for an id the page
 * marked shown (markShown). The encryption and the push service are checked elsewhere
 * (test/webpush/, test/node/webpush.*.test.ts): Chromium here has no push
 * service to subscribe with, so pushManager.subscribe is not exercised.
 */
import { describe, expect, inject, it } from "vitest";
import { eventually } from "../scripts/lib/time.ts";
import { chromiumForThisFile, loadSdk } from "./browser.ts";

interface Shown {
  title: string;
  body: string;
  tag: string;
}

const base = inject("base");
const browser = chromiumForThisFile();

describe("the demo's service worker in Chromium", () => {
  it("shows one notification per message id, and none for an id the page showed", webPushInChromium);
});

async function webPushInChromium(): Promise<void> {
  const ctx = await browser().newContext();
  await ctx.grantPermissions(["notifications"], { origin: base });
  try {
    const page = await ctx.newPage();
    await page.goto(`${base}/healthz`);
    const cdp = await ctx.newCDPSession(page);
    const registration = new Promise<string>((resolve) => {
      cdp.on("ServiceWorker.workerRegistrationUpdated", (e: { registrations: Array<{ registrationId: string; scopeURL: string }> }) => {
        const mine = e.registrations.find((r) => r.scopeURL.startsWith(base));
        if (mine !== undefined) resolve(mine.registrationId);
      });
    });
    await cdp.send("ServiceWorker.enable");
    await page.evaluate(async () => {
      await navigator.serviceWorker.register("/sw.js", { type: "module" });
      await navigator.serviceWorker.ready;
    });
    const registrationId = await registration;
    const deliver = (data: unknown) => cdp.send("ServiceWorker.deliverPushMessage", { origin: base, registrationId, data: JSON.stringify(data) });
    const shown = () =>
      page.evaluate(async () =>
        (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag })),
      ) as Promise<Shown[]>;

    // The page shows message m-1 itself and says so; then it goes away (no page of the origin is left
    // open, so the worker does not skip for a visible one). Pushes are handled in order, and the
    // marked-id check is synchronous at the start of each: once m-2 is shown, m-1 was decided.
    await loadSdk(page);
    await page.evaluate(async () => {
      const sdk = (window as unknown as { sdk: unknown }).sdk as { markShown(id: string, w: ServiceWorker | null): void };
      sdk.markShown("m-1", (await navigator.serviceWorker.ready).active);
    });
    await page.goto("about:blank");
    await deliver({ id: "m-1", seq: 1, data: { text: "shown by the page" } });
    await deliver({ id: "m-2", seq: 2, data: { text: "your order shipped" } });
    await deliver({ id: "m-2", seq: 2, data: { text: "your order shipped" } });
    await deliver({ id: "m-3", seq: 3, truncated: true });
    await page.goto(`${base}/healthz`);
    await eventually("two notifications", async () => (await shown()).length >= 2, 5000, 50).catch(() => undefined);
    const got = await shown();
    expect(got.map((n) => n.tag).sort(), "the notifications' tags: m-2 and m-3 only").toEqual(["m-2", "m-3"]);
    const byTag = Object.fromEntries(got.map((n) => [n.tag, n]));
    expect(byTag["m-2"]).toMatchObject({ title: "Switchboard demo", body: "your order shipped" });
    expect(byTag["m-3"]?.body).toContain("open the demo");
  } finally {
    await ctx.close();
  }
}
