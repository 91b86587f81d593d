/**
 * A native session's `auth` frame: a fresh token for the same user moves the
 * session's end to the new token's `exp` — the same socket, the same session
 * id, nothing for presence to see. Without it a session closes with 1008 at
 * `exp` and reconnects: a Worker request, an object request and a presence
 * report per session per token lifetime.
 *
 * The token is verified here, in the user's object, with the same rules as at
 * connect (src/auth/jwt.ts): the frame reaches no Worker. A token that fails,
 * or names another user, ends the session with 4003 (TokenRefused): keeping a
 * socket open on a credential the client could not renew would let it outlive
 * a revoked user. Never throws.
 */
import type { Config } from "../config";
import { verifyClientToken } from "../auth/jwt";
import { CloseCode, encodeError, encodeRefreshed, FrameError } from "@switchboard/protocol";
import { writeAttachment, type Session } from "../hub/session";
import { isOpen, tryClose, trySend } from "../hub/sockets";

export type RefreshOutcome =
  /** The session now ends at the new exp: re-plan the alarm. */
  | "refreshed"
  /** The socket was closed 4003: re-count the sessions. */
  | "refused"
  /** Nothing changed (a later auth frame decides, the socket went away, keys could not be loaded). */
  | "ignored";

/** Auth frames started per socket: when two overlap, the one sent last decides. */
const started = new WeakMap<WebSocket, number>();

export async function refreshSession(ws: WebSocket, session: Session, token: string, config: Config): Promise<RefreshOutcome> {
  const ticket = (started.get(ws) ?? 0) + 1;
  started.set(ws, ticket);
  let verified: Awaited<ReturnType<typeof verifyClientToken>>;
  try {
    verified = await verifyClientToken(token, config);
  } catch (err) {
    // Unloadable JWT_PUBLIC_KEYS: the operator's fault, not the client's; its session stays as it was.
    console.error("switchboard: cannot verify a refreshed token", err);
    trySend(ws, encodeError(FrameError.Internal, "cannot verify tokens now; the session keeps its current expiry"));
    return "ignored";
  }
  // Verification awaited: the socket may have closed, or a later auth frame started.
  if (started.get(ws) !== ticket || !isOpen(ws)) return "ignored";
  if (!verified.ok) {
    tryClose(ws, CloseCode.TokenRefused, `token refused: ${verified.reason}`);
    return "refused";
  }
  if (verified.identity.userId !== session.userId) {
    tryClose(ws, CloseCode.TokenRefused, "token refused: it is for another user");
    return "refused";
  }
  session.expiresAt = verified.identity.expiresAt;
  writeAttachment(ws, session);
  trySend(ws, encodeRefreshed(session.expiresAt));
  return "refreshed";
}
