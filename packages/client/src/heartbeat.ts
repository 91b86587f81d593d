/**
 * The heartbeat: an application-level `ping` every interval, and a deadline
 * for any frame back. Browsers answer protocol-level pings without telling the
 * page, so only an application-level pong proves the path still works both ways.
 */
import type { HeartbeatOptions } from "./types.ts";

export const DEFAULT_PING_INTERVAL_MS = 25_000;
export const DEFAULT_PONG_TIMEOUT_MS = 10_000;

type Timer = ReturnType<typeof setTimeout>;
type Interval = ReturnType<typeof setInterval>;

export class Heartbeat {
  readonly #options: Required<HeartbeatOptions> | false;
  /** Sends `ping`; false when there is no open socket to send on. */
  readonly #sendPing: () => boolean;
  readonly #onTimeout: () => void;
  #pingTimer: Interval | undefined;
  #pongTimer: Timer | undefined;

  constructor(options: HeartbeatOptions | false | undefined, sendPing: () => boolean, onTimeout: () => void) {
    this.#options =
      options === false
        ? false
        : {
            intervalMs: options?.intervalMs ?? DEFAULT_PING_INTERVAL_MS,
            timeoutMs: options?.timeoutMs ?? DEFAULT_PONG_TIMEOUT_MS,
          };
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
    this.#sendPing();
    if (this.#options === false) return;
    this.#pingTimer = setInterval(() => this.probe(), this.#options.intervalMs);
  }

  /** Ping now and expect a frame back within the timeout. */
  probe(): void {
    if (this.#options === false || !this.#sendPing()) return;
    this.#pongTimer ??= setTimeout(this.#onTimeout, this.#options.timeoutMs);
  }

  /** Any frame proves the connection alive, not just a pong. */
  alive(): void {
    if (this.#pongTimer !== undefined) {
      clearTimeout(this.#pongTimer);
      this.#pongTimer = undefined;
    }
  }

  stop(): void {
    this.alive();
    if (this.#pingTimer !== undefined) clearInterval(this.#pingTimer);
    this.#pingTimer = undefined;
  }
}
