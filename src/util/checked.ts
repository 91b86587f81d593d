/**
 * A validation's outcome: the value, or the field to name and why. `field` is
 * absent when the input as a whole is wrong (a body that is not a JSON object).
 * The HTTP layer turns a failure into a 400 naming the field (src/http/errors.ts).
 */
export type Checked<T> = { ok: true; value: T } | { ok: false; field?: string; message: string };
