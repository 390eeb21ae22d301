import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32, isZip, openZip } from '../../src/io/zip';
import { FormatError } from '../../src/tensor';
import { hasShared, sharedPath } from '../helpers/shared';
import { naiveCrc32, writeZip } from './zip-writer';

const PTH = ['fixtures', 'sam-reference', 'vit-tiny', 'weights.pth'];
const havePth = hasShared(...PTH);
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Overwrite little-endian u32 at `at`. */
function poke32(b: Uint8Array, at: number, v: number): Uint8Array {
  const c = b.slice();
  new DataView(c.buffer).setUint32(at, v, true);
  return c;
}

describe('edge cases', () => {
  const good = writeZip([{ name: 'a.txt', data: enc('hello') }, { name: 'b/c.bin', data: enc('world!'), deflate: true }]);
  const eocd = good.length - 22;
  it('non-zip and empty input are FormatErrors', () => {
    expect(() => openZip(new Uint8Array(0), 'e.zip')).toThrow(/e\.zip: zip: no end-of-central-directory/);
    expect(() => openZip(enc('definitely not a zip file at all, no'), 'x')).toThrow(FormatError);
  });
  it('an empty archive opens with no entries', () => {
    expect(openZip(writeZip([]), 'empty').entries.size).toBe(0);
  });
  it('truncation anywhere is a FormatError', () => {
    for (let cut = 0; cut < good.length; cut += 7) expect(() => openZip(good.subarray(0, cut), 't')).toThrow(FormatError);
  });
  it('central directory offset past the end is rejected', () => {
    expect(() => openZip(poke32(good, eocd + 16, 0x7fffffff), 'x')).toThrow(/central directory/);
  });
  it('a bad local header signature is rejected', () => {
    expect(() => openZip(poke32(good, 0, 0x12345678), 'x')).toThrow(/bad local header signature for 'a\.txt'/);
  });
  it('a local name differing from the central name is rejected', () => {
    const c = good.slice();
    c[30] = 'z'.charCodeAt(0); // first byte of the local name of a.txt
    expect(() => openZip(c, 'x')).toThrow(/local header name differs/);
  });
  it('unsupported methods and encryption are rejected', () => {
    const cd = good.length - 22 - (46 + 5) - (46 + 7);
    const m = good.slice();
    new DataView(m.buffer).setUint16(cd + 10, 12, true); // bzip2
    expect(() => openZip(m, 'x')).toThrow(/compression method 12/);
    const e = good.slice();
    new DataView(e.buffer).setUint16(cd + 8, 0x0801, true);
    expect(() => openZip(e, 'x')).toThrow(/encrypted/);
  });
  it('overlapping entries (zip-bomb amplification) are rejected', () => {
    // Entry 'a' carries a complete local header + data for 'b' inside its own data; the central
    // record of 'b' is then pointed into it, so the two byte ranges overlap.
    const inner = writeZip([{ name: 'b', data: enc('x') }]).subarray(0, 30 + 1 + 1);
    const z = writeZip([{ name: 'a', data: inner }, { name: 'b', data: enc('x') }]);
    const cdB = z.length - 22 - (46 + 1);
    expect(openZip(z, 'ok').entries.size).toBe(2);
    expect(() => openZip(poke32(z, cdB + 42, 30 + 1), 'x')).toThrow(/entries 'a' and 'b' overlap/);
  });
  it('declared sizes above the limits are rejected before inflating', () => {
    expect(() => openZip(good, 'x', { maxEntryBytes: 5 })).toThrow(/declares 6 bytes, above the limit 5/);
    expect(() => openZip(good, 'x', { maxTotalBytes: 10 })).toThrow(/more than the limit of 10 bytes in total/);
    expect(() => openZip(good, 'x', { maxEntries: 1 })).toThrow(/2 entries exceed the limit 1/);
  });
  it('a deflate stream that inflates past its declared size is a FormatError (bomb guard)', () => {
    const big = new Uint8Array(1 << 20); // 1 MiB of zeros deflates to ~1 KiB
    const z = writeZip([{ name: 'bomb', data: big, deflate: true }]);
    const cd = z.length - 22 - (46 + 4);
    const c = poke32(z, cd + 24, 100); // declare 100 bytes uncompressed
    expect(() => openZip(c, 'x').read('bomb')).toThrow(/bomb/);
  });
  it('corrupted data fails the CRC check; a missing entry is named', () => {
    const c = good.slice();
    c[30 + 5] ^= 0x01; // first data byte of a.txt
    expect(() => openZip(c, 'x').read('a.txt')).toThrow(/CRC-32/);
    expect(() => openZip(good, 'x').read('nope')).toThrow(/no entry named 'nope'/);
  });
});

describe('oracle', () => {
  it('crc32 equals a bitwise reference on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => crc32(b) === naiveCrc32(b)));
    expect(crc32(enc('123456789'))).toBe(0xcbf43926); // the standard CRC-32 check value
  });
  it('reads what the naive writer wrote (stored, deflate, data descriptors, ZIP64, comment)', () => {
    const entries = [{ name: 'x/data.pkl', data: enc('pickle') }, { name: 'x/data/0', data: new Uint8Array(1000).fill(7), deflate: true }, { name: 'é', data: new Uint8Array(0) }];
    for (const opts of [{}, { descriptor: true }, { zip64: true }, { comment: 'c'.repeat(300) }]) {
      const z = openZip(writeZip(entries, opts), 'o');
      expect([...z.entries.keys()]).toEqual(['x/data.pkl', 'x/data/0', 'é']);
      for (const e of entries) expect(Array.from(z.read(e.name))).toEqual(Array.from(e.data));
    }
  });
  it('isZip recognises local-header and empty-archive signatures only', () => {
    expect(isZip(writeZip([{ name: 'a', data: enc('a') }]))).toBe(true);
    expect(isZip(writeZip([]))).toBe(true);
    expect(isZip(enc('{"a":1}'))).toBe(false);
    expect(isZip(new Uint8Array(2))).toBe(false);
  });
});

describe('laws', () => {
  it('write → open → read is the identity for arbitrary entries', () => {
    const entry = fc.record({ name: fc.stringMatching(/^[a-z0-9_/.]{1,12}$/), data: fc.uint8Array({ maxLength: 200 }), deflate: fc.boolean() });
    fc.assert(
      fc.property(fc.uniqueArray(entry, { selector: (e) => e.name, maxLength: 6 }), fc.boolean(), (es, descriptor) => {
        const z = openZip(writeZip(es, { descriptor }), 'p');
        expect(z.entries.size).toBe(es.length);
        for (const e of es) expect(Array.from(z.read(e.name))).toEqual(Array.from(e.data));
      }),
    );
  });
  it('random byte flips give FormatError or the same contents, never another exception', () => {
    const es = [{ name: 'a', data: enc('alpha') }, { name: 'b', data: enc('beta beta beta'), deflate: true }];
    const z = writeZip(es, { descriptor: true });
    fc.assert(
      fc.property(fc.nat(z.length - 1), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const c = z.slice();
        c[at] ^= x;
        try {
          const o = openZip(c, 'f');
          const same = es.every((e) => o.entries.has(e.name) && dec(o.read(e.name)) === dec(e.data));
          expect(same).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(FormatError);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe.skipIf(!havePth)('conformance: PyTorch-written weights.pth', () => {
  it('67 entries, torch layout, version "3\\n"', () => {
    const z = openZip(new Uint8Array(readFileSync(sharedPath(...PTH))), 'weights.pth');
    expect(z.entries.size).toBe(67);
    expect(z.entries.has('vit_tiny_weights/data.pkl')).toBe(true);
    expect(dec(z.read('vit_tiny_weights/version'))).toBe('3\n');
    expect(z.read('vit_tiny_weights/data/0').length).toBe(25600 * 4);
  });
});
if (!havePth) console.warn(`${sharedPath(...PTH)} is absent; skipping zip conformance`);
