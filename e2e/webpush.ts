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
import type { Browser } from "playwright-core";

interface Shown {
  title: string;
  body: string;
  tag: string;
}

export async function webPushInChromium(base: string, browser: Browser): Promise<string> {
  const ctx = await browser.newContext();
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
    const until = async (check: (s: Shown[]) => boolean, what: string) => {
      for (let i = 0; i < 100; i++) {
        const s = await shown();
        if (check(s)) return s;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`webpush e2e: never ${what}; notifications: ${JSON.stringify(await shown())}`);
    };

    // The page shows message m-1 itself and says so; then it goes away (no page of the origin is left
    // open, so the worker does not skip for a visible one). Pushes are handled in order, and the
    // marked-id check is synchronous at the start of each: once m-2 is shown, m-1 was decided.
    await page.evaluate(async () => {
      const sdk = (await import(`${location.origin}/sdk.js`)) as { markShown(id: string, w: ServiceWorker | null): void };
      sdk.markShown("m-1", (await navigator.serviceWorker.ready).active);
    });
    await page.goto("about:blank");
    await deliver({ id: "m-1", seq: 1, data: { text: "shown by the page" } });
    await deliver({ id: "m-2", seq: 2, data: { text: "your order shipped" } });
    await deliver({ id: "m-2", seq: 2, data: { text: "your order shipped" } });
    await deliver({ id: "m-3", seq: 3, truncated: true });
    await page.goto(`${base}/healthz`);
    const got = await until((s) => s.length >= 2, "two notifications");
    const byTag = Object.fromEntries(got.map((n) => [n.tag, n]));
    if (got.length !== 2 || byTag["m-1"] !== undefined) throw new Error(`webpush e2e: expected m-2 and m-3 only, got ${JSON.stringify(got)}`);
    if (byTag["m-2"]?.body !== "your order shipped" || byTag["m-2"].title !== "Switchboard demo")
      throw new Error(`webpush e2e: m-2 is ${JSON.stringify(byTag["m-2"])}`);
    if (!(byTag["m-3"]?.body ?? "").includes("open the demo")) throw new Error(`webpush e2e: m-3 is ${JSON.stringify(byTag["m-3"])}`);
    return "the demo's service worker: one notification per message id, none for an id the page showed";
  } finally {
    await ctx.close();
  }
}
