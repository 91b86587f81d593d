/**
 * Token refresh on an open session: ahead of the token's `exp`, ask getToken
 * for a fresh one and send it as an `auth` frame. The server moves the
 * session's end to the new `exp` and answers `refreshed` — the same session,
 * no reconnect, no presence flap. Without this a session closes with 1008 at
 * `exp` and reconnects: a Worker request, an object request and a presence
 * report per session per token lifetime (docs/cost-model.md).
 *
 * `exp` is read from the token without verifying it (the server verifies).
 */
import { jwtExpiry, jwtSubject } from "./jwt.ts";
import { encodeAuth, MAX_CLIENT_FRAME_BYTES } from "@switchboard/protocol";
import { SwitchboardError } from "./types.ts";

/** Refresh at a random point in this share of the time left (jitter spreads a fleet minted at once). */
const REFRESH_AT_MIN = 0.75;
const REFRESH_AT_SPREAD = 0.15;
/** Never refresh sooner than this after scheduling: a client whose clock runs ahead must not spin. */
export const MIN_REFRESH_DELAY_MS = 1000;
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface RefreshLink {
  /** The app's getToken with reason "refresh". */
  getToken(): Promise<string>;
  /** Send on the welcomed, open socket; false when not sent. */
  send(text: string): boolean;
  /** The server accepted `token`: it is the session's token from now on. */
  accepted(token: string): void;
  /** getToken returned another user's token: this session cannot continue as that user. */
  userChanged(): void;
  error(err: SwitchboardError): void;
  random(): number;
}

type Timer = ReturnType<typeof setTimeout>;

export class TokenRefresher {
  readonly #link: RefreshLink;
  #timer: Timer | undefined;
  /** When the session ends (ms), as the server said or as the token claims. */
  #expiresAt: number | undefined;
  /** Sent, not yet answered. */
  #pending: string | undefined;
  /** Bumped on stop(), so a getToken that resolves for a closed connection is dropped. */
  #generation = 0;
  /** This server answered `auth` with unknown_type (it predates the frame): wait for 1008 instead. */
  #unsupported = false;
  /** The session's user, as its token says. */
  #subject: string | undefined;

  constructor(link: RefreshLink) {
    this.#link = link;
  }

  /** The token a refresh is waiting on (the one a 4003 close refused). */
  get pending(): string | undefined {
    return this.#pending;
  }

  /** A session opened with `token`: plan its refresh. */
  start(token: string): void {
    this.stop();
    this.#unsupported = false;
    this.#subject = jwtSubject(token);
    this.#expiresAt = jwtExpiry(token);
    this.#plan();
  }

  /** The server's `refreshed` frame. */
  refreshed(expiresAt: number): void {
    const token = this.#pending;
    this.#pending = undefined;
    if (token === undefined) return;
    this.#expiresAt = expiresAt;
    this.#link.accepted(token);
    this.#plan();
  }

  /** The server's `error` frame: unknown_type while a refresh waits means it does not know `auth`. */
  frameError(code: string): void {
    if (this.#pending === undefined || code !== "unknown_type") return;
    this.#pending = undefined;
    this.#unsupported = true;
    this.#clearTimer();
  }

  stop(): void {
    this.#generation++;
    this.#pending = undefined;
    this.#clearTimer();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Schedule the next refresh at 75–90 % of the time left. */
  #plan(share = REFRESH_AT_MIN + REFRESH_AT_SPREAD * this.#link.random()): void {
    this.#clearTimer();
    if (this.#unsupported || this.#expiresAt === undefined) return;
    const left = this.#expiresAt - Date.now();
    // Nothing left to save: the server closes 1008 at exp, and the reconnect fetches a token.
    if (left <= MIN_REFRESH_DELAY_MS) return;
    const delay = Math.max(MIN_REFRESH_DELAY_MS, Math.floor(left * share));
    if (delay > MAX_TIMER_MS) {
      this.#timer = setTimeout(() => this.#plan(), MAX_TIMER_MS);
      return;
    }
    this.#timer = setTimeout(() => void this.#refresh(), delay);
  }

  async #refresh(): Promise<void> {
    this.#timer = undefined;
    const generation = this.#generation;
    let token: string;
    try {
      token = await this.#link.getToken();
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#link.error(new SwitchboardError("token", "getToken failed (refresh); retrying before the token expires", { cause: err }));
      this.#plan(0.5);
      return;
    }
    if (generation !== this.#generation) return;
    const subject = typeof token === "string" ? jwtSubject(token) : undefined;
    if (subject !== undefined && this.#subject !== undefined && subject !== this.#subject) {
      // The app signed in as someone else: the server would refuse this token
      // on this session (4003), and a reconnect would then avoid it as refused.
      this.#link.userChanged();
      return;
    }
    const expiresAt = typeof token === "string" ? jwtExpiry(token) : undefined;
    if (expiresAt === undefined || this.#expiresAt === undefined || expiresAt <= this.#expiresAt) {
      // A token cache may hand out the same token until shortly before exp:
      // ask again halfway to exp rather than send one that extends nothing.
      this.#link.error(new SwitchboardError("token", "getToken returned no token expiring later than the current one (refresh)"));
      this.#plan(0.5);
      return;
    }
    const frame = encodeAuth(token);
    if (new TextEncoder().encode(frame).byteLength > MAX_CLIENT_FRAME_BYTES) {
      this.#link.error(
        new SwitchboardError("token", `token too long to refresh in-band (frames are limited to ${MAX_CLIENT_FRAME_BYTES} bytes); reconnecting at exp`),
      );
      return;
    }
    if (this.#link.send(frame)) this.#pending = token;
  }
}
