/**
 * The harness's ports (scripts/lib/janitor.ts, through service.ts's pickPorts):
 * vitest runs node-project files in parallel processes, each of which only
 * knows its own ports, so a port is claimed for the whole machine while its
 * process lives, and free for the taking once that process is gone.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "../../tools/lib/workerd.ts";

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill("SIGKILL");
});

/** A process that picks `count` ports from `preferred` and holds them until its stdin closes. */
function picker(count: number, preferred: number): { child: ChildProcess; ports: Promise<number[]>; exited: Promise<number | null> } {
  const script = `import { pickPorts } from ${JSON.stringify(join(ROOT, "scripts/lib/service.ts"))};
console.log(JSON.stringify(await pickPorts(${count}, ${preferred})));
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] });
  children.push(child);
  const ports = new Promise<number[]>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes("\n")) resolve(JSON.parse(out) as number[]);
    });
    child.once("exit", (code) => reject(new Error(`picker exited (${String(code)}) before printing its ports`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, ports, exited };
}

describe("port claims across processes", () => {
  it("gives two processes picking at once from the same port disjoint ports, and frees them when each exits", async () => {
    const a = picker(25, 9300);
    const b = picker(25, 9300);
    const [pa, pb] = await Promise.all([a.ports, b.ports]);
    expect(pa).toHaveLength(25);
    expect(pb).toHaveLength(25);
    expect(pa.filter((p) => pb.includes(p))).toEqual([]);
    const claims = join(tmpdir(), "switchboard-port-claims");
    expect([...pa, ...pb].every((p) => existsSync(join(claims, String(p))))).toBe(true);

    a.child.stdin?.end();
    b.child.stdin?.end();
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
    expect([...pa, ...pb].filter((p) => existsSync(join(claims, String(p))))).toEqual([]);
  });

  it("takes over the claim of a process that died without releasing it", async () => {
    const a = picker(1, 9350);
    const [port] = await a.ports;
    a.child.kill("SIGKILL"); // no exit hook runs: its claim file stays behind
    await a.exited;
    expect(existsSync(join(tmpdir(), "switchboard-port-claims", String(port)))).toBe(true);
    const b = picker(1, port as number);
    expect(await b.ports).toEqual([port]);
    b.child.stdin?.end();
    expect(await b.exited).toBe(0);
  });
});
