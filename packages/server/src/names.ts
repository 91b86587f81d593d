/** The wire's name rule (userId, device, id): checked here so a bad one fails before any request. */
import { isName, nameRule } from "@switchboard/protocol";
import { invalidArgument } from "./errors.ts";

export function checkName(value: unknown, field: string, max: number): string {
  if (!isName(value, max)) throw invalidArgument(field, nameRule(field, max));
  return value;
}
