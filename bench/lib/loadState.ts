/**
 * The load generator's shared state: its session groups, the pushes still
 * awaiting deliveries, and the per-phase delivery counters. Every arriving
 * frame is checked here (right id, right payload, once per session).
 */
import { performance } from "node:perf_hooks";
import type WebSocket from "ws";
import type { Target } from "./messages.ts";

export interface Sock {
  ws: WebSocket;
  user: UserEntry;
  pos: number;
  open: boolean;
}

export interface UserEntry {
  id: string;
  socks: Sock[];
}

export interface Group {
  target: Target;
  users: UserEntry[];
}

export const groups = new Map<string, Group>();

export interface Pending {
  /** When the push was sent (open mode: scheduled), performance.now() ms. */
  t0: number;
  user: UserEntry;
  /** Which of the user's sockets got it. */
  got: Uint8Array;
  expected: number;
  received: number;
  /** The payload marker the frame must carry. */
  k: number;
}

export const pending = new Map<string, Pending>();
/** Deliveries still expected across all pending pushes. */
export const counts = { outstanding: 0 };

/** Per-phase counters, reset by each push command. */
export const phase = {
  deliveries: 0,
  duplicates: 0,
  corrupt: 0,
  unexpected: 0,
  latencies: [] as number[],
  lastDeliveryAt: 0,
};

export function onFrame(sock: Sock, text: string): void {
  let frame: { type?: unknown; id?: unknown; data?: { k?: unknown } };
  try {
    frame = JSON.parse(text) as typeof frame;
  } catch {
    phase.corrupt++;
    return;
  }
  if (frame.type !== "message") return; // welcome (product): handled by connect
  const p = typeof frame.id === "string" ? pending.get(frame.id) : undefined;
  if (p === undefined) {
    phase.unexpected++;
    return;
  }
  if (p.user !== sock.user || sock.pos >= p.got.length) {
    phase.unexpected++;
    return;
  }
  if (p.got[sock.pos] === 1) {
    phase.duplicates++;
    return;
  }
  if (frame.data?.k !== p.k) {
    phase.corrupt++;
    return;
  }
  p.got[sock.pos] = 1;
  p.received++;
  counts.outstanding--;
  phase.deliveries++;
  const now = performance.now();
  phase.lastDeliveryAt = now;
  phase.latencies.push(now - p.t0);
  if (p.received === p.expected) pending.delete(frame.id as string);
}
