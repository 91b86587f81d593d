/** The service-worker side of the Web Push helper, against a fake worker scope. */
import { describe, expect, it } from "vitest";
import { installWebPush, parseWebPushNotification, SHOWN_MESSAGE, type ServiceWorkerLike } from "../src/webpush.ts";

type Listener = (event: never) => void;

class FakeWorker {
  readonly listeners = new Map<string, Listener[]>();
  readonly notifications: Array<{ title: string; options?: Record<string, unknown> }> = [];
  windows: Array<{ visibilityState?: string }> = [];
  readonly scope = {
    addEventListener: (type: string, listener: Listener) => this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]),
    registration: { showNotification: async (title: string, options?: Record<string, unknown>) => void this.notifications.push({ title, options }) },
    clients: { matchAll: async () => this.windows },
  } as unknown as ServiceWorkerLike;

  /** Dispatch a push whose decrypted body is `body`; resolves when the handler's waitUntil work is done. */
  async push(body: string): Promise<void> {
    const pending: Promise<unknown>[] = [];
    const event = { data: { json: () => JSON.parse(body) as unknown }, waitUntil: (p: Promise<unknown>) => pending.push(p) };
    for (const l of this.listeners.get("push") ?? []) (l as (e: typeof event) => void)(event);
    await Promise.all(pending);
  }

  message(data: unknown): void {
    for (const l of this.listeners.get("message") ?? []) (l as (e: { data: unknown }) => void)({ data });
  }
}

const render = (m: { data?: unknown; truncated?: true }) => ({ title: "New", options: { body: m.truncated ? "open the app" : String(m.data) } });

describe("installWebPush (service worker)", () => {
  it("shows one notification per message id, tagged with it and carrying the message", async () => {
    const sw = new FakeWorker();
    installWebPush(sw.scope, { render });
    await sw.push(`{"id":"m1","seq":3,"data":"hello"}`);
    await sw.push(`{"id":"m1","seq":3,"data":"hello"}`); // the push service delivered it twice
    await sw.push(`{"id":"m2","seq":4,"truncated":true}`);
    expect(sw.notifications).toEqual([
      { title: "New", options: { body: "hello", tag: "m1", data: { id: "m1", seq: 3, data: "hello" } } },
      { title: "New", options: { body: "open the app", tag: "m2", data: { id: "m2", seq: 4, truncated: true } } },
    ]);
  });

  it("skips ids the page marked shown, and everything while a page is visible", async () => {
    const sw = new FakeWorker();
    installWebPush(sw.scope, { render });
    sw.message({ type: SHOWN_MESSAGE, id: "seen" });
    await sw.push(`{"id":"seen","seq":1,"data":"x"}`);
    sw.windows = [{ visibilityState: "hidden" }, { visibilityState: "visible" }];
    await sw.push(`{"id":"while-open","seq":2,"data":"y"}`);
    expect(sw.notifications).toEqual([]);
    sw.windows = [{ visibilityState: "hidden" }];
    await sw.push(`{"id":"while-open","seq":2,"data":"y"}`);
    expect(sw.notifications.map((n) => n.options?.tag)).toEqual(["while-open"]);
  });

  it("ignores pushes that are not Switchboard notifications", async () => {
    const sw = new FakeWorker();
    installWebPush(sw.scope, { render });
    await sw.push(`{"title":"someone else's"}`);
    await sw.push(`not json`);
    expect(sw.notifications).toEqual([]);
    expect(parseWebPushNotification({ id: "a", seq: "1" })).toBeUndefined();
    expect(parseWebPushNotification({ id: "a", seq: 1, event: "order", data: { x: 1 } })).toEqual({ id: "a", seq: 1, event: "order", data: { x: 1 } });
  });
});
