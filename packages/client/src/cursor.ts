/**
 * Resume bookkeeping: the last seq delivered to the app (what a reconnect
 * resumes after), what the server has been told (cumulative acks, throttled),
 * and the copy kept in storage so that a reload resumes too.
 */
import { encodeAck, type WelcomeFrame } from "@switchboard/protocol";
import { jwtSubject } from "./jwt.ts";
import { readSeq, storageKey, writeSeq, type SeqStorage } from "./storage.ts";

export interface CursorOptions {
  since: number | undefined;
  storage: SeqStorage | undefined;
  storagePrefix: string;
  ackDelayMs: number;
}

/** What the cursor needs from the connection. */
export interface AckLink {
  /** The connection has its welcome (acks are scheduled only then). */
  open(): boolean;
  /** Send on the welcomed, open socket; false when there is none or it failed. */
  send(text: string): boolean;
}

export class ResumeCursor {
  readonly #storage: SeqStorage | undefined;
  readonly #storagePrefix: string;
  readonly #ackDelayMs: number;
  readonly #link: AckLink;
  #lastSeq: number | undefined;
  #ackedSeq = 0;
  /**
   * A live-only message arrived since the last ack. The server closes (4008) a
   * session that receives MAX_SESSION_BACKLOG bytes without a frame back, so
   * the ack doubles as "still reading" even when no seq moved.
   */
  #unackedLive = false;
  #storageKey: string | undefined;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: CursorOptions, link: AckLink) {
    this.#lastSeq = options.since;
    this.#storage = options.storage;
    this.#storagePrefix = options.storagePrefix;
    this.#ackDelayMs = options.ackDelayMs;
    this.#link = link;
  }

  get lastSeq(): number | undefined {
    return this.#lastSeq;
  }

  /** Before connecting: pick up a later seq stored for this user and device. */
  load(token: string, device: string | undefined): void {
    if (this.#storage === undefined || device === undefined) return;
    const userId = jwtSubject(token);
    if (userId === undefined) {
      this.#storageKey = undefined;
      return;
    }
    const key = storageKey(this.#storagePrefix, userId, device);
    if (key === this.#storageKey) return;
    this.#storageKey = key;
    const stored = readSeq(this.#storage, key);
    if (stored !== undefined && (this.#lastSeq === undefined || stored > this.#lastSeq)) this.#lastSeq = stored;
  }

  welcomed(frame: WelcomeFrame): void {
    if (!frame.recovered && this.#lastSeq !== undefined && this.#lastSeq > frame.head) {
      // Asked to resume beyond head: the user's log was reset. Seqs restart
      // from head + 1 and must not be dropped as duplicates of the old ones.
      this.#lastSeq = frame.head;
      this.persist();
    }
    this.#ackedSeq = Math.min(this.#ackedSeq, frame.head);
  }

  /** A message arrived: false when it is a duplicate to drop. */
  accept(seq: number | null): boolean {
    if (seq !== null) {
      // Replay and live delivery can overlap around a reconnect (and a resume
      // point may be older than what the app already has): seq is the truth.
      if (this.#lastSeq !== undefined && seq <= this.#lastSeq) return false;
      this.#lastSeq = seq;
    } else {
      this.#unackedLive = true;
    }
    return true;
  }

  scheduleAck(): void {
    if (!this.#link.open() || this.#ackTimer !== undefined) return;
    if (!this.#unackedLive && (this.#lastSeq === undefined || this.#lastSeq <= this.#ackedSeq)) return;
    // A throttle, not a debounce: under a steady stream a debounce would never fire.
    this.#ackTimer = setTimeout(() => {
      this.#ackTimer = undefined;
      this.flushAck();
    }, this.#ackDelayMs);
  }

  flushAck(): void {
    this.cancelAck();
    this.persist();
    // With no stored message seen yet, 0 acks nothing and still says "reading".
    const seq = this.#lastSeq ?? 0;
    if (seq <= this.#ackedSeq && !this.#unackedLive) return;
    if (this.#link.send(encodeAck(seq))) {
      this.#ackedSeq = Math.max(this.#ackedSeq, seq);
      this.#unackedLive = false;
    }
  }

  cancelAck(): void {
    if (this.#ackTimer !== undefined) clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
  }

  persist(): void {
    if (this.#storage !== undefined && this.#storageKey !== undefined && this.#lastSeq !== undefined) {
      writeSeq(this.#storage, this.#storageKey, this.#lastSeq);
    }
  }
}
