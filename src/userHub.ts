/**
 * The composition root of the user's object: the hub (src/hub/userHub.ts)
 * with the dialects it speaks. The first is the default: an upgrade that
 * names none, and an attachment that carries no dialect's key, are native.
 */
import { Dialects } from "./hub/dialect";
import { UserHubCore } from "./hub/userHub";
import { nativeDialect } from "./native/dialect";
import { pusherDialect } from "./pusher/dialect";
import { stompDialect } from "./stomp/dialect";

const DIALECTS = new Dialects([nativeDialect, pusherDialect, stompDialect]);

export class UserHub extends UserHubCore {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, DIALECTS);
  }
}
