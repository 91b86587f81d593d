/**
 * Seeded randomness for the suites, drawn from fast-check so one seed drives
 * the fuzz properties and the chaos schedule alike: `rng(seed)` is a lazy
 * stream of uniform integers (fast-check's generator, unbiased) behind the
 * small interface the chaos scheduler uses. Same seed, same stream.
 */
import fc from "fast-check";

export interface Rng {
  (): number;
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  seed: number;
}

const SPAN = 2 ** 31;

export function rng(seed: number): Rng {
  const [stream] = fc.sample(fc.infiniteStream(fc.noBias(fc.integer({ min: 0, max: SPAN - 1 }))), { seed, numRuns: 1 });
  if (stream === undefined) throw new Error("fast-check gave no stream");
  const it = stream[Symbol.iterator]();
  const next = (): number => (it.next().value as number) / SPAN;
  const r = next as Rng;
  r.int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  r.pick = <T>(items: readonly T[]): T => {
    if (items.length === 0) throw new Error("pick from nothing");
    return items[Math.floor(next() * items.length)] as T;
  };
  r.chance = (p) => next() < p;
  r.seed = seed;
  return r;
}

/** The --seed option of the suites' command lines (tools/lib/cli.ts), read back by seedFrom. */
export const SEED_OPTION = {
  type: "string",
  value: "N|random",
  pattern: { re: /^(-?\d+|random)$/, what: 'a whole number or "random"' },
  help: "the generator's seed (default 20261123, or SB_SEED)",
} as const;

/** A seed from --seed / SB_SEED, else a fixed default (runs are reproducible unless asked otherwise); `random` draws one. */
export function seedFrom(argv: readonly string[], fallback: number): number {
  const i = argv.indexOf("--seed");
  const raw = i >= 0 ? argv[i + 1] : process.env.SB_SEED;
  if (raw === "random") return Math.floor(Math.random() * 2 ** 31);
  const n = Number(raw);
  return raw !== undefined && Number.isInteger(n) ? n : fallback;
}
