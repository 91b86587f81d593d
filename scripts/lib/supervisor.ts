/**
 * Supervision: restart workerd when it exits on its own (a crash, an abort),
 * on the same config and data dir, with a short backoff. Clients reconnect and
 * resume with ?since= (stored messages are durable across the restart: the
 * chaos suite checks that), so a crash costs a reconnect, not data.
 *
 * This is the containment proposed for `npm run serve` (which today exits when
 * workerd does): see docs/guarantees.md, "Mass disconnect".
 */
import { sleep } from "./rng.ts";
import type { ExitRecord, Service } from "./service.ts";

export interface SupervisorOptions {
  log: (line: string) => void;
  /** Delays before successive restarts within a minute (the last one repeats). */
  backoffMs?: number[];
  /** Give up after this many restarts within a minute. */
  maxPerMinute?: number;
}

export class Supervisor {
  readonly restarts: Array<{ at: number; after: ExitRecord; downMs: number }> = [];
  #active = true;
  #restarting: Promise<void> | undefined;
  readonly #svc: Service;
  readonly #o: SupervisorOptions;

  constructor(svc: Service, o: SupervisorOptions) {
    this.#svc = svc;
    this.#o = o;
    svc.exitListeners.push((exit) => {
      if (!exit.expected && this.#active) this.#restarting = this.#restart(exit);
    });
  }

  async #restart(exit: ExitRecord): Promise<void> {
    const recent = this.restarts.filter((r) => Date.now() - r.at < 60_000).length;
    if (recent >= (this.#o.maxPerMinute ?? 5)) {
      this.#o.log(`  supervisor: workerd exited ${recent + 1} times within a minute; giving up`);
      return;
    }
    const backoff = this.#o.backoffMs ?? [100, 1000, 5000];
    await sleep(backoff[Math.min(recent, backoff.length - 1)] ?? 1000);
    const last = exit.tail.filter((l) => l.trim() !== "" && !l.startsWith("stack:")).slice(-1)[0] ?? "";
    this.#o.log(`  supervisor: workerd exited (${exit.signal ?? `code ${String(exit.code)}`}: ${last.slice(0, 120)}); restarting`);
    for (let attempt = 0; this.#active; attempt++) {
      try {
        await this.#svc.restart();
        this.restarts.push({ at: Date.now(), after: exit, downMs: Date.now() - exit.at });
        this.#o.log(`  supervisor: workerd back after ${Date.now() - exit.at} ms (pid ${String(this.#svc.pid)})`);
        return;
      } catch (err) {
        this.#o.log(`  supervisor: restart failed (${err instanceof Error ? err.message : String(err)}); retrying`);
        await sleep(Math.min(5000, 200 * 2 ** attempt));
      }
    }
  }

  /** Wait for a restart in progress, if any. */
  async settled(): Promise<void> {
    await this.#restarting;
  }

  stop(): void {
    this.#active = false;
  }
}
