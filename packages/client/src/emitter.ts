/** A small typed event emitter: no dependency, and `on` hands back its own unsubscribe. */
import { checkListener } from "./validate.ts";

export type Listener<T> = (event: T) => void;

export class Emitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();
  readonly #types: readonly (keyof Events)[];

  /** `types`: the events there are; a listener for any other is refused (a typo would wait forever). */
  constructor(types: readonly (keyof Events)[]) {
    this.#types = types;
  }

  on<K extends keyof Events>(type: K, listener: Listener<Events[K]>): () => void {
    checkListener(this.#types, type, listener);
    let set = this.#listeners.get(type);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(type, set);
    }
    set.add(listener);
    return () => this.off(type, listener);
  }

  once<K extends keyof Events>(type: K, listener: Listener<Events[K]>): () => void {
    checkListener(this.#types, type, listener);
    const off = this.on(type, (event) => {
      off();
      listener(event);
    });
    return off;
  }

  off<K extends keyof Events>(type: K, listener: Listener<Events[K]>): void {
    checkListener(this.#types, type, listener);
    this.#listeners.get(type)?.delete(listener);
  }

  listenerCount<K extends keyof Events>(type: K): number {
    return this.#listeners.get(type)?.size ?? 0;
  }

  /**
   * A throwing listener must not break the connection logic that emitted the
   * event (acks, dedupe, reconnects): its error is reported asynchronously,
   * like an uncaught error in a DOM event listener.
   */
  protected emit<K extends keyof Events>(type: K, event: Events[K]): void {
    const set = this.#listeners.get(type);
    if (set === undefined) return;
    for (const listener of [...set] as Listener<Events[K]>[]) {
      try {
        listener(event);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
