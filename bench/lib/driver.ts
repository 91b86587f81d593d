/** Starts bench/load.ts as a separate process and talks to it over IPC. */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { ROOT, withOpenFileLimit } from "../../tools/lib/workerd.ts";
import type { CloseResult, Command, ConnectArgs, ConnectResult, PushArgs, PushResult, Reply } from "./messages.ts";
import { track } from "../../scripts/lib/janitor.ts";

export class LoadGenerator {
  #seq = 0;
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  readonly child: ReturnType<typeof spawn>;

  private constructor(child: ReturnType<typeof spawn>) {
    this.child = child;
    child.on("message", (reply: Reply) => {
      const w = this.#waiting.get(reply.seq);
      if (w === undefined) return;
      this.#waiting.delete(reply.seq);
      if (reply.ok) w.resolve(reply.result);
      else w.reject(new Error(`load generator: ${reply.error}`));
    });
    child.once("exit", (code, signal) => {
      for (const w of this.#waiting.values()) w.reject(new Error(`load generator exited (${code ?? signal})`));
      this.#waiting.clear();
    });
  }

  /** Node 22 (this process's own binary) on bench/load.ts, its open-file limit raised to `nofile`. */
  static start(nofile: number): LoadGenerator {
    const [command, args] = withOpenFileLimit(nofile, process.execPath, [join(ROOT, "bench/load.ts")]);
    const child = spawn(command, args, { stdio: ["ignore", "inherit", "inherit", "ipc"], env: { ...process.env } });
    track(child);
    return new LoadGenerator(child);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  private call(c: Command): Promise<unknown> {
    const seq = ++this.#seq;
    return new Promise((resolve, reject) => {
      this.#waiting.set(seq, { resolve, reject });
      this.child.send({ ...c, seq });
    });
  }

  connect(args: ConnectArgs): Promise<ConnectResult> {
    return this.call({ cmd: "connect", args }) as Promise<ConnectResult>;
  }
  push(args: PushArgs): Promise<PushResult> {
    return this.call({ cmd: "push", args }) as Promise<PushResult>;
  }
  close(group: string): Promise<CloseResult> {
    return this.call({ cmd: "close", args: { group } }) as Promise<CloseResult>;
  }
  groups(): Promise<{ unexpectedCloses: number; groups: Array<{ name: string; users: number; open: number }> }> {
    return this.call({ cmd: "groups" }) as Promise<{ unexpectedCloses: number; groups: Array<{ name: string; users: number; open: number }> }>;
  }
  async exit(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const gone = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    await this.call({ cmd: "exit" }).catch(() => undefined);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(timer);
  }
}
