/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, init and final XOR 0xFFFFFFFF) — the checksum
 * of zlib's `crc32`, used for every golden tensor's raw little-endian bytes (NVDLA `check_crc` style).
 */

// CONSTANTS

const TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

// MAIN

/**
 * CRC-32 of a byte string.
 * @source zlib crc32 (IEEE polynomial, reflected); check value crc32("123456789") = 0xCBF43926
 * @equation crc = ¬fold(bytes, ¬0, (c, b) ↦ T[(c ⊕ b) & 0xFF] ⊕ (c ≫ 8))
 * @deviation none
 * @precision exact
 */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** CRC-32 written as the golden format does: "0x" + 8 lower-case hex digits. */
export function crc32Hex(bytes: Uint8Array): string {
  return `0x${crc32(bytes).toString(16).padStart(8, '0')}`;
}
