/**
 * Test oracle: a deliberately naive ZIP writer (stored or deflate entries, optional data
 * descriptors like PyTorch writes, optional ZIP64 end records). Shares no code with src/io/zip.ts;
 * CRC-32 is computed bit by bit.
 */
import { deflateRawSync } from 'node:zlib';

export function naiveCrc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

export interface WEntry {
  name: string;
  data: Uint8Array;
  deflate?: boolean;
}

function le(n: number, bytes: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < bytes; i++) out.push(Number((BigInt(n) >> BigInt(8 * i)) & 0xffn));
  return out;
}

/** Build an archive; `descriptor` mimics torch (flag bit 3, zero sizes in local headers); `zip64` adds ZIP64 end records. */
export function writeZip(entries: WEntry[], opts: { descriptor?: boolean; zip64?: boolean; comment?: string } = {}): Uint8Array {
  const out: number[] = [];
  const central: number[] = [];
  for (const e of entries) {
    const name = Array.from(new TextEncoder().encode(e.name));
    const body = e.deflate ? new Uint8Array(deflateRawSync(e.data)) : e.data;
    const crc = naiveCrc32(e.data);
    const method = e.deflate ? 8 : 0;
    const flags = opts.descriptor ? 0x0808 : 0x0800;
    const offset = out.length;
    const lc = opts.descriptor ? 0 : crc;
    const ls = opts.descriptor ? 0 : body.length;
    const lu = opts.descriptor ? 0 : e.data.length;
    out.push(...le(0x04034b50, 4), ...le(20, 2), ...le(flags, 2), ...le(method, 2), ...le(0, 4), ...le(lc, 4), ...le(ls, 4), ...le(lu, 4), ...le(name.length, 2), ...le(0, 2), ...name);
    for (const b of body) out.push(b);
    if (opts.descriptor) out.push(...le(0x08074b50, 4), ...le(crc, 4), ...le(body.length, 4), ...le(e.data.length, 4));
    central.push(
      ...le(0x02014b50, 4), ...le(20, 2), ...le(20, 2), ...le(flags, 2), ...le(method, 2), ...le(0, 4), ...le(crc, 4),
      ...le(body.length, 4), ...le(e.data.length, 4), ...le(name.length, 2), ...le(0, 2), ...le(0, 2), ...le(0, 2), ...le(0, 2), ...le(0, 4),
      ...le(offset, 4), ...name,
    );
  }
  const cdOffset = out.length;
  out.push(...central);
  const n = entries.length;
  if (opts.zip64) {
    const z64 = out.length;
    out.push(...le(0x06064b50, 4), ...le(44, 8), ...le(45, 2), ...le(45, 2), ...le(0, 4), ...le(0, 4), ...le(n, 8), ...le(n, 8), ...le(central.length, 8), ...le(cdOffset, 8));
    out.push(...le(0x07064b50, 4), ...le(0, 4), ...le(z64, 8), ...le(1, 4));
    out.push(...le(0x06054b50, 4), ...le(0, 2), ...le(0, 2), ...le(0xffff, 2), ...le(0xffff, 2), ...le(0xffffffff, 4), ...le(0xffffffff, 4));
  } else {
    out.push(...le(0x06054b50, 4), ...le(0, 2), ...le(0, 2), ...le(n, 2), ...le(n, 2), ...le(central.length, 4), ...le(cdOffset, 4));
  }
  const comment = Array.from(new TextEncoder().encode(opts.comment ?? ''));
  out.push(...le(comment.length, 2), ...comment);
  return Uint8Array.from(out);
}
