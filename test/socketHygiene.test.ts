/**
 * Socket hygiene, as partyserver keeps it: the codes RFC 6455 §7.4.1 reserves
 * for reporting (1004, 1005, 1006, 1015) never go out in a close frame from any
 * dialect's close path, a client's reserved code is never echoed back, and
 * closing or sending on a socket that is already going is not an error worth a log.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AnyDialect } from "../src/hub/dialect";
import { tryClose, trySend } from "../src/hub/sockets";
import { nativeDialect } from "../src/native/dialect";
import { pusherDialect } from "../src/pusher/dialect";
import { stompDialect } from "../src/stomp/dialect";
import { connect, tokenFor, uniqueUser } from "./helpers";
import { pusherConnect } from "./pusherHelpers";
import type { SocketRecorder } from "./socketRecorder";
import { stompSession } from "./stompHelpers";

const RESERVED = [1004, 1005, 1006, 1015];

/** A socket pair in this isolate: the code the server end closes with is what `closed` resolves to. */
function socketPair(): { server: WebSocket; closed: Promise<number> } {
  const { 0: client, 1: server } = new WebSocketPair();
  client.accept();
  server.accept();
  const closed = new Promise<number>((resolve) => client.addEventListener("close", (event) => resolve(event.code)));
  return { server, closed };
}

function sessionOf(dialect: AnyDialect) {
  return dialect.newSession(
    { userId: "hygiene", device: "d", since: undefined, expiresAt: Date.now() + 60_000, subprotocol: undefined, dialect: dialect.name },
    Date.now(),
  );
}

describe("reserved close codes", () => {
  for (const dialect of [nativeDialect, pusherDialect, stompDialect] as AnyDialect[]) {
    it(`are never sent by the ${dialect.name} dialect's close: 1000 goes out instead`, async () => {
      for (const code of RESERVED) {
        const { server, closed } = socketPair();
        dialect.close(server, sessionOf(dialect), code, "reason");
        expect(await closed, `${dialect.name} closing with ${code}`).toBe(1000);
      }
    });
  }

  it("a client's reserved code is answered with 1000 by the hub's close handshake (tryClose)", async () => {
    for (const code of RESERVED) {
      const { server, closed } = socketPair();
      tryClose(server, code, "");
      expect(await closed, String(code)).toBe(1000);
    }
  });

  it("a client that closes without a status (1005 at the server) gets 1000 back from the user's object, in every dialect", async () => {
    const stompUser = uniqueUser();
    const clients: SocketRecorder<unknown>[] = [
      await connect(uniqueUser()),
      await pusherConnect(uniqueUser()),
      // With ?token= the STOMP socket goes straight to the user's object (no relay in between).
      await stompSession(stompUser, {}, { query: { token: await tokenFor(stompUser) } }),
    ];
    for (const client of clients) {
      client.ws.close();
      expect((await client.waitClosed()).code).toBe(1000);
    }
  });
});

describe("close reasons", () => {
  it("a reason over a close frame's 123 bytes in UTF-8 is cut on a character boundary, and the close goes out", async () => {
    for (const reason of ["e".repeat(200), "é".repeat(100), "😀".repeat(60), `${"e".repeat(119)}é`]) {
      const { 0: client, 1: server } = new WebSocketPair();
      client.accept();
      server.accept();
      const closed = new Promise<CloseEvent>((resolve) => client.addEventListener("close", resolve));
      tryClose(server, 4001, reason);
      const event = await closed;
      expect(event.code).toBe(4001);
      expect(new TextEncoder().encode(event.reason).byteLength).toBeLessThanOrEqual(123);
      expect(reason.startsWith(event.reason)).toBe(true);
    }
  });
});

describe("teardown", () => {
  afterEach(() => vi.restoreAllMocks());

  it("closing or sending on a socket that is already closed neither throws nor logs", async () => {
    const warn = vi.spyOn(console, "warn");
    const error = vi.spyOn(console, "error");
    const { server, closed } = socketPair();
    tryClose(server, 1000, "first");
    await closed;
    expect(trySend(server, "late")).toBe(false);
    tryClose(server, 4001, "again");
    for (const dialect of [nativeDialect, pusherDialect, stompDialect] as AnyDialect[]) dialect.close(server, sessionOf(dialect), 1001, "going away");
    expect(warn).not.toHaveBeenCalled();
    expect(error).not.toHaveBeenCalled();
  });
});
