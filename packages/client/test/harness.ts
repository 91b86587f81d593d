import { vi } from "vitest";
import { connect, type ConnectOptions, type SwitchboardClient, type SwitchboardEvents } from "../src/index.ts";
import { createFakeSocket, FakeSocket } from "./fakeSocket.ts";

export type Recorded = { [K in keyof SwitchboardEvents]: { type: K; event: SwitchboardEvents[K] } }[keyof SwitchboardEvents];

export interface Harness {
  client: SwitchboardClient;
  events: Recorded[];
  of<K extends keyof SwitchboardEvents>(type: K): SwitchboardEvents[K][];
}

/**
 * A client on fake sockets and fake timers. Defaults: static token "tok",
 * device "laptop", protocol auth (as in browsers), random() = 0.5, no
 * browser environment. Await it: the
 * first attempt starts after a microtask (getToken may be async).
 */
export async function start(options: Partial<ConnectOptions> = {}): Promise<Harness> {
  const base: ConnectOptions = {
    url: "https://sb.test",
    device: "laptop",
    createWebSocket: createFakeSocket,
    environment: null,
    // The tests run in Node, where the default would be header auth.
    auth: "protocol",
    random: () => 0.5,
    ...(options.getToken === undefined ? { token: "tok" } : {}),
    ...options,
  };
  const client = connect(base);
  const events: Recorded[] = [];
  const types: (keyof SwitchboardEvents)[] = ["open", "message", "close", "error", "resync"];
  for (const type of types) {
    client.on(type, (event: SwitchboardEvents[typeof type]) => events.push({ type, event } as Recorded));
  }
  await settle();
  return {
    client,
    events,
    of: <K extends keyof SwitchboardEvents>(type: K) =>
      events.filter((e): e is Extract<Recorded, { type: K }> => e.type === type).map((e) => e.event as SwitchboardEvents[K]),
  };
}

/** Let pending promises (getToken) run without moving the fake clock. */
export async function settle(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

export function sockets(): FakeSocket[] {
  return FakeSocket.instances;
}
