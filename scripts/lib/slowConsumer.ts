/**
 * Slow consumer: one user with a healthy session and a session whose client
 * stopped reading (its TCP socket is paused: the kernel buffers fill, then the
 * server's sends have nowhere to go). Pushes keep coming. Measured: whether the
 * healthy session still gets every push promptly, and workerd's RSS against
 * the bytes pushed — bounded, or growing with the backlog.
 */
import type { Socket } from "node:net";
import { encodeAck } from "@switchboard/protocol";
import type { Api } from "./api.ts";
import { sleep } from "./time.ts";
import type { Service } from "./service.ts";
import { isOpen, openSession, type Session } from "./wsSession.ts";

export interface SlowOptions {
  user: string;
  token: string;
  /** Bytes of `data` per push. */
  messageBytes: number;
  pushes: number;
  /** Pushes in flight at once. */
  concurrency: number;
  /** Pushes per second, all workers together (0 = as fast as possible). */
  rate?: number;
  log: (line: string) => void;
}

export interface SlowResult {
  pushed: number;
  pushedBytes: number;
  healthyReceived: number;
  healthyMaxLagMs: number;
  stalledReceivedBeforePause: number;
  rssStart: number;
  rssPeak: number;
  rssEnd: number;
  /** [MiB pushed, MiB RSS] samples. */
  samples: Array<[number, number]>;
  /** After the stalled client resumes reading: did it get everything (in order)? */
  stalledCaughtUp: boolean;
  stalledReceivedAfterResume: number;
  rssAfterDrain: number;
  detail: string;
}

export async function slowConsumer(svc: Service, api: Api, o: SlowOptions): Promise<SlowResult> {
  const url = (device: string) => `${svc.wsBase}/v1/connect?device=${device}`;
  const healthyR = await openSession(url("healthy"), { headers: { Authorization: `Bearer ${o.token}` }, light: true });
  const stalledR = await openSession(url("stalled"), { headers: { Authorization: `Bearer ${o.token}` }, light: true });
  if (!isOpen(healthyR) || !isOpen(stalledR)) throw new Error("slow consumer: could not open sessions");
  const healthy: Session = healthyR;
  const stalled: Session = stalledR;
  await healthy.until(() => healthy.welcome !== undefined);
  await stalled.until(() => stalled.welcome !== undefined);
  // Stop reading: the ws library's underlying TCP socket.
  const raw = (stalled.ws as unknown as { _socket: Socket })._socket;
  raw.pause();
  const stalledBefore = stalled.messageCount;
  const payload = "p".repeat(o.messageBytes);
  const rssStart = svc.rss() ?? 0;
  let rssPeak = rssStart;
  const samples: Array<[number, number]> = [];
  let maxLag = 0;
  healthy.ws.on("message", (data) => {
    const m = /"data":\{"t":(\d+)/.exec(data.toString().slice(0, 200));
    if (m?.[1] !== undefined) maxLag = Math.max(maxLag, Date.now() - Number(m[1]));
  });
  // The healthy client acks like the SDK (cumulative, batched, within a second).
  const acker = setInterval(() => {
    const top = healthy.seqs[healthy.seqs.length - 1];
    if (top !== undefined) healthy.send(encodeAck(top));
  }, 500);
  let pushed = 0;
  let lastSeq = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (next < o.pushes) {
        next++;
        const res = await api.push(o.user, { data: { t: Date.now(), p: payload } });
        if (res.ok && res.body.seq !== null) {
          pushed++;
          lastSeq = Math.max(lastSeq, res.body.seq);
        }
        if ((o.rate ?? 0) > 0) await sleep((1000 * o.concurrency) / (o.rate ?? 1));
        if (pushed % 50 === 0) {
          const rss = svc.rss() ?? 0;
          rssPeak = Math.max(rssPeak, rss);
          samples.push([(pushed * o.messageBytes) / 2 ** 20, rss / 2 ** 20]);
        }
      }
    }),
  );
  await healthy.until(() => healthy.messageCount >= pushed, 20_000);
  clearInterval(acker);
  await sleep(1000);
  const rssEnd = svc.rss() ?? 0;
  rssPeak = Math.max(rssPeak, rssEnd);
  o.log(
    `  slow: pushed ${pushed} × ${o.messageBytes} B = ${((pushed * o.messageBytes) / 2 ** 20).toFixed(0)} MiB; healthy got ${healthy.messageCount} (max lag ${maxLag} ms); ` +
      `workerd RSS ${(rssStart / 2 ** 20).toFixed(0)} → peak ${(rssPeak / 2 ** 20).toFixed(0)} MiB`,
  );
  // Resume reading: what was buffered arrives; if the server closed the session meanwhile, resume
  // with ?since=<last seq seen> as the SDK does. Either way every seq must arrive once, in order.
  raw.resume();
  const firstSeq = lastSeq - pushed + 1;
  const seen = new Set<number>();
  const order: number[] = [];
  const take = (s: Session) => {
    for (const q of s.seqs) {
      if (!seen.has(q)) order.push(q);
      seen.add(q);
    }
  };
  await stalled.until(() => stalled.seqs.includes(lastSeq) || stalled.closed !== undefined, 60_000);
  take(stalled);
  let closedWith: number | undefined = stalled.closed?.code;
  let resumed: Session | undefined;
  if (!seen.has(lastSeq)) {
    const since = order.length > 0 ? Math.max(...order) : firstSeq - 1;
    const r = await openSession(`${svc.wsBase}/v1/connect?device=stalled&since=${since}`, { headers: { Authorization: `Bearer ${o.token}` }, light: true });
    if (isOpen(r)) {
      resumed = r;
      await r.until(() => r.seqs.includes(lastSeq), 30_000);
      take(r);
    }
  }
  let missing = 0;
  for (let q = firstSeq; q <= lastSeq; q++) if (!seen.has(q)) missing++;
  const ordered = order.every((q, i) => i === 0 || q > (order[i - 1] ?? 0));
  const caught = missing === 0;
  await sleep(1500);
  const rssAfterDrain = svc.rss() ?? 0;
  healthy.close();
  stalled.close();
  resumed?.close();
  closedWith ??= stalled.closed?.code;
  const detail =
    `healthy received ${healthy.messageCount}/${pushed} (max lag ${maxLag} ms); RSS ${(rssStart / 2 ** 20).toFixed(0)} → ${(rssPeak / 2 ** 20).toFixed(0)} MiB ` +
    `while ${((pushed * o.messageBytes) / 2 ** 20).toFixed(0)} MiB were pushed with one reader stalled, ${(rssAfterDrain / 2 ** 20).toFixed(0)} MiB after; ` +
    `stalled session ${closedWith === undefined ? "stayed open" : `closed ${closedWith}`}${resumed ? ", resumed with since" : ""}: ${missing} missing, in order ${ordered}`;
  return {
    pushed,
    pushedBytes: pushed * o.messageBytes,
    healthyReceived: healthy.messageCount,
    healthyMaxLagMs: maxLag,
    stalledReceivedBeforePause: stalledBefore,
    rssStart,
    rssPeak,
    rssEnd,
    samples,
    stalledCaughtUp: caught && ordered,
    stalledReceivedAfterResume: seen.size,
    rssAfterDrain,
    detail,
  };
}
