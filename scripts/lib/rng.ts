/** A seeded PRNG (mulberry32) and small helpers, so a failing run can be replayed with its seed. */
export interface Rng {
  (): number;
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  seed: number;
}

export function rng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r = next as Rng;
  r.int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  r.pick = <T,>(items: readonly T[]): T => {
    if (items.length === 0) throw new Error("pick from nothing");
    return items[Math.floor(next() * items.length)] as T;
  };
  r.chance = (p) => next() < p;
  r.seed = seed;
  return r;
}

/** A seed from SB_SEED / --seed, else a fixed default (runs are reproducible unless asked otherwise). */
export function seedFrom(argv: readonly string[], fallback: number): number {
  const i = argv.indexOf("--seed");
  const raw = i >= 0 ? argv[i + 1] : process.env.SB_SEED;
  if (raw === "random") return Math.floor(Math.random() * 2 ** 31);
  const n = Number(raw);
  return raw !== undefined && Number.isInteger(n) ? n : fallback;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
