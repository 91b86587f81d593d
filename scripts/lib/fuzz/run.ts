/**
 * The abuse suite (npm run fuzz, and its smoke run in npm test).
 *
 * Two services on standalone workerd, each with its own temp data dir:
 *  A — "fuzz": JWT_SECRET + JWT_PUBLIC_KEYS + JWT_AUDIENCE + JWT_ISSUER + ALLOWED_ORIGINS,
 *      MAX_FRAMES_PER_SECOND=10000 (so frame content, not rate, is what is fuzzed).
 *      Gets the generated lanes (lanes.ts: HTTP inputs, WebSocket frames, raw
 *      protocol frames), the flood, and the JWT table.
 *  B — "limits": JWT_PUBLIC_KEYS only (no JWT_SECRET), every other knob at its
 *      default. Gets the limits table, the JWT table for a JWKS-only server, and
 *      mid-session expiry.
 * Then on both: the service still runs and still delivers (a clean push reaches
 * a clean session, live and stored), and a canary session that lived through
 * the whole run still receives. With `only`, just the named lanes run on A.
 */
import { Api } from "../api.ts";
import { MAX_FRAME_BYTES } from "../contract.ts";
import { midSessionExpiry, runJwtTable } from "../jwtTable.ts";
import { runLimits } from "../limits.ts";
import { rawRequest } from "../rawHttp.ts";
import { type Service, startService } from "../service.ts";
import { sleep } from "../time.ts";
import { claimsFor, hs256, makeKeys, rs256 } from "../tokens.ts";
import type { Session } from "../wsSession.ts";
import type { FuzzContext, OracleLimits } from "./cases.ts";
import { openFor } from "./frameRun.ts";
import { deepRoundTrip, deliversCleanly, flood, nobodyLeftOnline } from "./health.ts";
import { frameLane, httpLanes, rawLane } from "./lanes.ts";
import { stompLane } from "./stomp.ts";
import { checkLane, type Lane } from "./property.ts";
import type { FuzzReport } from "./report.ts";
import { makeTokens } from "./tokens.ts";

export { failures, printReport, type FuzzReport } from "./report.ts";

export interface FuzzOptions {
  seed: number;
  /** 1 = the full run (≥ 10,000 inputs); the smoke test uses less. */
  scale: number;
  log: (line: string) => void;
  /** Seconds until the mid-session expiry token expires. */
  expiryInSeconds?: number;
  /**
   * The limits table: "full" at the documented defaults (100 sessions, a 1000-user batch);
   * "light" with MAX_SESSIONS_PER_USER=5 and no 1000-user batch (the smoke run); false skips it.
   */
  limits?: "full" | "light" | false;
  /** Run only these lanes (and none of the tables or health checks): how a printed failure replays. */
  only?: readonly string[];
  /** fast-check path of a printed failure (with `only` naming its lane). */
  path?: string;
  /**
   * Self-test with a wrong oracle: it believes bodies and frames over 1 KiB are refused and that
   * workerd closes on the RFC 6455 violations it tolerates, so every checker must report (and
   * shrink) a violation.
   */
  injectOracle?: boolean;
}

const SECRET = "fuzz-jwt-secret-0123456789abcdef";
const API_KEY = "fuzz-api-key-0123456789abcdef";
const AUDIENCE = "switchboard-fuzz";
const ISSUER = "https://auth.fuzz.example";
const ALLOWED_ORIGIN = "https://app.fuzz.example";
/** Stored messages the frame lane's user holds, so acks 0…HEAD are valid. */
const HEAD = 3;

export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now();
  const report: FuzzReport = { seed: o.seed, inputs: 0, lanes: [], jwt: [], limits: [], expiry: undefined, health: [], workerd: [], seconds: 0 };
  const keys = await makeKeys();
  const users = Array.from({ length: 24 }, (_, i) => `fz-${i}`);
  const tokens = await makeTokens(keys, users, { secret: SECRET, audience: AUDIENCE, issuer: ISSUER });
  const full = o.only === undefined;
  const oracle: OracleLimits = o.injectOracle === true ? { bodyBytes: 1024, frameBytes: 1024 } : { bodyBytes: 65_536, frameBytes: MAX_FRAME_BYTES };
  const replayArgs = o.injectOracle === true ? ["--inject-oracle"] : [];

  o.log(
    `fuzz: seed ${o.seed}, scale ${o.scale}${full ? "" : `, only ${o.only?.join(",")}`}${o.path === undefined ? "" : `, path ${o.path}`}; starting workerd`,
  );
  const a = await startService({
    kind: "workerd",
    knobs: {
      JWT_SECRET: SECRET,
      JWT_PUBLIC_KEYS: keys.jwks,
      JWT_AUDIENCE: AUDIENCE,
      JWT_ISSUER: ISSUER,
      API_KEY,
      ALLOWED_ORIGINS: ALLOWED_ORIGIN,
      MAX_FRAMES_PER_SECOND: "10000",
      MAX_SESSIONS_PER_USER: "1000",
    },
  });
  const light = o.limits === "light";
  const b = full
    ? await startService({
        kind: "workerd",
        knobs: { JWT_PUBLIC_KEYS: keys.jwks, API_KEY, ...(light ? { MAX_SESSIONS_PER_USER: "5" } : {}) },
      })
    : undefined;
  const apiA = new Api(a.base, API_KEY);
  const apiB = b === undefined ? undefined : new Api(b.base, API_KEY);
  const rss = new Map<string, number>();
  const rssTimer = setInterval(() => {
    for (const [label, svc] of [
      ["A", a],
      ["B", b],
    ] as const)
      if (svc !== undefined) rss.set(label, Math.max(rss.get(label) ?? 0, svc.rss() ?? 0));
  }, 500);
  const canaryToken = await hs256(claimsFor("fz-canary", 3600, AUDIENCE, ISSUER), SECRET);
  let canary: Session | string = "";
  let beat: NodeJS.Timeout | undefined;
  try {
    if (full) {
      canary = await openFor(a.wsBase, canaryToken, "canary");
      const c = canary;
      if (typeof c !== "string") beat = setInterval(() => c.send("ping"), 15_000);
    }
    const ctx: FuzzContext = { port: a.port, apiKey: API_KEY, jwtSecret: SECRET, users, tokens, allowedOrigin: ALLOWED_ORIGIN, limits: oracle };
    const n = (base: number) => Math.max(4, Math.round(base * o.scale));
    const frameUser = "fz-frames";
    for (let i = 0; i < HEAD; i++) await apiA.push(frameUser, { data: { i } });
    const frameToken = await hs256(claimsFor(frameUser, 3600, AUDIENCE, ISSUER), SECRET);
    let opened = 0;
    let stompUsers = 0;
    const job = <T>(lane: Lane<T>) => ({ name: lane.name, check: () => checkLane(lane, { seed: o.seed, path: o.path, replayArgs }) });
    const lanes = [
      ...httpLanes(ctx, n).map(job),
      job(frameLane(() => openFor(a.wsBase, frameToken, `lane${opened++}`), HEAD, n(2400), oracle.frameBytes)),
      job(rawLane(a.port, tokens.good[2]?.token ?? canaryToken, n(400), o.injectOracle === true)),
      job(stompLane(a.wsBase, () => hs256(claimsFor(`fz-stomp-${stompUsers++}`, 3600, AUDIENCE, ISSUER), SECRET), n(300))),
    ];
    // The lanes run side by side, as the old worker pool did, so the service meets them
    // concurrently; each lane's inputs still come from the seed alone (a lane replays alone).
    const chosen = lanes.filter((lane) => o.only === undefined || o.only.includes(lane.name));
    const results = await Promise.all(
      chosen.map(async (lane) => {
        const t0 = Date.now();
        const result = await lane.check();
        o.log(
          `  ${lane.name}: ${result.inputs} inputs in ${result.runs} runs, ${((Date.now() - t0) / 1000).toFixed(1)} s${result.failure === undefined ? "" : " — FAILED"}`,
        );
        return result;
      }),
    );
    for (const result of results) {
      report.lanes.push(result);
      report.inputs += result.inputs;
    }
    // After the connect barrage every raw 101 socket was dropped: nobody may still be online.
    if (full && a.running) {
      report.health.push({
        name: "A: after the connect barrage (all sockets dropped) no fuzz user has a session left",
        ...(await nobodyLeftOnline(apiA, users)),
      });
    }
    if (!full || b === undefined || apiB === undefined) return report;

    // ---- WebSocket flood (content fuzz instance: high rate limit, so every frame must be answered)
    const s = await openFor(a.wsBase, tokens.good[1]?.token ?? canaryToken, "flood");
    if (typeof s !== "string") {
      const count = n(2000);
      report.health.push({ name: `A: a flood of ${count} frames is answered one for one, socket open`, ...(await flood(s, count)) });
      report.inputs += count;
      s.close();
    }

    // ---- JWT table on A (HS256 + JWKS + aud/iss) and on B (JWKS only)
    o.log("  JWT table");
    const onA = { port: a.port, wsBase: a.wsBase, apiKey: API_KEY, secret: SECRET, audience: AUDIENCE, issuer: ISSUER, keys, label: "HS256+JWKS, aud/iss" };
    const onB = { port: b.port, wsBase: b.wsBase, apiKey: API_KEY, secret: undefined, audience: undefined, issuer: undefined, keys, label: "JWKS only" };
    report.jwt.push(...(await runJwtTable(onA, o.log)), ...(await runJwtTable(onB, o.log)));

    // ---- mid-session expiry (B), alone: the close must come at exp, from the user object's alarm
    o.log("  mid-session expiry");
    const expiry = await midSessionExpiry(onB, o.expiryInSeconds ?? 4);
    report.expiry = { pass: expiry.pass, detail: expiry.detail };
    if (o.limits !== false) {
      o.log("  limits table");
      report.limits = await runLimits(
        {
          port: b.port,
          wsBase: b.wsBase,
          apiKey: API_KEY,
          api: apiB,
          token: (user) => rs256(claimsFor(user, 3600), keys.rsa.privateKey),
          maxSessions: light ? 5 : 100,
          maxFramesPerSecond: 20,
          maxMessageBytes: 65_536,
          fullBatch: !light,
        },
        o.log,
      );
    }

    // ---- afterwards: still running, still delivering
    await sleep(300);
    for (const [label, svc, api, token] of [
      ["A", a, apiA, canaryToken],
      ["B", b, apiB, await rs256(claimsFor("fz-canary", 3600), keys.rsa.privateKey)],
    ] as Array<[string, Service, Api, string]>) {
      const health = await rawRequest(svc.port, { method: "GET", target: "/healthz" });
      report.health.push({
        name: `${label}: workerd still running, /healthz 200`,
        pass: svc.running && health.status === 200,
        detail: `running=${svc.running} healthz=${health.status}`,
      });
      report.health.push({
        name: `${label}: a clean push reaches a clean session (stored and live)`,
        ...(await deliversCleanly(api, svc.wsBase, token, "fz-canary")),
      });
    }
    report.health.push({
      name: "A: deeply nested stored data is answered back intact by GET messages (never a 5xx)",
      ...(await deepRoundTrip(a.port, API_KEY)),
    });
    if (typeof canary === "string") report.health.push({ name: "A: canary session opened", pass: false, detail: canary });
    else {
      const c = canary;
      const before = c.messages().length;
      const p = await apiA.push("fz-canary", { data: { canary: true } });
      const got = await c.until(() => c.messages().length > before, 5000);
      report.health.push({
        name: "A: the canary session that lived through the whole run still receives",
        pass: p.ok && got && c.closed === undefined,
        detail: `push ${p.status}, received ${got}, closed ${c.closed?.code ?? "no"}`,
      });
    }
    return report;
  } finally {
    if (beat !== undefined) clearInterval(beat);
    if (typeof canary !== "string") canary.close();
    clearInterval(rssTimer);
    for (const [label, svc] of [
      ["A", a],
      ["B", b],
    ] as const) {
      if (svc === undefined) continue;
      report.workerd.push({ label, unexpectedExits: svc.unexpectedExits().length, flagged: svc.flagged.slice(0, 50), maxRss: rss.get(label) ?? 0 });
      await svc.stop();
    }
    report.seconds = (Date.now() - started) / 1000;
  }
}
