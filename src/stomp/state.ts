/**
 * A STOMP socket's own state, kept in its attachment under the key "stomp"
 * (so it survives hibernation), and read back defensively.
 */
import { isDevice } from "@switchboard/protocol";
import { STOMP_VERSIONS, type StompVersion } from "./frame";

export const STOMP_DIALECT = "stomp";

export type AckMode = "auto" | "client" | "client-individual";
export const ACK_MODES: readonly AckMode[] = ["auto", "client", "client-individual"];

export interface Subscription {
  id: string;
  destination: string;
  ack: AckMode;
}

export interface StompState {
  /** CONNECTED was sent: the socket is a session (counted, sent pushes). */
  connected: boolean;
  version: StompVersion;
  /** The token's expiry (ms); the session's expiresAt is the CONNECT deadline until CONNECTED. */
  tokenExpiresAt: number;
  /** Where the device resumes (its cursor at CONNECT): each SUBSCRIBE replays its destination's stored messages after it. */
  from: number;
  subs: Subscription[];
}

/** Subscriptions one socket may hold. */
export const MAX_SUBSCRIPTIONS = 32;
const MAX_SUB_ID = 128;

/** `/user/queue/{name}`, with the name rules of a device: a push's `event` picks it. */
const USER_QUEUE = "/user/queue/";
export const DEFAULT_EVENT_QUEUE = "messages";

export function destinationFor(event: string | undefined): string {
  return `${USER_QUEUE}${event ?? DEFAULT_EVENT_QUEUE}`;
}

export function isUserQueue(destination: string): boolean {
  return destination.startsWith(USER_QUEUE) && isDevice(destination.slice(USER_QUEUE.length));
}

const num = (v: unknown): v is number => typeof v === "number" && !Number.isNaN(v);

export function readStompState(raw: unknown): StompState | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const s = raw as Record<string, unknown>;
  const version = STOMP_VERSIONS.find((v) => v === s.version);
  if (version === undefined || !num(s.tokenExpiresAt) || !num(s.from)) return undefined;
  const subs = Array.isArray(s.subs)
    ? s.subs
        .filter((x): x is Record<string, unknown> => typeof x === "object" && x !== null)
        .flatMap((x): Subscription[] => {
          const ack = ACK_MODES.find((a) => a === x.ack);
          if (typeof x.id !== "string" || x.id.length > MAX_SUB_ID || typeof x.destination !== "string" || !isUserQueue(x.destination) || ack === undefined)
            return [];
          return [{ id: x.id, destination: x.destination, ack }];
        })
        .slice(0, MAX_SUBSCRIPTIONS)
    : [];
  return { connected: s.connected === true, version, tokenExpiresAt: s.tokenExpiresAt, from: s.from, subs };
}

export { MAX_SUB_ID };
