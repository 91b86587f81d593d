import { count } from "../metrics/events";

/** The one error body shape of every HTTP refusal: `{ error: { code, message, field? } }`. */

export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

/** Every refusal's body is built here, so this is where refusals are counted (src/metrics/events.ts). */
export function errorBody(code: string, message: string, field?: string): ErrorBody {
  count("switchboard_refusals_total", { code }, 1, field === undefined ? {} : { field });
  return { error: field === undefined ? { code, message } : { code, message, field } };
}

export function jsonError(status: number, code: string, message: string, field?: string): Response {
  return Response.json(errorBody(code, message, field), { status });
}
