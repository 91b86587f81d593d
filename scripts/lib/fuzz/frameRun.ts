/**
 * Runs generated frames (frames.ts) against a live session and checks the
 * answers. Frames go in batches, each followed by a sentinel frame whose error
 * answer marks the end of the batch, so every answer is attributed to its
 * batch. Raw protocol abuse goes over a bare socket: the server may close
 * however RFC 6455 lets it, but must not crash, hang or 5xx.
 */
import { DOCUMENTED_CLOSE, FRAME_ERRORS, RUNTIME_CLOSE } from "../contract.ts";
import { closePayload, encodeFrame, rawWsExchange } from "../rawWs.ts";
import { isOpen, openSession, type Frame, type Session } from "../wsSession.ts";
import type { FrameCase, RawFrameCase } from "./frames.ts";

export interface FrameFuzzStats {
  frames: number;
  violations: Array<{ name: string; detail: string }>;
  closes: Map<number, number>;
  errorCodes: Map<string, number>;
  reconnects: number;
}

function sendCase(s: Session, c: FrameCase): void {
  const wire = typeof c.data === "string" ? Buffer.from(c.data, "utf8") : c.data;
  if (c.fragments === undefined || c.fragments < 2 || wire.length < c.fragments) {
    if (typeof c.data === "string") s.send(c.data);
    else s.send(c.data, { binary: c.binary });
    return;
  }
  const size = Math.ceil(wire.length / c.fragments);
  for (let i = 0; i < wire.length; i += size) {
    s.send(wire.subarray(i, i + size), { binary: c.binary, fin: i + size >= wire.length });
  }
}

const bump = <K>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1);

/**
 * Run `cases` over one lane (a session that is reopened after each expected
 * close). `open` opens a fresh session of the lane's user.
 */
export async function runFrameLane(cases: FrameCase[], open: () => Promise<Session | string>, stats: FrameFuzzStats, laneId: number): Promise<void> {
  let session: Session | string = await open();
  let sentinel = 0;
  let i = 0;
  const fail = (name: string, detail: string) => stats.violations.push({ name, detail });
  while (i < cases.length) {
    if (typeof session === "string") {
      fail("open", `lane ${laneId}: could not open a session: ${session}`);
      return;
    }
    const s = session;
    // A batch: frames up to (not including) the next one expected to close.
    const batch: FrameCase[] = [];
    while (i < cases.length && batch.length < 25) {
      const c = cases[i] as FrameCase;
      if (c.expect.close !== undefined || c.expect.closeOrError !== undefined) {
        if (batch.length === 0) {
          batch.push(c);
          i++;
        }
        break;
      }
      batch.push(c);
      i++;
    }
    const closer = batch.length === 1 && batch[0]?.expect.close !== undefined ? batch[0] : undefined;
    const lenientCase = batch.length === 1 && batch[0]?.expect.closeOrError !== undefined ? batch[0] : undefined;
    const errorsBefore = s.errors().length;
    const pongsBefore = s.other.filter((t) => t === "pong").length;
    for (const c of batch) sendCase(s, c);
    stats.frames += batch.length;
    if (closer !== undefined) {
      const closed = await s.waitClosed(5000);
      const want = [closer.expect.close ?? 0];
      if (closed === undefined) {
        fail(closer.name, `expected close ${want.join("/")}, socket still open`);
        s.terminate();
      } else {
        bump(stats.closes, closed.code);
        if (!want.includes(closed.code)) fail(closer.name, `closed with ${closed.code} (${closed.reason}), expected ${want.join("/")}`);
      }
      stats.reconnects++;
      session = await open();
      continue;
    }
    sentinel++;
    const tag = `sentinel-${laneId}-${sentinel}`;
    s.send(JSON.stringify({ type: tag }));
    stats.frames++;
    const marker = (e: Frame) => typeof e.message === "string" && e.message.endsWith(tag);
    const ok = await s.until(() => s.errors().some(marker) || s.closed !== undefined, 10_000);
    if (lenientCase !== undefined && s.closed !== undefined && [1007, 1002].includes(s.closed.code)) {
      bump(stats.closes, s.closed.code);
      stats.reconnects++;
      session = await open();
      continue;
    }
    if (!ok || s.closed !== undefined) {
      fail(
        batch.map((c) => c.name).join(","),
        s.closed ? `socket closed unexpectedly ${s.closed.code} ${s.closed.reason}` : "no answer to the batch within 10 s",
      );
      stats.reconnects++;
      session = await open();
      continue;
    }
    const got = s
      .errors()
      .slice(errorsBefore)
      .filter((e) => !marker(e));
    if (lenientCase !== undefined) {
      // Invalid UTF-8 in a text frame: RFC 6455 says close 1007; workerd decodes it leniently (U+FFFD), so
      // one documented error answer is also fine.
      bump(stats.errorCodes, got.length === 1 ? String(got[0]?.code) : `lenient:${got.length}`);
      if (got.length !== 1 || !FRAME_ERRORS.has(String(got[0]?.code)) || got[0]?.code === "internal") {
        fail(lenientCase.name, `invalid UTF-8 frame answered ${JSON.stringify(got.map((e) => e.code))}`);
      }
      continue;
    }
    // pongs are answered by the runtime, so they may trail the sentinel: wait for them a little.
    const wantPongs = batch.filter((c) => c.expect.pong === true).length;
    if (wantPongs > 0) await s.until(() => s.other.filter((t) => t === "pong").length - pongsBefore >= wantPongs, 2000);
    const pongs = s.other.filter((t) => t === "pong").length - pongsBefore;
    const want = batch.map((c) => c.expect.error).filter((e): e is string => e !== undefined);
    const gotCodes = got.map((e) => String(e.code));
    for (const code of gotCodes) {
      bump(stats.errorCodes, code);
      if (!FRAME_ERRORS.has(code)) fail("frame", `undocumented error code ${code}`);
      if (code === "internal") fail("frame", "server answered a client frame with `internal`");
    }
    const a = [...want].sort().join(",");
    const b = [...gotCodes].sort().join(",");
    if (a !== b) fail(batch.map((c) => c.name).join(","), `errors ${b || "<none>"}, expected ${a || "<none>"}`);
    if (pongs < wantPongs) fail("ping", `${pongs} pongs for ${wantPongs} pings`);
  }
  if (typeof session !== "string") session.close();
}

/** RFC 6455 §7.4.1 codes that must never appear in a close frame. */
const RESERVED_CLOSE = new Set([1004, 1005, 1006, 1015]);

export async function runRawFrameCase(port: number, token: string, c: RawFrameCase): Promise<{ violation?: string; close?: number | "tcp" | "none" }> {
  const bytes = c.mustClose ? c.bytes : [...c.bytes, encodeFrame({ opcode: 8, payload: closePayload(1000, "done") })];
  const res = await rawWsExchange(port, "/v1/connect?device=raw", [["Authorization", `Bearer ${token}`]], bytes, 2500);
  if (res.status !== 101) return { violation: `handshake answered ${res.status}` };
  const close = res.closeCode ?? (res.ended && !res.timedOut ? "tcp" : "none");
  if (c.mustClose && close === "none") {
    return {
      violation:
        c.sentClose !== undefined ? `server never answered the client's close ${c.sentClose}` : "server kept the connection open after a protocol error",
      close,
    };
  }
  if (typeof close === "number" && close === c.sentClose && RESERVED_CLOSE.has(close)) {
    return { violation: `server echoed the reserved close code ${close} (docs/protocol.md: reserved codes are never echoed)`, close };
  }
  if (typeof close === "number" && close !== c.sentClose && !DOCUMENTED_CLOSE.has(close) && !RUNTIME_CLOSE.has(close)) {
    return { violation: `close code ${close} is neither documented nor an RFC 6455 protocol-error code`, close };
  }
  return { close };
}

/** Open a session for `user` on `base` with `token`; the string is why it failed. */
export async function openFor(wsBase: string, token: string, device: string, since?: number): Promise<Session | string> {
  const q = new URLSearchParams({ device });
  if (since !== undefined) q.set("since", String(since));
  const r = await openSession(`${wsBase}/v1/connect?${q}`, { headers: { Authorization: `Bearer ${token}` } });
  if (!isOpen(r)) return r.kind === "refused" ? `refused ${r.status}: ${r.body}` : r.error;
  const welcomed = await r.until(() => r.welcome !== undefined, 5000);
  return welcomed ? r : "no welcome";
}
