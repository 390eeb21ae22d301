/**
 * Minimal, strict ZIP reader for model archives (PyTorch's zip-based `torch.save` format, .npz…).
 *
 * Supported: the end-of-central-directory record (with a comment of up to 65,535 bytes), ZIP64
 * end-of-central-directory records and ZIP64 extended-information extra fields, stored (method 0)
 * and deflate (method 8) entries, data descriptors (general-purpose flag bit 3, as PyTorch writes:
 * sizes and CRC in the local header are zero, so the central directory is authoritative).
 * Not supported (FormatError): encryption, multi-disk archives, other compression methods.
 *
 * Decisions (everything malformed is a `FormatError` naming `source`; nothing reads out of bounds):
 * - The central directory is the source of truth. Each local header must carry the local signature
 *   and the same file name; data must lie inside the file and before the central directory; entry
 *   byte ranges (local header … end of data) must not overlap (overlapping entries are the classic
 *   "zip bomb" amplification trick); duplicate names are rejected.
 * - Zip-bomb guard: an entry's declared uncompressed size must not exceed `maxEntryBytes`
 *   (default 2 GiB) and the sum over entries must not exceed `maxTotalBytes` (default 4 GiB);
 *   inflation is capped at the declared size (`maxOutputLength`) and the actual size must equal it.
 * - Integrity: `read(name)` verifies the CRC-32 recorded in the central directory, so a flipped byte
 *   in any entry's data is a FormatError rather than silently different tensor values.
 *
 * @source PKWARE APPNOTE.TXT 6.3.10 §4.3 (structure), §4.4 (fields), §4.5.3 (ZIP64 extra field)
 */
import { inflateRawSync } from 'node:zlib';
import { FormatError } from '../tensor';

// TYPES

/** One central-directory entry. */
export interface ZipEntry {
  readonly name: string;
  /** 0 = stored, 8 = deflate. */
  readonly method: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly crc32: number;
  /** Offset of the entry's data (after the local header) in the archive. */
  readonly dataOffset: number;
}

/** An opened archive: entries by name, in central-directory order, and a verified reader. */
export interface ZipArchive {
  readonly source: string;
  readonly entries: ReadonlyMap<string, ZipEntry>;
  /** The entry's uncompressed bytes (CRC-checked); FormatError when absent or corrupt. */
  read(name: string): Uint8Array;
}

/** Limits of `openZip`. */
export interface ZipLimits {
  /** Largest declared uncompressed size of one entry, in bytes (default 2 GiB). */
  readonly maxEntryBytes?: number;
  /** Largest sum of declared uncompressed sizes, in bytes (default 4 GiB). */
  readonly maxTotalBytes?: number;
  /** Largest number of entries (default 1,000,000). */
  readonly maxEntries?: number;
}

// HELPERS

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;

/** CRC-32 lookup table, one entry per byte value (computed once at module load; immutable by convention). */
const CRC_TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * CRC-32 of `bytes` (IEEE 802.3, reflected polynomial 0xEDB88320, init and final xor 0xFFFFFFFF), as ZIP records it.
 *
 * @source PKWARE APPNOTE.TXT 6.3.10 §4.4.7 (CRC-32)
 * @deviation none
 * @precision exact (unsigned 32-bit result)
 */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Bounds-checked little-endian reader over the archive bytes. */
function reader(bytes: Uint8Array, source: string) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (off: number, n: number, what: string): void => {
    if (!(off >= 0 && off + n <= bytes.length)) throw new FormatError(source, `zip: ${what} at offset ${off} (+${n}) is outside the file (${bytes.length} bytes)`);
  };
  return {
    u16: (off: number, what: string): number => (need(off, 2, what), dv.getUint16(off, true)),
    u32: (off: number, what: string): number => (need(off, 4, what), dv.getUint32(off, true)),
    u64: (off: number, what: string): number => {
      need(off, 8, what);
      const v = dv.getBigUint64(off, true);
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(source, `zip: ${what} ${v} is too large`);
      return Number(v);
    },
    need,
  };
}

// MAIN

/**
 * Open a ZIP archive held in memory, validating its directory structure; malformed input throws
 * `FormatError` naming `source`.
 *
 * @source PKWARE APPNOTE.TXT 6.3.10 §4.3.6 (overall structure), §4.3.16 (EOCD), §4.3.14–15 (ZIP64)
 * @deviation none (subset: no encryption, no multi-disk, methods 0 and 8 only)
 * @precision exact
 */
export function openZip(bytes: Uint8Array, source: string, limits: ZipLimits = {}): ZipArchive {
  const maxEntry = limits.maxEntryBytes ?? 2 ** 31;
  const maxTotal = limits.maxTotalBytes ?? 2 ** 32;
  const maxEntries = limits.maxEntries ?? 1_000_000;
  const r = reader(bytes, source);
  // 1. End of central directory: the last signature whose comment length reaches the end of the file.
  let eocd = -1;
  for (let p = bytes.length - 22; p >= 0 && p >= bytes.length - 22 - 65535; p--) {
    if (r.u32(p, 'EOCD') === SIG_EOCD && p + 22 + r.u16(p + 20, 'EOCD comment length') === bytes.length) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) throw new FormatError(source, 'zip: no end-of-central-directory record (not a zip file, or truncated)');
  const disk = r.u16(eocd + 4, 'EOCD disk');
  const cdDisk = r.u16(eocd + 6, 'EOCD cd disk');
  let count = r.u16(eocd + 10, 'EOCD entry count');
  const countDisk = r.u16(eocd + 8, 'EOCD disk entry count');
  let cdSize = r.u32(eocd + 12, 'EOCD cd size');
  let cdOffset = r.u32(eocd + 16, 'EOCD cd offset');
  let cdLimit = eocd; // the central directory must end before this offset
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || r.u32(loc, 'ZIP64 locator') !== SIG_ZIP64_LOCATOR) throw new FormatError(source, 'zip: ZIP64 markers without a ZIP64 locator');
    const z64 = r.u64(loc + 8, 'ZIP64 EOCD offset');
    if (r.u32(z64, 'ZIP64 EOCD') !== SIG_ZIP64_EOCD) throw new FormatError(source, `zip: bad ZIP64 EOCD signature at ${z64}`);
    if (z64 + 56 > loc) throw new FormatError(source, 'zip: ZIP64 EOCD overlaps its locator');
    count = r.u64(z64 + 32, 'ZIP64 entry count');
    cdSize = r.u64(z64 + 40, 'ZIP64 cd size');
    cdOffset = r.u64(z64 + 48, 'ZIP64 cd offset');
    cdLimit = z64;
  } else if (disk !== 0 || cdDisk !== 0 || countDisk !== count) {
    throw new FormatError(source, 'zip: multi-disk archives are not supported');
  }
  if (count > maxEntries) throw new FormatError(source, `zip: ${count} entries exceed the limit ${maxEntries}`);
  if (cdOffset + cdSize > cdLimit) throw new FormatError(source, `zip: central directory [${cdOffset}, ${cdOffset + cdSize}) runs past its end record at ${cdLimit}`);
  // 2. Central directory.
  const entries = new Map<string, ZipEntry>();
  const ranges: [number, number, string][] = [];
  let total = 0;
  let p = cdOffset;
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdOffset + cdSize) throw new FormatError(source, `zip: central directory entry ${i} runs past the directory`);
    if (r.u32(p, 'central header') !== SIG_CENTRAL) throw new FormatError(source, `zip: bad central header signature for entry ${i} at ${p}`);
    const flags = r.u16(p + 8, 'flags');
    const method = r.u16(p + 10, 'method');
    const crc = r.u32(p + 16, 'crc32');
    let csize = r.u32(p + 20, 'compressed size');
    let usize = r.u32(p + 24, 'uncompressed size');
    const nameLen = r.u16(p + 28, 'name length');
    const extraLen = r.u16(p + 30, 'extra length');
    const commentLen = r.u16(p + 32, 'comment length');
    const diskStart = r.u16(p + 34, 'disk start');
    let local = r.u32(p + 42, 'local header offset');
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cdOffset + cdSize) throw new FormatError(source, `zip: central directory entry ${i} runs past the directory`);
    let name: string;
    try {
      name = utf8.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    } catch {
      throw new FormatError(source, `zip: entry ${i} name is not valid UTF-8`);
    }
    // ZIP64 extended information: only the fields whose 32-bit value is 0xFFFFFFFF, in this order.
    let q = p + 46 + nameLen;
    const extraEnd = q + extraLen;
    while (q + 4 <= extraEnd) {
      const id = r.u16(q, 'extra id');
      const len = r.u16(q + 2, 'extra length');
      if (q + 4 + len > extraEnd) throw new FormatError(source, `zip: entry '${name}' extra field overruns`);
      if (id === 0x0001) {
        let f = q + 4;
        const take = (): number => {
          if (f + 8 > q + 4 + len) throw new FormatError(source, `zip: entry '${name}' ZIP64 extra field is too short`);
          const v = r.u64(f, 'ZIP64 field');
          f += 8;
          return v;
        };
        if (usize === 0xffffffff) usize = take();
        if (csize === 0xffffffff) csize = take();
        if (local === 0xffffffff) local = take();
      }
      q += 4 + len;
    }
    if (flags & 0x1) throw new FormatError(source, `zip: entry '${name}' is encrypted`);
    if (diskStart !== 0 && diskStart !== 0xffff) throw new FormatError(source, `zip: entry '${name}' starts on disk ${diskStart}`);
    if (method !== 0 && method !== 8) throw new FormatError(source, `zip: entry '${name}' uses unsupported compression method ${method}`);
    if (method === 0 && csize !== usize) throw new FormatError(source, `zip: stored entry '${name}' has compressed size ${csize} ≠ size ${usize}`);
    if (usize > maxEntry) throw new FormatError(source, `zip: entry '${name}' declares ${usize} bytes, above the limit ${maxEntry}`);
    total += usize;
    if (total > maxTotal) throw new FormatError(source, `zip: entries declare more than the limit of ${maxTotal} bytes in total`);
    if (entries.has(name)) throw new FormatError(source, `zip: duplicate entry name '${name}'`);
    // Local header: signature and name must agree; data follows the local name + extra.
    if (r.u32(local, `local header of '${name}'`) !== SIG_LOCAL) throw new FormatError(source, `zip: bad local header signature for '${name}' at ${local}`);
    const lNameLen = r.u16(local + 26, 'local name length');
    const lExtraLen = r.u16(local + 28, 'local extra length');
    r.need(local + 30, lNameLen, `local name of '${name}'`);
    const lName = bytes.subarray(local + 30, local + 30 + lNameLen);
    const cName = bytes.subarray(p + 46, p + 46 + nameLen);
    if (lNameLen !== nameLen || !lName.every((b, k) => b === cName[k])) throw new FormatError(source, `zip: local header name differs from central directory name '${name}'`);
    const dataOffset = local + 30 + lNameLen + lExtraLen;
    if (dataOffset + csize > cdOffset) throw new FormatError(source, `zip: data of '${name}' [${dataOffset}, ${dataOffset + csize}) runs into the central directory at ${cdOffset}`);
    ranges.push([local, dataOffset + csize, name]);
    entries.set(name, { name, method, compressedSize: csize, uncompressedSize: usize, crc32: crc, dataOffset });
    p = end;
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i]![0] < ranges[i - 1]![1]) throw new FormatError(source, `zip: entries '${ranges[i - 1]![2]}' and '${ranges[i]![2]}' overlap`);
  }
  const read = (name: string): Uint8Array => {
    const e = entries.get(name);
    if (!e) throw new FormatError(source, `zip: no entry named '${name}'`);
    const raw = bytes.subarray(e.dataOffset, e.dataOffset + e.compressedSize);
    let out: Uint8Array;
    if (e.method === 0) {
      out = raw;
    } else {
      try {
        // maxOutputLength caps the work even if the stream would inflate further (zip bomb).
        const b = inflateRawSync(raw, { maxOutputLength: Math.max(1, e.uncompressedSize) });
        out = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      } catch (err) {
        throw new FormatError(source, `zip: entry '${name}' does not inflate (${(err as Error).message})`);
      }
    }
    if (out.length !== e.uncompressedSize) throw new FormatError(source, `zip: entry '${name}' has ${out.length} bytes, declared ${e.uncompressedSize}`);
    const c = crc32(out);
    if (c !== e.crc32) throw new FormatError(source, `zip: entry '${name}' CRC-32 ${c.toString(16)} ≠ recorded ${e.crc32.toString(16)}`);
    return out;
  };
  return { source, entries, read };
}

/**
 * True when `bytes` start with a ZIP local-file-header (or empty-archive EOCD) signature.
 *
 * @source PKWARE APPNOTE.TXT 6.3.10 §4.3.7 (local file header signature 0x04034b50)
 * @deviation none
 * @precision exact
 */
export function isZip(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const sig = (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
  return sig === SIG_LOCAL || sig === SIG_EOCD;
}
