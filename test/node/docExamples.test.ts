/**
 * Doc examples run as written (the Quick start has its own test,
 * quickstart.test.ts): the webhook `verify()` snippet of docs/http-api.md,
 * extracted from the page and imported as a module, on genuine signatures
 * and on malformed headers (hand-picked and
 * generated): `false`, never a throw; and the development endpoints' curl
 * examples, run with curl against standalone workerd with DEV_MODE=1 (only
 * the address substituted), each `# ` line what the command printed.
 */
import { execFile } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePorts } from "../../scripts/lib/janitor.ts";
import { Service } from "../../scripts/lib/service.ts";
import { ROOT } from "./npmScript.ts";

const run = promisify(execFile);
const HTTP_API = readFileSync(join(ROOT, "docs/http-api.md"), "utf8");

/** The fenced blocks of `lang` in `text` after the first occurrence of `after`, up to the next `## ` heading. */
function blocks(text: string, after: string, lang: string): string[] {
  const start = text.indexOf(after);
  if (start < 0) throw new Error(`no "${after}" in the page`);
  const end = text.indexOf("\n## ", start + after.length);
  const section = text.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1] ?? "");
}

/** `t=<t>,v1=<hex>` with hex = HMAC-SHA256(secret, `<t>.<body>`), as the page documents (src/webhooks/sign.ts; that one needs workerd's crypto). */
async function signatureHeader(secret: string, t: number, body: string): Promise<string> {
  return `t=${t},v1=${createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")}`;
}

type Verify = (secret: string, header: unknown, rawBody: string | Buffer) => boolean;
const temp = mkdtempSync(join(tmpdir(), "sb-doc-examples-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe("docs/http-api.md: the webhook verify() snippet", () => {
  let verify: Verify;
  const SECRET = "whsec-doc-example";
  const BODY = '{"id":"e1","type":"user.offline","userId":"alice","at":1795000000000}';
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    const [snippet] = blocks(HTTP_API, "Verifying in Node", "js");
    expect(snippet).toContain("function verify(secret, header, rawBody)");
    const file = join(temp, "verify.mjs");
    writeFileSync(file, `${snippet}\nexport { verify };\n`);
    ({ verify } = (await import(pathToFileURL(file).href)) as { verify: Verify });
  });

  it("accepts a signature made as documented, on the body as a string or as bytes", async () => {
    const header = await signatureHeader(SECRET, now(), BODY);
    expect(verify(SECRET, header, BODY)).toBe(true);
    expect(verify(SECRET, header, Buffer.from(BODY))).toBe(true);
  });

  it("refuses another secret, another body, and a timestamp over 5 minutes away", async () => {
    const header = await signatureHeader(SECRET, now(), BODY);
    expect(verify("another-secret", header, BODY)).toBe(false);
    expect(verify(SECRET, header, `${BODY} `)).toBe(false);
    expect(verify(SECRET, await signatureHeader(SECRET, now() - 301, BODY), BODY)).toBe(false);
    expect(verify(SECRET, await signatureHeader(SECRET, now() + 301, BODY), BODY)).toBe(false);
  });

  it("answers false, without throwing, to malformed headers", async () => {
    const good = await signatureHeader(SECRET, now(), BODY);
    const mac = good.split("v1=")[1] as string;
    const t = String(now());
    const malformed: unknown[] = [
      undefined,
      null,
      "",
      ",",
      "=",
      "garbage",
      `t=${t}`,
      `v1=${mac}`,
      `t=,v1=${mac}`,
      `t=abc,v1=${mac}`,
      `t=${t},v1=`,
      `t=${t},v1=zz`,
      `t=${t},v1=${mac.slice(2)}`, // 31 bytes: timingSafeEqual's RangeError in the old snippet
      `t=${t},v1=${mac}00`,
      `t=${t},v1=${"g".repeat(64)}`,
      `t=${t}.5,v1=${mac}`,
      `t=-${t},v1=${mac}`,
      `t=${t},v1=${mac.toUpperCase().replace(/./, "0")}`,
      `__proto__=1,constructor=2,t=${t}`,
      ["t=1", "v1=2"],
      42,
    ];
    for (const header of malformed) expect(() => verify(SECRET, header, BODY), String(header)).not.toThrow();
    for (const header of malformed) expect(verify(SECRET, header, BODY), String(header)).toBe(false);
  });

  it("never throws on generated headers, and accepts only the genuine one", async () => {
    const good = await signatureHeader(SECRET, now(), BODY);
    const headers = fc.oneof(
      fc.string(),
      fc.string({ unit: fc.constantFrom("t", "v", "1", "=", ",", " ", "a", "f", "0", "9", "x") }),
      // The genuine header with characters cut, swapped or inserted.
      fc.tuple(fc.nat(good.length), fc.nat(good.length), fc.string({ maxLength: 3 })).map(([a, b, s]) => good.slice(0, Math.min(a, b)) + s + good.slice(Math.max(a, b))),
    );
    fc.assert(
      fc.property(headers, (header) => {
        const result = verify(SECRET, header, BODY);
        expect(typeof result).toBe("boolean");
        if (result) expect(header.replace(/\s/g, "")).toContain(good.split(",")[1]);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("docs/http-api.md: the development endpoints' examples", () => {
  let svc: Service | undefined;

  beforeAll(async () => {
    const [port] = await freePorts(1, 9380, 9399);
    svc = await Service.start({ port: port as number, knobs: { JWT_SECRET: "doc-examples-jwt-secret-0123456789abcdef", API_KEY: "doc-examples-api-key-0123", DEV_MODE: "1" } });
  }, 120_000);
  afterAll(async () => {
    await svc?.stop();
  });

  it("print what their # lines show, with curl", async () => {
    const [block] = blocks(HTTP_API, "## Development endpoints", "sh");
    const lines = (block ?? "").split("\n").filter((l) => l.trim() !== "");
    const pairs: Array<{ command: string; shows: string }> = [];
    for (const [i, line] of lines.entries()) if (line.startsWith("curl ")) pairs.push({ command: line, shows: (lines[i + 1] ?? "").replace(/^# /, "") });
    expect(pairs.length).toBeGreaterThanOrEqual(2);
    const user = `doc-${process.pid}-${Date.now().toString(36)}`;
    for (const { command, shows } of pairs) {
      const written = command.replaceAll("http://localhost:8787", (svc as Service).base).replaceAll("user=alice", `user=${user}`);
      const { stdout } = await run("bash", ["--norc", "--noprofile", "-c", written], { timeout: 30_000 });
      const pattern = new RegExp(`^${shows.split("…").map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("[^\\n]*?")}$`);
      expect(stdout.trim(), command).toMatch(pattern);
    }
  });
});
