/**
 * The server API from Node, for the suites' clean traffic and checks: the
 * `@switchboard/server` SDK with its retries off (a suite counts every answer
 * itself, and a chaos kill must show as a failed call, not be retried away),
 * its answers and errors folded into `Answer<T>` so a check can report a
 * refusal instead of throwing. Inputs the SDK refuses to send (the abuse
 * suite's) go over rawHttp.ts or fetch instead.
 */
import { Switchboard, SwitchboardError, type MessagesPage, type PresenceView, type PushOptions, type PushResult, type StatsResult } from "@switchboard/server";

export type PushAnswer = PushResult;
export type Presence = PresenceView;
export type Stats = StatsResult;

export type Answer<T> = { ok: true; status: number; body: T } | { ok: false; status: number; error: string };

export class Api {
  readonly base: string;
  readonly apiKey: string;
  readonly sdk: Switchboard;
  constructor(base: string, apiKey: string, timeoutMs = 15_000) {
    this.base = base;
    this.apiKey = apiKey;
    this.sdk = new Switchboard({ url: base, apiKey, retries: 0, timeoutMs });
  }

  /** The same API with another per-call timeout (a 1000-user batch on a busy box). */
  withTimeout(timeoutMs: number): Api {
    return new Api(this.base, this.apiKey, timeoutMs);
  }

  push(userId: string, body: { data: unknown } & PushOptions): Promise<Answer<PushAnswer>> {
    const { data, ...options } = body;
    return answer(this.sdk.push(userId, data, options));
  }

  pushMany(userIds: readonly string[], data: unknown, options?: PushOptions): Promise<Answer<{ results: unknown[] }>> {
    return answer(this.sdk.pushMany(userIds, data, options));
  }

  presence(userId: string): Promise<Answer<Presence>> {
    return answer(this.sdk.presence(userId));
  }

  stats(): Promise<Answer<Stats>> {
    return answer(this.sdk.stats());
  }

  messages(userId: string, since: number, limit = 1000): Promise<Answer<MessagesPage>> {
    return answer(this.sdk.messages(userId, { since, limit }));
  }
}

/** A call's answer: 200 and its body, or the SDK's error (status 0: no answer) as status and text. */
async function answer<T>(call: Promise<T>): Promise<Answer<T>> {
  try {
    return { ok: true, status: 200, body: await call };
  } catch (err) {
    if (err instanceof SwitchboardError) return { ok: false, status: err.status, error: `${err.code}: ${err.message}` };
    return { ok: false, status: 0, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}
