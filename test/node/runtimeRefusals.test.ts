/**
 * What workerd refuses before the Worker runs (README "Refused before the
 * Worker runs"): plain-text answers, not the JSON error shape, checked over
 * raw sockets against `npm run serve`. And two inputs the runtime lets
 * through that used to cost a 5xx: two Host headers (the runtime's URL no
 * longer parses) and a malformed chunked body (the read fails with a
 * "retryable" error, which was answered 503 "retry").
 */
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Service, startService } from "../../scripts/lib/service.ts";

const SECRETS = { JWT_SECRET: "runtime-refusal-jwt-secret-0123456789", API_KEY: "runtime-refusal-api-key-0123" };
let run: Service;
beforeAll(async () => {
  run = await startService({ kind: "serve", env: SECRETS });
}, 120_000);
afterAll(async () => await run?.stop());

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

function send(raw: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(run.port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to ${JSON.stringify(raw.slice(0, 60))}`));
    }, 10_000);
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString("latin1");
      const [head = "", ...rest] = text.split("\r\n\r\n");
      resolve({
        status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0),
        contentType: /\r\ncontent-type: ([^\r]*)/i.exec(head)?.[1] ?? "",
        body: rest.join("\r\n\r\n"),
      });
    });
    socket.write(Buffer.from(raw, "latin1"));
  });
}

const H = "Host: 127.0.0.1\r\nConnection: close\r\n";
const AUTH = `Authorization: Bearer ${SECRETS.API_KEY}\r\nContent-Type: application/json\r\n`;

describe("refused by the runtime before the Worker runs (plain text, not JSON)", () => {
  const cases: Array<[string, string, number, RegExp]> = [
    ["a literal space in the path", `GET /v1/users/a b/presence HTTP/1.1\r\n${H}\r\n`, 400, /^invalid HTTP version parsed/],
    ["a control byte in the path", `GET /heal\x01thz HTTP/1.1\r\n${H}\r\n`, 400, /^invalid URI/],
    ["a non-ASCII byte in the path", `GET /healthz\xff HTTP/1.1\r\n${H}\r\n`, 400, /^invalid URI/],
    ["a header name with a space", `GET /healthz HTTP/1.1\r\n${H}Bad Name: x\r\n\r\n`, 400, /^invalid HTTP header parsed/],
    ["a NUL in a header value", `GET /healthz HTTP/1.1\r\n${H}X-A: a\x00b\r\n\r\n`, 400, /^invalid HTTP header parsed/],
    ["a folded header line", `GET /healthz HTTP/1.1\r\n${H}X-A: a\r\n b\r\n\r\n`, 400, /^invalid HTTP header parsed/],
    ["a bad Content-Length", `POST /v1/stats HTTP/1.1\r\n${H}Content-Length: abc\r\n\r\n`, 400, /^invalid content-length parsed/],
    ["an unknown Transfer-Encoding", `POST /v1/stats HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n`, 400, /^invalid transfer-encoding parsed/],
    ["an unknown method", `FOO /healthz HTTP/1.1\r\n${H}\r\n`, 501, /Unrecognized request method/],
    ["HTTP/2.0 in the request line", `GET /healthz HTTP/2.0\r\n${H}\r\n`, 400, /^invalid HTTP version parsed/],
    ["no Host header", `GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n`, 400, /Bad Request/],
    ["a 64 KiB URL", `GET /${"a".repeat(65_536)} HTTP/1.1\r\n${H}\r\n`, 414, /URI too long/],
    [
      "a 1 MiB request head",
      `GET /healthz HTTP/1.1\r\n${H}${Array.from({ length: 1024 }, (_, i) => `X-${i}: ${"a".repeat(1000)}\r\n`).join("")}\r\n`,
      431,
      /message head is too large/,
    ],
  ];
  it.each(cases)("%s", async (_what, raw, status, body) => {
    const answer = await send(raw);
    expect(answer.status).toBe(status);
    expect(answer.body).toMatch(body);
    expect(answer.contentType).not.toContain("json");
  });
});

describe("let through by the runtime, answered by the Worker (JSON, never a 5xx)", () => {
  it("two Host headers", async () => {
    const health = await send(`GET /healthz HTTP/1.1\r\n${H}Host: other.example\r\n\r\n`);
    expect(health).toMatchObject({ status: 200, body: '{"ok":true}' });
    const upgrade = await send(
      `GET /v1/connect HTTP/1.1\r\n${H}Host: other.example\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: https://evil.example\r\n\r\n`,
    );
    expect(upgrade.status).toBe(403);
    expect(JSON.parse(upgrade.body)).toMatchObject({ error: { code: "origin_not_allowed" } });
  });

  it("a malformed chunked body", async () => {
    const answer = await send(`POST /v1/users/chunky/messages HTTP/1.1\r\n${H}${AUTH}Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: "bad_request", field: "body" } });
  });

  it("a control byte or a non-ASCII byte in a header value, bare LF line ends, a fragment", async () => {
    for (const raw of [
      `GET /healthz HTTP/1.1\r\n${H}X-A: a\x01b\r\n\r\n`,
      `GET /healthz HTTP/1.1\r\n${H}X-A: a\xffb\r\n\r\n`,
      "GET /healthz HTTP/1.1\nHost: 127.0.0.1\nConnection: close\n\n",
      `GET /healthz#x HTTP/1.1\r\n${H}\r\n`,
    ]) {
      expect(await send(raw), JSON.stringify(raw)).toMatchObject({ status: 200, body: '{"ok":true}' });
    }
  });
});
