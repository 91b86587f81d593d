/**
 * Tells the user's stats shard how many sessions the user has, on every change
 * and on every reaper alarm. Reports carry absolute counts with a version that
 * only grows, so a retried or reordered report can never push a counter
 * negative or resurrect an old state: the shard keeps the newest.
 *
 * A report that fails is retried from the alarm; the "pending" mark is stored,
 * so eviction between the failure and the retry loses nothing.
 *
 * Whether the shard last heard "online" is stored too (written only when that
 * flips): if the whole process dies, no close event ever reports the drop, and
 * the reaper alarm (which survives the restart) finds the flag set and no
 * sockets, and reports the 0 — within REAP_INTERVAL instead of a lease.
 */
import type { Config } from "../config";
import { shardIndex, shardName } from "../stats/shardKey";

const RETRY_BASE_MS = 1000;
const RETRY_MAX_MS = 60_000;

export class PresenceReporter {
  #version = 0;
  #userId: string | undefined;
  #retryAt: number | undefined;
  #attempt = 0;
  #reportedOnline = false;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
    private readonly config: Config,
    private readonly requestAlarm: () => void,
  ) {
    const sql = ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value)");
    for (const row of sql.exec<{ key: string; value: string | number | null }>("SELECT key, value FROM meta")) {
      if (row.key === "user_id" && typeof row.value === "string") this.#userId = row.value;
      if (row.key === "presence_pending" && row.value === 1) this.#retryAt = Date.now();
      if (row.key === "reported_online" && row.value === 1) this.#reportedOnline = true;
    }
  }

  get userId(): string | undefined {
    return this.#userId;
  }

  /** The object learns its userId from the first connect or push; the alarm needs it later. */
  setUser(userId: string): void {
    if (this.#userId === userId) return;
    this.#userId = userId;
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('user_id', ?)", userId);
  }

  /** The shard's last successful report from here said the user was online. */
  get reportedOnline(): boolean {
    return this.#reportedOnline;
  }

  retryAt(): number | undefined {
    return this.#retryAt;
  }

  /** Fire and forget; failures are retried by the alarm. */
  report(sessions: number): void {
    void this.flush(sessions);
  }

  async flush(sessions: number): Promise<void> {
    const userId = this.#userId;
    if (userId === undefined) return;
    // Date.now() in µs outruns any counter kept before an eviction; +1 keeps
    // reports from one instant ordered.
    this.#version = Math.max(this.#version + 1, Date.now() * 1000);
    const version = this.#version;
    const shard = this.env.STATS_SHARD.getByName(shardName(shardIndex(userId, this.config.statsShards)));
    try {
      await shard.report(userId, sessions, version);
      // Only the newest report may set the flag: an older one finishing late
      // must not overwrite what a newer one said.
      if (version === this.#version && sessions > 0 !== this.#reportedOnline) {
        this.#reportedOnline = sessions > 0;
        if (this.#reportedOnline) this.ctx.storage.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('reported_online', 1)");
        else this.ctx.storage.sql.exec("DELETE FROM meta WHERE key = 'reported_online'");
      }
      if (this.#retryAt !== undefined && version === this.#version) {
        this.#retryAt = undefined;
        this.#attempt = 0;
        this.ctx.storage.sql.exec("DELETE FROM meta WHERE key = 'presence_pending'");
      }
    } catch (err) {
      console.warn("switchboard: presence report failed; will retry", err);
      this.#attempt++;
      const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(this.#attempt, 16));
      this.#retryAt = Date.now() + delay;
      this.ctx.storage.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('presence_pending', 1)");
      this.requestAlarm();
    }
  }
}
