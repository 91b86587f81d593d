/**
 * The heartbeat: an application-level `ping` after a stretch of silence, and
 * a deadline for any frame back. Browsers answer protocol-level pings without
 * telling the page, so only an application-level pong proves the path still
 * works both ways.
 *
 * The server advertises how long a client may stay silent (welcome.heartbeat,
 * as Pusher's `activity_timeout`); the SDK pings only after that much silence
 * in both directions. Every text frame a client sends is a billed request on
 * Cloudflare (20:1; only protocol pings are free, and browsers cannot send
 * those), so traffic that already proves the path replaces the ping.
 */
import type { HeartbeatOptions } from "./types.ts";

/**
 * Silence allowed when the server does not say (servers older than
 * welcome.heartbeat close a session silent for 90 s, and documented "a ping
 * every ~30 s"): the cadence the SDK always used.
 */
export const FALLBACK_SILENCE_MS = 25_000;
export const DEFAULT_PONG_TIMEOUT_MS = 10_000;
/** setTimeout's delay is a signed 32-bit ms count; longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

type Timer = ReturnType<typeof setTimeout>;

export class Heartbeat {
  readonly #enabled: boolean;
  /** The app's ceiling on the silence (HeartbeatOptions.intervalMs), if any. */
  readonly #maxSilenceMs: number;
  readonly #timeoutMs: number;
  /** Sends `ping`; false when there is no open socket to send on. */
  readonly #sendPing: () => boolean;
  readonly #onTimeout: () => void;
  #silenceMs: number;
  #lastActivityAt = 0;
  #silenceTimer: Timer | undefined;
  /** A ping went out for silence: the next frame in re-arms the silence timer. */
  #waiting = false;
  #pongTimer: Timer | undefined;

  constructor(options: HeartbeatOptions | false | undefined, sendPing: () => boolean, onTimeout: () => void) {
    this.#enabled = options !== false;
    this.#maxSilenceMs = (options === false ? undefined : options?.intervalMs) ?? Number.POSITIVE_INFINITY;
    this.#timeoutMs = (options === false ? undefined : options?.timeoutMs) ?? DEFAULT_PONG_TIMEOUT_MS;
    this.#silenceMs = Math.min(this.#maxSilenceMs, FALLBACK_SILENCE_MS);
    this.#sendPing = sendPing;
    this.#onTimeout = onTimeout;
  }

  /**
   * The socket just opened. One `ping` goes out at once, heartbeat or not: a
   * close the server starts on a hibernatable socket completes promptly only
   * once the client has sent a frame (workerd's kj WebSocketPipe keeps pumping
   * after a Close until the idle object is evicted, ~10 s later). It does not
   * arm the pong deadline: the connect timeout already waits for `welcome`.
   */
  opened(): void {
    this.#silenceMs = Math.min(this.#maxSilenceMs, FALLBACK_SILENCE_MS);
    this.#sendPing();
    this.#lastActivityAt = Date.now();
    if (this.#enabled) this.#arm(this.#silenceMs);
  }

  /** The server's welcome: its cadence in seconds (undefined from older servers). */
  advertised(seconds: number | undefined): void {
    const advertisedMs = seconds === undefined ? FALLBACK_SILENCE_MS : seconds * 1000;
    this.#silenceMs = Math.min(this.#maxSilenceMs, advertisedMs);
    if (this.#enabled) this.#arm(this.#lastActivityAt + this.#silenceMs - Date.now());
  }

  /**
   * A frame came in, or the app's side sent one (not a ping): the silence
   * starts again. The timer is re-armed here, from the socket's own events,
   * and never from inside a timer callback: Chrome's intensive throttling
   * aligns timers with a nesting level of 5 or more (chained ones) to the
   * minute in a page hidden for 5 minutes, but runs an event-armed timer
   * within a second (chromestatus.com/feature/4718288976216064). A ping up to
   * 60 s late would break the server's advertised cadence.
   */
  activity(): void {
    this.#lastActivityAt = Date.now();
    if (this.#enabled && (this.#silenceTimer !== undefined || this.#waiting)) this.#arm(this.#silenceMs);
  }

  /** Ping now and expect a frame back within the timeout. */
  probe(): void {
    if (!this.#enabled || !this.#sendPing()) return;
    this.#pongTimer ??= setTimeout(this.#onTimeout, this.#timeoutMs);
  }

  /** Any frame proves the connection alive, not just a pong. */
  alive(): void {
    if (this.#pongTimer !== undefined) {
      clearTimeout(this.#pongTimer);
      this.#pongTimer = undefined;
    }
    this.activity();
  }

  stop(): void {
    this.#waiting = false;
    if (this.#pongTimer !== undefined) clearTimeout(this.#pongTimer);
    this.#pongTimer = undefined;
    if (this.#silenceTimer !== undefined) clearTimeout(this.#silenceTimer);
    this.#silenceTimer = undefined;
  }

  #arm(delayMs: number): void {
    this.#waiting = false;
    if (this.#silenceTimer !== undefined) clearTimeout(this.#silenceTimer);
    this.#silenceTimer = setTimeout(() => this.#check(), Math.min(MAX_TIMER_MS, Math.max(0, delayMs)));
  }

  /**
   * The silence ran out: ping, and let the answer (a message event) arm the
   * next silence; re-arming here would chain timers (see activity). No answer
   * within the timeout drops the connection.
   */
  #check(): void {
    this.#silenceTimer = undefined;
    this.#waiting = true;
    this.probe();
  }
}
