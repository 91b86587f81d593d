/**
 * Stored pushes round-robin over `users`, each retried with the same id until
 * answered (a push in flight during a crash or a refusal must not be lost or
 * sent twice), until stopped. What the storm benches check delivery against:
 * `answered` maps each user to the seqs the service acknowledged, in order.
 */
import { sleep } from "../../scripts/lib/time.ts";

export interface StoredPushes {
  readonly answered: Map<string, number[]>;
  /** Pushes answered so far. */
  readonly count: () => number;
  /** Stop after the push in flight is answered. */
  stop(): Promise<void>;
}

export function storedPushes(base: string, apiKey: string, users: number, userName: (i: number) => string, pauseMs = 10): StoredPushes {
  const answered = new Map<string, number[]>();
  let pushes = 0;
  let running = true;
  const loop = (async () => {
    for (let n = 0; running; n++) {
      const user = userName(n % users);
      for (;;) {
        try {
          const res = await fetch(`${base}/v1/users/${user}/messages`, {
            method: "POST",
            headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
            body: JSON.stringify({ id: `p-${n}`, data: { n } }),
          });
          if (res.ok) {
            const body = (await res.json()) as { seq: number | null };
            if (typeof body.seq === "number") answered.set(user, [...(answered.get(user) ?? []), body.seq]);
            pushes++;
            break;
          }
          await res.body?.cancel();
        } catch {
          // the service is down: retry the same id
        }
        await sleep(50);
      }
      await sleep(pauseMs);
    }
  })();
  return {
    answered,
    count: () => pushes,
    async stop() {
      running = false;
      await loop;
    },
  };
}
