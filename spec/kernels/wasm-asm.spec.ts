import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { assembleModule, code, op, sleb, uleb, type WasmFunc } from '../../src/kernels/wasm-asm';
import { SpecError } from '../../src/tensor';
import { wasm } from '../../src/kernels/wasm-api';

// Naive LEB128 decoders written from the spec text (share no code with src).
function decodeU(bytes: number[]): number {
  let n = 0;
  let mul = 1;
  for (const b of bytes) {
    n += (b & 0x7f) * mul;
    mul *= 128;
  }
  return n;
}
function decodeS(bytes: number[]): number {
  let n = 0;
  let mul = 1;
  for (const b of bytes) {
    n += (b & 0x7f) * mul;
    mul *= 128;
  }
  const last = bytes[bytes.length - 1]!;
  return last & 0x40 ? n - mul : n;
}

const add: WasmFunc = {
  exportName: 'add',
  params: ['i32', 'i32'],
  results: ['i32'],
  locals: [],
  body: code(op.localGet(0), op.localGet(1), op.i32Add()),
};

function instantiate(bytes: Uint8Array, imports: Record<string, Record<string, unknown>> = {}): Readonly<Record<string, unknown>> {
  return new wasm.Instance(new wasm.Module(bytes), imports).exports;
}

describe('wasm-asm — edge cases', () => {
  it.each([
    [0, [0x00]],
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [624485, [0xe5, 0x8e, 0x26]],
    [2 ** 32 - 1, [0xff, 0xff, 0xff, 0xff, 0x0f]],
  ])('uleb(%d) is the spec example bytes', (n, bytes) => {
    expect(uleb(n)).toEqual(bytes);
  });
  it.each([
    [0, [0x00]],
    [-1, [0x7f]],
    [63, [0x3f]],
    [64, [0xc0, 0x00]],
    [-64, [0x40]],
    [-65, [0xbf, 0x7f]],
    [-123456, [0xc0, 0xbb, 0x78]],
  ])('sleb(%d) is the spec example bytes', (n, bytes) => {
    expect(sleb(n)).toEqual(bytes);
  });
  it('rejects out-of-range LEB inputs with a SpecError', () => {
    expect(() => uleb(-1)).toThrow(SpecError);
    expect(() => uleb(1.5)).toThrow(SpecError);
    expect(() => sleb(2 ** 31)).toThrow(SpecError);
  });
  it('rejects memory limits with max < min', () => {
    expect(() => assembleModule({ memory: { module: 'env', name: 'memory', minPages: 4, maxPages: 2, shared: true }, functions: [] })).toThrow(/maxPages/);
  });
  it('an empty module validates and is 8 bytes of header + empty sections', () => {
    const bytes = assembleModule({ functions: [] });
    expect([...bytes.slice(0, 8)]).toEqual([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    expect(wasm.validate(bytes)).toBe(true);
  });
});

describe('wasm-asm — oracle (hand-checked functions)', () => {
  it('emits exactly the hand-assembled bytes of (func (export "add") (param i32 i32) (result i32))', () => {
    // Written by hand from the spec: header, type, function, export, code sections.
    const expected = [
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
      0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f,
      0x03, 0x02, 0x01, 0x00,
      0x07, 0x07, 0x01, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00,
      0x0a, 0x09, 0x01, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b,
    ];
    expect([...assembleModule({ functions: [add] })]).toEqual(expected);
  });
  it('add(a, b) runs as i32 addition (wraps mod 2^32)', () => {
    const e = instantiate(assembleModule({ functions: [add] })) as unknown as { add: (a: number, b: number) => number };
    fc.assert(fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (a, b) => e.add(a, b) === ((a + b) | 0)));
  });
  it('a shared imported memory module validates, links, and SIMD f32x4 mul/add computes a·b + c per lane', () => {
    const memory = new wasm.Memory({ initial: 1, maximum: 16, shared: true });
    const fma: WasmFunc = {
      exportName: 'muladd',
      params: ['i32', 'i32', 'i32', 'i32'], // a, b, c, out (byte addresses)
      results: [],
      locals: [],
      body: code(
        op.localGet(3),
        op.localGet(0), op.v128Load(),
        op.localGet(1), op.v128Load(),
        op.f32x4Mul(),
        op.localGet(2), op.v128Load(),
        op.f32x4Add(),
        op.v128Store(),
      ),
    };
    const bytes = assembleModule({ memory: { module: 'env', name: 'memory', minPages: 1, maxPages: 16, shared: true }, functions: [fma] });
    expect(wasm.validate(bytes)).toBe(true);
    const e = instantiate(bytes, { env: { memory } }) as unknown as { muladd: (a: number, b: number, c: number, o: number) => void };
    const f = new Float32Array(memory.buffer, 0, 16);
    f.set([1, 2, 3, 4, 0.5, -1, 2, 0.25, 10, 20, 30, 40]);
    e.muladd(0, 16, 32, 48);
    // Each product and sum is exact in float32 for these operands.
    expect([...f.subarray(12, 16)]).toEqual([10.5, 18, 36, 41]);
  });
  it('i32x4.dot_i16x8_s of a load16_splat-extended int8 pair computes pairwise dot products', () => {
    const memory = new wasm.Memory({ initial: 1, maximum: 1, shared: true });
    const dot: WasmFunc = {
      exportName: 'dot',
      params: ['i32', 'i32', 'i32'], // aPair (2 int8), b (8 int16), out (4 int32)
      results: [],
      locals: [],
      body: code(op.localGet(2), op.localGet(0), op.v128Load16Splat(), op.i16x8ExtendLowI8x16S(), op.localGet(1), op.v128Load(), op.i32x4DotI16x8S(), op.v128Store()),
    };
    const bytes = assembleModule({ memory: { module: 'env', name: 'memory', minPages: 1, maxPages: 1, shared: true }, functions: [dot] });
    const e = instantiate(bytes, { env: { memory } }) as unknown as { dot: (a: number, b: number, o: number) => void };
    new Int8Array(memory.buffer, 0, 2).set([-3, 7]);
    new Int16Array(memory.buffer, 16, 8).set([1, 2, -128, 127, 5, 0, 300, -300]);
    e.dot(0, 16, 32);
    expect([...new Int32Array(memory.buffer, 32, 4)]).toEqual([-3 + 14, 384 + 889, -15, -900 - 2100]);
  });
});

describe('wasm-asm — laws', () => {
  it('uleb round-trips through a naive decoder and is minimal (no trailing 0x80 0x00)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (n) => {
        const b = uleb(n);
        expect(decodeU(b)).toBe(n);
        expect(b.length).toBe(Math.max(1, Math.ceil(Math.log2(n + 1) / 7)));
      }),
    );
  });
  it('sleb round-trips through a naive decoder', () => {
    fc.assert(fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (n) => decodeS(sleb(n)) === n));
  });
  it('i32.const n evaluates to n for every int32', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (n) => {
        const f: WasmFunc = { exportName: 'k', params: [], results: ['i32'], locals: [], body: op.i32Const(n) };
        const e = instantiate(assembleModule({ functions: [f] })) as unknown as { k: () => number };
        return e.k() === n;
      }),
      { numRuns: 20 },
    );
  });
});
