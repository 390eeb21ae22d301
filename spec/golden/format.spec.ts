import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import * as zlib from 'node:zlib';
import { crc32, crc32Hex } from '../../src/golden/crc32';
import { canonicalJson, type Json } from '../../src/golden/json';
import { packNibbles, unpackNibbles, hexText, f32Hex, hexF32, storageTensor, tensorFiles, type GoldenTensor } from '../../src/golden/format';
import { SpecError } from '../../src/tensor';

/** Bit-at-a-time CRC-32 written from the polynomial definition (no table; shares no code with src). */
function crcNaive(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

const codes = (v: number[], bits: number): GoldenTensor => ({ name: 'q', tensor: { dtype: 'int32', shape: [v.length], data: Int32Array.from(v) }, bits, signed: false });

describe('golden format primitives', () => {
  describe('edge cases', () => {
    it('CRC-32 check values: "123456789" → 0xcbf43926, empty → 0', () => {
      expect(crc32Hex(new TextEncoder().encode('123456789'))).toBe('0xcbf43926');
      expect(crc32(new Uint8Array(0))).toBe(0);
    });
    it('canonical JSON sorts keys, inlines scalar arrays, ends with a newline, rejects non-finite numbers', () => {
      expect(canonicalJson({ b: 1, a: [1, 2], c: { z: null, y: 'x' } })).toBe('{\n  "a": [1, 2],\n  "b": 1,\n  "c": {\n    "y": "x",\n    "z": null\n  }\n}\n');
      expect(() => canonicalJson({ a: Number.NaN })).toThrow(SpecError);
      expect(canonicalJson(-0)).toBe('0\n');
    });
    it('packing: element 0 in the low nibble, odd counts pad the last high nibble with 0', () => {
      expect(Array.from(packNibbles([1, 2, 3]))).toEqual([0x21, 0x03]);
      expect(() => packNibbles([16])).toThrow(/codes\[0\]/);
    });
    it('hex mirror: ⌈bits/4⌉ digits, two\'s complement for signed, IEEE bit pattern for float32', () => {
      expect(hexText(codes([10, 0, 15], 4))).toBe('a\n0\nf\n');
      expect(hexText(codes([255, 6], 8))).toBe('ff\n06\n');
      expect(hexText({ name: 'acc', tensor: { dtype: 'int32', shape: [2], data: Int32Array.of(-1, 2 ** 31 - 1) }, bits: 32, signed: true })).toBe('ffffffff\n7fffffff\n');
      expect(hexText({ name: 'p', tensor: { dtype: 'float32', shape: [2], data: Float32Array.of(1, -0) }, bits: 32, signed: true })).toBe('3f800000\n80000000\n');
    });
    it('storage rejects values outside the logical type and bad names', () => {
      expect(() => storageTensor(codes([16], 4))).toThrow(/q\[0\]/);
      expect(() => storageTensor(codes([-1], 4))).toThrow(SpecError);
      expect(() => storageTensor({ ...codes([1], 4), name: 'Bad-Name' })).toThrow(/name/);
      expect(() => hexF32('0x3F800000')).toThrow(SpecError);
    });
  });
  describe('oracle', () => {
    it('CRC-32 equals a bitwise implementation and zlib.crc32 when Node provides it', () => {
      const z = (zlib as unknown as { crc32?: (b: Uint8Array) => number }).crc32;
      fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        expect(crc32(b)).toBe(crcNaive(b));
        if (z) expect(crc32(b)).toBe(z(b) >>> 0);
      }));
    });
  });
  describe('laws', () => {
    it('pack then unpack is the identity on 4-bit codes', () => {
      fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 40 }), (v) => {
        expect(Array.from(unpackNibbles(packNibbles(v), v.length))).toEqual(v);
      }));
    });
    it('hex lines parse back to the elements (two\'s complement of the stated width)', () => {
      fc.assert(fc.property(fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: 1, maxLength: 20 }), (v) => {
        const lines = hexText({ name: 'a', tensor: { dtype: 'int32', shape: [v.length], data: Int32Array.from(v) }, bits: 32, signed: true }).trimEnd().split('\n');
        expect(lines.map((l) => Number.parseInt(l, 16) | 0)).toEqual(v);
      }));
    });
    it('float32 bit patterns round-trip (including −0 and subnormals)', () => {
      fc.assert(fc.property(fc.float({ noNaN: true }), (x) => {
        expect(Object.is(hexF32(f32Hex(x)), x)).toBe(true);
      }));
    });
    it('canonical JSON is a fixed point of parse ∘ serialise and independent of key insertion order', () => {
      const jsonArb: fc.Arbitrary<Json> = fc.letrec<{ v: Json }>((tie) => ({
        v: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.integer(), fc.string({ maxLength: 6 }), fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), tie('v'), { maxKeys: 4 })),
      })).v;
      fc.assert(fc.property(jsonArb, (v) => {
        const s = canonicalJson(v);
        expect(canonicalJson(JSON.parse(s) as Json)).toBe(s);
        if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
          const rev = Object.fromEntries(Object.entries(v).reverse()) as Json;
          expect(canonicalJson(rev)).toBe(s);
        }
      }));
    });
    it('the CRC in a tensor entry covers exactly the .bin bytes', () => {
      fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 30 }), (v) => {
        const f = tensorFiles(codes(v, 4));
        const bin = f.files.find(([n]) => n === 'q.bin')![1] as Uint8Array;
        expect(Array.from(bin)).toEqual(v);
        expect(f.desc.crc32).toBe(`0x${crcNaive(bin).toString(16).padStart(8, '0')}`);
        expect(f.desc.packed).toBe('q.packed.bin');
      }));
    });
  });
});
