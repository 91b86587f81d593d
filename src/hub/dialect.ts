/**
 * The one interface every wire dialect (native, Pusher, ...) implements. The
 * hub picks a socket's dialect once, at its upgrade (ConnectParams.dialect),
 * and from then on asks it only the questions below; sessions, the log,
 * cursors and targeting know no dialect. A dialect lives in its own folder
 * (src/native, src/pusher, ...) and is handed to the hub by the composition
 * root (src/userHub.ts), so nothing under src/hub imports a dialect.
 */
import type { Config } from "../config";
import type { MessageLog } from "./log";
import type { ConnectParams } from "./rpc";
import type { Session } from "./session";

/** A message on its way out, before any dialect has encoded it. */
export interface Outgoing {
  id: string;
  /** null for live-only messages. */
  seq: number | null;
  sentAt: number;
  /** The push's `data`, already JSON text (spliced, never re-parsed). */
  dataJson: string;
  /** What the message is (the push's `event`): native frames carry it, STOMP picks the destination by it, Pusher uses it as the event name. */
  event?: string | undefined;
  /**
   * Set on an event addressed to a named channel (Pusher's HTTP events): a
   * dialect with channels sends it only on that channel, as that event, with
   * `data` exactly this string; a dialect without channels sends `dataJson`.
   */
  channel?: { name: string; event: string; data: string } | undefined;
}

/**
 * Turns one outgoing message into the frame one session gets (undefined: it
 * gets nothing). Made per delivery, so it may cache. Declared as a method so
 * its parameter is bivariant: a Dialect<PusherState> is then a Dialect<unknown>.
 */
export type Encoder<S> = { encode(session: Session<S>): string | undefined }["encode"];

/** What the hub lends a dialect while it handles one of its sockets. */
export interface HubServices {
  readonly env: Env;
  readonly config: Config;
  readonly log: MessageLog;
  readonly now: number;
  /** Send a frame that counts against the slow-consumer guard (a replay); false when not sent. */
  sendCounted(ws: WebSocket, frame: string): boolean;
  /** The set of counted sessions changed (a socket became one, or was closed by the dialect): re-count, report, re-plan. */
  sessionsChanged(): void;
  /**
   * When the client last showed it is there (a frame, a heartbeat the runtime
   * answered, or its connect): what staleness is judged by (hub/liveness.ts).
   */
  lastHeardAt(ws: WebSocket, session: Session): number;
  /**
   * A session's expiresAt moved (a refreshed token): re-plan the alarm to the
   * earliest deadline now, later too, so the old one wakes nothing.
   */
  expiryChanged(): void;
}

export interface Dialect<S = unknown> {
  /** Its name: ConnectParams.dialect, its socket tag, and the attachment key its state lives under. */
  readonly name: string;
  /**
   * Accepted before the client has proven who it is (Pusher's signin, a STOMP
   * CONNECT): such sockets count against MAX_SESSIONS_PER_USER as open sockets
   * while they wait, since the Worker could not authenticate the upgrade.
   */
  readonly authenticatesInBand: boolean;
  /** The reason a socket that is not yet a session is given when its deadline (expiresAt) passes. */
  readonly deadlineReason: string;
  /** The heartbeat the runtime may answer for it without waking the object (one pair per object). */
  readonly heartbeat: { request: string; response: string };

  /** The state a new socket starts with (its session fields come from the hub). */
  newSession(params: ConnectParams, now: number): Session<S>;
  /**
   * The socket is accepted and its attachment written: greet it (welcome,
   * replay ...). Synchronous, so nothing interleaves between accept and replay.
   * The hub answers the upgrade with ConnectParams.subprotocol.
   */
  opened(ws: WebSocket, session: Session<S>, params: ConnectParams, hub: HubServices): void;
  /** Narrow this dialect's part of an attachment; undefined if unusable (the socket is then closed 1011). */
  readState(raw: unknown): S | undefined;
  /** Counted in presence and stats, and sent pushes. */
  isCounted(session: Session<S>): boolean;
  /** One frame from the client, after the hub's own checks (session known, frame budget). Never throws. */
  onMessage(ws: WebSocket, session: Session<S>, message: string | ArrayBuffer, hub: HubServices): void | Promise<void>;
  /** An encoder for one delivery (see Encoder). */
  encoder(message: Outgoing): Encoder<S>;
  /** A delivery sent this socket a frame for `message` (the slow-consumer guard may ask for proof of reading; an auto-ack moves the cursor). */
  afterSend?(ws: WebSocket, session: Session<S>, message: Outgoing, bytes: number, hub: HubServices): void;
  /** Close the socket for one of the hub's reasons (a native CloseCode), in the dialect's own words and codes. Never throws. */
  close(ws: WebSocket, session: Session<S>, code: number, reason: string): void;
}

/** Any dialect, as the hub holds them (methods are bivariant, so every Dialect<S> is one). */
export type AnyDialect = Dialect<unknown>;

/** The hub's set of dialects; the first is the default (an upgrade naming none, an attachment carrying none). */
export class Dialects {
  readonly default: AnyDialect;
  readonly others: readonly AnyDialect[];
  private readonly byName: ReadonlyMap<string, AnyDialect>;

  constructor(all: readonly [AnyDialect, ...AnyDialect[]]) {
    this.default = all[0];
    this.others = all.slice(1);
    this.byName = new Map(all.map((d) => [d.name, d]));
  }

  get(name: string | undefined): AnyDialect | undefined {
    return name === undefined ? this.default : this.byName.get(name);
  }

  of(session: Session): AnyDialect {
    return this.byName.get(session.dialect) ?? this.default;
  }
}

/** Tag on every socket of a non-default dialect: ctx.getWebSockets(tag) counts a dialect without reading attachments. */
export function dialectTag(name: string): string {
  return `dialect:${name}`;
}
