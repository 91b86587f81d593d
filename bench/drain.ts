/**
 * npm run bench -- --drain [--sessions N] [--drain-ms D] — how long `npm run serve` takes to
 * stop on SIGTERM with N sessions open (one per user): from the signal until
 * every client has its 1001 and until serve has exited. This is what
 * SWITCHBOARD_DRAIN_MS must cover (docs/operations.md, "Stopping").
 */
import { randomBytes } from "node:crypto";
import { startService } from "../scripts/lib/service.ts";
import { clientToken } from "../scripts/lib/tokens.ts";
import { isOpen, openSession, type Session } from "../scripts/lib/wsSession.ts";
import { mapLimit } from "../src/util/mapLimit.ts";
import { intOption } from "./lib/options.ts";

export async function drainBench(argv: string[]): Promise<void> {
  const sessions = intOption(argv, "--sessions", 1000);
  const drainMs = intOption(argv, "--drain-ms", 3000);
  const secret = `drain-jwt-${randomBytes(24).toString("hex")}`;
  const serve = await startService({
    kind: "serve",
    direct: true,
    env: {
      JWT_SECRET: secret,
      API_KEY: `drain-api-${randomBytes(12).toString("hex")}`,
      SWITCHBOARD_NOFILE: String(sessions * 5 + 1000),
      SWITCHBOARD_DRAIN_MS: String(drainMs),
    },
  });
  const open = await mapLimit(
    Array.from({ length: sessions }, (_, i) => i),
    50,
    async (i) => {
      const s = await openSession(`${serve.wsBase}/v1/connect?token=${clientToken(secret, `drain-${i}`)}`, { light: true });
      if (!isOpen(s)) throw new Error(`session ${i}: ${JSON.stringify(s)}`);
      // The one frame after open the protocol asks for; wait for its answer (an error frame: it is
      // no frame type of ours), so the service has seen it before the SIGTERM.
      const heard = s.frames.length + s.other.length;
      s.ws.send(JSON.stringify({ type: "ping" }));
      if (!(await s.until(() => s.frames.length + s.other.length > heard, 30_000))) throw new Error(`session ${i}: no answer to its first frame`);
      return s;
    },
  );
  const t0 = Date.now();
  process.kill(serve.pid as number, "SIGTERM");
  const code = await serve.exited;
  const exitMs = Date.now() - t0;
  await Promise.all(open.map((s: Session) => s.waitClosed(5000)));
  const codes = new Map<number, number>();
  let lastClose = 0;
  for (const s of open) {
    codes.set(s.closed?.code ?? 0, (codes.get(s.closed?.code ?? 0) ?? 0) + 1);
    lastClose = Math.max(lastClose, (s.closed?.at ?? 0) - t0);
  }
  process.stdout.write(
    `drain: ${sessions} sessions, SWITCHBOARD_DRAIN_MS=${drainMs}; serve exited ${code} after ${exitMs} ms; last client close ${lastClose} ms after SIGTERM; close codes ${JSON.stringify(Object.fromEntries(codes))}\n` +
      `${serve
        .output()
        .split("\n")
        .filter((l) => /closed \d+ WebSocket|SIGKILL|stopping/.test(l))
        .join("\n")}\n`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await drainBench(process.argv.slice(2));
