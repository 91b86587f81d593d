/**
 * Which Pusher channels belong to one user. Only per-user channels exist in
 * this dialect: `#server-to-user-{id}` (pusher-js `signin` + the SDKs'
 * `sendToUser`) and the private channels of PUSHER_USER_CHANNELS (Laravel's
 * `private-App.Models.User.{id}` by default). A user's channels all live in
 * that user's object, so no push ever crosses objects.
 */
import { isUserId } from "@switchboard/protocol";
import type { UserChannelTemplate } from "./config";

export const SERVER_TO_USER_PREFIX = "#server-to-user-";

/** Pusher's channel-name limit (200 characters). */
export const MAX_CHANNEL_NAME = 200;

export type ChannelKind = "server-to-user" | "private-user";

export interface UserChannel {
  kind: ChannelKind;
  userId: string;
}

export function serverToUserChannel(userId: string): string {
  return SERVER_TO_USER_PREFIX + userId;
}

/** The user a channel belongs to, or undefined if it is not a per-user channel (public, presence, anything else). */
export function userChannel(name: string, templates: readonly UserChannelTemplate[]): UserChannel | undefined {
  if (name.length > MAX_CHANNEL_NAME) return undefined;
  if (name.startsWith(SERVER_TO_USER_PREFIX)) {
    const userId = name.slice(SERVER_TO_USER_PREFIX.length);
    return isUserId(userId) ? { kind: "server-to-user", userId } : undefined;
  }
  for (const t of templates) {
    if (name.length <= t.prefix.length + t.suffix.length) continue;
    if (!name.startsWith(t.prefix) || !name.endsWith(t.suffix)) continue;
    const userId = name.slice(t.prefix.length, name.length - t.suffix.length);
    if (isUserId(userId)) return { kind: "private-user", userId };
  }
  return undefined;
}

/** Why a subscription to `name` is refused for `userId`'s socket, as Pusher would phrase it; undefined = it is one of theirs. */
export function channelRefusal(name: string, userId: string, templates: readonly UserChannelTemplate[]): { status: 401 | 403; message: string } | undefined {
  const owned = userChannel(name, templates);
  if (owned !== undefined) {
    return owned.userId === userId ? undefined : { status: 403, message: "the channel belongs to another user" };
  }
  if (name.startsWith("presence-")) return { status: 403, message: "presence channels are not supported (per-user channels only)" };
  if (name.startsWith("private-")) return { status: 403, message: "not a per-user channel (PUSHER_USER_CHANNELS)" };
  return { status: 403, message: "public channels are not supported (per-user channels only)" };
}
