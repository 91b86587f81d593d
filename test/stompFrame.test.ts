/**
 * The STOMP frame parser (src/stomp/frame.ts) as properties: escaping round
 * trips, a frame split anywhere across messages parses the same, several
 * frames and EOL beats in one message, and content-length lies are refused
 * or bounded, never misread. fast-check shrinks a failure and prints its seed.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { escapeHeader, parseFrames, unescapeHeader, utf8Length, type StompVersion } from "../src/stomp/frame";

const enc = new TextEncoder();
const bytes = (s: string) => enc.encode(s);
const EMPTY = new Uint8Array(0);

const headerText = fc.string({ unit: "grapheme", maxLength: 40 });
const headerKey = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/).filter((k) => k !== "content-length");
const version = fc.constantFrom<"1.2" | "1.1">("1.2", "1.1");

/** One SUBSCRIBE frame with escaped headers, as a 1.1/1.2 client writes it. */
function written(headers: [string, string][], v: "1.2" | "1.1"): string {
  return `SUBSCRIBE\n${headers.map(([k, val]) => `${escapeHeader(k, v)}:${escapeHeader(val, v)}`).join("\n")}${headers.length ? "\n" : ""}\n\0`;
}

/** Parse a stream delivered in the given chunks, carrying the rest like the dialect does. */
function parseChunks(chunks: Uint8Array[], v: StompVersion | undefined) {
  let rest = EMPTY;
  const frames = [];
  for (const chunk of chunks) {
    const out = parseFrames(rest, chunk, v);
    if (!out.ok) return { error: out.error, frames: [...frames, ...out.frames] };
    frames.push(...out.frames);
    rest = out.rest.slice();
  }
  return { frames, rest };
}

describe("STOMP frame parser", () => {
  it("header values round-trip through 1.2 and 1.1 escaping (\\r only in 1.2), never trimmed", () => {
    fc.assert(
      fc.property(headerText, version, (value, v) => {
        const text = v === "1.1" ? value.replace(/\r/g, "") : value;
        expect(unescapeHeader(escapeHeader(text, v), v)).toBe(text);
      }),
    );
  });

  it("an undefined escape is an error, never a guess", () => {
    fc.assert(
      fc.property(fc.constantFrom("\\t", "\\x", "\\", "a\\0", "\\C"), version, (raw, v) => {
        expect(unescapeHeader(raw, v)).toBeUndefined();
      }),
    );
    expect(unescapeHeader("\\r", "1.1")).toBeUndefined();
  });

  it("frames split at any points across messages, with EOL beats between, parse to the same frames in order", () => {
    const frameArb = fc.array(fc.tuple(headerKey, headerText), { maxLength: 5 });
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 4 }), version, fc.array(fc.nat(), { maxLength: 6 }), (frames, v, cuts) => {
        // 1.1 has no \r escape: a raw CR inside a 1.1 value is not something a 1.1 client can write.
        const clean = frames.map((h) => h.map(([k, val]): [string, string] => [k, v === "1.1" ? val.replace(/\r/g, "") : val]));
        const stream = bytes(clean.map((h) => `\n${written(h, v)}\r\n`).join(""));
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let at = 0;
        for (const p of [...points, stream.length]) {
          chunks.push(stream.subarray(at, p));
          at = p;
        }
        const out = parseChunks(chunks, v);
        expect(out.error).toBeUndefined();
        expect(out.frames.length).toBe(frames.length);
        out.frames.forEach((f, i) => {
          const expected = new Map<string, string>();
          for (const [k, val] of clean[i] ?? []) if (!expected.has(k)) expected.set(k, val);
          expect(Object.fromEntries(f.headers)).toEqual(Object.fromEntries(expected));
          expect(f.command).toBe("SUBSCRIBE");
        });
      }),
    );
  });

  it("content-length counts UTF-8 octets and lets a body hold NUL; a lie is an error or an unfinished frame, never a misread", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 30 }), fc.integer({ min: -5, max: 5 }), (body, lie) => {
        const octets = utf8Length(body);
        expect(octets).toBe(bytes(body).length);
        const declared = octets + lie;
        if (declared < 0) return;
        const out = parseFrames(EMPTY, bytes(`SEND\ncontent-length:${declared}\n\n${body}\0`), "1.2");
        if (lie === 0) {
          expect(out.ok && out.frames[0]?.body).toEqual(bytes(body));
        } else if (out.ok) {
          // Too long a claim: the frame waits for more octets, nothing is delivered.
          expect(out.frames).toEqual([]);
          expect(lie).toBeGreaterThan(0);
        } else {
          expect(out.error).toMatch(/NUL|content-length/);
        }
      }),
    );
    const withNul = parseFrames(EMPTY, bytes("SEND\ncontent-length:3\n\na\0b\0"), "1.2");
    expect(withNul.ok && [...(withNul.frames[0]?.body ?? [])]).toEqual([97, 0, 98]);
  });

  it("CONNECT headers are not unescaped; the first of a repeated header wins; unknown commands and bad UTF-8 are errors", () => {
    const connect = parseFrames(EMPTY, bytes("CONNECT\npasscode:a\\b:c\npasscode:second\n\n\0"), undefined);
    expect(connect.ok && connect.frames[0]?.headers.get("passcode")).toBe("a\\b:c");
    expect(parseFrames(EMPTY, bytes("HELLO\n\n\0"), "1.2")).toMatchObject({ ok: false, error: "unknown command: HELLO" });
    expect(parseFrames(EMPTY, new Uint8Array([0x41, 0x43, 0x4b, 0x0a, 0xff, 0x3a, 0x0a, 0x0a, 0x00]), "1.2")).toMatchObject({ ok: false });
  });

  it("a frame whose NUL comes before its headers end (bare CR line ends, no blank line) is an error, not a wait for more", () => {
    for (const text of ["SUBSCRIBE\rid:0\rdestination:/user/queue/a\r\r\0", "SUBSCRIBE\nid:0\0", "DISCONNECT\0"]) {
      expect(parseFrames(EMPTY, bytes(text), "1.2"), JSON.stringify(text)).toMatchObject({ ok: false, error: expect.stringContaining("NUL") });
    }
    // Still a wait when no NUL has come: the rest of a split frame may follow.
    expect(parseFrames(EMPTY, bytes("SUBSCRIBE\nid:0"), "1.2")).toMatchObject({ ok: true, frames: [] });
  });
});
