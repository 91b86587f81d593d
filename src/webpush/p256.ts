/**
 * Is a 65-byte string an uncompressed point on P-256 (SEC 1 §2.3.4)? A
 * browser's `p256dh` that only has the shape (0x04 and 64 bytes) but is off
 * the curve would pass registration and then fail every encryption (ECDH
 * refuses it), so it is checked here, synchronously, where the 400 can name
 * the field. Curve constants: SEC 2 §2.4.2 (secp256r1), a = -3.
 */
const P = 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;

function toBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

export function isP256Point(bytes: Uint8Array | undefined): boolean {
  if (bytes === undefined || bytes.byteLength !== 65 || bytes[0] !== 0x04) return false;
  const x = toBigInt(bytes.subarray(1, 33));
  const y = toBigInt(bytes.subarray(33, 65));
  if (x >= P || y >= P) return false;
  return (y * y - (x * x * x - 3n * x + B)) % P === 0n;
}
