import type { ErrorBody, HttpErrorCode } from "@switchboard/protocol";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { count } from "../metrics/events";
import type { Checked } from "../util/checked";

export type { ErrorBody };

/**
 * Every refusal's body (`{ error: { code, message, field? } }`) is built here, so this is where
 * refusals are counted (src/metrics/events.ts). Its code is one the protocol declares, with its
 * statuses and retry advice (HTTP_ERRORS).
 */
export function errorBody(code: HttpErrorCode, message: string, field?: string): ErrorBody {
  count("switchboard_refusals_total", { code }, 1, field === undefined ? {} : { field });
  return { error: field === undefined ? { code, message } : { code, message, field } };
}

export function jsonError(status: number, code: HttpErrorCode, message: string, field?: string): Response {
  return Response.json(errorBody(code, message, field), { status });
}

/**
 * Stop the request with `response` (hono's idiom: validators and middleware
 * throw, and the app's one onError answers with the exception's response).
 */
export function refuseWith(response: Response): never {
  throw new HTTPException(response.status as ContentfulStatusCode, { res: response });
}

/** Stop the request with the API's error answer (see refuseWith). */
export function refuse(status: ContentfulStatusCode, code: HttpErrorCode, message: string, field?: string): never {
  refuseWith(jsonError(status, code, message, field));
}

/** The checked value, or a 400 naming the field. */
export function valueOr400<T>(checked: Checked<T>): T {
  if (!checked.ok) refuse(400, "bad_request", checked.message, checked.field);
  return checked.value;
}
