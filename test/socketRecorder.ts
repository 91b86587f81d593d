/**
 * The socket half the in-runtime test clients share: accept the client end of
 * an upgrade, record every text frame (parsed by the subclass) and the close,
 * and wait for a condition re-checked after every event.
 */
export abstract class SocketRecorder<F> {
  readonly frames: F[] = [];
  readonly raw: string[] = [];
  closed: { code: number; reason: string } | undefined;
  #waiters: Array<() => void> = [];

  constructor(
    readonly ws: WebSocket,
    private readonly defaultTimeoutMs: number,
  ) {
    ws.accept();
    ws.addEventListener("message", (event) => {
      const text = typeof event.data === "string" ? event.data : "";
      this.raw.push(text);
      const frame = this.parse(text);
      if (frame !== undefined) this.frames.push(frame);
      this.#wake();
    });
    ws.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
      this.#wake();
    });
  }

  /** The frame a text message carries; undefined to record it only in `raw`. */
  protected abstract parse(text: string): F | undefined;

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Wait until `predicate` holds (checked after every event). */
  async until(predicate: () => boolean, what = "condition", timeoutMs = this.defaultTimeoutMs): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(this.raw).slice(0, 2000)}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  close(code = 1000, reason = "bye"): void {
    try {
      this.ws.close(code, reason);
    } catch {
      // already closed
    }
  }

  async waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    await this.until(() => this.closed !== undefined, "close", timeoutMs);
    return this.closed as { code: number; reason: string };
  }
}
