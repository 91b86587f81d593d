/**
 * @switchboard/protocol: Switchboard's wire, defined once. The Worker (src/),
 * both SDKs (which bundle it, so users still install one package each), the
 * harness and the tests import it; it imports nothing.
 */
export * from "./socket.ts";
export * from "./closeCodes.ts";
export * from "./serverFrames.ts";
export * from "./clientFrames.ts";
export * from "./names.ts";
export * from "./http.ts";
