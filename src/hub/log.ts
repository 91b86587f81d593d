/**
 * One user's message log and per-device cursors, in the Durable Object's SQLite.
 *
 * Every method is synchronous: `sql.exec` runs in the object's own thread, and
 * writes made without an intervening `await` commit together (the runtime's
 * implicit transaction) and are durable before any output leaves the object
 * (the output gate). So a `seq` is assigned, stored, and delivered atomically.
 *
 * `seq` counts stored messages with no gaps. The head row is never deleted by
 * retention, so `max(seq)` is the head even after everything else expired —
 * cheaper than keeping a separate counter row that every push would rewrite.
 */
import { MAX_TTL } from "../config";
import type { MessageView } from "./rpc";
import { tableNames } from "../util/tables";

export interface Targeting {
  device?: string | undefined;
  exceptDevice?: string | undefined;
  exceptSession?: string | undefined;
  /** The device `exceptSession` belonged to at push time: replay skips that device. */
  exceptSessionDevice?: string | undefined;
}

export interface StoredMessage extends Targeting {
  seq: number;
  id: string;
  dataJson: string;
  sentAt: number;
  expiresAt: number;
  /** What the message is (the push's `event`), if it was named. */
  event?: string | undefined;
}

type MessageRow = {
  seq: number;
  id: string;
  data: string;
  sent_at: number;
  expires_at: number;
  device: string | null;
  except_device: string | null;
  except_session: string | null;
  except_session_device: string | null;
  event: string | null;
};

/**
 * Each table is created by the first write that needs it, not when the object
 * starts: a new user's first connect then creates only `cursors`, and a user
 * with no stored message never has `messages`. (Creating the tables up front
 * was a third of a first connect's storage cost: docs/benchmark.md.)
 */
const MESSAGES_SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  data TEXT NOT NULL,
  sent_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  device TEXT,
  except_device TEXT,
  except_session TEXT,
  except_session_device TEXT,
  event TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_by_id ON messages(id);
`;
const CURSORS_SCHEMA = `
CREATE TABLE IF NOT EXISTS cursors (
  device TEXT PRIMARY KEY,
  acked INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
`;

const COLUMNS = "seq, id, data, sent_at, expires_at, device, except_device, except_session, except_session_device";
/** Tables created before pushes had an `event` lack the column until the first push that names one adds it. */
const ADD_EVENT_COLUMN = "ALTER TABLE messages ADD COLUMN event TEXT";

/** Devices whose cursor is kept; beyond this the least recently active are dropped. */
export const MAX_CURSORS = 1000;
const TRIM_DELAY_MS = 1000;
const PURGE_BATCH_MS = 5 * 60_000;

function fromRow(row: MessageRow): StoredMessage {
  return {
    seq: row.seq,
    id: row.id,
    dataJson: row.data,
    sentAt: row.sent_at,
    expiresAt: row.expires_at,
    device: row.device ?? undefined,
    exceptDevice: row.except_device ?? undefined,
    exceptSession: row.except_session ?? undefined,
    exceptSessionDevice: row.except_session_device ?? undefined,
    ...(row.event === null ? {} : { event: row.event }),
  };
}

/** A stored message as the HTTP API shows it. */
export function toMessageView(m: StoredMessage): MessageView {
  const view: MessageView = { id: m.id, seq: m.seq, dataJson: m.dataJson, sentAt: m.sentAt, expiresAt: m.expiresAt };
  if (m.device !== undefined) view.device = m.device;
  if (m.exceptDevice !== undefined) view.exceptDevice = m.exceptDevice;
  if (m.exceptSession !== undefined) view.exceptSession = m.exceptSession;
  if (m.event !== undefined) view.event = m.event;
  return view;
}

/** Whether a stored message is meant for `device` when replayed. */
export function replayableTo(m: Targeting, device: string): boolean {
  if (m.device !== undefined && m.device !== device) return false;
  if (m.exceptDevice !== undefined && m.exceptDevice === device) return false;
  if (m.exceptSessionDevice !== undefined && m.exceptSessionDevice === device) return false;
  return true;
}

export class MessageLog {
  #head: number;
  /** Lowest seq physically present (0 when empty); lets a push tell when trimming is due. */
  #low: number;
  /** Earliest expiry among stored rows, +Infinity when none. */
  #nextExpiry: number;
  #hasMessages: boolean;
  #hasCursors: boolean;
  /** Whether `messages` has the `event` column (undefined: not asked yet on this instance). */
  #eventColumn: boolean | undefined;

  constructor(
    private readonly sql: SqlStorage,
    private readonly maxStored: number,
    tables: ReadonlySet<string> = tableNames(sql),
  ) {
    this.#hasMessages = tables.has("messages");
    this.#hasCursors = tables.has("cursors");
    this.#head = 0;
    this.#low = 0;
    this.#nextExpiry = Number.POSITIVE_INFINITY;
    if (this.#hasMessages) this.#readBounds();
  }

  #readBounds(): void {
    const row = this.sql
      .exec<{ head: number | null; low: number | null; next: number | null }>("SELECT max(seq) AS head, min(seq) AS low, min(expires_at) AS next FROM messages")
      .one();
    this.#head = Math.max(this.#head, row.head ?? 0);
    this.#low = row.low ?? 0;
    this.#nextExpiry = row.next ?? Number.POSITIVE_INFINITY;
  }

  #ensureMessages(): void {
    if (this.#hasMessages) return;
    this.sql.exec(MESSAGES_SCHEMA);
    this.#hasMessages = true;
    // Created just now, from a schema that has it.
    this.#eventColumn = true;
  }

  #askEventColumn(): boolean {
    return this.sql.exec("SELECT 1 FROM pragma_table_info('messages') WHERE name = 'event'").toArray().length > 0;
  }

  /** The columns to read: `event` as NULL from a table that predates it. */
  #columns(): string {
    this.#eventColumn ??= this.#askEventColumn();
    return this.#eventColumn ? `${COLUMNS}, event` : `${COLUMNS}, NULL AS event`;
  }

  #ensureCursors(): void {
    if (this.#hasCursors) return;
    this.sql.exec(CURSORS_SCHEMA);
    this.#hasCursors = true;
  }

  get head(): number {
    return this.#head;
  }

  /** Lowest seq a reader may still see: older ones are trimmed by MAX_STORED_PER_USER. */
  private floor(): number {
    return this.#head - this.maxStored;
  }

  /** A live (unexpired, untrimmed) message with this idempotency key, if any. */
  findById(id: string, now: number): StoredMessage | undefined {
    if (!this.#hasMessages) return undefined;
    const row = this.sql.exec<MessageRow>(`SELECT ${this.#columns()} FROM messages WHERE id = ?`, id).toArray()[0];
    if (row === undefined) return undefined;
    if (row.expires_at > now && row.seq > this.floor()) return fromRow(row);
    // Past retention: the key may be reused. The head row stays (it anchors
    // `head`), so it gives up its key rather than its place.
    if (row.seq === this.#head) this.sql.exec("UPDATE messages SET id = ? WHERE seq = ?", `~${row.seq}`, row.seq);
    else this.sql.exec("DELETE FROM messages WHERE seq = ?", row.seq);
    return undefined;
  }

  /** Assign the next seq and store. Synchronous: nothing can interleave. */
  append(m: Omit<StoredMessage, "seq">): StoredMessage {
    const stored = this.tryAppend(m);
    if (stored === undefined) throw new Error(`a message with id ${m.id} is already stored`);
    return stored;
  }

  /**
   * Like append, but when a row already holds this id nothing is written and
   * the answer is undefined: one statement for a new id (nearly every push),
   * where looking the id up first took two.
   */
  tryAppend(m: Omit<StoredMessage, "seq">): StoredMessage | undefined {
    this.#ensureMessages();
    if (m.event !== undefined && !(this.#eventColumn ??= this.#askEventColumn())) {
      this.sql.exec(ADD_EVENT_COLUMN);
      this.#eventColumn = true;
    }
    const seq = this.#head + 1;
    // Without an event the row is written without the column, so a table that predates it needs no question asked.
    const withEvent = m.event !== undefined;
    const inserted =
      this.sql
        .exec(
          `INSERT INTO messages (${COLUMNS}${withEvent ? ", event" : ""}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?${withEvent ? ", ?" : ""}) ON CONFLICT(id) DO NOTHING RETURNING seq`,
          seq,
          m.id,
          m.dataJson,
          m.sentAt,
          m.expiresAt,
          m.device ?? null,
          m.exceptDevice ?? null,
          m.exceptSession ?? null,
          m.exceptSessionDevice ?? null,
          ...(withEvent ? [m.event] : []),
        )
        .toArray().length > 0;
    if (!inserted) return undefined;
    this.#head = seq;
    if (this.#low === 0) this.#low = seq;
    if (m.expiresAt < this.#nextExpiry) this.#nextExpiry = m.expiresAt;
    return { seq, ...m };
  }

  /**
   * When the alarm should next purge, or undefined when nothing but the head
   * row is stored. Trimming past MAX_STORED_PER_USER is due at once (with some
   * slack so a steady stream doesn't wake the alarm per push); expiry is
   * batched at least PURGE_BATCH_MS apart, since reads already skip expired rows.
   */
  purgeDueAt(now: number): number | undefined {
    if (this.#low === 0 || this.#low >= this.#head) return undefined;
    const slack = Math.max(16, this.maxStored >> 4);
    if (this.#head - this.#low + 1 > this.maxStored + slack) return now + TRIM_DELAY_MS;
    return Math.max(this.#nextExpiry, now + PURGE_BATCH_MS);
  }

  /**
   * Can a reader that has everything up to `since` catch up with no loss?
   * False when `since` is beyond head, or any message after it has been
   * trimmed or has expired (even one not addressed to the reader: after a
   * purge its targeting is unknown, and a needless resync beats a silent gap).
   */
  isComplete(since: number, now: number): boolean {
    if (since > this.#head) return false;
    if (since === this.#head || !this.#hasMessages) return since === this.#head;
    const { n } = this.sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM messages WHERE seq > ? AND seq > ? AND expires_at > ?", since, this.floor(), now)
      .one();
    return n === this.#head - since;
  }

  /** Retained messages after `since`, oldest first, at most `limit`. */
  after(since: number, now: number, limit: number): StoredMessage[] {
    if (!this.#hasMessages) return [];
    return this.sql
      .exec<MessageRow>(
        `SELECT ${this.#columns()} FROM messages WHERE seq > ? AND seq > ? AND expires_at > ? ORDER BY seq LIMIT ?`,
        since,
        this.floor(),
        now,
        limit,
      )
      .toArray()
      .map(fromRow);
  }

  /** Delete expired and trimmed rows (never the head row). */
  purge(now: number): void {
    if (this.#hasCursors) {
      // Cursors of devices silent for longer than any message can live are useless.
      this.sql.exec("DELETE FROM cursors WHERE updated_at < ?", now - MAX_TTL * 1000);
      this.sql.exec("DELETE FROM cursors WHERE device IN (SELECT device FROM cursors ORDER BY updated_at DESC LIMIT -1 OFFSET ?)", MAX_CURSORS);
    }
    if (!this.#hasMessages) return;
    this.sql.exec("DELETE FROM messages WHERE seq < ? AND (expires_at <= ? OR seq <= ?)", this.#head, now, this.floor());
    this.#readBounds();
  }

  cursor(device: string): number | undefined {
    if (!this.#hasCursors) return undefined;
    return this.sql.exec<{ acked: number }>("SELECT acked FROM cursors WHERE device = ?", device).toArray()[0]?.acked;
  }

  /** Remember a device's starting point the first time it is seen. */
  ensureCursor(device: string, acked: number, now: number): void {
    this.#ensureCursors();
    this.sql.exec("INSERT INTO cursors (device, acked, updated_at) VALUES (?, ?, ?) ON CONFLICT(device) DO NOTHING", device, acked, now);
  }

  /** Cumulative ack: the cursor only moves forward. */
  ack(device: string, seq: number, now: number): void {
    this.#ensureCursors();
    this.sql.exec(
      `INSERT INTO cursors (device, acked, updated_at) VALUES (?, ?, ?)
       ON CONFLICT(device) DO UPDATE SET acked = max(acked, excluded.acked), updated_at = excluded.updated_at`,
      device,
      seq,
      now,
    );
  }
}
