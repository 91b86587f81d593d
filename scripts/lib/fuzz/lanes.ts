/**
 * The fuzz lanes: each an arbitrary of inputs (push.ts, paths.ts, auth.ts,
 * connect.ts, frames.ts) paired with how one input is sent and judged.
 * Runs per lane at scale 1 add up to more than 10,000 inputs.
 */
import fc from "fast-check";
import { DOCUMENTED_STATUS } from "../contract.ts";
import { rawRequest } from "../rawHttp.ts";
import type { Session } from "../wsSession.ts";
import { authArb, batchArb, headerArb } from "./auth.ts";
import { describeCase, evaluate, type FuzzContext, type HttpCase } from "./cases.ts";
import { connectArb } from "./connect.ts";
import { runFrameLane, runRawFrameCase, type FrameFuzzStats } from "./frameRun.ts";
import { describeFrame, frameArb, rawFrameArb, type FrameCase, type RawFrameCase } from "./frames.ts";
import type { Lane, Outcome } from "./property.ts";
import { contentTypeArb, methodArb, pushBodyArb } from "./push.ts";
import { pathArb, queryArb } from "./paths.ts";

/** Send one HTTP case and judge the answer. */
export async function runHttpCase(port: number, c: HttpCase): Promise<Outcome> {
  const res = await rawRequest(port, c.req);
  const e = evaluate(c, res);
  const outcome = res.status === 0 ? "no-response" : String(res.status);
  const refused = e.runtimeRefusal === true ? 1 : 0;
  if (e.violation === undefined && refused === 0 && res.status >= 400 && !DOCUMENTED_STATUS.has(res.status)) {
    return { outcomes: [outcome], inputs: 1, violation: `undocumented status ${res.status}` };
  }
  return { outcomes: [outcome], inputs: 1, runtimeRefusals: refused, ...(e.violation === undefined ? {} : { violation: e.violation }) };
}

/** The HTTP lanes, with their runs at scale 1. */
export function httpLanes(ctx: FuzzContext, n: (base: number) => number): Array<Lane<HttpCase>> {
  const lane = (name: string, arb: fc.Arbitrary<HttpCase>, runs: number): Lane<HttpCase> => ({
    name,
    arb,
    runs: n(runs),
    run: (c) => runHttpCase(ctx.port, c),
    describe: describeCase,
  });
  return [
    lane("push-body", pushBodyArb(ctx), 2600),
    lane("content-type", contentTypeArb(ctx), 560),
    lane("method", methodArb(ctx), 125),
    lane("path", pathArb(ctx), 1630),
    lane("query", queryArb(ctx), 900),
    lane("auth", authArb(ctx), 1000),
    lane("batch", batchArb(ctx), 400),
    lane("connect", connectArb(ctx), 2000),
    lane("headers", headerArb(ctx), 200),
  ];
}

/**
 * Batches of client frames on a fresh session of a user with `head` stored
 * messages (so acks up to `head` are valid). A batch shrinks to the fewest,
 * plainest frames that still get a wrong answer.
 */
export function frameLane(open: () => Promise<Session | string>, head: number, frames: number, maxBytes: number): Lane<FrameCase[]> {
  return {
    name: "ws-frames",
    arb: fc.array(frameArb(head, maxBytes), { minLength: 1, maxLength: 25 }),
    // fast-check leans toward short arrays: about 6 frames per batch on average.
    runs: Math.max(2, Math.ceil(frames / 6)),
    run: async (batch) => {
      const stats: FrameFuzzStats = { frames: 0, violations: [], closes: new Map(), errorCodes: new Map(), reconnects: 0 };
      await runFrameLane(batch, open, stats, 0);
      const outcomes = [
        ...[...stats.errorCodes].flatMap(([code, count]) => Array<string>(count).fill(`error:${code}`)),
        ...[...stats.closes].flatMap(([code, count]) => Array<string>(count).fill(`close:${code}`)),
      ];
      const v = stats.violations[0];
      return { outcomes, inputs: stats.frames, ...(v === undefined ? {} : { violation: `${v.name}: ${v.detail}` }) };
    },
    describe: (batch) => `${batch.length} frame(s): ${batch.map(describeFrame).join(" | ")}`,
  };
}

/**
 * Protocol-level abuse over a raw socket, one exchange per input. `strict` is
 * the wrong-oracle self-test: it expects a close on the RFC 6455 violations
 * workerd tolerates (an unmasked client frame, a 126-byte ping).
 */
export function rawLane(port: number, token: string, runs: number, strict = false): Lane<RawFrameCase> {
  const tolerated = new Set(["unmasked-text", "ping-126"]);
  return {
    name: "ws-raw",
    arb: strict ? rawFrameArb.map((c) => (tolerated.has(c.name) ? { ...c, mustClose: true } : c)) : rawFrameArb,
    runs,
    run: async (c) => {
      const res = await runRawFrameCase(port, token, c);
      return { outcomes: [`close:${String(res.close ?? "?")}`], inputs: 1, ...(res.violation === undefined ? {} : { violation: res.violation }) };
    },
    describe: (c) => `${c.name}: ${c.bytes.map((b) => b.subarray(0, 24).toString("hex")).join(" ")}`,
  };
}
