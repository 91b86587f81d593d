/**
 * The abuse suite (npm run fuzz, and its smoke run in npm test).
 *
 * Two services on standalone workerd, each with its own temp data dir:
 *  A — "fuzz": JWT_SECRET + JWT_PUBLIC_KEYS + JWT_AUDIENCE + JWT_ISSUER + ALLOWED_ORIGINS,
 *      MAX_FRAMES_PER_SECOND=10000 (so frame content, not rate, is what is fuzzed).
 *      Gets the generated HTTP inputs, the WebSocket frames (text and raw protocol),
 *      and the JWT table.
 *  B — "limits": JWT_PUBLIC_KEYS only (no JWT_SECRET), every other knob at its
 *      default. Gets the limits table, the JWT table for a JWKS-only server, and
 *      mid-session expiry.
 * Then on both: the service still runs and still delivers (a clean push reaches
 * a clean session, live and stored), and a canary session that lived through
 * the whole run still receives.
 */
import { Api } from "./api.ts";
import { DOCUMENTED_STATUS } from "./contract.ts";
import {
  authCases,
  batchCases,
  connectCases,
  contentTypeCases,
  evaluate,
  headerCases,
  pathCases,
  pushBodyCases,
  queryCases,
  type FuzzContext,
  type HttpCase,
  type TokenPool,
} from "./fuzzHttp.ts";
import { frameCases, openFor, rawFrameCases, runFrameLane, runRawFrameCase, type FrameFuzzStats } from "./fuzzWs.ts";
import { midSessionExpiry, runJwtTable, type JwtRow } from "./jwtTable.ts";
import { runLimits, type LimitRow } from "./limits.ts";
import { rawRequest } from "./rawHttp.ts";
import { rng, sleep, type Rng } from "./rng.ts";
import { Service } from "./service.ts";
import { algNone, claimsFor, es256, hs256, makeKeys, nowSeconds, rs256, tamper, type KeyMaterial } from "./tokens.ts";
import { isOpen, openSession, type Session } from "./wsSession.ts";

export interface FuzzOptions {
  seed: number;
  /** 1 = the full run (≥ 10,000 inputs); the smoke test uses less. */
  scale: number;
  /** Preferred ports for A and B (9200-9299). */
  ports: [number, number];
  log: (line: string) => void;
  /** Seconds until the mid-session expiry token expires. */
  expiryInSeconds?: number;
  /**
   * The limits table: "full" at the documented defaults (100 sessions, a 1000-user batch);
   * "light" with MAX_SESSIONS_PER_USER=5 and no 1000-user batch (the smoke run); false skips it.
   */
  limits?: "full" | "light" | false;
}

export interface CategoryTally {
  inputs: number;
  violations: number;
  runtimeRefusals: number;
  statuses: Map<string, number>;
}

export interface FuzzReport {
  seed: number;
  inputs: number;
  categories: Map<string, CategoryTally>;
  violations: Array<{ category: string; name: string; detail: string }>;
  jwt: JwtRow[];
  limits: LimitRow[];
  expiry: { pass: boolean; detail: string } | undefined;
  health: Array<{ name: string; pass: boolean; detail: string }>;
  workerd: Array<{ label: string; unexpectedExits: number; flagged: string[]; maxRss: number }>;
  seconds: number;
}

const SECRET = "fuzz-jwt-secret-0123456789abcdef";
const API_KEY = "fuzz-api-key-0123456789abcdef";
const AUDIENCE = "switchboard-fuzz";
const ISSUER = "https://auth.fuzz.example";
const ALLOWED_ORIGIN = "https://app.fuzz.example";

function tally(report: FuzzReport, category: string): CategoryTally {
  let t = report.categories.get(category);
  if (t === undefined) {
    t = { inputs: 0, violations: 0, runtimeRefusals: 0, statuses: new Map() };
    report.categories.set(category, t);
  }
  return t;
}

function note(report: FuzzReport, category: string, outcome: string, violation?: { name: string; detail: string }, runtimeRefusal = false): void {
  const t = tally(report, category);
  t.inputs++;
  report.inputs++;
  t.statuses.set(outcome, (t.statuses.get(outcome) ?? 0) + 1);
  if (runtimeRefusal) t.runtimeRefusals++;
  if (violation !== undefined) {
    t.violations++;
    if (report.violations.length < 500) report.violations.push({ category, ...violation });
  }
}

async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

async function makeTokens(r: Rng, keys: KeyMaterial, users: readonly string[]): Promise<TokenPool> {
  const good: TokenPool["good"] = [];
  for (const sub of users) {
    good.push({ token: await hs256(claimsFor(sub, 3600, AUDIENCE, ISSUER), SECRET), sub, kind: "hs256" });
  }
  for (const sub of users.slice(0, 5)) {
    good.push({ token: await rs256(claimsFor(sub, 3600, AUDIENCE, ISSUER), keys.rsa.privateKey), sub, kind: "rs256" });
    good.push({ token: await es256(claimsFor(sub, 3600, AUDIENCE, ISSUER), keys.ec.privateKey), sub, kind: "es256" });
  }
  const c = claimsFor(users[0] ?? "u", 3600, AUDIENCE, ISSUER);
  const now = nowSeconds();
  const goodOne = good[0]?.token ?? "";
  const pem = new TextEncoder().encode(keys.rsa.publicPem);
  const bad: TokenPool["bad"] = [
    { token: "", kind: "empty" },
    { token: "x", kind: "garbage" },
    { token: "a.b.c", kind: "garbage3" },
    { token: "...", kind: "dots" },
    { token: "e30.e30.", kind: "empty-objects" },
    { token: algNone(c), kind: "alg-none" },
    { token: algNone(c, goodOne.split(".")[2]), kind: "alg-none-sig" },
    { token: await hs256(c, pem), kind: "hs-with-rsa-pem" },
    { token: tamper(goodOne, { ...c, sub: "mallory" }), kind: "tampered" },
    { token: await hs256(c, "wrong-secret-0123456789"), kind: "wrong-secret" },
    { token: await hs256({ ...c, exp: now - 5 }, SECRET), kind: "expired" },
    { token: await hs256({ ...c, nbf: now + 120 }, SECRET), kind: "nbf-future" },
    { token: await hs256({ ...c, iat: now + 120 }, SECRET), kind: "iat-future" },
    { token: await hs256({ ...c, aud: "other" }, SECRET), kind: "wrong-aud" },
    { token: await hs256({ ...c, iss: "https://evil.example" }, SECRET), kind: "wrong-iss" },
    { token: await hs256(claimsFor(users[0] ?? "u", 3600), SECRET), kind: "no-aud-iss" },
    { token: await hs256({ ...c, sub: "a/b" }, SECRET), kind: "bad-sub" },
    { token: await hs256({ aud: AUDIENCE, iss: ISSUER, exp: now + 600 }, SECRET), kind: "no-sub" },
    { token: await rs256(c, keys.strangerRsa.privateKey), kind: "stranger-rsa" },
    { token: `${goodOne}x`, kind: "sig-suffix" },
    { token: goodOne.slice(0, -2), kind: "sig-truncated" },
    { token: "x".repeat(8000), kind: "huge" },
    { token: "bearer.x", kind: "bearer-dot" },
  ];
  for (let i = 0; i < 10; i++) {
    const parts = Array.from({ length: r.int(1, 4) }, () => Buffer.from(Array.from({ length: r.int(0, 40) }, () => r.int(0, 255))).toString("base64url"));
    bad.push({ token: parts.join("."), kind: "random" });
  }
  return { good, bad };
}

/** A clean session receives a clean push (live and stored), and presence sees it. */
async function deliversCleanly(api: Api, wsBase: string, token: string, user: string): Promise<{ pass: boolean; detail: string }> {
  const s = await openFor(wsBase, token, "post-check");
  if (typeof s === "string") return { pass: false, detail: `connect: ${s}` };
  const stored = await api.push(user, { data: { check: "stored" } });
  const live = await api.push(user, { data: { check: "live" }, ttl: 0 });
  const got = await s.until(() => s.messages().length >= 2, 5000);
  const presence = await api.presence(user);
  s.close();
  const seq = stored.ok ? stored.body.seq : undefined;
  const frames = s.messages();
  const pass =
    stored.ok && live.ok && got && frames[0]?.seq === seq && frames[1]?.seq === null && presence.ok && presence.body.sessions.length >= 1;
  return {
    pass,
    detail: `stored push ${stored.status} seq=${String(seq)}, live push ${live.status}, frames ${JSON.stringify(frames.map((f) => f.seq))}, presence ${presence.ok ? presence.body.sessions.length : presence.status}`,
  };
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now();
  const r = rng(o.seed);
  const report: FuzzReport = {
    seed: o.seed,
    inputs: 0,
    categories: new Map(),
    violations: [],
    jwt: [],
    limits: [],
    expiry: undefined,
    health: [],
    workerd: [],
    seconds: 0,
  };
  const keys = await makeKeys();
  const users = Array.from({ length: 24 }, (_, i) => `fz-${i}`);
  const tokens = await makeTokens(r, keys, users);

  o.log(`fuzz: seed ${o.seed}, scale ${o.scale}; starting two workerd services`);
  const a = await Service.start({
    port: o.ports[0],
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
  const b = await Service.start({ port: o.ports[1], knobs: { JWT_PUBLIC_KEYS: keys.jwks, API_KEY, ...(light ? { MAX_SESSIONS_PER_USER: "5" } : {}) } });
  const apiA = new Api(a.base, API_KEY);
  const apiB = new Api(b.base, API_KEY);
  let maxRssA = 0;
  let maxRssB = 0;
  const rssTimer = setInterval(() => {
    maxRssA = Math.max(maxRssA, a.rss() ?? 0);
    maxRssB = Math.max(maxRssB, b.rss() ?? 0);
  }, 500);
  const canaryToken = await hs256(claimsFor("fz-canary", 3600, AUDIENCE, ISSUER), SECRET);
  let canary: Session | string = "";
  let beat: NodeJS.Timeout | undefined;
  try {
    canary = await openFor(a.wsBase, canaryToken, "canary");
    if (typeof canary !== "string") {
      const c = canary;
      beat = setInterval(() => c.send("ping"), 15_000);
    }
    const ctx: FuzzContext = { port: a.port, apiKey: API_KEY, jwtSecret: SECRET, users, tokens, allowedOrigin: ALLOWED_ORIGIN };
    const n = (base: number) => Math.max(4, Math.round(base * o.scale));
    const groups: Array<[string, HttpCase[]]> = [
      ["push-body", pushBodyCases(r, ctx, n(2600))],
      ["content-type", contentTypeCases(r, ctx, n(500))],
      ["path", pathCases(r, ctx, n(1400))],
      ["query", queryCases(r, ctx, n(900))],
      ["auth", authCases(r, ctx, n(1000))],
      ["batch", batchCases(r, ctx, n(400))],
      ["connect", connectCases(r, ctx, n(2000))],
      ["headers", headerCases(r, ctx, n(200))],
    ];
    for (const [name, cases] of groups) {
      const t0 = Date.now();
      await pool(cases, 12, async (c) => {
        const res = await rawRequest(a.port, c.req);
        const e = evaluate(c, res);
        const outcome = res.status === 0 ? `no-response` : String(res.status);
        if (res.status >= 400 && res.status !== 0 && !DOCUMENTED_STATUS.has(res.status) && e.runtimeRefusal !== true && e.violation === undefined) {
          note(report, c.category, outcome, { name: c.name, detail: `undocumented status ${res.status}` });
          return;
        }
        note(report, c.category, outcome, e.violation === undefined ? undefined : { name: c.name, detail: e.violation }, e.runtimeRefusal === true);
      });
      o.log(`  ${name}: ${cases.length} inputs in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      if (!a.running) break;
    }

    // ---- after the connect barrage every raw 101 socket was dropped: nobody may still be online
    if (a.running) {
      let left: string[] = [];
      for (let attempt = 0; attempt < 20; attempt++) {
        left = [];
        for (const u of users) {
          const p = await apiA.presence(u);
          if (!p.ok || p.body.sessions.length > 0) left.push(`${u}:${p.ok ? p.body.sessions.length : p.status}`);
        }
        if (left.length === 0) break;
        await sleep(250);
      }
      report.health.push({
        name: "A: after the connect barrage (all sockets dropped) no fuzz user has a session left",
        pass: left.length === 0,
        detail: left.length === 0 ? `${users.length} users offline` : `still online: ${left.slice(0, 8).join(", ")}`,
      });
    }

    // ---- WebSocket frames (content)
    if (a.running) {
      const t0 = Date.now();
      const lanes = 4;
      const perLane = Math.ceil(n(2400) / lanes);
      const head = 3;
      const stats: FrameFuzzStats = { frames: 0, violations: [], closes: new Map(), errorCodes: new Map(), reconnects: 0 };
      await Promise.all(
        Array.from({ length: lanes }, async (_, lane) => {
          const user = `fz-frames-${lane}`;
          for (let i = 0; i < head; i++) await apiA.push(user, { data: { i } });
          const token = await hs256(claimsFor(user, 3600, AUDIENCE, ISSUER), SECRET);
          const laneRng = rng(o.seed + 1000 + lane);
          await runFrameLane(frameCases(laneRng, perLane, head), () => openFor(a.wsBase, token, `lane${lane}`), stats, lane);
        }),
      );
      const t = tally(report, "ws-frames");
      t.inputs += stats.frames;
      report.inputs += stats.frames;
      t.violations += stats.violations.length;
      for (const [code, count] of stats.errorCodes) t.statuses.set(`error:${code}`, count);
      for (const [code, count] of stats.closes) t.statuses.set(`close:${code}`, count);
      for (const v of stats.violations.slice(0, 100)) report.violations.push({ category: "ws-frames", ...v });
      o.log(`  ws-frames: ${stats.frames} frames (${stats.reconnects} reconnects) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }

    // ---- WebSocket flood (content fuzz instance: high rate limit, so every frame must be answered)
    if (a.running) {
      const s = await openFor(a.wsBase, tokens.good[1]?.token ?? canaryToken, "flood");
      if (typeof s !== "string") {
        const count = n(2000);
        for (let i = 0; i < count; i++) s.send(i % 3 === 0 ? "ping" : i % 3 === 1 ? "{" : '{"type":"nope"}');
        s.send('{"type":"flood-end"}');
        const done = await s.until(() => s.errors().some((e) => String(e.message).includes("flood-end")) || s.closed !== undefined, 30_000);
        const errs = s.errors().length - 1;
        const want = count - Math.ceil(count / 3);
        const ok = done && s.closed === undefined && errs === want;
        note(report, "ws-flood", ok ? "answered" : "short", ok ? undefined : { name: `flood ${count}`, detail: `${errs} error answers of ${want}, closed ${s.closed?.code ?? "no"}` });
        tally(report, "ws-flood").inputs += count;
        report.inputs += count;
        s.close();
      }
    }

    // ---- raw protocol-level frames
    if (a.running) {
      const t0 = Date.now();
      const cases = rawFrameCases(r, n(400));
      const token = tokens.good[2]?.token ?? canaryToken;
      await pool(cases, 8, async (c) => {
        const res = await runRawFrameCase(a.port, token, c);
        note(report, "ws-raw", `close:${String(res.close ?? "?")}`, res.violation === undefined ? undefined : { name: c.name, detail: res.violation });
      });
      o.log(`  ws-raw: ${cases.length} exchanges in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }

    // ---- JWT table on A (HS256 + JWKS + aud/iss) and on B (JWKS only)
    o.log("  JWT table");
    report.jwt.push(
      ...(await runJwtTable(
        { port: a.port, wsBase: a.wsBase, apiKey: API_KEY, secret: SECRET, audience: AUDIENCE, issuer: ISSUER, keys, label: "HS256+JWKS, aud/iss" },
        o.log,
      )),
    );
    report.jwt.push(
      ...(await runJwtTable({ port: b.port, wsBase: b.wsBase, apiKey: API_KEY, secret: undefined, audience: undefined, issuer: undefined, keys, label: "JWKS only" }, o.log)),
    );

    // ---- mid-session expiry (B), alone: the close must come at exp, from the user object's alarm
    o.log("  mid-session expiry");
    const expiry = await midSessionExpiry(
      { port: b.port, wsBase: b.wsBase, apiKey: API_KEY, secret: undefined, audience: undefined, issuer: undefined, keys, label: "JWKS only" },
      o.expiryInSeconds ?? 4,
    );
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
      report.health.push({ name: `${label}: workerd still running, /healthz 200`, pass: svc.running && health.status === 200, detail: `running=${svc.running} healthz=${health.status}` });
      const clean = await deliversCleanly(api, svc.wsBase, token, "fz-canary");
      report.health.push({ name: `${label}: a clean push reaches a clean session (stored and live)`, ...clean });
    }
    report.health.push({ name: "A: deeply nested stored data is answered back intact by GET messages (never a 5xx)", ...(await deepRoundTrip(a.port, API_KEY)) });
    if (typeof canary === "string") report.health.push({ name: "A: canary session opened", pass: false, detail: canary });
    else {
      const before = canary.messages().length;
      const p = await apiA.push("fz-canary", { data: { canary: true } });
      const c = canary;
      const got = await c.until(() => c.messages().length > before, 5000);
      report.health.push({
        name: "A: the canary session that lived through the whole run still receives",
        pass: p.ok && got && c.closed === undefined,
        detail: `push ${p.status}, received ${got}, closed ${c.closed?.code ?? "no"}`,
      });
    }
  } finally {
    if (beat !== undefined) clearInterval(beat);
    if (typeof canary !== "string") canary.close();
    clearInterval(rssTimer);
    for (const [label, svc, rss] of [
      ["A", a, maxRssA],
      ["B", b, maxRssB],
    ] as Array<[string, Service, number]>) {
      report.workerd.push({ label, unexpectedExits: svc.unexpectedExits().length, flagged: svc.flagged.slice(0, 50), maxRss: rss });
    }
    await a.stop();
    await b.stop();
  }
  report.seconds = (Date.now() - started) / 1000;
  return report;
}

/** workerd log lines that are expected under abuse: protocol errors it reports for clients' bad frames. */
/**
 * A stored push whose data is nested thousands of levels deep (up to what fits
 * in MAX_MESSAGE_BYTES) must come back
 * from `GET /v1/users/{u}/messages` byte for byte (a push may refuse such data
 * with 400 `data`; once accepted, reading it back must never fail). This once
 * answered 500 (finding 1 in docs/guarantees.md): the object parsed every
 * stored `data`.
 */
async function deepRoundTrip(port: number, apiKey: string): Promise<{ pass: boolean; detail: string }> {
  const auth: [string, string] = ["Authorization", `Bearer ${apiKey}`];
  const notes: string[] = [];
  let pass = true;
  let readBack = 0;
  for (const [kind, depth] of [["arr", 5000], ["obj", 5000], ["arr", 32_000], ["obj", 10_000]] as const) {
    const user = `fz-deep-${kind}-${depth}`;
    const inner = kind === "obj" ? `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}` : `${"[".repeat(depth)}${"]".repeat(depth)}`;
    const push = await rawRequest(port, {
      method: "POST",
      target: `/v1/users/${user}/messages`,
      headers: [auth, ["Content-Type", "application/json"]],
      body: `{"data":${inner},"id":"deep"}`,
    });
    if (push.status === 400) {
      notes.push(`${kind}×${depth}: push refused 400`);
      continue;
    }
    if (push.status !== 200) {
      pass = false;
      notes.push(`${kind}×${depth}: push answered ${push.status}`);
      continue;
    }
    const get = await rawRequest(port, { method: "GET", target: `/v1/users/${user}/messages?since=0`, headers: [auth] });
    const intact = get.status === 200 && get.body.toString("utf8").includes(`"data":${inner}`);
    if (!intact) pass = false;
    else readBack++;
    notes.push(`${kind}×${depth}: push 200, GET ${get.status}${intact ? " intact" : get.status === 200 ? " NOT intact" : ""}`);
  }
  if (readBack === 0) pass = false;
  return { pass, detail: notes.join("; ") };
}

const EXPECTED_NOISE = /WebSocket protocol error|Unrecognized request method|invalid HTTP|disconnected|connection reset|broken pipe/i;

export function failures(report: FuzzReport): string[] {
  const out: string[] = [];
  for (const w of report.workerd) {
    for (const line of w.flagged) if (!EXPECTED_NOISE.test(line)) out.push(`[workerd ${w.label} log] ${line.slice(0, 300)}`);
  }
  for (const v of report.violations) out.push(`[${v.category}] ${v.name}: ${v.detail}`);
  for (const j of report.jwt) if (!j.pass) out.push(`[jwt] ${j.name}: expected ${j.expect}, got ${j.got}`);
  for (const l of report.limits) if (!l.pass) out.push(`[limits] ${l.name}: ${l.detail}`);
  if (report.expiry !== undefined && !report.expiry.pass) out.push(`[expiry] ${report.expiry.detail}`);
  for (const h of report.health) if (!h.pass) out.push(`[health] ${h.name}: ${h.detail}`);
  for (const w of report.workerd) if (w.unexpectedExits > 0) out.push(`[workerd ${w.label}] exited unexpectedly ${w.unexpectedExits} time(s)`);
  return out;
}

export function printReport(report: FuzzReport, log: (line: string) => void): void {
  log("");
  log(`fuzz summary (seed ${report.seed}, ${report.seconds.toFixed(1)} s): ${report.inputs} inputs`);
  log(`  ${"category".padEnd(14)} ${"inputs".padStart(7)} ${"violations".padStart(10)} ${"runtime".padStart(8)}  outcomes`);
  for (const [name, t] of report.categories) {
    const outcomes = [...t.statuses.entries()]
      .sort((x, y) => y[1] - x[1])
      .map(([k, v]) => `${k}×${v}`)
      .join(" ");
    log(`  ${name.padEnd(14)} ${String(t.inputs).padStart(7)} ${String(t.violations).padStart(10)} ${String(t.runtimeRefusals).padStart(8)}  ${outcomes}`);
  }
  const jwtPass = report.jwt.filter((j) => j.pass).length;
  log(`  JWT table: ${jwtPass}/${report.jwt.length} rows as expected`);
  const limPass = report.limits.filter((l) => l.pass).length;
  log(`  limits: ${limPass}/${report.limits.length} rows as expected`);
  for (const l of report.limits) log(`    ${l.pass ? "ok  " : "FAIL"} ${l.name} [${l.knob}] — ${l.detail}`);
  if (report.expiry !== undefined) log(`  mid-session expiry: ${report.expiry.pass ? "ok" : "FAIL"} — ${report.expiry.detail}`);
  for (const h of report.health) log(`  ${h.pass ? "ok  " : "FAIL"} ${h.name} — ${h.detail}`);
  for (const w of report.workerd) {
    log(`  workerd ${w.label}: unexpected exits ${w.unexpectedExits}, peak RSS ${(w.maxRss / 2 ** 20).toFixed(0)} MiB, flagged log lines ${w.flagged.length}`);
    const kinds = new Map<string, number>();
    for (const line of w.flagged) {
      const key = line.replace(/^.*?(error|warning|info):\s*/i, "").replace(/[0-9a-f]{8,}|\d+/g, "#").slice(0, 160);
      kinds.set(key, (kinds.get(key) ?? 0) + 1);
    }
    for (const [kind, count] of kinds) log(`      ${count}× ${kind}`);
  }
  const f = failures(report);
  log(f.length === 0 ? "fuzz: no violations" : `fuzz: ${f.length} violation(s):`);
  for (const line of f.slice(0, 60)) log(`  ${line}`);
}
