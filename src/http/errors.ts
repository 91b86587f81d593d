/** The one error body shape of every HTTP refusal: `{ error: { code, message, field? } }`. */

export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

export function errorBody(code: string, message: string, field?: string): ErrorBody {
  return { error: field === undefined ? { code, message } : { code, message, field } };
}

export function jsonError(status: number, code: string, message: string, field?: string): Response {
  return Response.json(errorBody(code, message, field), { status });
}
