/**
 * Value arbitraries shared by the fuzz lanes (fast-check). Each is a small
 * building block that shrinks on its own: a list shrinks toward its first
 * entry, a number toward its lower bound, a string toward "". The lanes
 * (push.ts, paths.ts, auth.ts, connect.ts, frames.ts) combine them.
 */
import fc from "fast-check";

export const LONG = (n: number, c = "a"): string => c.repeat(n);

/** One of `items`; shrinks toward the first, so list the plainest first. */
export const pick = <T>(items: readonly T[]): fc.Arbitrary<T> => fc.constantFrom(...items);

/** true with probability ≈ p; shrinks toward `false` (the input without the extra). */
export const chance = (p: number): fc.Arbitrary<boolean> => fc.integer({ min: 0, max: 999 }).map((x) => x >= 1000 - Math.round(p * 1000));

/** `arb` with probability ≈ p, else undefined (shrinks toward undefined). */
export const maybe = <T>(p: number, arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.tuple(chance(p), arb).map(([on, v]) => (on ? v : undefined));

export const int = (min: number, max: number): fc.Arbitrary<number> => fc.integer({ min, max });

/** JSON values of every type, for "wrong type" fields. */
export const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  pick<unknown>([
    null,
    true,
    false,
    0,
    -1,
    1.5,
    -0,
    1e21,
    2 ** 53,
    Number.MAX_SAFE_INTEGER,
    "",
    " ",
    "x",
    "a/b",
    "../../etc/passwd",
    "a b",
    "é",
    "\u0000",
    "\ud800",
    "\udfff",
    "a\u202eb",
    "\ufeffx",
    "😀",
    LONG(65),
    LONG(128),
    LONG(129),
    [],
    [1],
    {},
    { a: 1 },
    "123",
    "1e3",
    "NaN",
    "Infinity",
  ]),
  int(130, 5000).map((n) => LONG(n)),
);

/** Code units the service must survive: controls, lone surrogates, BOM, bidi, zero-width, astral, quotes. */
const weirdUnit: fc.Arbitrary<string> = fc.oneof(
  int(0x20, 0x7e).map((c) => String.fromCharCode(c)),
  int(0, 0x1f).map((c) => String.fromCharCode(c)),
  int(0xd800, 0xdbff).map((c) => String.fromCharCode(c)),
  int(0xdc00, 0xdfff).map((c) => String.fromCharCode(c)),
  int(0x10000, 0x10ffff).map((c) => String.fromCodePoint(c)),
  int(0x80, 0x7ff).map((c) => String.fromCharCode(c)),
  pick(["\ufeff", "\u202e", "\u200b", "\\", '"', "\u2028", "\uffff"]),
);

/** Random unicode, including lone surrogates, controls, BOM, bidi and astral code points. */
export const weirdString = (maxLength = 40): fc.Arbitrary<string> => fc.array(weirdUnit, { maxLength }).map((units) => units.join(""));

/** Any JSON value, a few levels deep, with weird strings and keys. */
export const jsonValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.oneof(int(-1e9, 1e9), fc.double({ min: -5e5, max: 5e5, noNaN: true })),
    weirdString(20),
    int(0, 50).map((n) => "x".repeat(n)),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(
      weirdString(6).map((k) => k || "k"),
      tie("value"),
      { maxKeys: 4 },
    ),
  ),
})).value;

/** A userId-shaped name from the run's user list. */
export const userOf = (users: readonly string[]): fc.Arbitrary<string> => pick(users);
