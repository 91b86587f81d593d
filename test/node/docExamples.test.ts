/**
 * Doc examples run as written (the Quick start has its own test,
 * quickstart.test.ts): the webhook `verify()` snippet of docs/http-api.md,
 * extracted from the page and imported as a module, on genuine signatures
 * and on malformed headers (hand-picked and
 * generated): `false`, never a throw. Then, against standalone workerd with
 * DEV_MODE=1 (only the address substituted, secrets in the environment):
 * every curl example of the page, each `# ` line what it printed; and the
 * server SDK's examples (docs/server-sdk.md, the README's Packages) run on
 * the system Node as a user's script, types stripped, checked by their effect.
 */
import { execFile } from "node:child_process";
import { createHmac } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { transformSync } from "esbuild";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Service, startService } from "../../scripts/lib/service.ts";
import { ROOT } from "../../tools/lib/workerd.ts";

const run = promisify(execFile);
const HTTP_API = readFileSync(join(ROOT, "docs/http-api.md"), "utf8");
const SERVER_SDK = readFileSync(join(ROOT, "docs/server-sdk.md"), "utf8");
const README = readFileSync(join(ROOT, "README.md"), "utf8");

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
      // Upper case, first digit changed (to one it is not: "0" for a MAC starting "0" was the genuine one).
      `t=${t},v1=${(mac.startsWith("0") ? "1" : "0") + mac.slice(1).toUpperCase()}`,
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
      fc
        .tuple(fc.nat(good.length), fc.nat(good.length), fc.string({ maxLength: 3 }))
        .map(([a, b, s]) => good.slice(0, Math.min(a, b)) + s + good.slice(Math.max(a, b))),
    );
    fc.assert(
      fc.property(headers, (header) => {
        const result = verify(SECRET, header, BODY);
        expect(typeof result).toBe("boolean");
        // Accepted only with the genuine MAC (hex in either case: the same bytes).
        if (result) expect(header.replace(/\s/g, "").toLowerCase()).toContain(good.split(",")[1]);
      }),
      { numRuns: 2000 },
    );
  });
});

/** One curl command of a doc block (continued lines joined as written) and the `# ` lines after it. */
interface Example {
  command: string;
  shows: string | undefined;
}

/** Every ```sh block of the page, split into its commands. */
function curlExamples(page: string): Example[] {
  const examples: Example[] = [];
  for (const m of page.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const lines = (m[1] ?? "").split("\n");
    for (let i = 0; i < lines.length; i++) {
      if (!(lines[i] ?? "").startsWith("curl ")) continue;
      let command = lines[i] as string;
      while (command.endsWith("\\") && i + 1 < lines.length) command += `\n${lines[++i]}`;
      const shown: string[] = [];
      while ((lines[i + 1] ?? "").startsWith("#")) shown.push((lines[++i] as string).replace(/^#\s*/, ""));
      examples.push({ command, shows: shown.length > 0 ? shown.join("") : undefined });
    }
  }
  return examples;
}

/**
 * What a `# ` line promises: the same JSON text, with `…` standing for
 * anything and each number standing for any number (ids, seqs and counts
 * depend on what ran before; the keys, their order and the strings do not).
 */
function shownPattern(shows: string): RegExp {
  const NUMBER = "\u0000";
  const escape = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const parts = shows.split("…").map((part) => escape(part.replace(/(?<=[:,[])-?\d+(?:\.\d+)?(?=[,}\]])/g, NUMBER)).replaceAll(NUMBER, "-?\\d+(?:\\.\\d+)?"));
  return new RegExp(`^${parts.join("[^\\n]*?")}$`);
}

/** Web Push on, so its registration example runs (a test key pair, not the .dev.vars one). */
const DOC_VAPID = {
  VAPID_PUBLIC_KEY: "BFP_lcDlEhPOR8eOnFLkCYrN2uJ-BSaIJzVB0yOuWd0HLhgoSzwjTzZUkM-7e6JefoczrCElCt20MBnH0nCIelo",
  VAPID_PRIVATE_KEY: "d-qkPQd-jhtipHpSiimuGlhhDVpQhhuBeoKZOuytyU0",
  VAPID_SUBJECT: "mailto:ops@switchboard.test",
};

describe("doc examples against standalone workerd (DEV_MODE=1)", () => {
  const API_KEY = "doc-examples-api-key-0123";
  let svc: Service | undefined;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    svc = await startService({ kind: "workerd", knobs: { JWT_SECRET: "doc-examples-jwt-secret-0123456789abcdef", API_KEY, DEV_MODE: "1", ...DOC_VAPID } });
    // The world the examples show: alice on her laptop and on the phone the kick example closes,
    // with a few stored messages already (the stored-messages example reads from seq 6).
    const { token } = (await (await fetch(`${svc.base}/dev/token?user=alice`)).json()) as { token: string };
    for (const device of ["laptop", "stolen-phone"]) {
      const ws = new WebSocket(`${svc.wsBase}/v1/connect?device=${device}`, ["switchboard.v1", `bearer.${token}`]);
      await new Promise<void>((resolve, reject) => {
        ws.onmessage = () => resolve();
        ws.onerror = () => reject(new Error(`connect ${device} failed`));
      });
      ws.send("ping");
      sockets.push(ws);
    }
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${svc.base}/v1/users/alice/messages`, {
        method: "POST",
        headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" },
        body: JSON.stringify({ data: i }),
      });
      expect(res.status).toBe(200);
    }
  }, 120_000);
  afterAll(async () => {
    for (const ws of sockets) ws.close();
    await svc?.stop();
  });

  /** Runs a TypeScript doc snippet as a user's Node 20+ script would (types stripped by esbuild), from an app that installed the SDKs. */
  async function runSnippet(name: string, ts: string, env: Record<string, string>): Promise<string> {
    if (!existsSync(join(temp, "node_modules"))) {
      symlinkSync(join(ROOT, "node_modules"), join(temp, "node_modules"));
      writeFileSync(join(temp, "package.json"), JSON.stringify({ type: "module" }));
    }
    const file = join(temp, `${name}.mjs`);
    const js = transformSync(
      ts.replaceAll("https://switchboard.example.com", (svc as Service).base).replaceAll("https://sb.example.com", (svc as Service).base),
      { loader: "ts", format: "esm" },
    ).code;
    writeFileSync(file, js);
    const node = existsSync("/usr/bin/node") ? "/usr/bin/node" : process.execPath;
    const { stdout } = await run(node, [file], { cwd: temp, env: { PATH: process.env.PATH, ...env }, timeout: 30_000 });
    return stdout;
  }

  const head = async (user: string): Promise<number> =>
    (
      (await (await fetch(`${(svc as Service).base}/v1/users/${user}/messages?limit=1`, { headers: { Authorization: `Bearer ${API_KEY}` } })).json()) as {
        head: number;
      }
    ).head;

  it("server-sdk.md: the first example pushes, as its comment shows", async () => {
    const [snippet] = blocks(SERVER_SDK, "# Server SDK", "ts");
    const before = await head("alice");
    const out = await runSnippet("server-sdk-push", `${snippet}\nconsole.log(JSON.stringify(result));`, { SWITCHBOARD_API_KEY: API_KEY });
    expect(Object.keys(JSON.parse(out) as object)).toEqual(["id", "seq", "delivered", "sessions", "stored", "duplicate"]);
    expect(await head("alice")).toBe(before + 1);
  });

  it("server-sdk.md: the token example mints a token the service accepts", async () => {
    const [snippet] = blocks(SERVER_SDK, "## Client tokens", "ts");
    const out = await runSnippet("server-sdk-token", `${snippet}\nconsole.log(token);`, { JWT_SECRET: "doc-examples-jwt-secret-0123456789abcdef" });
    const ws = new WebSocket(`${(svc as Service).wsBase}/v1/connect?device=doc-token`, ["switchboard.v1", `bearer.${out.trim()}`]);
    const first = await new Promise<string>((resolve, reject) => {
      ws.onmessage = (e) => resolve(String(e.data));
      ws.onclose = (e) => reject(new Error(`closed ${e.code}`));
    });
    ws.close();
    expect(JSON.parse(first)).toMatchObject({ type: "welcome", userId: "alice", device: "doc-token" });
  });

  it("README: the Node half of the Packages example mints a token and pushes", async () => {
    const [example] = blocks(README, "## Packages", "ts");
    const node = (example ?? "").slice((example ?? "").indexOf("// Node"));
    expect(node).toContain("await sb.push(");
    const before = await head("alice");
    await runSnippet("readme-node", node, { SWITCHBOARD_API_KEY: API_KEY, JWT_SECRET: "doc-examples-jwt-secret-0123456789abcdef" });
    expect(await head("alice")).toBe(before + 1);
  });

  it("docs/http-api.md: runs each curl example, as written but for the address, and it prints what its # lines show", async () => {
    const examples = curlExamples(HTTP_API);
    // Push, presence, kick, stored messages, stats, batch, broadcast, and the two dev pushes.
    expect(examples.length).toBeGreaterThanOrEqual(9);
    const base = (svc as Service).base;
    for (const { command, shows } of examples) {
      const written = command.replaceAll("https://switchboard.example.com", base).replaceAll("http://localhost:8787", base);
      const { stdout } = await run("bash", ["--norc", "--noprofile", "-c", written], { env: { PATH: process.env.PATH, API_KEY }, timeout: 30_000 });
      if (shows === undefined) {
        // No # line: an answer that is not a refusal.
        expect(JSON.parse(stdout), command).not.toHaveProperty("error");
      } else {
        expect(stdout.trim(), command).toMatch(shownPattern(shows));
      }
    }
  });
});
