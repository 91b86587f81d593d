/**
 * A Durable Object has one alarm, and the objects here use it for several
 * kinds of work. This keeps it at the earliest time anything needs and only
 * ever moves it earlier between firings, so the hot path rarely writes it.
 * Work that went away leaves its alarm in place: it fires, finds nothing to
 * do, and the handler plans again — cheaper than a storage write per change.
 *
 * The scheduled time is read from storage only when something first needs an
 * alarm: most wakes (a push, a reconnect after a deploy) plan none, and a
 * getAlarm() in the constructor would block every cold start on a read.
 */
export class Alarm {
  #at: number | null = null;
  #loaded = false;
  #loading: Promise<void> | undefined;

  constructor(private readonly storage: DurableObjectStorage) {}

  /** The alarm handler started: the runtime has cleared the scheduled alarm. */
  fired(): void {
    this.#at = null;
    this.#loaded = true;
  }

  /** Is nothing known to be scheduled at or before `at`? (Unknown counts as nothing.) */
  laterThan(at: number): boolean {
    return !this.#loaded || this.#at === null || at < this.#at;
  }

  /**
   * Schedule the alarm at `at` exactly, later too (infinite: none), when what
   * it served moved away: a session whose token was refreshed must not wake
   * the object at its old exp. One setAlarm (a billed row write) replaces a
   * wasted alarm invocation that would set the same alarm anyway.
   */
  moveTo(now: number, at: number): void {
    if (!this.#loaded) {
      this.#afterLoad(() => this.moveTo(now, at));
      return;
    }
    const target = Number.isFinite(at) ? Math.max(at, now) : null;
    if (target === this.#at) return;
    this.#at = target;
    const done = target === null ? this.storage.deleteAlarm() : this.storage.setAlarm(target);
    done.catch((err: unknown) => {
      // Unknown now: the next plan reads it again.
      this.#loaded = false;
      this.#loading = undefined;
      console.error("switchboard: moving the alarm failed", err);
    });
  }

  /** Make sure the alarm fires no later than `at` (never in the past). */
  ensureBy(now: number, at: number): void {
    if (!Number.isFinite(at)) return;
    if (!this.#loaded) {
      this.#afterLoad(() => this.ensureBy(now, at));
      return;
    }
    if (!this.laterThan(at)) return;
    this.#at = Math.max(at, now);
    this.storage.setAlarm(this.#at).catch((err: unknown) => {
      // Forget it so the next change tries again.
      this.#at = null;
      console.error("switchboard: setAlarm failed", err);
    });
  }

  /** Read the scheduled time once, then run `then` (not at all if the read failed). */
  #afterLoad(then: () => void): void {
    this.#loading ??= this.storage.getAlarm().then(
      (scheduled) => {
        if (!this.#loaded) this.#at = scheduled;
        this.#loaded = true;
      },
      (err: unknown) => {
        this.#loading = undefined; // the next plan reads again
        console.error("switchboard: getAlarm failed", err);
      },
    );
    void this.#loading.then(() => {
      if (this.#loaded) then();
    });
  }
}
