/**
 * Tells the user's stats shard how many sessions the user has. Reports carry
 * absolute counts with a version that only grows, so a retried or reordered
 * report can never push a counter negative or resurrect an old state: the
 * shard keeps the newest.
 *
 * Reports are coalesced. A change waits REPORT_LINGER_MS before it is sent,
 * and every change in that window, or made while a report is in flight,
 * goes as one report of the latest count: a kick closing five sockets, a
 * user's devices coming back together after a deploy, a phone that drops and
 * reconnects. A count equal to the one the shard last acknowledged is not
 * sent at all. Each report is a request to the shard and a row written there,
 * and it was the largest single cost of a reconnect (docs/benchmark.md,
 * "The cost of a connect").
 *
 * A report that fails is retried from the alarm; the "pending" mark is
 * stored, so eviction between the failure and the retry loses nothing.
 */
import type { Config } from "../config";
import { shardIndex, shardName } from "../stats/shardKey";
import { tableNames } from "../util/tables";

const RETRY_BASE_MS = 1000;
const RETRY_MAX_MS = 60_000;
/**
 * How long a change waits for more before it is reported. /v1/stats lags a
 * change by this much. The timer can put off hibernation by as much, next to
 * the ~10 s without events an object waits before it hibernates anyway.
 */
export const REPORT_LINGER_MS = 100;

export class PresenceReporter {
  #version = 0;
  #userId: string | undefined;
  #retryAt: number | undefined;
  #attempt = 0;
  /** The count to report next, or undefined when the shard has heard the latest. */
  #pending: number | undefined;
  #inFlight = false;
  #scheduled = false;
  /** The count the shard last acknowledged from this instance (unknown after a restart). */
  #acked: number | undefined;
  /** A report has reached the shard since this instance was constructed. */
  #reportedSinceStart = false;
  #hasMeta: boolean;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
    private readonly config: Config,
    private readonly requestAlarm: () => void,
    tables: ReadonlySet<string> = tableNames(ctx.storage.sql),
  ) {
    // The object's name is its userId (the Worker reaches it with getByName): no row
    // needed for it, so a new user's first connect writes nothing for this.
    this.#userId = ctx.id.name;
    const sql = ctx.storage.sql;
    // `meta` is created by its first write (#setMeta): most objects never need it,
    // and creating a table is a write a new user's first connect need not pay.
    this.#hasMeta = tables.has("meta");
    const rows = this.#hasMeta ? sql.exec<{ key: string; value: string | number | null }>("SELECT key, value FROM meta").toArray() : [];
    for (const row of rows) {
      // Objects from before ctx.id.name was relied on stored their userId here.
      if (row.key === "user_id" && typeof row.value === "string") this.#userId ??= row.value;
      if (row.key === "presence_pending" && row.value === 1) this.#retryAt = Date.now();
    }
  }

  #setMeta(key: string, value: string | number): void {
    const sql = this.ctx.storage.sql;
    if (!this.#hasMeta) sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value)");
    this.#hasMeta = true;
    sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value);
  }

  get userId(): string | undefined {
    return this.#userId;
  }

  /** Only where ctx.id.name is missing (an object not reached by name): remember the userId. */
  setUser(userId: string): void {
    if (this.#userId === userId) return;
    this.#userId = userId;
    this.#setMeta("user_id", userId);
  }

  /**
   * Nothing has been reported since this instance started: after a process
   * crash no close event ever reported the drop, so the first alarm reports.
   */
  get reportedSinceStart(): boolean {
    return this.#reportedSinceStart;
  }

  retryAt(): number | undefined {
    return this.#retryAt;
  }

  /** A version newer than any report sent so far (for an audit's answer). */
  nextVersion(): number {
    // Date.now() in µs outruns any counter kept before an eviction; +1 keeps
    // reports from one instant ordered.
    this.#version = Math.max(this.#version + 1, Date.now() * 1000);
    return this.#version;
  }

  /** Report `sessions` soon; fire and forget (failures are retried by the alarm). */
  report(sessions: number): void {
    this.#pending = sessions;
    if (this.#inFlight || this.#scheduled) return;
    this.#scheduled = true;
    setTimeout(() => {
      this.#scheduled = false;
      void this.#drain();
    }, REPORT_LINGER_MS);
  }

  /** Report `sessions` now and wait for the shard (the alarm's path). */
  async flush(sessions: number): Promise<void> {
    this.#pending = sessions;
    await this.#drain();
  }

  async #drain(): Promise<void> {
    if (this.#inFlight) return;
    this.#inFlight = true;
    try {
      while (this.#pending !== undefined) {
        const sessions = this.#pending;
        this.#pending = undefined;
        // Back where the shard last heard it (a drop and a reconnect within the linger): nothing to say.
        if (sessions === this.#acked && this.#retryAt === undefined) continue;
        if (!(await this.#send(sessions))) break;
      }
    } finally {
      this.#inFlight = false;
    }
  }

  async #send(sessions: number): Promise<boolean> {
    const userId = this.#userId;
    if (userId === undefined) return true;
    const version = this.nextVersion();
    const shard = this.env.STATS_SHARD.getByName(shardName(shardIndex(userId, this.config.statsShards)));
    try {
      await shard.report(userId, sessions, version);
      this.#reportedSinceStart = true;
      this.#acked = sessions;
      if (this.#retryAt !== undefined && this.#pending === undefined) {
        this.#retryAt = undefined;
        this.#attempt = 0;
        if (this.#hasMeta) this.ctx.storage.sql.exec("DELETE FROM meta WHERE key = 'presence_pending'");
      }
      return true;
    } catch (err) {
      console.warn("switchboard: presence report failed; will retry", err);
      // Keep the newest count for the retry unless a later change replaced it.
      this.#pending ??= sessions;
      this.#attempt++;
      const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(this.#attempt, 16));
      this.#retryAt = Date.now() + delay;
      this.#setMeta("presence_pending", 1);
      this.requestAlarm();
      return false;
    }
  }
}
