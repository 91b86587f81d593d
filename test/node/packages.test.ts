/**
 * `npm pack` of both packages, installed into an empty scratch project
 * (offline: the tarballs have no dependencies): ESM import works in plain
 * Node (the system Node 20 when there is one, else this Node), and in Bun and
 * Deno when the machine has them (SB_BUN / SB_DENO or PATH), and the types
 * resolve under `tsc --moduleResolution bundler` and `node16`, with the
 * packages' own declarations checked (skipLibCheck off).
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = join(ROOT, "node_modules/.bin");
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");
/** The project's Node 22 first on PATH: the packages' build scripts are TypeScript. */
const ENV = { ...process.env, PATH: `${BIN}:${process.env.PATH ?? ""}`, npm_config_update_notifier: "false" };
const temp = mkdtempSync(join(tmpdir(), "sb-packages-"));
const scratch = join(temp, "scratch");
let tarballs: string[] = [];

afterAll(() => rmSync(temp, { recursive: true, force: true }));

beforeAll(async () => {
  await run("npm", ["pack", "-w", "@switchboard/client", "-w", "@switchboard/server", "--pack-destination", temp, "--silent"], {
    cwd: ROOT,
    env: ENV,
    timeout: 120_000,
  });
  tarballs = readdirSync(temp).filter((f) => f.endsWith(".tgz")).map((f) => join(temp, f));
  writeFileSync(join(temp, "package.json"), "{}");
  await run("mkdir", [scratch]);
  writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }));
  await run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--silent", ...tarballs], { cwd: scratch, env: ENV, timeout: 120_000 });
}, 240_000);

const USAGE_TS = `
import { connect, type ConnectOptions, type SwitchboardClient } from "@switchboard/client";
import { mintClientToken, Switchboard, SwitchboardError, verifyWebhook, type PushResult, type PresenceView } from "@switchboard/server";

const sb = new Switchboard({ url: "https://sb.example.com", apiKey: "k", retries: 1 });
export async function use(): Promise<number> {
  const r: PushResult = await sb.push("alice", { hi: 1 }, { ttl: 60, exceptDevice: "web" });
  const p: PresenceView = await sb.presence("alice");
  for await (const m of sb.allMessages("alice", { limit: 10 })) m.seq.toFixed();
  const token: string = await mintClientToken({ secret: "s", userId: "alice", ttlSeconds: 60 });
  const ok: boolean = await verifyWebhook("s", new Headers(), "{}");
  try { await sb.stats(); } catch (e) { if (e instanceof SwitchboardError) e.field?.toUpperCase(); }
  const options: ConnectOptions = { url: "https://sb.example.com", token, device: "phone" };
  const client: SwitchboardClient = connect(options);
  client.on("message", (m) => m.seq?.toFixed());
  // @ts-expect-error -- not an option: proves the types are real, not any
  await sb.push("alice", 1, { tll: 5 });
  return r.delivered + p.sessions.length + (ok ? 1 : 0);
}
`;

const RUN_MJS = `
import { connect } from "@switchboard/client";
import { mintClientToken, Switchboard, SwitchboardError, verifyWebhook } from "@switchboard/server";

const requests = [];
const sb = new Switchboard({
  url: "https://sb.example.com",
  apiKey: "key",
  fetch: async (request) => {
    requests.push({ method: request.method, url: request.url, auth: request.headers.get("authorization"), body: await request.text() });
    if (request.url.endsWith("/v1/stats")) return Response.json({ error: { code: "unauthorized", message: "no", field: "Authorization" } }, { status: 401 });
    return Response.json({ id: JSON.parse(requests.at(-1).body).id, seq: 1, delivered: 1, sessions: 1, stored: true, duplicate: false });
  },
});
const pushed = await sb.push("alice", { hi: 1 });
let error;
try { await sb.stats(); } catch (e) { error = e; }

const token = await mintClientToken({ secret: "s", userId: "alice", ttlSeconds: 60 });
const key = await crypto.subtle.importKey("raw", new TextEncoder().encode("whsec"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
const t = Math.floor(Date.now() / 1000);
const mac = [...new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(t + ".{}")))].map((b) => b.toString(16).padStart(2, "0")).join("");
const verified = await verifyWebhook("whsec", { "switchboard-signature": "t=" + t + ",v1=" + mac }, "{}");

const sent = [];
let socket;
const client = connect({
  url: "https://sb.example.com",
  token,
  environment: null,
  createWebSocket: (url) => (socket = { url, readyState: 0, send: (d) => sent.push(d), close() {}, onopen: null, onmessage: null, onclose: null, onerror: null }),
});
await new Promise((r) => setTimeout(r, 10));
socket.readyState = 1;
socket.onopen({});
client.close();
console.log(JSON.stringify({
  runtime: typeof Bun !== "undefined" ? "bun" : typeof Deno !== "undefined" ? "deno" : "node " + process.version,
  pushed, request: requests[0], error: { name: error?.name, isTyped: error instanceof SwitchboardError, status: error?.status, code: error?.code, field: error?.field },
  tokenSub: JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).sub, verified, socketUrl: socket.url, sent,
}));
`;

function systemNode(): string {
  for (const candidate of ["/usr/bin/node", "/usr/local/bin/node"]) if (existsSync(candidate)) return candidate;
  return process.execPath;
}

/** Bun and Deno, when this machine has them (SB_BUN / SB_DENO, or on PATH); the project does not install them. */
function onPath(name: string, override: string | undefined): string | undefined {
  if (override !== undefined && override !== "" && existsSync(override)) return override;
  for (const dir of (process.env.PATH ?? "").split(":")) if (dir !== "" && existsSync(join(dir, name))) return join(dir, name);
  return undefined;
}
const RUNTIMES: Array<{ name: string; command: string | undefined; args: string[]; expect: RegExp }> = [
  { name: "Node (system)", command: systemNode(), args: ["run.mjs"], expect: /^node v(2[0-9]|[3-9][0-9])\./ },
  { name: "Bun", command: onPath("bun", process.env.SB_BUN), args: ["run.mjs"], expect: /^bun$/ },
  { name: "Deno", command: onPath("deno", process.env.SB_DENO), args: ["run", "--allow-read", "--allow-env", "run.mjs"], expect: /^deno$/ },
];

describe("npm pack of @switchboard/client and @switchboard/server", () => {
  it("packs only dist/, README and package.json, with declarations", async () => {
    expect(tarballs.map((t) => t.split("/").pop()).sort()).toEqual(["switchboard-client-0.1.0.tgz", "switchboard-server-0.1.0.tgz"]);
    for (const tgz of tarballs) {
      const { stdout } = await run("tar", ["-tzf", tgz]);
      const files = stdout.trim().split("\n");
      expect(files).toContain("package/dist/index.js");
      expect(files).toContain("package/dist/index.d.ts");
      expect(files).toContain("package/README.md");
      expect(files.filter((f) => !/^package\/(dist\/|README\.md$|package\.json$)/.test(f))).toEqual([]);
    }
  });

  for (const rt of RUNTIMES) {
    it.skipIf(rt.command === undefined)(`imports and works as ESM in ${rt.name}`, async () => {
      writeFileSync(join(scratch, "run.mjs"), RUN_MJS);
      const { stdout } = await run(rt.command as string, rt.args, { cwd: scratch, timeout: 60_000, env: { ...process.env, NO_COLOR: "1" } });
      const out = JSON.parse(stdout) as Record<string, unknown>;
      expect(out.runtime).toMatch(rt.expect);
      expect(out.pushed).toMatchObject({ seq: 1, delivered: 1 });
      expect(out.request).toMatchObject({ method: "POST", url: "https://sb.example.com/v1/users/alice/messages", auth: "Bearer key" });
      expect(JSON.parse((out.request as { body: string }).body)).toMatchObject({ data: { hi: 1 }, id: expect.any(String) });
      expect(out.error).toEqual({ name: "SwitchboardError", isTyped: true, status: 401, code: "unauthorized", field: "Authorization" });
      expect(out.tokenSub).toBe("alice");
      expect(out.verified).toBe(true);
      expect(out.socketUrl).toBe("wss://sb.example.com/v1/connect");
      // The client's first frame on an open socket is the ping.
      expect(out.sent).toEqual(["ping"]);
    });
  }

  for (const [resolution, mod] of [
    ["bundler", "esnext"],
    ["node16", "node16"],
  ] as const) {
    it(`types resolve with --moduleResolution ${resolution}`, async () => {
      writeFileSync(join(scratch, "usage.ts"), USAGE_TS);
      const config = {
        compilerOptions: { strict: true, noEmit: true, skipLibCheck: false, target: "es2022", lib: ["es2022", "dom", "dom.asynciterable"], types: [], module: mod, moduleResolution: resolution },
        files: ["usage.ts"],
      };
      writeFileSync(join(scratch, `tsconfig.${resolution}.json`), JSON.stringify(config));
      const result = await run(process.execPath, [TSC, "-p", `tsconfig.${resolution}.json`], { cwd: scratch, timeout: 120_000 }).catch(
        (e: { stdout?: string }) => ({ stdout: e.stdout ?? String(e) }),
      );
      expect(result.stdout).toBe("");
    });
  }
});
