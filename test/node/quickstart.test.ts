/**
 * The README's Quick start, run as written: its terminal blocks, extracted
 * from README.md, go one by one into a bash whose PATH has the system Node
 * (20 here) first, as a fresh shell would, against a real `npm run dev`. Only
 * the port (8787) is substituted. Each block's `# →` lines are what it must
 * print (`…` matches anything on the line); the client's first frame must be
 * `welcome`; npm run dev must print no network noise (offline machine).
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { NOISE, startService, userEnv, type Service } from "../../scripts/lib/service.ts";
import { ROOT } from "../../tools/lib/workerd.ts";
import { eventually } from "../../scripts/lib/time.ts";

const README_PORT = "8787";
const BLOCK_TIMEOUT_MS = 60_000;

interface Block {
  code: string;
  expect: RegExp[];
}

/** The ```sh blocks of the Quick start after "From a second terminal", with their `# →` lines. */
export function quickStartBlocks(readme: string): Block[] {
  const start = readme.indexOf("## Quick start");
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end);
  const walkthrough = section.slice(section.indexOf("From a second terminal"));
  const blocks: Block[] = [];
  for (const m of walkthrough.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const code = m[1] ?? "";
    const expect = code
      .split("\n")
      .filter((l) => l.startsWith("# → "))
      .map((l) => new RegExp(l.slice(4).split("…").map(escape).join("[^\\n]*?")));
    blocks.push({ code, expect });
  }
  return blocks;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

let dev: Service | undefined;
let shellPid: number | undefined;
afterAll(async () => {
  // The background client of block 2 lives in the shell's process group.
  if (shellPid !== undefined) {
    try {
      process.kill(-shellPid, "SIGKILL");
    } catch {
      // gone
    }
  }
  await dev?.stop();
});

describe("README Quick start", () => {
  it("has the blocks this test runs", () => {
    const blocks = quickStartBlocks(readFileSync(join(ROOT, "README.md"), "utf8"));
    expect(blocks.length).toBe(3);
    expect(blocks[0]?.code).toContain("export TOKEN=");
    expect(blocks.flatMap((b) => b.expect).length).toBeGreaterThanOrEqual(4);
  });

  it("runs as written against npm run dev, printing what it shows", { timeout: 300_000 }, async () => {
    const blocks = quickStartBlocks(readFileSync(join(ROOT, "README.md"), "utf8"));
    dev = await startService({ kind: "dev" });
    const port = String(dev.port);

    const shell = spawn("bash", ["--norc", "--noprofile"], { cwd: ROOT, env: userEnv(), detached: true, stdio: ["pipe", "pipe", "pipe"] });
    shellPid = shell.pid;
    let out = "";
    shell.stdout.on("data", (c: Buffer) => (out += c.toString()));
    shell.stderr.on("data", (c: Buffer) => (out += c.toString()));
    // The shell has the system Node, not the pinned one: what the README claims to work with.
    shell.stdin.write("node --version\n");

    for (const [i, block] of blocks.entries()) {
      const from = out.length;
      shell.stdin.write(`${block.code.replaceAll(README_PORT, port)}\n`);
      const missing = () => block.expect.filter((re) => !re.test(out.slice(from)));
      // Block 1 prints nothing; wait until the variable it exports is there.
      if (block.expect.length === 0) shell.stdin.write('echo "token:${#TOKEN}"\n');
      const done = () => (block.expect.length === 0 ? /token:\d{2,}/.test(out.slice(from)) : missing().length === 0);
      await eventually(`README block ${i + 1}`, () => done() || shell.exitCode !== null, BLOCK_TIMEOUT_MS).catch(() => undefined);
      if (!done()) {
        if (shell.exitCode !== null) throw new Error(`the shell exited:\n${out}`);
        throw new Error(
          `README block ${i + 1} did not print ${missing().map(String).join(", ")} within ${BLOCK_TIMEOUT_MS / 1000} s; shell printed:\n${out}\n--- npm run dev:\n${dev.output().slice(-2000)}`,
        );
      }
    }

    // It ran on the shell's own Node (20 on this machine), not the project's pinned 22.
    expect(out).toMatch(/^v\d+\./);
    if (process.env.SB_SHOW_QUICKSTART === "1") console.log(out);
    expect(out).not.toMatch(/ReferenceError|Error:/);
    const frames = out.split("\n").filter((l) => l.startsWith('{"type"'));
    expect(frames[0]).toMatch(/^\{"type":"welcome"/);
    expect(frames.map((f) => (JSON.parse(f) as { type: string }).type)).toEqual(["welcome", "message"]);
    expect(dev.output()).not.toMatch(NOISE);
  });
});
