/**
 * One chaos device: a raw WebSocket client that connects with `?since=<last
 * seq seen>`, deduplicates by seq exactly as the SDK does, acks, pings, and
 * drops its connection cleanly or abruptly when told.
 */
import { encodeAck } from "@switchboard/protocol";
import WebSocket from "ws";

export interface Arrival {
  seq: number;
  id: string;
}

export class Device {
  readonly user: string;
  readonly name: string;
  readonly token: string;
  ws: WebSocket | undefined;
  connecting = false;
  welcomed = false;
  /** The highest seq delivered to the "app" (SDK dedupe point). */
  lastSeq = 0;
  /** Seqs the app got, in order (after dedupe). */
  readonly delivered: Arrival[] = [];
  readonly seen = new Set<number>();
  duplicated = 0;
  reordered = 0;
  readonly notRecovered: Array<{ since: number; head: number }> = [];
  sessions = 0;
  cleanDrops = 0;
  abruptDrops = 0;
  killedDrops = 0;
  lastAckSent = 0;
  /** Checker self-test: frames to swallow as if the network lost them. */
  swallow = 0;
  #closeCause: "clean" | "abrupt" | undefined;

  constructor(user: string, name: string, token: string) {
    this.user = user;
    this.name = name;
    this.token = token;
  }

  get open(): boolean {
    return this.ws !== undefined && this.ws.readyState === WebSocket.OPEN && this.welcomed;
  }

  connect(wsBase: string): Promise<boolean> {
    if (this.connecting || this.ws !== undefined) return Promise.resolve(false);
    this.connecting = true;
    const since = this.lastSeq;
    return new Promise((resolve) => {
      const ws = new WebSocket(`${wsBase}/v1/connect?device=${this.name}&since=${since}`, {
        headers: { Authorization: `Bearer ${this.token}` },
        perMessageDeflate: false,
        handshakeTimeout: 5000,
      });
      let settled = false;
      const settle = (ok: boolean) => {
        if (settled) return;
        settled = true;
        this.connecting = false;
        resolve(ok);
      };
      ws.on("message", (data: WebSocket.RawData, isBinary: boolean) => {
        if (isBinary) return;
        const text = data.toString();
        if (text === "pong") return;
        let frame: { type?: unknown; seq?: unknown; id?: unknown; head?: unknown; recovered?: unknown };
        try {
          frame = JSON.parse(text) as typeof frame;
        } catch {
          return;
        }
        if (frame.type === "welcome") {
          this.welcomed = true;
          this.sessions++;
          if (frame.recovered === false) this.notRecovered.push({ since, head: Number(frame.head) });
          settle(true);
          return;
        }
        if (frame.type === "message" && typeof frame.seq === "number") this.arrive(frame.seq, String(frame.id));
      });
      ws.on("open", () => {
        this.ws = ws;
      });
      ws.on("close", () => {
        if (this.ws === ws) {
          if (this.#closeCause === "clean") this.cleanDrops++;
          else if (this.#closeCause === "abrupt") this.abruptDrops++;
          else this.killedDrops++;
        }
        this.#closeCause = undefined;
        if (this.ws === ws) this.ws = undefined;
        this.welcomed = false;
        settle(false);
      });
      ws.on("error", () => {
        settle(false);
      });
      ws.on("unexpected-response", (_req, res) => {
        res.resume();
        ws.terminate();
        settle(false);
      });
    });
  }

  /** The SDK's rule: a seq at or below the last one delivered is a duplicate and is dropped. */
  arrive(seq: number, id: string): void {
    if (this.swallow > 0 && seq > 3) {
      this.swallow--;
      return;
    }
    if (this.seen.has(seq)) {
      this.duplicated++;
      return;
    }
    this.seen.add(seq);
    if (seq <= this.lastSeq) {
      // Never seen, but older than what the app already has: the SDK drops it — a loss.
      this.reordered++;
      return;
    }
    this.lastSeq = seq;
    this.delivered.push({ seq, id });
  }

  drop(kind: "clean" | "abrupt"): void {
    const ws = this.ws;
    if (ws === undefined) return;
    this.#closeCause = kind;
    if (kind === "clean") ws.close(1000, "bye");
    else ws.terminate();
  }

  heartbeat(): void {
    if (this.open) this.ws?.send("ping");
  }

  ack(): void {
    if (this.open && this.lastSeq > this.lastAckSent) {
      this.ws?.send(encodeAck(this.lastSeq));
      this.lastAckSent = this.lastSeq;
    }
  }
}
