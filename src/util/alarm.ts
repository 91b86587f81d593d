/**
 * A Durable Object has one alarm, and the objects here use it for several
 * kinds of work. This keeps it at the earliest time anything needs and only
 * ever moves it earlier between firings, so the hot path rarely writes it.
 * Work that went away leaves its alarm in place: it fires, finds nothing to
 * do, and the handler plans again — cheaper than a storage write per change.
 */
export class Alarm {
  #at: number | null = null;

  constructor(private readonly storage: DurableObjectStorage) {}

  /** Call inside blockConcurrencyWhile in the constructor. */
  async load(): Promise<void> {
    this.#at = await this.storage.getAlarm();
  }

  /** The alarm handler started: the runtime has cleared the scheduled alarm. */
  fired(): void {
    this.#at = null;
  }

  /** Is nothing scheduled at or before `at`? */
  laterThan(at: number): boolean {
    return this.#at === null || at < this.#at;
  }

  /** Make sure the alarm fires no later than `at` (never in the past). */
  ensureBy(now: number, at: number): void {
    if (!Number.isFinite(at) || !this.laterThan(at)) return;
    this.#at = Math.max(at, now);
    this.storage.setAlarm(this.#at).catch((err: unknown) => {
      // Forget it so the next change tries again.
      this.#at = null;
      console.error("switchboard: setAlarm failed", err);
    });
  }
}
