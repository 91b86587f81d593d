/**
 * StatsShard: one of STATS_SHARDS objects that together count the deployment.
 * A user's object reports to the shard its userId hashes to when its session
 * count changes, so no single object sees every connect. Each shard knows its
 * online users, which is what broadcast fans out over, and keeps the webhook
 * outbox for them.
 *
 * The user's object is the source of truth: reports are absolute and
 * versioned. Counts can drift from it only when a user's object was not awake
 * to notice a change: a client that vanished without a close (a half-open
 * socket), or a process that died with sessions open. Rather than have every
 * online user wake on a timer to renew a lease (most of an idle user's bill;
 * docs/cost-model.md), the shard audits: once per STATS_AUDIT_INTERVAL it asks
 * each online user it has not heard from within that interval for its live
 * count (the ask wakes the object, which sweeps half-open sessions first), and
 * writes only what changed. One request per quiet online user per interval.
 */
import { DurableObject } from "cloudflare:workers";
import { configFrom, type Config } from "../config";
import type { PushResult, WebPushOptIn } from "../hub/rpc";
import { Outbox } from "../webhooks/outbox";
import { mapLimit } from "../util/mapLimit";
import { Alarm } from "../util/alarm";
import { count, setEventLog } from "../metrics/events";

export interface ShardStats {
  onlineUsers: number;
  sessions: number;
}

export interface BroadcastRequest {
  id: string;
  dataJson: string;
  ttl: number;
  event?: string | undefined;
  /** Also Web Push the offline devices of the users reached (src/webpush/). */
  webpush?: WebPushOptIn | undefined;
}

export interface BroadcastResult {
  users: number;
  sessions: number;
  failed: number;
  /** Web Push notifications queued (when the broadcast asked for them). */
  webpush: number;
}

/** Pushes a shard has in flight at once during a broadcast (and audits during an audit). */
const BROADCAST_CONCURRENCY = 32;
/**
 * How long a batch of reports waits for more before it is committed. A busy
 * shard then commits at most 1000 / SHARD_LINGER_MS times a second, however
 * many reports arrive; each report's answer waits this much longer.
 */
const SHARD_LINGER_MS = 10;
/** Offline entries are kept this long so a late, older report can't resurrect them. */
const KEEP_OFFLINE_MS = 24 * 60 * 60_000;

type UserRow = { sessions: number; version: number };

export class StatsShard extends DurableObject<Env> {
  private readonly config: Config;
  private readonly outbox: Outbox;
  private totals: ShardStats;
  private readonly alarmClock: Alarm;
  /** When the next audit round is due (in memory: a restarted shard audits at its first alarm). */
  private auditDueAt = 0;
  /** Reports waiting for the next group commit (newest version per user). */
  private readonly queued = new Map<string, UserRow>();
  private committing: Promise<void> | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const result = configFrom(env);
    if (!result.ok) throw new Error(`switchboard misconfigured: ${result.problem}`);
    this.config = result.config;
    setEventLog(this.config.eventLog);
    const sql = ctx.storage.sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS users (
      user_id TEXT PRIMARY KEY,
      sessions INTEGER NOT NULL,
      version INTEGER NOT NULL,
      seen_at INTEGER NOT NULL
    )`);
    // No index on seen_at: every report updates seen_at, and an index on it doubled
    // the rows written per report (docs/cost-model.md). The audit reads the whole
    // table instead, once per STATS_AUDIT_INTERVAL per shard: rows read cost a
    // thousandth of rows written.
    sql.exec("DROP INDEX IF EXISTS users_online");
    this.outbox = new Outbox(sql);
    this.totals = this.recount();
    this.alarmClock = new Alarm(ctx.storage);
  }

  private recount(): ShardStats {
    const row = this.ctx.storage.sql
      .exec<{ users: number; sessions: number | null }>("SELECT count(*) AS users, sum(sessions) AS sessions FROM users WHERE sessions > 0")
      .one();
    return { onlineUsers: row.users, sessions: row.sessions ?? 0 };
  }

  async stats(): Promise<ShardStats> {
    return { ...this.totals };
  }

  /**
   * A user's object says how many sessions it has now. Older versions are ignored.
   *
   * Reports are group-committed: those that arrive while one batch lingers
   * (SHARD_LINGER_MS) are written together, in one implicit transaction, and every
   * caller's answer waits for that commit (the output gate), so an answered
   * report is durable. A write's commit, not the request, was most of what a
   * report cost; in a reconnect storm a shard takes many reports at once
   * (docs/benchmark.md, "The cost of a connect").
   */
  async report(userId: string, sessions: number, version: number): Promise<void> {
    const queued = this.queued.get(userId);
    if (queued === undefined || queued.version < version) this.queued.set(userId, { sessions, version });
    this.committing ??= new Promise<void>((resolve, reject) => {
      setTimeout(() => {
        this.committing = undefined;
        try {
          this.writeQueued();
          resolve();
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      }, SHARD_LINGER_MS);
    });
    return this.committing;
  }

  private writeQueued(): void {
    const batch = [...this.queued];
    this.queued.clear();
    const now = Date.now();
    const sql = this.sql();
    for (const [userId, { sessions, version }] of batch) {
      const prev = sql.exec<UserRow>("SELECT sessions, version FROM users WHERE user_id = ?", userId).toArray()[0];
      if (prev !== undefined && prev.version >= version) continue;
      const count = Math.max(0, Math.floor(sessions));
      sql.exec(
        `INSERT INTO users (user_id, sessions, version, seen_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(user_id) DO UPDATE SET sessions = excluded.sessions, version = excluded.version, seen_at = excluded.seen_at`,
        userId,
        count,
        version,
        now,
      );
      this.apply(userId, prev?.sessions ?? 0, count, now);
    }
  }

  /** Update totals and webhooks for one user's change from `before` to `after` sessions. */
  private apply(userId: string, before: number, after: number, now: number): void {
    this.totals.sessions += after - before;
    const wasOnline = before > 0;
    const isOnline = after > 0;
    if (wasOnline === isOnline) return;
    this.totals.onlineUsers += isOnline ? 1 : -1;
    if (this.config.webhookUrl !== undefined) {
      const due = this.outbox.transition(userId, isOnline, now, this.config.webhookGraceMs);
      if (due !== undefined) this.alarmClock.ensureBy(now, due);
    }
    if (isOnline) this.alarmClock.ensureBy(now, now + this.config.statsAuditIntervalMs);
  }

  /** Push one message to every online user of this shard. */
  async broadcast(req: BroadcastRequest): Promise<BroadcastResult> {
    const users = this.ctx.storage.sql
      .exec<{ user_id: string }>("SELECT user_id FROM users WHERE sessions > 0")
      .toArray()
      .map((row) => row.user_id);
    const results = await mapLimit(users, BROADCAST_CONCURRENCY, async (userId): Promise<PushResult | undefined> => {
      try {
        return await this.env.USER_HUB.getByName(userId).push({
          userId,
          id: req.id,
          dataJson: req.dataJson,
          ttl: req.ttl,
          event: req.event,
          webpush: req.webpush,
        });
      } catch (err) {
        console.warn("switchboard: broadcast push failed", userId, err);
        return undefined;
      }
    });
    let reached = 0;
    let sessions = 0;
    let failed = 0;
    let webpush = 0;
    for (const result of results) {
      webpush += result?.webpush ?? 0;
      if (result === undefined) failed++;
      else if (result.delivered > 0) {
        reached++;
        sessions += result.delivered;
      }
    }
    return { users: reached, sessions, failed, webpush };
  }

  override async alarm(): Promise<void> {
    count("switchboard_alarms_total", { object: "stats" });
    const now = Date.now();
    this.alarmClock.fired();
    if (now >= this.auditDueAt) {
      this.auditDueAt = now + this.config.statsAuditIntervalMs;
      await this.audit(now);
    }
    this.sql().exec("DELETE FROM users WHERE sessions = 0 AND seen_at < ?", now - KEEP_OFFLINE_MS);
    if (this.config.webhookUrl !== undefined && this.config.webhookSecret !== undefined) {
      await this.outbox.deliver(this.config.webhookUrl, this.config.webhookSecret, Date.now());
    }
    const next = Math.min(this.outbox.nextDue() ?? Number.POSITIVE_INFINITY, this.totals.onlineUsers > 0 ? this.auditDueAt : Number.POSITIVE_INFINITY);
    this.alarmClock.ensureBy(now, Math.max(next, now + 1000));
  }

  private sql(): SqlStorage {
    return this.ctx.storage.sql;
  }

  /**
   * Ask each online user not heard from within STATS_AUDIT_INTERVAL for its
   * live count. An answer equal to what is stored writes nothing; a user whose
   * object does not answer keeps its count until the next round.
   */
  private async audit(now: number): Promise<void> {
    const quiet = this.sql()
      .exec<{ user_id: string }>("SELECT user_id FROM users WHERE sessions > 0 AND seen_at < ?", now - this.config.statsAuditIntervalMs)
      .toArray()
      .map((row) => row.user_id);
    await mapLimit(quiet, BROADCAST_CONCURRENCY, async (userId) => {
      try {
        const { sessions, version } = await this.env.USER_HUB.getByName(userId).audit();
        this.applyAudit(userId, sessions, version);
      } catch (err) {
        console.warn("switchboard: stats audit of a user failed; next round retries", userId, err);
      }
    });
  }

  private applyAudit(userId: string, sessions: number, version: number): void {
    const prev = this.sql().exec<UserRow>("SELECT sessions, version FROM users WHERE user_id = ?", userId).toArray()[0];
    // Unchanged (the common case) costs no write; a report newer than the audit wins.
    if (prev === undefined || prev.version >= version || prev.sessions === sessions) return;
    const now = Date.now();
    this.sql().exec("UPDATE users SET sessions = ?, version = ?, seen_at = ? WHERE user_id = ?", sessions, version, now, userId);
    this.apply(userId, prev.sessions, sessions, now);
  }
}
