/**
 * CRC-32 of the golden format: the IEEE 802.3 / zlib checksum (reflected polynomial 0xEDB88320, init
 * and final XOR 0xFFFFFFFF) of each tensor's raw little-endian bytes, NVDLA `check_crc` style. It is
 * the same checksum ZIP records, so the one implementation in src/io/zip.ts serves both.
 */
import { crc32 } from '../io/zip';

export { crc32 };

/** CRC-32 written as the golden format does: "0x" + 8 lower-case hex digits. */
export function crc32Hex(bytes: Uint8Array): string {
  return `0x${crc32(bytes).toString(16).padStart(8, '0')}`;
}
