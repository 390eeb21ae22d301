import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadPth } from '../../src/io/pth';
import { bfloat16BitsToNumber, encodeSafetensors, float16BitsToNumber, parseSafetensors } from '../../src/io/safetensors';
import { FormatError, type DType, type Tensor } from '../../src/tensor';
import { hasShared, sharedPath } from '../helpers/shared';

/** Naive oracle writer: header JSON given verbatim, then the raw buffer. */
function raw(header: unknown, buffer: number[] = [], headerLenOverride?: bigint): Uint8Array {
  const h = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + buffer.length);
  new DataView(out.buffer).setBigUint64(0, headerLenOverride ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(buffer, 8 + h.length);
  return out;
}
const bad = (b: Uint8Array, re: RegExp): void => {
  expect(() => parseSafetensors(b, 'm.safetensors')).toThrow(FormatError);
  expect(() => parseSafetensors(b, 'm.safetensors')).toThrow(re);
};
const e = (dtype: string, shape: number[], off: [number, number]) => ({ dtype, shape, data_offsets: off });

describe('edge cases (malformed headers)', () => {
  it('too short, absurd or overrunning header lengths', () => {
    bad(new Uint8Array(5), /needs ≥ 8/);
    bad(raw({}, [], 10n ** 12n), /header length 1000000000000 exceeds/);
    bad(raw({}, [], 100n), /runs past the end/);
  });
  it('the header must be a JSON object', () => {
    bad(raw('[1,2]'), /starting with '\{'/);
    bad(raw('{"a": '), /not valid UTF-8 JSON/);
  });
  it('entry fields are checked', () => {
    bad(raw({ a: { dtype: 'F32', shape: [1] } }, [0, 0, 0, 0]), /exactly dtype, shape, data_offsets/);
    bad(raw({ a: { ...e('F32', [1], [0, 4]), extra: 1 } }, [0, 0, 0, 0]), /exactly dtype, shape, data_offsets/);
    bad(raw({ a: e('Q8', [1], [0, 1]) }, [0]), /unsupported dtype "Q8"/);
    bad(raw({ a: e('F32', [-1], [0, 4]) }, [0, 0, 0, 0]), /shape must be a list of non-negative integers/);
    bad(raw({ a: e('F32', [1], [4, 0]) }, [0, 0, 0, 0]), /0 ≤ begin ≤ end/);
    bad(raw({ a: e('F32', [2], [0, 4]) }, [0, 0, 0, 0]), /spans 4 bytes, F32 \[2\] needs 8/);
    bad(raw({ __metadata__: { k: 1 } }), /__metadata__\['k'\] must be a string/);
  });
  it('offsets must tile the buffer: no gap, no overlap, full coverage', () => {
    bad(raw({ a: e('U8', [2], [0, 2]), b: e('U8', [2], [1, 3]) }, [1, 2, 3]), /entry 'b' begins at 1, expected 2 \(overlap\)/);
    bad(raw({ a: e('U8', [1], [0, 1]), b: e('U8', [1], [2, 3]) }, [1, 2, 3]), /begins at 2, expected 1 \(gap\)/);
    bad(raw({ a: e('U8', [2], [0, 2]) }, [1, 2, 3]), /cover 2 bytes but the data buffer has 3/);
    bad(raw({ a: e('U8', [4], [0, 4]) }, [1, 2]), /cover 4 bytes but the data buffer has 2/);
  });
  it('value checks: BOOL must be 0/1, I64 must fit 2^53', () => {
    bad(raw({ a: e('BOOL', [2], [0, 2]) }, [1, 2]), /BOOL 'a'\[1\] = 2/);
    bad(raw({ a: e('I64', [1], [0, 8]) }, [0, 0, 0, 0, 0, 0, 0x40, 0]), /not exactly representable/);
  });
  it('encode rejects the reserved name', () => {
    expect(() => encodeSafetensors({ __metadata__: { dtype: 'uint8', shape: [0], data: new Uint8Array(0) } })).toThrow(/reserved/);
  });
});

describe('oracle (hand-built files)', () => {
  it('decodes every dtype exactly, in offset order, with metadata', () => {
    const buf = [
      0x00, 0x3c, 0x00, 0xc0, // F16: 1, -2
      0x80, 0x3f, // BF16: 1
      0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // I64: -5
      0x02, 0x00, 0x00, 0x00, // I32: 2
      0x01, 0x00, // BOOL
      0x80, // I8 -128
      0xff, 0xfe, // I16 -257
    ];
    const f = parseSafetensors(
      raw({
        __metadata__: { format: 'pt' },
        i16: e('I16', [1], [23, 25]),
        h: e('F16', [2], [0, 4]),
        bf: e('BF16', [1], [4, 6]),
        l: e('I64', [1, 1], [6, 14]),
        i: e('I32', [], [14, 18]),
        q: e('BOOL', [2], [18, 20]),
        c: e('I8', [1], [20, 21]),
        z: e('U8', [0], [21, 21]),
        u: e('U8', [2], [21, 23]),
      }, [...buf.slice(0, 21), 7, 9, 0xff, 0xfe]),
      'o',
    );
    expect(Object.keys(f.tensors)).toEqual(['h', 'bf', 'l', 'i', 'q', 'c', 'z', 'u', 'i16']);
    expect(f.metadata).toEqual({ format: 'pt' });
    const v = (k: string): unknown[] => [f.tensors[k]!.dtype, f.tensors[k]!.shape, Array.from(f.tensors[k]!.data)];
    expect(v('h')).toEqual(['float32', [2], [1, -2]]);
    expect(v('bf')).toEqual(['float32', [1], [1]]);
    expect(v('l')).toEqual(['float64', [1, 1], [-5]]);
    expect(v('i')).toEqual(['int32', [], [2]]);
    expect(v('q')).toEqual(['uint8', [2], [1, 0]]);
    expect(v('c')).toEqual(['int8', [1], [-128]]);
    expect(v('z')).toEqual(['uint8', [0], []]);
    expect(v('u')).toEqual(['uint8', [2], [7, 9]]);
    expect(v('i16')).toEqual(['int16', [1], [-257]]);
  });
  it('half and bfloat16 decoders agree with their IEEE definitions on every bit pattern class', () => {
    expect([0x0000, 0x8000, 0x3c00, 0x0001, 0x03ff, 0x0400, 0x7bff, 0x7c00, 0xfc00].map(float16BitsToNumber)).toEqual([0, -0, 1, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, 65504, Infinity, -Infinity]);
    expect(Number.isNaN(float16BitsToNumber(0x7e00))).toBe(true);
    expect([0x3f80, 0xc040, 0x0001, 0x7f80].map(bfloat16BitsToNumber)).toEqual([1, -3, 2 ** -133, Infinity]);
  });
});

describe('laws', () => {
  const dtypes: DType[] = ['float32', 'float64', 'int32', 'int16', 'int8', 'uint8'];
  const arbTensor: fc.Arbitrary<Tensor<DType>> = fc
    .tuple(fc.constantFrom(...dtypes), fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }), fc.integer())
    .map(([dtype, shape, seed]) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const C = { float32: Float32Array, float64: Float64Array, int32: Int32Array, int16: Int16Array, int8: Int8Array, uint8: Uint8Array }[dtype];
      const data = new C(n);
      for (let i = 0; i < n; i++) data[i] = dtype.startsWith('float') ? Math.sin(seed + i) * 1e3 : (seed * 7919 + i * 104729) % 30000;
      return { dtype, shape, data } as Tensor<DType>;
    });
  it('parse(encode(record)) is the identity (names, order, dtype, shape, values) and the data is 8-byte aligned', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_.]{0,10}$/), arbTensor, { maxKeys: 5 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }), (rec, meta) => {
        const bytes = encodeSafetensors(rec, meta);
        const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
        expect(n % 8).toBe(0);
        const f = parseSafetensors(bytes, 'rt');
        expect(f.metadata).toEqual(meta);
        // Empty tensors share offset 0, so sort order among them may differ: compare as a set plus values.
        expect(new Set(Object.keys(f.tensors))).toEqual(new Set(Object.keys(rec)));
        for (const [k, t] of Object.entries(rec)) {
          expect([f.tensors[k]!.dtype, f.tensors[k]!.shape, Array.from(f.tensors[k]!.data)]).toEqual([t.dtype, t.shape, Array.from(t.data)]);
        }
      }),
    );
  });
  it('encoding is deterministic (byte-identical)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), arbTensor, { maxKeys: 4 }), (rec) => {
        expect(Buffer.compare(Buffer.from(encodeSafetensors(rec)), Buffer.from(encodeSafetensors(rec)))).toBe(0);
      }),
    );
  });
  it('random byte flips and truncations of a valid file give FormatError or a parse, never another exception', () => {
    const file = encodeSafetensors({ a: { dtype: 'float32', shape: [2, 3], data: new Float32Array(6).fill(1.5) }, b: { dtype: 'int8', shape: [3], data: new Int8Array([1, -2, 3]) } }, { k: 'v' });
    fc.assert(
      fc.property(fc.nat(file.length - 1), fc.integer({ min: 1, max: 255 }), fc.boolean(), (at, x, cut) => {
        const c = cut ? file.slice(0, at) : file.slice();
        if (!cut) c[at]! ^= x;
        try {
          parseSafetensors(c, 'f');
          return true;
        } catch (err) {
          return err instanceof FormatError;
        }
      }),
      { numRuns: 300 },
    );
  });
});

const PTH = ['fixtures', 'sam-reference', 'vit-tiny', 'weights.pth'];
describe.skipIf(!hasShared(...PTH))('conformance: vit-tiny weights through safetensors', () => {
  it('the 65 PyTorch tensors survive pth → safetensors → parse bit-exactly', () => {
    const sd = loadPth(new Uint8Array(readFileSync(sharedPath(...PTH))), 'weights.pth');
    const back = parseSafetensors(encodeSafetensors(sd), 'st').tensors;
    expect(Object.keys(back)).toEqual(Object.keys(sd));
    for (const [k, t] of Object.entries(sd)) {
      expect(back[k]!.shape, k).toEqual(t.shape);
      expect(Buffer.compare(Buffer.from(back[k]!.data.buffer), Buffer.from(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength))), k).toBe(0);
    }
  });
});
