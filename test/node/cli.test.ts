/**
 * Every npm-script CLI, run as a user runs it (`npm run -s NAME -- …` from a
 * shell whose PATH has the system Node): `--help` prints the usage with its
 * options on stdout and exits 0 without starting anything; an unknown option,
 * a malformed value or a misplaced one prints what was wrong and the usage on
 * stderr and exits 2, with no stack trace. (tools/lib/cli.ts)
 */
import { execFile } from "node:child_process";
import { describe, expect, it } from "vitest";
import { userEnv } from "../../scripts/lib/service.ts";
import { ROOT } from "../../tools/lib/workerd.ts";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function npmRun(script: string, args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile("npm", ["run", "-s", script, "--", ...args], { cwd: ROOT, env: userEnv(), timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
      done({ code, stdout, stderr });
    });
  });
}

/** Each CLI with options its usage must list (a sample; the full list is the CLI's own spec). */
const CLIS: Record<string, string[]> = {
  bench: ["--smoke", "--rounds N", "--profile", "--connect", "--storm", "--users N"],
  cost: ["--users N", "--sessions N", "--heartbeat S", "--token-ttl S"],
  fuzz: ["--seed N|random", "--scale X", "--only", "--path P", "--inject-oracle"],
  chaos: ["--seed N|random", "--users N", "--kills N", "--mass N", "--slow N"],
  token: ["--user USER_ID", "--ttl SECONDS"],
  serve: ["--no-supervise", "SWITCHBOARD_ADDRESS", "JWT_SECRET"],
  dev: ["--port N", "--ip ADDR", "--persist-to DIR", "-- ARGS…"],
};

const STACK_FRAME = /^\s+at .+\(?.+:\d+:\d+\)?$/m;

function expectUsageError(r: Run, script: string, message: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe("");
  expect(r.stderr).toMatch(message);
  expect(r.stderr).toContain(`usage: npm run`);
  expect(r.stderr).toContain(script);
  expect(r.stderr).not.toMatch(STACK_FRAME);
}

describe.concurrent("every npm-script CLI", () => {
  for (const [script, options] of Object.entries(CLIS)) {
    it(`npm run ${script} -- --help prints its options and exits 0`, async () => {
      const r = await npmRun(script, ["--help"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: npm run (-s )?${script} --`));
      for (const o of [...options, "-h, --help"]) expect(r.stdout).toContain(o);
      expect(r.stderr).toBe("");
    });

    it(`npm run ${script} with an unknown option prints the usage and exits 2`, async () => {
      expectUsageError(await npmRun(script, ["--no-such-option"]), script, /Unknown option '--no-such-option'/);
    });
  }

  it("a malformed number is a usage error, not a NaN downstream", async () => {
    expectUsageError(await npmRun("bench", ["--rounds", "five"]), "bench", /--rounds must be a whole number ≥ 1 \(got "five"\)/);
    expectUsageError(await npmRun("cost", ["--users", "lots"]), "cost", /--users must be a number ≥ 0/);
    expectUsageError(await npmRun("chaos", ["--seed", "abc"]), "chaos", /--seed must be a whole number or "random"/);
  });

  it("a missing value and a stray argument are usage errors", async () => {
    expectUsageError(await npmRun("fuzz", ["--only"]), "fuzz", /--only <value>' argument missing/);
    expectUsageError(await npmRun("dev", ["8799"]), "dev", /unexpected argument "8799"/);
  });

  it("bench refuses an option of another mode, and two modes at once", async () => {
    expectUsageError(await npmRun("bench", ["--smoke", "--devices", "2"]), "bench", /--devices is not an option of the default run/);
    expectUsageError(await npmRun("bench", ["--storm", "--connect"]), "bench", /one mode at a time/);
  });
});
