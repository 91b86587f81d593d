/** The one error the SDK throws. */

export interface SwitchboardErrorInit {
  /** The HTTP status; 0 when there was no answer (network, timeout) or the SDK refused the call itself. */
  status: number;
  /** The server's error code (`bad_request`, `unauthorized`, `unavailable`, …), or the SDK's own: `network`, `timeout`, `bad_response`, `invalid_argument`. */
  code: string;
  message: string;
  /** The request field the server named (`userId`, `data`, `ttl`, …). */
  field?: string | undefined;
  /** Attempts made (1 + retries). */
  attempts?: number;
  cause?: unknown;
}

export class SwitchboardError extends Error {
  override readonly name = "SwitchboardError";
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  readonly attempts: number;

  constructor(init: SwitchboardErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.field = init.field;
    this.attempts = init.attempts ?? 1;
  }
}

/**
 * The code of an argument or option the SDK refused itself (unknown, wrong
 * type, out of range): status 0, `field` names it, and nothing was sent.
 */
export const INVALID_ARGUMENT = "invalid_argument";

/** A caller's argument the server could never accept (no request is sent). */
export function invalidArgument(field: string, message: string): SwitchboardError {
  return new SwitchboardError({ status: 0, code: INVALID_ARGUMENT, message, field });
}

/** Narrow an error answer; anything off contract keeps the status and says so. */
export function errorFromBody(status: number, body: unknown, attempts: number): SwitchboardError {
  const error = typeof body === "object" && body !== null && "error" in body ? body.error : undefined;
  if (typeof error === "object" && error !== null) {
    const { code, message, field } = error as Record<string, unknown>;
    if (typeof code === "string" && typeof message === "string") {
      return new SwitchboardError({ status, code, message, field: typeof field === "string" ? field : undefined, attempts });
    }
  }
  return new SwitchboardError({ status, code: "bad_response", message: `HTTP ${status} without an error body`, attempts });
}
