/**
 * The documented limits, end to end at their default values: per-user session
 * cap (429, MAX_SESSIONS_PER_USER), client frame size (close 1009, fixed 4 KiB),
 * client frame rate (close 4029, MAX_FRAMES_PER_SECOND: the flooder only),
 * push body size (413, MAX_MESSAGE_BYTES, also without Content-Length), batch
 * size (400 beyond 1000 userIds).
 */
import type { Api } from "./api.ts";
import { errorShape, rawRequest } from "./rawHttp.ts";
import { eventually } from "./time.ts";
import { isOpen, openSession, type Session } from "./wsSession.ts";

export interface LimitRow {
  name: string;
  knob: string;
  pass: boolean;
  detail: string;
}

export interface LimitsTarget {
  port: number;
  wsBase: string;
  apiKey: string;
  api: Api;
  /** A valid client token for `user`. */
  token: (user: string) => Promise<string>;
  maxSessions: number;
  maxFramesPerSecond: number;
  maxMessageBytes: number;
  /** Also push one batch of exactly 1000 users (creates 1000 objects). */
  fullBatch?: boolean;
}

async function open(t: LimitsTarget, user: string, device: string, light = false): Promise<Session | string> {
  const r = await openSession(`${t.wsBase}/v1/connect?device=${device}`, { headers: { Authorization: `Bearer ${await t.token(user)}` }, light });
  if (!isOpen(r)) return r.kind === "refused" ? `${r.status} ${r.body}` : r.error;
  await r.until(() => r.welcome !== undefined, 5000);
  return r;
}

export async function runLimits(t: LimitsTarget, log: (s: string) => void): Promise<LimitRow[]> {
  const rows: LimitRow[] = [];
  const row = (name: string, knob: string, pass: boolean, detail: string) => {
    rows.push({ name, knob, pass, detail });
    if (!pass) log(`  LIMIT FAIL ${name}: ${detail}`);
  };

  // ---- session cap
  {
    const user = "limits-cap";
    const sessions: Session[] = [];
    let firstRefusal = "";
    for (let i = 0; i < t.maxSessions; i++) {
      const s = await open(t, user, `d${i % 7}`, true);
      if (typeof s === "string") {
        firstRefusal = `session ${i + 1} refused: ${s}`;
        break;
      }
      sessions.push(s);
    }
    const over = await openSession(`${t.wsBase}/v1/connect?device=over`, { headers: { Authorization: `Bearer ${await t.token(user)}` } });
    const overStatus = isOpen(over) ? 101 : over.kind === "refused" ? over.status : 0;
    const overCode = over.kind === "refused" ? errorShape(Buffer.from(over.body))?.code : undefined;
    if (isOpen(over)) over.close();
    row(
      `session ${t.maxSessions + 1} of a user is refused 429 too_many_sessions`,
      "MAX_SESSIONS_PER_USER",
      sessions.length === t.maxSessions && overStatus === 429 && overCode === "too_many_sessions",
      `${sessions.length} opened${firstRefusal ? ` (${firstRefusal})` : ""}; next answered ${overStatus} ${overCode ?? ""}`,
    );
    // Other users are unaffected by one user's cap.
    const other = await open(t, "limits-cap-other", "d");
    row("another user still connects while one is at the cap", "MAX_SESSIONS_PER_USER", typeof other !== "string", typeof other === "string" ? other : "101");
    if (typeof other !== "string") other.close();
    // A freed slot can be used again.
    sessions.pop()?.close();
    let again = "not tried" as Session | string;
    await eventually(
      "a session in the freed slot",
      async () => {
        again = await open(t, user, "again");
        return typeof again !== "string";
      },
      5000,
      100,
    ).catch(() => undefined);
    row("after one session closes, a new one is accepted", "MAX_SESSIONS_PER_USER", typeof again !== "string", typeof again === "string" ? again : "101");
    if (typeof again !== "string") again.close();
    for (const s of sessions) s.close();
  }

  // ---- frame size
  {
    const s = await open(t, "limits-frames", "size");
    if (typeof s === "string") row("frame size session", "—", false, s);
    else {
      s.send("x".repeat(4096));
      const answered = await s.until(() => s.errors().length > 0 || s.closed !== undefined, 5000);
      row(
        "a 4096-byte text frame is answered (bad_json), socket stays open",
        "4 KiB (fixed)",
        answered && s.closed === undefined && s.errors()[0]?.code === "bad_json",
        s.closed ? `closed ${s.closed.code}` : String(s.errors()[0]?.code),
      );
      s.send("x".repeat(4097));
      const c = await s.waitClosed(5000);
      row("a 4097-byte text frame closes 1009", "4 KiB (fixed)", c?.code === 1009, c ? `closed ${c.code}` : "still open");
    }
    const b = await open(t, "limits-frames", "size-bin");
    if (typeof b !== "string") {
      b.send(Buffer.alloc(4097, 1), { binary: true });
      const c = await b.waitClosed(5000);
      row("a 4097-byte binary frame closes 1009", "4 KiB (fixed)", c?.code === 1009, c ? `closed ${c.code}` : "still open");
    }
    const m = await open(t, "limits-frames", "size-mb");
    if (typeof m !== "string") {
      // 1366 three-byte characters: 1366 UTF-16 units but 4098 bytes.
      m.send("€".repeat(1366));
      const c = await m.waitClosed(5000);
      row("a 1366-char / 4098-byte text frame closes 1009 (bytes, not characters)", "4 KiB (fixed)", c?.code === 1009, c ? `closed ${c.code}` : "still open");
    }
  }

  // ---- frame rate: the flooder is closed 4029; its user's other session and other users are not
  {
    const flooder = await open(t, "limits-rate", "flood");
    const sibling = await open(t, "limits-rate", "calm");
    const stranger = await open(t, "limits-rate-other", "calm");
    if (typeof flooder === "string" || typeof sibling === "string" || typeof stranger === "string") {
      row("rate sessions", "—", false, [flooder, sibling, stranger].filter((x) => typeof x === "string").join("; "));
    } else {
      const burst = t.maxFramesPerSecond * 2;
      // Within the burst: no close.
      for (let i = 0; i < Math.floor(burst * 0.75); i++) sibling.send('{"type":"ack","seq":0}');
      for (let i = 0; i < burst * 10; i++) flooder.send('{"type":"ack","seq":0}');
      const c = await flooder.waitClosed(5000);
      row(
        `a client sending ${burst * 10} frames at once is closed 4029`,
        "MAX_FRAMES_PER_SECOND",
        c?.code === 4029,
        c ? `closed ${c.code} ${c.reason}` : "still open",
      );
      const p1 = await t.api.push("limits-rate", { data: { after: "flood" } });
      const p2 = await t.api.push("limits-rate-other", { data: { after: "flood" } });
      const got1 = await sibling.until(() => sibling.messages().length > 0, 5000);
      const got2 = await stranger.until(() => stranger.messages().length > 0, 5000);
      row(
        `a sibling session that sent ${Math.floor(burst * 0.75)} frames at once (within the burst) stays open and gets the next push`,
        "MAX_FRAMES_PER_SECOND",
        p1.ok && got1 && sibling.closed === undefined,
        `push ${p1.status}, received ${got1}, closed ${sibling.closed?.code ?? "no"}`,
      );
      row(
        "another user's session is unaffected by the flood",
        "MAX_FRAMES_PER_SECOND",
        p2.ok && got2 && stranger.closed === undefined,
        `push ${p2.status}, received ${got2}`,
      );
      sibling.close();
      stranger.close();
    }
  }

  // ---- push body size
  {
    const limit = t.maxMessageBytes;
    const body = (size: number) => {
      const wrapper = '{"data":""}'.length;
      return JSON.stringify({ data: "x".repeat(size - wrapper) });
    };
    const post = (b: string, chunked: boolean) =>
      rawRequest(t.port, {
        method: "POST",
        target: "/v1/users/limits-size/messages",
        headers: [
          ["Authorization", `Bearer ${t.apiKey}`],
          ["Content-Type", "application/json"],
        ],
        body: b,
        chunked,
      });
    const at = await post(body(limit), false);
    const over = await post(body(limit + 1), false);
    const overChunked = await post(body(limit + 1), true);
    const huge = await post(body(limit * 16), true);
    row(`a ${limit}-byte push body is accepted`, "MAX_MESSAGE_BYTES", at.status === 200, String(at.status));
    row(
      `a ${limit + 1}-byte push body is 413`,
      "MAX_MESSAGE_BYTES",
      over.status === 413 && errorShape(over.body)?.code === "payload_too_large",
      String(over.status),
    );
    row(`a ${limit + 1}-byte chunked body (no Content-Length) is 413`, "MAX_MESSAGE_BYTES", overChunked.status === 413, String(overChunked.status));
    row(`a ${limit * 16}-byte chunked body is 413`, "MAX_MESSAGE_BYTES", huge.status === 413, String(huge.status));
  }

  // ---- batch size
  {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `limits-batch-${i}`);
    // Over the limit by hand: the SDK refuses to send a batch of 1001 (invalid_argument) itself.
    const over = await fetch(`${t.api.base}/v1/messages`, {
      method: "POST",
      headers: { Authorization: `Bearer ${t.api.apiKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({ data: 1, ttl: 0, userIds: ids(1001) }),
      signal: AbortSignal.timeout(15_000),
    });
    const overField = errorShape(Buffer.from(await over.text()))?.field;
    row(
      "a batch of 1001 userIds is 400 (field userIds)",
      "1000 (fixed)",
      over.status === 400 && overField === "userIds",
      `${over.status} field=${String(overField)}`,
    );
    if (t.fullBatch !== false) {
      const at = await t.api.withTimeout(60_000).pushMany(ids(1000), 1, { ttl: 0 });
      row(
        "a batch of 1000 userIds is answered with 1000 results",
        "1000 (fixed)",
        at.ok && at.body.results.length === 1000,
        at.ok ? `${at.body.results.length} results` : `${at.status} ${at.error}`,
      );
    }
  }
  return rows;
}
