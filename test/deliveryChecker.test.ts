/**
 * Loss / duplicate / order checker. Several devices of one user connect and drop
 * at random while stored pushes go in, and the object is evicted now and then.
 * Each device resumes with ?since=<last seq it saw>, exactly as the SDK does.
 * At the end every device must have seen every answered seq exactly once, in
 * order, without any deduplication on our side.
 *
 * Size: CHECKER_PUSHES (default 2000) keeps it to seconds in `npm test`;
 * `CHECKER_PUSHES=20000 npx vitest run test/deliveryChecker.test.ts` runs a bigger one.
 */
import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { connect, hubOf, push, uniqueUser, type TestClient } from "./helpers";

declare const process: { env: Record<string, string | undefined> } | undefined;
const PUSHES = Number((typeof process !== "undefined" && process.env.CHECKER_PUSHES) || 2000);
const DEVICES = 4;
const CONCURRENCY = 8;

/** A seeded PRNG (mulberry32) so a failing run can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Device {
  name: string;
  client: TestClient | undefined;
  /** How many of the current connection's messages are already in `received`. */
  consumed: number;
  /** Every seq this device received, across all its connections, in arrival order. */
  received: number[];
  offlineSince: number;
  anomalies: string[];
}

/** Move newly arrived messages of the current connection into `received`. */
function drain(d: Device): void {
  const messages = d.client?.messages() ?? [];
  for (const m of messages.slice(d.consumed)) d.received.push(m.seq as number);
  d.consumed = messages.length;
}

describe("delivery checker", () => {
  it(`${DEVICES} devices, ${PUSHES} stored pushes, random drops and evictions: no loss, no duplicate, in order`, async () => {
    const seed = Number((typeof process !== "undefined" && process.env.CHECKER_SEED) || 20261123);
    const random = rng(seed);
    const user = uniqueUser("checker");
    const devices: Device[] = Array.from({ length: DEVICES }, (_, i) => ({
      name: `dev${i}`,
      client: undefined,
      consumed: 0,
      received: [],
      offlineSince: 0,
      anomalies: [],
    }));
    const answered: number[] = [];

    const open = async (d: Device) => {
      const last = d.received.at(-1) ?? 0;
      d.client = await connect(user, { device: d.name, since: last });
      d.consumed = 0;
      if (d.client.welcome.recovered !== true) d.anomalies.push(`recovered:false at since=${last}`);
    };
    const drop = async (d: Device) => {
      d.client?.close();
      await d.client?.waitClosed();
      drain(d); // including frames that landed before the close completed
      d.client = undefined;
    };

    for (const d of devices) await open(d);
    let sent = 0;
    while (sent < PUSHES) {
      const batch = Math.min(CONCURRENCY, PUSHES - sent);
      const answers = await Promise.all(Array.from({ length: batch }, (_, i) => push(user, { data: { n: sent + i } })));
      for (const a of answers) answered.push(a.seq as number);
      sent += batch;
      for (const d of devices) {
        drain(d);
        const r = random();
        if (d.client !== undefined && r < 0.05) await drop(d);
        else if (d.client === undefined && (r < 0.3 || sent - d.offlineSince > 100)) await open(d);
        if (d.client === undefined && d.offlineSince < sent - 100) d.offlineSince = sent;
      }
      if (random() < 0.02) await evictDurableObject(hubOf(user));
    }

    // Everyone comes back and catches up.
    for (const d of devices) if (d.client === undefined) await open(d);
    for (const d of devices) {
      await d.client?.until(() => (drain(d), d.received.at(-1) === PUSHES), `${d.name} catch-up`, 20_000);
      await drop(d);
    }

    const expected = [...answered].sort((a, b) => a - b);
    expect(expected).toEqual(Array.from({ length: PUSHES }, (_, i) => i + 1)); // seq has no gaps
    for (const d of devices) {
      const lost = expected.filter((s) => !d.received.includes(s)).length;
      const duplicated = d.received.length - new Set(d.received).size;
      const reordered = d.received.filter((s, i) => i > 0 && s <= (d.received[i - 1] as number)).length;
      expect({ device: d.name, lost, duplicated, reordered, anomalies: d.anomalies }).toEqual({
        device: d.name,
        lost: 0,
        duplicated: 0,
        reordered: 0,
        anomalies: [],
      });
    }
  }, 120_000);
});
