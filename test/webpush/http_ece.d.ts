/**
 * Just what the fake push service uses of http_ece and Node's crypto (the
 * "webpush" test project runs with nodejs_compat; the tests' tsconfig has no
 * Node types, which would clash with the Workers' globals).
 */
declare module "node:crypto" {
  export interface ECDH {
    generateKeys(): Uint8Array;
    getPublicKey(): Uint8Array;
  }
  export function createECDH(curve: "prime256v1"): ECDH;
}
declare module "node:buffer" {
  export const Buffer: { from(bytes: Uint8Array): Uint8Array };
}
declare module "http_ece" {
  import type { ECDH } from "node:crypto";
  /** RFC 8188 decryption; with `privateKey` the key comes from ECDH with the header's key id (RFC 8291). */
  export function decrypt(buffer: Uint8Array, params: { version: "aes128gcm"; privateKey: ECDH; authSecret: string }): Uint8Array;
}
