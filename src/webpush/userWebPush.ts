/**
 * Web Push as one user's object sees it: the device subscriptions, which of a
 * push's targeted devices get a notification (those with a subscription and no
 * live session at that moment), and the outbox the object's alarm drains.
 * The hub calls in here; nothing here knows a dialect.
 */
import type { Config } from "../config";
import { replayableTo, type Targeting } from "../hub/log";
import { publicFetch } from "../util/egress";
import type { LiveSession } from "../hub/liveness";
import { WebPushOutbox } from "./outbox";
import { SubscriptionStore } from "./store";
import type { WebPushSubscription } from "./subscription";
import type { WebPushOptIn } from "../hub/rpc";

export interface PushedMessage extends Targeting {
  id: string;
  seq: number;
  event?: string | undefined;
  dataJson: string;
  expiresAt: number;
}

export class UserWebPush {
  readonly store: SubscriptionStore;
  private readonly outbox: WebPushOutbox;

  constructor(sql: SqlStorage, tables: ReadonlySet<string>) {
    this.store = new SubscriptionStore(sql, tables);
    this.outbox = new WebPushOutbox(sql, tables);
  }

  /** Store the device's subscription (replacing any); false when the user has too many. */
  register(device: string, sub: WebPushSubscription, now: number): boolean {
    return this.store.put(device, sub, now);
  }

  /** Remove the device's subscription and anything still queued for it; true if it had one. */
  unregister(device: string): boolean {
    this.outbox.forget(device);
    return this.store.remove(device);
  }

  /**
   * Queue one notification for every device the message targets that has a
   * subscription and no live session now. Returns how many were queued (0
   * when Web Push is off).
   */
  enqueue(config: Config, message: PushedMessage, optIn: WebPushOptIn, live: readonly LiveSession[], now: number): number {
    if (config.webPush === undefined) return 0;
    const online = new Set(live.map(({ session }) => session.device));
    const devices = this.store.devices(now).filter((d) => !online.has(d) && replayableTo(message, d));
    return this.outbox.enqueue(devices, { ...message, urgency: optIn.urgency, topic: optIn.topic }, now);
  }

  /**
   * When the alarm must run for the outbox. Nothing while Web Push is off (a
   * redeploy without VAPID): the queued rows wait, rather than re-fire the alarm at once.
   */
  nextDue(config: Config): number | undefined {
    return config.webPush === undefined ? undefined : this.outbox.nextDue();
  }

  /**
   * The alarm's part: send what is due. `live` is asked per attempt, so a
   * device that came online is skipped. Never throws.
   */
  async sendDue(config: Config, env: object, live: () => readonly LiveSession[], now: number): Promise<void> {
    if (config.webPush === undefined) return;
    // A registered endpoint is a URL a client chose: public addresses only (src/util/egress.ts),
    // but in dev mode, whose local fake push service listens on loopback.
    const fetchFn = config.devMode ? (r: Request, init: RequestInit) => fetch(r, init) : publicFetch(env);
    const isLive = (device: string) => live().some(({ session }) => session.device === device);
    try {
      await this.outbox.deliver({ config: config.webPush, store: this.store, isLive, fetch: fetchFn }, now);
    } catch (err) {
      console.error("switchboard: webpush delivery failed", err);
    }
  }
}
