/**
 * Web Push helpers (docs/webpush.md): the page subscribes with the service's
 * VAPID key and registers the subscription with its client token; the service
 * worker shows one notification per message id and none for a message the
 * page already showed. Structural types only: the package's lib has no
 * `webworker`, and fakes stand in for the browser in the tests.
 */

/** The decrypted notification: `{id, seq, event?, data}`, or the truncated form (no `data`) over 3,993 bytes. */
export interface WebPushNotification {
  id: string;
  seq: number;
  event?: string;
  data?: unknown;
  /** The message was too long for a notification: read it through the socket (or your server). */
  truncated?: true;
}

/** Narrow what `PushEvent.data.json()` returned; undefined for anything that is not one of ours. */
export function parseWebPushNotification(value: unknown): WebPushNotification | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.id !== "string" || typeof v.seq !== "number") return undefined;
  const out: WebPushNotification = { id: v.id, seq: v.seq };
  if (typeof v.event === "string") out.event = v.event;
  if (v.truncated === true) out.truncated = true;
  else if ("data" in v) out.data = v.data;
  return out;
}

// ---- the page ----

interface PushSubscriptionLike {
  toJSON(): unknown;
  unsubscribe(): Promise<boolean>;
  options?: { applicationServerKey?: ArrayBuffer | null };
}

export interface PushManagerLike {
  getSubscription(): Promise<PushSubscriptionLike | null>;
  subscribe(options: { userVisibleOnly: true; applicationServerKey: Uint8Array }): Promise<PushSubscriptionLike>;
}

export interface WebPushOptions {
  /** The Switchboard service, e.g. `https://switchboard.example.com`. */
  url: string;
  /** A client token (its `sub` is the user), or a function that gets one. */
  token: string | (() => string | Promise<string>);
  /** The device name the page connects with (`?device=`): a notification goes to a device with no live session. */
  device: string;
  /** `(await navigator.serviceWorker.ready).pushManager` */
  pushManager: PushManagerLike;
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
}

function base64UrlToBytes(text: string): Uint8Array {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
}

function sameBytes(a: ArrayBuffer | null | undefined, b: Uint8Array): boolean {
  if (a === null || a === undefined || a.byteLength !== b.byteLength) return false;
  const view = new Uint8Array(a);
  return view.every((byte, i) => byte === b[i]);
}

async function failure(res: Response, what: string): Promise<Error> {
  let message = `${what} answered ${res.status}`;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.message !== undefined) message = `${what}: ${body.error.code ?? "error"}: ${body.error.message}`;
  } catch {
    // not JSON: the status says enough
  }
  return new Error(message);
}

function deviceUrl(o: WebPushOptions): string {
  return `${o.url.replace(/\/+$/, "")}/v1/me/devices/${encodeURIComponent(o.device)}/webpush`;
}

/**
 * Subscribe this browser with the service's VAPID key (reusing a subscription
 * made with the same key; replacing one made with another) and register it for
 * `device`. Call it from a user gesture: browsers ask for permission here.
 */
export async function enableWebPush(o: WebPushOptions): Promise<void> {
  const doFetch = o.fetch ?? ((input, init) => fetch(input, init));
  const keyRes = await doFetch(`${o.url.replace(/\/+$/, "")}/v1/webpush/key`);
  if (!keyRes.ok) throw await failure(keyRes, "GET /v1/webpush/key");
  const { publicKey } = (await keyRes.json()) as { publicKey: string };
  const key = base64UrlToBytes(publicKey);
  let sub = await o.pushManager.getSubscription();
  if (sub !== null && !sameBytes(sub.options?.applicationServerKey, key)) {
    await sub.unsubscribe();
    sub = null;
  }
  sub ??= await o.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  const token = typeof o.token === "string" ? o.token : await o.token();
  const res = await doFetch(deviceUrl(o), {
    method: "PUT",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify(sub.toJSON()),
  });
  if (!res.ok) throw await failure(res, "PUT webpush");
}

/** Unregister `device` and unsubscribe this browser. */
export async function disableWebPush(o: WebPushOptions): Promise<void> {
  const doFetch = o.fetch ?? ((input, init) => fetch(input, init));
  const token = typeof o.token === "string" ? o.token : await o.token();
  const res = await doFetch(deviceUrl(o), { method: "DELETE", headers: { Authorization: `Bearer ${token}` } });
  if (!res.ok) throw await failure(res, "DELETE webpush");
  await (await o.pushManager.getSubscription())?.unsubscribe();
}

/** The message type a page posts to its service worker for each message it displayed itself. */
export const SHOWN_MESSAGE = "switchboard:shown";

/** From the page: tell the service worker this message id is on screen already (call it as you render one). */
export function markShown(id: string, worker: { postMessage(message: unknown): void } | null | undefined): void {
  worker?.postMessage({ type: SHOWN_MESSAGE, id });
}

// ---- the service worker ----

interface ExtendableEventLike {
  waitUntil(promise: Promise<unknown>): void;
}

export interface ServiceWorkerLike {
  addEventListener(type: "push", listener: (event: ExtendableEventLike & { data: { json(): unknown } | null }) => void): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  registration: { showNotification(title: string, options?: Record<string, unknown>): Promise<void> };
  clients: { matchAll(options: { type: "window"; includeUncontrolled: boolean }): Promise<ReadonlyArray<{ visibilityState?: string }>> };
}

export interface PushHandlerOptions {
  /** Title and options of the notification for a message; undefined shows none. */
  render(message: WebPushNotification): { title: string; options?: Record<string, unknown> } | undefined;
  /**
   * Show nothing while a page of the app is visible (it has the message over
   * its socket). Default true. Chrome may show its own generic notification
   * when a push shows none and no page is visible; with a visible page it does not.
   */
  skipWhenVisible?: boolean;
}

/** Ids remembered as shown (by the page or by the worker); a worker that was stopped forgets them. */
const REMEMBERED = 500;

/**
 * In the service worker: `installWebPush(self, { render: (m) => ({ title: "New message", options: { body: … } }) })`.
 * One notification per message id (`tag` = id, so a repeat replaces rather than stacks), none for an id
 * the page marked shown (markShown), none while a page is visible unless asked.
 */
export function installWebPush(sw: ServiceWorkerLike, o: PushHandlerOptions): void {
  const shown = new Set<string>();
  const remember = (id: string) => {
    shown.add(id);
    if (shown.size > REMEMBERED) shown.delete(shown.values().next().value as string);
  };
  sw.addEventListener("message", (event) => {
    const d = event.data as { type?: unknown; id?: unknown } | null;
    if (d?.type === SHOWN_MESSAGE && typeof d.id === "string") remember(d.id);
  });
  sw.addEventListener("push", (event) => {
    let raw: unknown;
    try {
      raw = event.data?.json();
    } catch {
      return; // not JSON: not ours
    }
    const message = parseWebPushNotification(raw);
    if (message === undefined || shown.has(message.id)) return;
    event.waitUntil(
      (async () => {
        if (o.skipWhenVisible ?? true) {
          const windows = await sw.clients.matchAll({ type: "window", includeUncontrolled: true });
          if (windows.some((w) => w.visibilityState === "visible")) return;
        }
        const view = o.render(message);
        if (view === undefined || shown.has(message.id)) return;
        remember(message.id);
        await sw.registration.showNotification(view.title, { tag: message.id, ...view.options, data: message });
      })(),
    );
  });
}
