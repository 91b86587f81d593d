/**
 * Supervision: restart workerd when it exits on its own (a crash, an abort),
 * on the same config and data dir, with a short backoff. Clients reconnect and
 * resume with ?since= (stored messages are durable across the restart: the
 * chaos suite checks that), so a crash costs a reconnect, not data.
 *
 * Used by `npm run serve` (tools/serve.ts) and by the chaos suite's
 * mass-disconnect and crash-counts sections (scripts/lib/chaosExtras.ts).
 * See docs/guarantees.md, "Mass disconnect".
 */
import { setTimeout as sleep } from "node:timers/promises";

/** One exit of the workerd process. */
export interface ExitRecord {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** We stopped it on purpose (never restarted). */
  expected: boolean;
  at: number;
  /** The last lines it printed (may be empty). */
  tail: string[];
}

/** A workerd process that can be started again on the same config and data dir. */
export interface Supervised {
  /** Called on every exit of the workerd process. */
  readonly exitListeners: Array<(exit: ExitRecord) => void>;
  /** Start it again; rejects if it did not come up (that counts as another exit). */
  restart(): Promise<void>;
  readonly pid: number | undefined;
}

export interface SupervisorOptions {
  log: (line: string) => void;
  /** Delays before successive restarts within a minute (the last one repeats). Default 0.1 s, 1 s, 5 s. */
  backoffMs?: number[];
  /** Give up when workerd exited more than this many times within a minute (failed restarts count). Default 5. */
  maxPerMinute?: number;
  /** Which unexpected exits to restart after (default: all). */
  restartOn?: (exit: ExitRecord) => boolean;
  /** Called once when the supervisor gives up. */
  onGiveUp?: (exitsInLastMinute: number) => void;
}

export class Supervisor {
  readonly restarts: Array<{ at: number; after: ExitRecord; downMs: number }> = [];
  /** Set once the supervisor gave up (too many exits within a minute). */
  gaveUp = false;
  #active = true;
  #restarting: Promise<void> | undefined;
  /** Times of unexpected exits and failed restarts. */
  readonly #exitTimes: number[] = [];
  readonly #svc: Supervised;
  readonly #o: SupervisorOptions;

  constructor(svc: Supervised, o: SupervisorOptions) {
    this.#svc = svc;
    this.#o = o;
    svc.exitListeners.push((exit) => {
      if (exit.expected || !this.#active || this.gaveUp) return;
      if (this.#o.restartOn !== undefined && !this.#o.restartOn(exit)) return;
      if (this.#restarting !== undefined) return; // a restart is already under way
      this.#restarting = this.#restart(exit).finally(() => {
        this.#restarting = undefined;
      });
    });
  }

  #recent(now: number): number {
    while (this.#exitTimes.length > 0 && now - (this.#exitTimes[0] ?? 0) >= 60_000) this.#exitTimes.shift();
    return this.#exitTimes.length;
  }

  async #restart(exit: ExitRecord): Promise<void> {
    const max = this.#o.maxPerMinute ?? 5;
    const backoff = this.#o.backoffMs ?? [100, 1000, 5000];
    this.#exitTimes.push(exit.at);
    const last = exit.tail.filter((l) => l.trim() !== "" && !l.startsWith("stack:")).slice(-1)[0] ?? "";
    this.#o.log(`  supervisor: workerd exited (${exit.signal ?? `code ${String(exit.code)}`}${last === "" ? "" : `: ${last.slice(0, 120)}`})`);
    while (this.#active) {
      const recent = this.#recent(Date.now());
      if (recent > max) {
        this.gaveUp = true;
        this.#o.log(`  supervisor: workerd exited ${recent} times within a minute; giving up`);
        this.#o.onGiveUp?.(recent);
        return;
      }
      const delay = backoff[Math.min(recent - 1, backoff.length - 1)] ?? 1000;
      this.#o.log(`  supervisor: restarting in ${delay} ms (${recent} exit(s) in the last minute, limit ${max})`);
      await sleep(delay);
      if (!this.#active) return;
      try {
        await this.#svc.restart();
        this.restarts.push({ at: Date.now(), after: exit, downMs: Date.now() - exit.at });
        this.#o.log(`  supervisor: workerd back after ${Date.now() - exit.at} ms (pid ${String(this.#svc.pid)})`);
        return;
      } catch (err) {
        this.#exitTimes.push(Date.now());
        this.#o.log(`  supervisor: restart failed (${err instanceof Error ? err.message : String(err)})`);
      }
    }
  }

  /** Is a restart under way (waiting out the backoff or starting workerd)? */
  get restarting(): boolean {
    return this.#restarting !== undefined;
  }

  /** Wait for a restart in progress, if any. */
  async settled(): Promise<void> {
    await this.#restarting;
  }

  /** No more restarts (a restart already under way still finishes or fails). */
  stop(): void {
    this.#active = false;
  }
}
