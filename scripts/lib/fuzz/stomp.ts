/**
 * STOMP client messages as fast-check arbitraries, and the lane that sends a
 * batch of them on a fresh, CONNECTED /v1/stomp socket and judges the answers
 * (docs/stomp.md). Each item knows its contract answer: a valid frame (or EOL
 * beats, or a valid frame split across messages, text or binary) keeps the
 * socket open; a refused one (SEND, a transaction, a foreign destination, an
 * undefined escape, an unknown command, a content-length that is too short,
 * bad UTF-8, over 4,096 bytes) is ERROR and then close with its code. After a
 * batch of valid items a sentinel SUBSCRIBE's RECEIPT proves the parser is
 * still in step. No ERROR may carry a stack trace; no close may come without
 * an ERROR before it.
 */
import fc from "fast-check";
import WebSocket from "ws";
import { int, pick } from "./arb.ts";
import type { Lane } from "./property.ts";

export interface StompItem {
  name: string;
  /** The WebSocket messages this item is sent as (a split frame is several). */
  messages: Buffer[];
  binary: boolean;
  /** undefined: the socket stays open; else the close code the contract names. */
  close?: number;
}

const MAX_FRAME = 4096;

function frame(command: string, headers: [string, string][], body = ""): string {
  return `${command}\n${headers.map(([k, v]) => `${k}:${v}\n`).join("")}\n${body}\0`;
}

/** A 1.2 header value written with escapes (`\r \n \c \\`). */
const escape = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/:/g, "\\c").replace(/\r/g, "\\r");

// NUL ends a frame and has no escape: never inside a header value.
const headerValue = fc.string({ unit: "grapheme", maxLength: 24 }).map((s) => s.replace(/\0/g, ""));
const queueName = fc.stringMatching(/^[A-Za-z0-9._:@-]{1,20}$/);

function item(name: string, text: string | Buffer, close?: number, binary = false): StompItem {
  const bytes = typeof text === "string" ? Buffer.from(text, "utf8") : text;
  return { name, messages: [bytes], binary, ...(bytes.length > MAX_FRAME ? { close: 1009 } : close === undefined ? {} : { close }) };
}

let subIds = 0;
const valid: fc.Arbitrary<StompItem> = fc.oneof(
  fc.tuple(queueName, headerValue, pick(["auto", "client", "client-individual"])).map(([q, extra, ack]) =>
    item(
      "subscribe",
      frame("SUBSCRIBE", [
        ["id", `f${subIds++}`],
        ["destination", `/user/queue/${q}`],
        ["ack", ack],
        ["x-note", escape(extra)],
      ]),
    ),
  ),
  headerValue.map((id) => item("ack", frame("ACK", [["id", escape(id)]]))),
  headerValue.map((id) =>
    item(
      "nack",
      frame("NACK", [
        ["id", escape(id)],
        ["receipt", escape(id)],
      ]),
    ),
  ),
  headerValue.map((id) => item("unsubscribe", frame("UNSUBSCRIBE", [["id", escape(id)]]))),
  pick(["\n", "\r\n", "\n\n\n", "\r\n\n"]).map((eol) => item("eol", eol)),
);

const refused: fc.Arbitrary<StompItem> = fc.oneof(
  headerValue.map((body) => item("send", frame("SEND", [["destination", "/queue/x"]], body), 1002)),
  pick(["BEGIN", "COMMIT", "ABORT"]).map((c) => item("transaction", frame(c, [["transaction", "t"]]), 1002)),
  pick(["/topic/x", "/user/other/queue/x", "/queue/x", "/user/queue/", "/user/queue/a/b", "/user/queue/a b"]).map((d) =>
    item(
      "destination",
      frame("SUBSCRIBE", [
        ["id", `r${subIds++}`],
        ["destination", d],
      ]),
      1002,
    ),
  ),
  pick(["\\t", "\\x", "\\0", "a\\"]).map((e) => item("escape", frame("ACK", [["id", e]]), 1002)),
  pick(["HELLO", "connect", "MESSAGE", "ERROR", "SUBSCRIBE "]).map((c) => item("command", frame(c, []), 1002)),
  int(1, 5).map((n) => item("content-length-short", `NACK\ncontent-length:${n}\n\n${"x".repeat(n + 2)}\0`, 1002)),
  pick([Buffer.from([0xff, 0x0a, 0x0a, 0x00]), Buffer.from("ACK\nid:\xff\n\n\0", "latin1")]).map((b) => item("utf8", b, 1002, true)),
  pick([4097, 5000, 20_000]).map((n) => item("oversize", frame("ACK", [["id", "x".repeat(n)]]))),
  fc.constant(item("connect-again", frame("CONNECT", [["accept-version", "1.2"]]), 1002)),
);

/** A valid item re-cut: split across messages at given points, and/or sent as binary. */
const reshaped: fc.Arbitrary<StompItem> = fc.tuple(valid, fc.array(fc.nat(), { maxLength: 3 }), fc.boolean()).map(([v, cuts, binary]) => {
  const whole = Buffer.concat(v.messages);
  const points = [...new Set(cuts.map((c) => c % (whole.length + 1)))].sort((a, b) => a - b);
  const messages: Buffer[] = [];
  let at = 0;
  for (const p of [...points, whole.length]) {
    // A text message that is exactly a bare EOL is the runtime's heart-beat: echoed, never delivered
    // (docs/stomp.md). stompjs splits in 8 KiB chunks, never like that; keep such a piece with the next.
    if (p > at && (binary || !/^\r?\n$/.test(whole.subarray(at, p).toString("latin1")))) {
      messages.push(whole.subarray(at, p));
      at = p;
    }
  }
  if (at < whole.length) {
    // The same for a bare EOL left at the end: it joins the piece before it.
    const last = messages.pop();
    messages.push(last === undefined ? whole.subarray(at) : Buffer.concat([last, whole.subarray(at)]));
  }
  return { ...v, name: `${v.name}${messages.length > 1 ? `/split${messages.length}` : ""}${binary ? "/bin" : ""}`, messages, binary };
});

export const stompArb: fc.Arbitrary<StompItem> = fc.oneof(
  { arbitrary: valid, weight: 4 },
  { arbitrary: reshaped, weight: 3 },
  { arbitrary: refused, weight: 2 },
);

function describe(batch: StompItem[]): string {
  return batch
    .map((i) => `${i.name}${i.close === undefined ? "" : `→${i.close}`}:${JSON.stringify(Buffer.concat(i.messages).toString("utf8").slice(0, 60))}`)
    .join(" | ");
}

const STACK = /\n\s+at |Error:|\.ts:\d+/;

/** Open /v1/stomp?token=, CONNECT, and wait for CONNECTED; then send `batch` and judge. */
async function runBatch(wsBase: string, token: string, batch: StompItem[]): Promise<{ violation?: string; outcomes: string[] }> {
  const ws = new WebSocket(`${wsBase}/v1/stomp?token=${token}`, ["v12.stomp"]);
  const got: string[] = [];
  let closed: number | undefined;
  const waiters: Array<() => void> = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  ws.on("message", (d) => {
    got.push(String(d));
    wake();
  });
  ws.on("close", (code) => {
    closed = code;
    wake();
  });
  ws.on("error", () => undefined);
  const until = async (f: () => boolean, ms = 5000): Promise<boolean> => {
    const deadline = Date.now() + ms;
    while (!f()) {
      if (Date.now() > deadline) return false;
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return true;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    ws.send(
      frame("CONNECT", [
        ["accept-version", "1.2"],
        ["heart-beat", "0,0"],
      ]),
    );
    if (!(await until(() => got.some((g) => g.startsWith("CONNECTED\n")) || closed !== undefined))) return { violation: "no CONNECTED", outcomes: [] };
    if (closed !== undefined) return { violation: `closed ${closed} before CONNECTED`, outcomes: [] };
    // Items after the first refused one are not sent: the socket is closing.
    const fatal = batch.findIndex((i) => i.close !== undefined);
    const sent = fatal < 0 ? batch : batch.slice(0, fatal + 1);
    for (const i of sent) for (const m of i.messages) ws.send(m, { binary: i.binary });
    const errors = () => got.filter((g) => g.startsWith("ERROR\n"));
    const stackTrace = () => errors().find((e) => STACK.test(e));
    if (fatal >= 0) {
      const want = sent[fatal]?.close;
      if (!(await until(() => closed !== undefined))) return { violation: `expected close ${want}, socket still open`, outcomes: [] };
      if (closed !== want)
        return { violation: `expected close ${want}, got ${closed} (${errors()[0]?.slice(0, 120) ?? "no ERROR"})`, outcomes: [`close:${closed}`] };
      if (errors().length === 0) return { violation: `close ${closed} without an ERROR frame`, outcomes: [`close:${closed}`] };
      const trace = stackTrace();
      if (trace !== undefined) return { violation: `stack trace in ERROR: ${trace.slice(0, 200)}`, outcomes: [] };
      return { outcomes: [`close:${closed}`] };
    }
    ws.send(
      frame("SUBSCRIBE", [
        ["id", "sentinel"],
        ["destination", "/user/queue/sentinel"],
        ["receipt", "sentinel"],
      ]),
    );
    if (!(await until(() => got.some((g) => g.startsWith("RECEIPT\nreceipt-id:sentinel\n")) || closed !== undefined))) {
      return { violation: "the sentinel SUBSCRIBE got no RECEIPT: the parser is out of step", outcomes: [] };
    }
    if (closed !== undefined)
      return { violation: `closed ${closed} on valid frames (${errors()[0]?.slice(0, 160) ?? "no ERROR"})`, outcomes: [`close:${closed}`] };
    return { outcomes: ["open"] };
  } finally {
    ws.terminate();
  }
}

/** `mint` gives each batch a token of a fresh user, so closing sockets never press MAX_SESSIONS_PER_USER. */
export function stompLane(wsBase: string, mint: () => Promise<string>, runs: number): Lane<StompItem[]> {
  return {
    name: "stomp-frames",
    arb: fc.array(stompArb, { minLength: 1, maxLength: 12 }),
    runs,
    run: async (batch) => {
      const out = await runBatch(wsBase, await mint(), batch);
      return { outcomes: out.outcomes, inputs: batch.length, ...(out.violation === undefined ? {} : { violation: out.violation }) };
    },
    describe,
  };
}
