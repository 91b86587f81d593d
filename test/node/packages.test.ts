/**
 * `npm pack` of both packages, installed into an empty scratch project
 * (offline: the tarballs have no dependencies): ESM import works in plain
 * Node (the system Node 20 when there is one, else this Node), and in Bun and
 * Deno when the machine has them (SB_BUN / SB_DENO or PATH), and the types
 * resolve under `tsc --moduleResolution bundler` and `node16`, with the
 * packages' own declarations checked (skipLibCheck off).
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { userEnv } from "../../scripts/lib/service.ts";

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = join(ROOT, "node_modules/.bin");
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");
/** The project's Node 22 first on PATH: the packages' build scripts are TypeScript. */
const ENV = { ...process.env, PATH: `${BIN}:${process.env.PATH ?? ""}`, npm_config_update_notifier: "false" };
const temp = mkdtempSync(join(tmpdir(), "sb-packages-"));
/** The user's app, beside the checkout (temp/switchboard, a link to this one), as the README has it. */
const scratch = join(temp, "my-app");
let tarballs: string[] = [];

afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** The README's install block (under "## Packages"), as written. */
function installBlock(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Packages"));
  return /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
}

beforeAll(async () => {
  symlinkSync(ROOT, join(temp, "switchboard"));
  mkdirSync(scratch);
  writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "my-app", private: true, type: "module" }));
  // From a fresh shell's PATH (the system Node first), in the checkout, offline from the registry:
  // the tarballs have no dependencies.
  const env = { ...userEnv(), npm_config_offline: "true", npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" };
  // `cd` first, so that `..` is the link's parent, as in a user's shell.
  const script = `cd ${JSON.stringify(join(temp, "switchboard"))}\n${installBlock()}`;
  await run("bash", ["--norc", "--noprofile", "-euo", "pipefail", "-c", script], { cwd: temp, env, timeout: 240_000 });
  tarballs = [...installBlock().matchAll(/^npm i \.\.\/switchboard\/(\S+\.tgz)/gm)].map((m) => join(ROOT, m[1] as string));
}, 300_000);

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
let created;
const socketCreated = new Promise((r) => (created = r));
const client = connect({
  url: "https://sb.example.com",
  token,
  environment: null,
  createWebSocket: (url) => {
    socket = { url, readyState: 0, send: (d) => sent.push(d), close() {}, onopen: null, onmessage: null, onclose: null, onerror: null };
    created();
    return socket;
  },
});
// The SDK opens its socket on a later turn: wait for that event, not for a guessed time.
await socketCreated;
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
  it("the README's install lines ran as written: both installed in the app beside the checkout", () => {
    expect(installBlock()).toMatch(/^npm run pack:packages/);
    expect(installBlock()).toMatch(/^cd \.\.\/my-app$/m);
    const installed = JSON.parse(readFileSync(join(scratch, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
    expect(Object.keys(installed.dependencies ?? {}).sort()).toEqual(["@switchboard/client", "@switchboard/server"]);
  });

  it("every doc installs the way the README does, none from the registry (not published yet)", () => {
    const lines = installBlock()
      .split("\n")
      .map((l) => l.replace(/\s+#.*$/, ""));
    for (const [doc, pkg] of [
      ["docs/sdk.md", "client"],
      ["docs/server-sdk.md", "server"],
      ["packages/client/README.md", "client"],
      ["packages/server/README.md", "server"],
    ] as const) {
      const text = readFileSync(join(ROOT, doc), "utf8");
      expect(text, doc).toContain("npm run pack:packages");
      const installs = [...text.matchAll(/^npm i .*$/gm)].map((m) => m[0].replace(/\s+#.*$/, ""));
      expect(installs, doc).toEqual([`npm i ../switchboard/dist-packages/switchboard-${pkg}-0.1.0.tgz`]);
      for (const line of installs) expect(lines, doc).toContain(line);
      expect(text, doc).toMatch(/not on the npm registry yet/i);
    }
    expect(readFileSync(join(ROOT, "README.md"), "utf8")).not.toMatch(/npm i(nstall)? @switchboard\//);
  });

  it("inside the repository the workspaces import as built, which npm ci's prepare script does", async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.prepare).toBe("npm run build:packages");
    const code =
      'const [c, s] = await Promise.all([import("@switchboard/client"), import("@switchboard/server")]); console.log(typeof c.connect, typeof s.Switchboard);';
    const { stdout } = await run(systemNode(), ["--input-type=module", "-e", code], { cwd: ROOT, timeout: 60_000 });
    expect(stdout.trim()).toBe("function function");
  });

  it("npm publish --dry-run is clean: prepack builds each, public access, only the not-logged-in notice", async () => {
    const { stdout, stderr } = await run("npm", ["publish", "--dry-run", "--offline", "-w", "@switchboard/client", "-w", "@switchboard/server"], {
      cwd: ROOT,
      env: ENV,
      timeout: 180_000,
    });
    const out = `${stdout}${stderr}`;
    expect(out).toContain("build:client: packages/client/dist");
    expect(out).toContain("build:server: packages/server/dist");
    expect(out).toContain("+ @switchboard/client@0.1.0");
    expect(out).toContain("+ @switchboard/server@0.1.0");
    expect(out).toMatch(/with tag latest and public access \(dry-run\)/);
    expect(out).not.toMatch(/default access|restricted/);
    // A CI job that publishes has a token; here nobody is logged in, which npm says and nothing else.
    const warnings = out.split("\n").filter((l) => /npm (warn|error|ERR)/i.test(l));
    expect(warnings.filter((l) => !/requires you to be logged in/.test(l))).toEqual([]);
  });

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

  it("bundles @switchboard/protocol (private, unpublished): no dependency on it, no import of it left in dist/", async () => {
    for (const tgz of tarballs) {
      const manifest = JSON.parse((await run("tar", ["-xzOf", tgz, "package/package.json"])).stdout) as Record<string, unknown>;
      for (const field of ["dependencies", "peerDependencies", "optionalDependencies", "bundleDependencies", "bundledDependencies"]) {
        expect(manifest[field], `${tgz}: ${field}`).toBeUndefined();
      }
      const files = (await run("tar", ["-tzf", tgz])).stdout.trim().split("\n");
      expect(files, tgz).toContain("package/dist/protocol/index.d.ts");
      const dist = (await run("tar", ["-xzOf", tgz, ...files.filter((f) => /\.(js|d\.ts)$/.test(f))], { maxBuffer: 64 * 1024 * 1024 })).stdout;
      expect(dist, tgz).not.toMatch(/(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\(\s*)["']@switchboard\/protocol["']/);
      expect(dist, tgz).toMatch(/from "\.\/protocol\/index\.js"/);
    }
  });

  it("a second build leaves public/sdk.js untouched, so a running wrangler dev does not reload and drop its sockets", async () => {
    const sdk = join(ROOT, "public/sdk.js");
    const before = statSync(sdk);
    await run(join(BIN, "node"), [join(ROOT, "packages/client/build.ts")], { cwd: ROOT, env: ENV, timeout: 120_000 });
    const after = statSync(sdk);
    expect({ ino: after.ino, mtimeMs: after.mtimeMs }).toEqual({ ino: before.ino, mtimeMs: before.mtimeMs });
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
        compilerOptions: {
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          target: "es2022",
          lib: ["es2022", "dom", "dom.asynciterable"],
          types: [],
          module: mod,
          moduleResolution: resolution,
        },
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
