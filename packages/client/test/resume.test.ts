import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { SeqStorage } from "../src/index.ts";
import { FakeSocket } from "./fakeSocket.ts";
import { sockets, start } from "./harness.ts";

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.reset();
});
afterEach(() => {
  vi.useRealTimers();
});

const seqsOf = (messages: { seq: number | null }[]) => messages.map((m) => m.seq);

describe("resume", () => {
  it("reconnects with since = the last seq seen, as the same device", async () => {
    const h = await start({ device: "laptop", backoff: { baseMs: 10, maxMs: 10 } });
    expect(FakeSocket.last().since).toBeNull(); // first connect: the server's cursor decides
    FakeSocket.last().accept({ head: 0 }).message(1).message(2).message(3).serverClose(1006);
    await vi.advanceTimersByTimeAsync(10);
    expect(FakeSocket.last().url.searchParams.get("device")).toBe("laptop");
    expect(FakeSocket.last().since).toBe("3");
    expect(h.client.lastSeq).toBe(3);
  });

  it("keeps the device the server picked when none was given", async () => {
    const h = await start({ device: undefined, backoff: { baseMs: 10, maxMs: 10 } });
    expect(FakeSocket.last().url.searchParams.has("device")).toBe(false);
    FakeSocket.last().accept({ device: "srv-123" }).serverClose(1011);
    await vi.advanceTimersByTimeAsync(10);
    expect(FakeSocket.last().url.searchParams.get("device")).toBe("srv-123");
    expect(h.client.device).toBe("srv-123");
  });

  it("starts from the `since` option", async () => {
    await start({ since: 41 });
    expect(FakeSocket.last().since).toBe("41");
  });

  it("drops duplicates by seq: replay overlapping what was already delivered, and repeats on one socket", async () => {
    const h = await start({ backoff: { baseMs: 10, maxMs: 10 } });
    FakeSocket.last().accept().message(1).message(2).message(2).message(3).serverClose(1006);
    await vi.advanceTimersByTimeAsync(10);
    // A replay that starts too early (e.g. the server fell back to an older cursor).
    FakeSocket.last().accept({ head: 5 }).message(2).message(3).message(4).message(5).message(5).message(6);
    expect(seqsOf(h.of("message"))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("hands a push's event name to the listener, and none when the push named none", async () => {
    const h = await start();
    const sentAt = 1_700_000_000_000;
    FakeSocket.last()
      .accept()
      .frame({ type: "message", id: "a", seq: 1, sentAt, event: "notify", data: { n: 1 } })
      .message(2);
    expect(h.of("message")).toEqual([
      { id: "a", seq: 1, event: "notify", data: { n: 1 }, sentAt },
      { id: "m-2", seq: 2, data: { n: 2 }, sentAt },
    ]);
    expect("event" in h.of("message")[1]!).toBe(false);
  });

  it("never deduplicates live-only messages (seq null)", async () => {
    const h = await start();
    FakeSocket.last().accept().message(null, "a", "x").message(null, "b", "y").message(1).message(null, "c", "z");
    expect(h.of("message").map((m) => [m.seq, m.data])).toEqual([
      [null, "a"],
      [null, "b"],
      [1, { n: 1 }],
      [null, "c"],
    ]);
  });

  it("surfaces the message fields as delivered", async () => {
    const h = await start();
    FakeSocket.last()
      .accept()
      .message(7, { order: 42, items: [1, 2] }, "order-42");
    expect(h.of("message")).toEqual([{ id: "order-42", seq: 7, data: { order: 42, items: [1, 2] }, sentAt: 1_700_000_000_000 }]);
  });
});

describe("batched cumulative acks", () => {
  it("sends one ack for a burst, at most one per ackDelayMs", async () => {
    await start({ ackDelayMs: 1000, heartbeat: false });
    const ws = FakeSocket.last().accept();
    for (let seq = 1; seq <= 50; seq++) ws.message(seq);
    expect(ws.jsonSent()).toEqual([]);
    await vi.advanceTimersByTimeAsync(999);
    expect(ws.jsonSent()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(ws.jsonSent()).toEqual([{ type: "ack", seq: 50 }]);
    // A steady stream (one message every 100 ms for 3 s) still acks once a second.
    for (let seq = 51; seq <= 80; seq++) {
      ws.message(seq);
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(ws.jsonSent()).toEqual([
      { type: "ack", seq: 50 },
      { type: "ack", seq: 60 },
      { type: "ack", seq: 70 },
      { type: "ack", seq: 80 },
    ]);
    // Nothing new: nothing sent.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ws.jsonSent()).toHaveLength(4);
  });

  it("does not ack duplicates", async () => {
    await start({ heartbeat: false });
    const ws = FakeSocket.last().accept().message(3).message(2);
    await vi.advanceTimersByTimeAsync(5000);
    expect(ws.jsonSent()).toEqual([{ type: "ack", seq: 3 }]);
    ws.message(3).message(1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(ws.jsonSent()).toEqual([{ type: "ack", seq: 3 }]);
  });

  it("acks live-only messages too (the server closes 4008 a session that never answers), batched, seq unchanged", async () => {
    await start({ heartbeat: false });
    const ws = FakeSocket.last().accept().message(null).message(null).message(null);
    await vi.advanceTimersByTimeAsync(1000);
    expect(ws.jsonSent()).toEqual([{ type: "ack", seq: 0 }]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(ws.jsonSent()).toHaveLength(1);
    ws.message(4).message(null);
    await vi.advanceTimersByTimeAsync(1000);
    ws.message(null);
    await vi.advanceTimersByTimeAsync(1000);
    expect(ws.jsonSent()).toEqual([
      { type: "ack", seq: 0 },
      { type: "ack", seq: 4 },
      { type: "ack", seq: 4 },
    ]);
  });

  it("flushes the pending ack on close()", async () => {
    const h = await start({ heartbeat: false });
    const ws = FakeSocket.last().accept().message(1).message(2);
    h.client.close();
    expect(ws.jsonSent()).toEqual([{ type: "ack", seq: 2 }]);
    expect(ws.closedByClient?.code).toBe(1000);
  });

  it("acks on the next connection what the previous one could not", async () => {
    await start({ heartbeat: false, backoff: { baseMs: 10, maxMs: 10 } });
    const first = FakeSocket.last().accept().message(1).message(2);
    first.serverClose(1006);
    await vi.advanceTimersByTimeAsync(10);
    expect(first.jsonSent()).toEqual([]);
    const second = FakeSocket.last().accept({ head: 2 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(second.jsonSent()).toEqual([{ type: "ack", seq: 2 }]);
  });
});

describe("resync", () => {
  it("emits resync when the server could not recover the gap, after open", async () => {
    const h = await start({ since: 10 });
    FakeSocket.last().accept({ head: 2000, recovered: false, sessionId: "s-9" });
    expect(h.events.map((e) => e.type)).toEqual(["open", "resync"]);
    expect(h.of("open")[0]).toMatchObject({ recovered: false, since: 10, head: 2000 });
    expect(h.of("resync")).toEqual([{ sessionId: "s-9", head: 2000, since: 10 }]);
  });

  it("after a log reset (since beyond head) accepts the new, lower seqs", async () => {
    const h = await start({ since: 500, heartbeat: false });
    const ws = FakeSocket.last().accept({ head: 3, recovered: false }).message(4).message(5);
    expect(seqsOf(h.of("message"))).toEqual([4, 5]);
    expect(h.of("resync")).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1000);
    // Never an ack beyond the server's head (it would answer bad_ack).
    expect(ws.jsonSent()).toEqual([{ type: "ack", seq: 5 }]);
  });

  it("emits no resync for a recovered resume", async () => {
    const h = await start({ since: 3 });
    FakeSocket.last().accept({ head: 5, recovered: true }).message(4).message(5);
    expect(h.of("resync")).toEqual([]);
  });
});

describe("persisting the last seq (storage option)", () => {
  const jwtFor = (sub: string) => `e30.${btoa(JSON.stringify({ sub, exp: 2e9 })).replace(/=+$/, "")}.sig`;

  class MemoryStorage implements SeqStorage {
    readonly map = new Map<string, string>();
    getItem(key: string): string | null {
      return this.map.get(key) ?? null;
    }
    setItem(key: string, value: string): void {
      this.map.set(key, value);
    }
  }

  it("a reloaded page resumes from the stored seq of the same user and device", async () => {
    const storage = new MemoryStorage();
    const first = await start({ storage, token: jwtFor("alice"), device: "laptop", heartbeat: false });
    FakeSocket.last().accept().message(1).message(2).message(3);
    await vi.advanceTimersByTimeAsync(1000);
    expect(storage.map.get("switchboard.seq:alice:laptop")).toBe("3");
    first.client.close();

    await start({ storage, token: jwtFor("alice"), device: "laptop" });
    expect(FakeSocket.last().since).toBe("3");
    // Another user in the same browser does not inherit alice's position.
    await start({ storage, token: jwtFor("bob"), device: "laptop" });
    expect(FakeSocket.last().since).toBeNull();
    expect(sockets()).toHaveLength(3);
  });

  it("survives a storage that throws", async () => {
    const storage: SeqStorage = {
      getItem: () => {
        throw new Error("SecurityError");
      },
      setItem: () => {
        throw new Error("QuotaExceededError");
      },
    };
    const h = await start({ storage, token: jwtFor("alice"), heartbeat: false });
    FakeSocket.last().accept().message(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(seqsOf(h.of("message"))).toEqual([1]);
  });
});
