/**
 * Web Push as one user's object sees it: the device subscriptions, which of a
 * push's targeted devices get a notification (those with a subscription and no
 * live session at that moment), and the outbox the object's alarm drains.
 * The hub calls in here; nothing here knows a dialect.
 */
import type { WebPushConfig } from "./config";
import { replayableTo, type Targeting } from "../hub/log";
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
   * subscription and no live session now. Returns how many were queued.
   */
  enqueue(message: PushedMessage, optIn: WebPushOptIn, live: readonly LiveSession[], now: number): number {
    const online = new Set(live.map(({ session }) => session.device));
    const devices = this.store.devices(now).filter((d) => !online.has(d) && replayableTo(message, d));
    return this.outbox.enqueue(devices, { ...message, urgency: optIn.urgency, topic: optIn.topic }, now);
  }

  nextDue(): number | undefined {
    return this.outbox.nextDue();
  }

  /** Send what is due (the alarm). `live` is read per attempt: a device that came online is skipped. */
  deliver(
    config: WebPushConfig,
    liveDevices: () => ReadonlySet<string>,
    fetch: (request: Request, init: RequestInit) => Promise<Response>,
    now: number,
  ): Promise<void> {
    return this.outbox.deliver({ config, store: this.store, isLive: (device) => liveDevices().has(device), fetch }, now);
  }
}
